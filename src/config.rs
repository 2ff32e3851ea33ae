//! The user's settings (`config.toml`). Every field has a default, so an
//! absent file is a valid config.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::toml_file;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How many tasks run at once, across every client.
    pub parallel: u32,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled.
    pub cancel_grace_secs: f64,
    pub history: History,
    /// User-wide workflows: `name = "command"` or a table (see workflow.rs).
    pub workflows: BTreeMap<String, toml::Spanned<toml::Value>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct History {
    /// Finished tasks older than this are pruned.
    pub keep_days: u32,
    /// At most this many finished tasks are kept.
    pub keep_count: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { parallel: 10, cancel_grace_secs: 5.0, history: History::default(), workflows: BTreeMap::new() }
    }
}

impl Default for History {
    fn default() -> Self {
        History { keep_days: 30, keep_count: 10_000 }
    }
}

impl Config {
    pub fn load(paths: &Paths) -> Result<Config> {
        let file = &paths.config_file;
        let mut config = match toml_file::read(file)? {
            None => Config::default(),
            Some(text) => toml_file::parse(file, &text)?,
        };
        config.apply_env();
        let invalid = |message: &str| Error::Config { path: file.clone(), line: 1, message: message.into() };
        if config.parallel == 0 {
            return Err(invalid("parallel must be at least 1"));
        }
        if !(config.cancel_grace_secs.is_finite() && config.cancel_grace_secs >= 0.0) {
            return Err(invalid("cancel_grace_secs must be a non-negative number"));
        }
        Ok(config)
    }

    /// ERRAND_PARALLEL overrides the file's limit for this process and the
    /// supervisors it starts (an editor setting uses it).
    fn apply_env(&mut self) {
        if let Some(n) = std::env::var("ERRAND_PARALLEL").ok().and_then(|v| v.trim().parse::<u32>().ok()) {
            if n > 0 {
                self.parallel = n;
            }
        }
    }

    pub fn cancel_grace(&self) -> Duration {
        Duration::from_secs_f64(self.cancel_grace_secs.min(86_400.0))
    }
}
