//! Where errand keeps its files, the user's settings, and workflows (named
//! commands from `errand.toml` files and the user's config).

use std::collections::BTreeMap;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::task::CommandSpec;

/// The project file name, looked for from the cwd upwards.
pub const PROJECT_FILE: &str = "errand.toml";
/// Config and workflow files larger than this are refused, not parsed.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Every path errand uses. `ERRAND_HOME` puts all of them under one folder
/// (tests, sandboxes); otherwise the platform's data/state/config folders.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data: PathBuf,
    pub db: PathBuf,
    pub logs: PathBuf,
    pub run: PathBuf,
    pub own_logs: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    pub fn discover() -> Result<Paths> {
        if let Some(home) = std::env::var_os("ERRAND_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Paths::under(&home, &home.join("log"), &home.join("config.toml")));
        }
        let dirs = directories::ProjectDirs::from("", "", "errand").ok_or_else(|| {
            Error::InvalidInput("cannot find a home directory; set ERRAND_HOME".into())
        })?;
        let state = dirs.state_dir().unwrap_or(dirs.data_local_dir()).join("log");
        Ok(Paths::under(dirs.data_local_dir(), &state, &dirs.config_dir().join("config.toml")))
    }

    fn under(data: &Path, own_logs: &Path, config_file: &Path) -> Paths {
        Paths {
            data: data.to_path_buf(),
            db: data.join("errand.db"),
            logs: data.join("logs"),
            run: data.join("run"),
            own_logs: own_logs.to_path_buf(),
            config_file: config_file.to_path_buf(),
        }
    }

    /// Create the private folders errand writes to (mode 0700).
    pub fn create_dirs(&self) -> Result<()> {
        for dir in [&self.data, &self.logs, &self.run, &self.own_logs] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(())
    }
}

/// The user's settings (`config.toml`). Every field has a default, so an
/// absent file is a valid config.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How many tasks run at once, across every client.
    pub parallel: u32,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled.
    pub cancel_grace_secs: f64,
    pub history: History,
    /// User-wide workflows: `name = "command"` or a table (see Workflow).
    pub workflows: BTreeMap<String, toml::Spanned<toml::Value>>,
    /// Set by long-lived processes (the server) that must reap the
    /// supervisors they spawn; not a file setting.
    #[serde(skip)]
    pub reap_workers: bool,
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
        Config {
            parallel: 10,
            cancel_grace_secs: 5.0,
            history: History::default(),
            workflows: BTreeMap::new(),
            reap_workers: false,
        }
    }
}

impl Default for History {
    fn default() -> Self {
        History { keep_days: 30, keep_count: 10_000 }
    }
}

impl Config {
    pub fn load(paths: &Paths) -> Result<Config> {
        let Some(text) = read_small(&paths.config_file)? else {
            let mut config = Config::default();
            config.apply_env();
            return Ok(config);
        };
        let mut config: Config = toml::from_str(&text).map_err(|e| toml_error(&paths.config_file, &text, &e))?;
        config.apply_env();
        if config.parallel == 0 {
            return Err(Error::Config {
                path: paths.config_file.clone(),
                line: 1,
                message: "parallel must be at least 1".into(),
            });
        }
        if !(config.cancel_grace_secs.is_finite() && config.cancel_grace_secs >= 0.0) {
            return Err(Error::Config {
                path: paths.config_file.clone(),
                line: 1,
                message: "cancel_grace_secs must be a non-negative number".into(),
            });
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

/// Read a config-sized file; None if it does not exist.
fn read_small(path: &Path) -> Result<Option<String>> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        Ok(m) if m.len() > MAX_CONFIG_BYTES => {
            return Err(Error::Config {
                path: path.to_path_buf(),
                line: 1,
                message: format!("file is {} bytes; the limit is {MAX_CONFIG_BYTES}", m.len()),
            })
        }
        Ok(_) => {}
    }
    let bytes = std::fs::read(path).context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map(Some).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        line: line_of(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to()),
        message: "file is not valid UTF-8".into(),
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    }
}

/// A named command, as the user wrote it, resolved against its file.
#[derive(Debug, Clone, Serialize)]
pub struct Workflow {
    pub name: String,
    pub command: CommandSpec,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
    pub description: Option<String>,
    /// The file it came from.
    pub source: PathBuf,
}

