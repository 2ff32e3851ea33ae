//! The user's settings (`config.toml`). Every field has a default, so an
//! absent file is a valid config.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
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
    pub hooks: Hooks,
    /// Groups with a limit of their own (`[groups.NAME] parallel = 2`),
    /// within `parallel`.
    pub groups: BTreeMap<String, Group>,
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

/// A group's own settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// How many of its tasks run at once.
    pub parallel: u32,
}

/// The user's commands run when a task ends (`supervisor::hooks`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hooks {
    /// Run with `sh -c` when any task a supervisor ran ends.
    pub on_finish: Option<String>,
    /// Run when one fails (after `on_finish`).
    pub on_failure: Option<String>,
    /// Seconds a hook may run before it is killed.
    pub timeout_secs: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            parallel: 10,
            cancel_grace_secs: 5.0,
            history: History::default(),
            hooks: Hooks::default(),
            groups: BTreeMap::new(),
            workflows: BTreeMap::new(),
        }
    }
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks { on_finish: None, on_failure: None, timeout_secs: 10.0 }
    }
}

impl Hooks {
    /// Is there a hook to run at all?
    pub fn any(&self) -> bool {
        self.on_finish.is_some() || self.on_failure.is_some()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs.min(86_400.0))
    }
}

impl Default for History {
    fn default() -> Self {
        History { keep_days: 30, keep_count: 10_000 }
    }
}

impl Config {
    /// The settings for a process that must go on whatever the file says
    /// (`serve`, supervisors): a broken file is logged, never on stdout or
    /// stderr, and the defaults are used.
    pub fn load(paths: &Paths) -> Config {
        Config::read(paths).unwrap_or_else(|e| {
            tracing::warn!("{e}; using defaults");
            Config::fallback()
        })
    }

    /// The settings as the file gives them, or why it cannot (a file and
    /// line for a malformed one).
    pub fn read(paths: &Paths) -> Result<Config> {
        let file = &paths.config_file;
        let text = toml_file::read(file)?.unwrap_or_default();
        let mut config: Config = toml_file::parse(file, &text)?;
        config.apply_env();
        let invalid = |key: &str, message: &str| {
            toml_file::error_at_offset(file, &text, offset_of_key(&text, key), message.into())
        };
        if config.parallel == 0 {
            return Err(invalid("parallel", "parallel must be at least 1"));
        }
        if !(config.cancel_grace_secs.is_finite() && config.cancel_grace_secs >= 0.0) {
            return Err(invalid("cancel_grace_secs", "cancel_grace_secs must be a non-negative number"));
        }
        if !(config.hooks.timeout_secs.is_finite() && config.hooks.timeout_secs > 0.0) {
            let at = text.find("timeout_secs").unwrap_or(0);
            return Err(toml_file::error_at_offset(
                file,
                &text,
                at,
                "hooks.timeout_secs must be a positive number".into(),
            ));
        }
        if let Some((name, _)) = config.groups.iter().find(|(_, g)| g.parallel == 0) {
            let at = text.find(&format!("[groups.{name}]")).unwrap_or(0);
            return Err(toml_file::error_at_offset(
                file,
                &text,
                at,
                format!("groups.{name}.parallel must be at least 1"),
            ));
        }
        crate::workflow::check_user(&config.workflows, file, &text)?;
        Ok(config)
    }

    /// What a broken file gives way to: the defaults, with the environment's
    /// overrides still applied.
    pub fn fallback() -> Config {
        let mut config = Config::default();
        config.apply_env();
        config
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

    /// The limits a supervisor claims within.
    pub fn limits(&self) -> crate::store::Limits {
        crate::store::Limits {
            parallel: self.parallel,
            groups: self.groups.iter().map(|(name, g)| (name.clone(), g.parallel)).collect(),
        }
    }

    /// A group's own limit, if it has one.
    pub fn group_limit(&self, group: &str) -> Option<u32> {
        self.groups.get(group).map(|g| g.parallel)
    }

    pub fn cancel_grace(&self) -> Duration {
        Duration::from_secs_f64(self.cancel_grace_secs.min(86_400.0))
    }
}

/// Where a top-level `key = ...` is written (0 if it cannot be found), so a
/// bad value is reported at its own line.
fn offset_of_key(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break; // past the top-level keys
        }
        if trimmed.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')) {
            return offset;
        }
        offset += line.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_with(text: &str) -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(dir.path());
        std::fs::write(&paths.config_file, text).unwrap();
        (dir, paths)
    }

    #[test]
    fn a_bad_value_is_reported_at_its_own_line() {
        let (_dir, paths) = paths_with("# limits\ncancel_grace_secs = 1.0\nparallel = 0\n[history]\nkeep_days = 1\n");
        let err = Config::read(&paths).unwrap_err().to_string();
        assert!(err.ends_with("config.toml:3: parallel must be at least 1"), "{err}");
        assert_eq!(offset_of_key("[history]\nparallel = 0\n", "parallel"), 0, "not a top-level key");
        let (_dir, paths) = paths_with("[workflows]\nok = \"true\"\nnotes = 3\n");
        let err = Config::read(&paths).unwrap_err().to_string();
        assert!(err.ends_with("config.toml:3: workflow 'notes' must be a command string or a table"), "{err}");
    }

    #[test]
    fn a_broken_file_gives_way_to_the_defaults_for_those_who_must_go_on() {
        let (_dir, paths) = paths_with("parallel = 3\n[history\n");
        assert!(Config::read(&paths).unwrap_err().to_string().contains("config.toml:2:"));
        assert_eq!(Config::load(&paths).parallel, Config::fallback().parallel);
    }
}