/// The workflows visible from `cwd`: the nearest `errand.toml` upwards, then
/// the user's config (a project's workflow wins over a user one of the same
/// name). Reading them never runs anything.
pub fn workflows(config: &Config, paths: &Paths, cwd: &Path) -> Result<BTreeMap<String, Workflow>> {
    let mut all = BTreeMap::new();
    // Spans point into the config text: read it again only to turn them into line numbers.
    let text = if config.workflows.is_empty() { String::new() } else { read_small(&paths.config_file)?.unwrap_or_default() };
    for (name, value) in &config.workflows {
        let wf = parse_workflow(name, value, cwd, &paths.config_file, &text)?;
        all.insert(name.clone(), wf);
    }
    if let Some(root) = project_root(cwd) {
        let file = root.join(PROJECT_FILE);
        let text = read_small(&file)?.unwrap_or_default();
        let table: BTreeMap<String, toml::Spanned<toml::Value>> =
            toml::from_str(&text).map_err(|e| toml_error(&file, &text, &e))?;
        for (name, value) in &table {
            let wf = parse_workflow(name, value, &root, &file, &text)?;
            all.insert(name.clone(), wf);
        }
    }
    Ok(all)
}

/// Look up one workflow; an unknown name lists the close matches.
pub fn find_workflow(config: &Config, paths: &Paths, cwd: &Path, name: &str) -> Result<Workflow> {
    let mut all = workflows(config, paths, cwd)?;
    if let Some(wf) = all.remove(name) {
        return Ok(wf);
    }
    let mut close: Vec<(f64, String)> = all
        .into_keys()
        .map(|k| (strsim::jaro_winkler(name, &k), k))
        .filter(|(score, _)| *score > 0.75)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(Error::WorkflowNotFound {
        name: name.to_owned(),
        suggestions: close.into_iter().take(3).map(|(_, k)| k).collect(),
    })
}

/// The nearest folder at or above `cwd` holding an `errand.toml`.
pub fn project_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().find(|dir| dir.join(PROJECT_FILE).is_file()).map(Path::to_path_buf)
}

fn parse_workflow(
    name: &str,
    value: &toml::Spanned<toml::Value>,
    base: &Path,
    file: &Path,
    text: &str,
) -> Result<Workflow> {
    let fail = |message: String| Error::Config { path: file.to_path_buf(), line: line_of(text, value.span().start), message };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "-_.:".contains(c)) {
        return Err(fail(format!("workflow name '{name}' may only hold letters, digits, '-', '_', '.', ':'")));
    }
    let mut wf = Workflow {
        name: name.to_owned(),
        command: CommandSpec::Shell(String::new()),
        cwd: base.to_path_buf(),
        env: BTreeMap::new(),
        description: None,
        source: file.to_path_buf(),
    };
    match value.get_ref() {
        toml::Value::String(cmd) => wf.command = CommandSpec::Shell(cmd.clone()),
        toml::Value::Table(t) => {
            for key in t.keys() {
                if !["command", "argv", "cwd", "env", "description"].contains(&key.as_str()) {
                    return Err(fail(format!("workflow '{name}': unknown key '{key}' (expected command, argv, cwd, env, description)")));
                }
            }
            wf.command = match (t.get("command"), t.get("argv")) {
                (Some(toml::Value::String(c)), None) => CommandSpec::Shell(c.clone()),
                (None, Some(toml::Value::Array(a))) => CommandSpec::Argv(
                    a.iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| fail(format!("workflow '{name}': argv must be a list of strings")))?,
                ),
                (Some(_), Some(_)) => return Err(fail(format!("workflow '{name}': give either command or argv, not both"))),
                _ => return Err(fail(format!("workflow '{name}': needs command = \"...\" (a string) or argv = [...]"))),
            };
            match t.get("cwd") {
                None => {}
                Some(toml::Value::String(d)) => wf.cwd = base.join(d),
                Some(_) => return Err(fail(format!("workflow '{name}': cwd must be a string"))),
            }
            match t.get("description") {
                None => {}
                Some(toml::Value::String(d)) => wf.description = Some(d.clone()),
                Some(_) => return Err(fail(format!("workflow '{name}': description must be a string"))),
            }
            match t.get("env") {
                None => {}
                Some(toml::Value::Table(env)) => {
                    for (k, v) in env {
                        let v = v.as_str().ok_or_else(|| fail(format!("workflow '{name}': env.{k} must be a string")))?;
                        wf.env.insert(k.clone(), v.to_owned());
                    }
                }
                Some(_) => return Err(fail(format!("workflow '{name}': env must be a table of strings"))),
            }
        }
        _ => return Err(fail(format!("workflow '{name}' must be a command string or a table"))),
    }
    wf.command.validate().map_err(|e| fail(format!("workflow '{name}': {e}")))?;
    crate::task::validate_env(&wf.env).map_err(|e| fail(format!("workflow '{name}': {e}")))?;
    Ok(wf)
}
