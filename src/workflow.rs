//! Workflows: named commands from the project's `errand.toml` and the
//! user's config, and the tasks the project's own files define (see
//! `detect`). Reading them never runs anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::detect;
use crate::diagnostics::choice;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::task::{validate_env, CommandSpec, TaskHooks};
use crate::toml_file;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project file name, looked for from a folder upwards.
pub const PROJECT_FILE: &str = "errand.toml";

/// The keys a workflow table may hold.
const KEYS: [&str; 19] = [
    "command",
    "argv",
    "cwd",
    "env",
    "description",
    "keep_children",
    "matcher",
    "timeout",
    "retry",
    "retry_delay",
    "instance",
    "depends",
    "depends_order",
    "steps",
    "on_finish",
    "on_failure",
    "progress",
    "ready",
    "watch",
];

/// A named command, as the user wrote it, resolved against its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub name: String,
    pub command: CommandSpec,
    /// Where it runs: the project root, or its `cwd` relative to it.
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
    pub description: Option<String>,
    /// Its processes may outlive it (a command meant to leave a daemon behind).
    pub keep_children: bool,
    /// The file it came from.
    pub source: PathBuf,
    /// The tool it was detected for (`npm`, `make`…); None for errand's own.
    pub detected: Option<&'static str>,
    /// Why it cannot run, for a detected task errand cannot run as written.
    pub refused: Option<String>,
    /// Which matchers read its output (`diagnostics::choice`, as stored);
    /// None: the built-in ones.
    pub matcher: Option<String>,
    /// Stop it and record it failed once it ran this long.
    pub timeout_ms: Option<u64>,
    /// How many times a failed run is run again.
    pub retry: u32,
    /// The pause before each rerun.
    pub retry_delay_ms: Option<u64>,
    /// What a second run does while one runs in the same folder.
    pub instance: Instance,
    /// Workflows (names, detected ones as `tool:name`) run first, each
    /// once per run; this one starts once every one completed.
    pub depends: Vec<String>,
    /// They run one after another, in order (`steps`, or `depends_order =
    /// "sequence"`), rather than all at once.
    pub in_sequence: bool,
    /// Its own finish hooks, run after the user's (`[hooks]`).
    pub hooks: TaskHooks,
    /// Read progress from its output (`progress = false`: do not).
    pub progress_from_output: bool,
    /// A long-running task: `ready` once a line of its output matches this regex.
    pub ready: Option<String>,
    /// Run from the CLI, it is a watch of these paths (`errand run --watch`).
    pub watch: Vec<PathBuf>,
}

/// What a run of a workflow does while another run of it is queued or
/// running in the same folder (VS Code's `instancePolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Instance {
    /// Refused, naming the run in progress (the default: a second build of
    /// the same project is almost always a slip, and two fight over its files).
    #[default]
    Single,
    /// Both run.
    Parallel,
    /// The run in progress is cancelled; the new one starts once it ended.
    Restart,
    /// The new one waits for the run in progress to end, then starts.
    Queue,
}

impl Instance {
    pub fn parse(text: &str) -> Option<Instance> {
        match text {
            "single" => Some(Instance::Single),
            "parallel" => Some(Instance::Parallel),
            "restart" => Some(Instance::Restart),
            "queue" => Some(Instance::Queue),
            _ => None,
        }
    }
}

/// The most reruns a task may ask for: enough for any flaky step, few
/// enough that a typo does not run a broken build a million times.
pub const MAX_RETRIES: u32 = 100;

/// Every workflow visible from a folder, and the project files that could
/// not be read for detected tasks.
pub struct Listing {
    pub workflows: BTreeMap<String, Workflow>,
    pub warnings: Vec<String>,
}

/// The workflows visible from `dir`: the nearest `errand.toml` upwards, then
/// the user's config (a project's workflow wins over a user one of the same
/// name), then the tasks detected around `dir` as `source:name` (errand's
/// own names win on a clash, and the nearest folder's among detected ones).
pub fn visible(config: &Config, paths: &Paths, dir: &Path) -> Result<BTreeMap<String, Workflow>> {
    Ok(listing(config, paths, dir)?.workflows)
}

/// `visible`, with the warnings about project files detection could not read.
pub fn listing(config: &Config, paths: &Paths, dir: &Path) -> Result<Listing> {
    let mut all = BTreeMap::new();
    if !config.workflows.is_empty() {
        // Spans point into the config text: read it again only to turn them into line numbers.
        let text = toml_file::read(&paths.config_file)?.unwrap_or_default();
        for (name, value) in &config.workflows {
            all.insert(name.clone(), parse(name, value, dir, &paths.config_file, &text)?);
        }
    }
    if let Some(root) = project_file_folder(dir) {
        let file = root.join(PROJECT_FILE);
        let text = toml_file::read(&file)?.unwrap_or_default();
        let table: BTreeMap<String, toml::Spanned<toml::Value>> = toml_file::parse(&file, &text)?;
        for (name, value) in &table {
            all.insert(name.clone(), parse(name, value, &root, &file, &text)?);
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    let detected = detect::detect(dir, &env);
    for found in detected.tasks {
        let name = format!("{}:{}", found.source, found.name);
        all.entry(name.clone()).or_insert(Workflow {
            name,
            command: found.command,
            cwd: found.cwd,
            env: found.env,
            description: found.description,
            keep_children: false,
            source: found.file,
            detected: Some(found.source),
            refused: found.refused,
            matcher: None,
            timeout_ms: None,
            retry: 0,
            retry_delay_ms: None,
            instance: Instance::default(),
            hooks: TaskHooks::default(),
            progress_from_output: true,
            ready: found.ready,
            watch: Vec::new(),
            depends: found.depends,
            in_sequence: found.in_sequence,
        });
    }
    Ok(Listing { workflows: all, warnings: detected.warnings })
}

/// Check the user config's workflows as it is read, so a bad entry makes
/// the whole file malformed (one warning, or a refusal) like any other
/// mistake in it, instead of failing only the commands that list workflows.
pub fn check_user(workflows: &BTreeMap<String, toml::Spanned<toml::Value>>, file: &Path, text: &str) -> Result<()> {
    for (name, value) in workflows {
        // Where they run depends on the caller's folder; any base checks them.
        parse(name, value, Path::new("/"), file, text)?;
    }
    Ok(())
}

/// Look up one workflow; an unknown name lists the close matches.
pub fn find(config: &Config, paths: &Paths, dir: &Path, name: &str) -> Result<Workflow> {
    let mut all = visible(config, paths, dir)?;
    if let Some(wf) = all.remove(name) {
        if let Some(why) = &wf.refused {
            return Err(Error::InvalidInput(format!("#{name} cannot run here: {why}")));
        }
        return Ok(wf);
    }
    Err(Error::WorkflowNotFound { name: name.to_owned(), suggestions: close_matches(name, all.into_keys()) })
}

/// Up to three names that look like `name`, closest first.
fn close_matches(name: &str, names: impl Iterator<Item = String>) -> Vec<String> {
    let mut close: Vec<(f64, String)> =
        names.map(|k| (strsim::jaro_winkler(name, &k), k)).filter(|(score, _)| *score > 0.75).collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0));
    close.into_iter().take(3).map(|(_, k)| k).collect()
}

/// The nearest folder at or above `dir` holding an `errand.toml` (not
/// `detect::project_root`, which also stops at a version-control root).
pub fn project_file_folder(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join(PROJECT_FILE).is_file()).map(Path::to_path_buf)
}

/// The project a folder belongs to: the name of the folder of the nearest
/// `errand.toml`. A task's default group.
pub fn project_group(dir: &Path) -> Option<String> {
    project_file_folder(dir).and_then(|root| root.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// One workflow entry: `name = "command"` or a table of [`KEYS`].
fn parse(name: &str, value: &toml::Spanned<toml::Value>, base: &Path, file: &Path, text: &str) -> Result<Workflow> {
    let fail = |message: String| toml_file::error_at_offset(file, text, value.span().start, message);
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "-_.:".contains(c)) {
        return Err(fail(format!("workflow name '{name}' may only hold letters, digits, '-', '_', '.', ':'")));
    }
    let mut wf = Workflow {
        name: name.to_owned(),
        command: CommandSpec::Shell(String::new()),
        cwd: base.to_path_buf(),
        env: BTreeMap::new(),
        description: None,
        keep_children: false,
        source: file.to_path_buf(),
        detected: None,
        refused: None,
        matcher: None,
        timeout_ms: None,
        retry: 0,
        retry_delay_ms: None,
        instance: Instance::default(),
        depends: Vec::new(),
        in_sequence: false,
        hooks: TaskHooks::default(),
        progress_from_output: true,
        ready: None,
        watch: Vec::new(),
    };
    let table = match value.get_ref() {
        toml::Value::String(cmd) => {
            wf.command = CommandSpec::Shell(cmd.clone());
            None
        }
        toml::Value::Table(t) => Some(t),
        _ => return Err(fail(format!("workflow '{name}' must be a command string or a table"))),
    };
    if let Some(t) = table {
        if let Some(key) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(fail(format!("workflow '{name}': unknown key '{key}' (expected {})", KEYS.join(", "))));
        }
        let names = |key: &str| match t.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => Ok(Some(
                a.iter().filter_map(toml::Value::as_str).map(|n| n.trim_start_matches('#').to_owned()).collect(),
            )),
            Some(_) => Err(fail(format!("workflow '{name}': {key} must be a list of workflow names"))),
        };
        (wf.depends, wf.in_sequence) = match (names("depends")?, names("steps")?) {
            (Some(_), Some(_)) => {
                return Err(fail(format!("workflow '{name}': give either depends or steps, not both")))
            }
            (None, Some(steps)) => (steps, true),
            (depends, None) => {
                let in_sequence = match t.get("depends_order") {
                    None => false,
                    Some(toml::Value::String(s)) if s == "parallel" => false,
                    Some(toml::Value::String(s)) if s == "sequence" => true,
                    Some(_) => {
                        return Err(fail(format!(
                            "workflow '{name}': depends_order must be \"parallel\" or \"sequence\""
                        )))
                    }
                };
                (depends.unwrap_or_default(), in_sequence)
            }
        };
        wf.command = match (t.get("command"), t.get("argv")) {
            (Some(toml::Value::String(c)), None) => CommandSpec::Shell(c.clone()),
            (None, Some(toml::Value::Array(a))) => CommandSpec::Argv(
                a.iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| fail(format!("workflow '{name}': argv must be a list of strings")))?,
            ),
            (Some(_), Some(_)) => {
                return Err(fail(format!("workflow '{name}': give either command or argv, not both")))
            }
            // Only the workflows it runs first: its own task ends once they completed.
            (None, None) if !wf.depends.is_empty() => CommandSpec::Shell("true".to_owned()),
            _ => {
                return Err(fail(format!(
                    "workflow '{name}': needs command = \"...\" (a string), argv = [...], depends or steps"
                )))
            }
        };
        let string = |key: &str| match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(fail(format!("workflow '{name}': {key} must be a string"))),
        };
        if let Some(dir) = string("cwd")? {
            wf.cwd = base.join(dir);
        }
        wf.description = string("description")?;
        wf.keep_children = match t.get("keep_children") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => return Err(fail(format!("workflow '{name}': keep_children must be true or false"))),
        };
        let checked = |names: &str| choice::normalize(names).map_err(|e| fail(format!("workflow '{name}': {e}")));
        wf.matcher = match t.get("matcher") {
            None => None,
            Some(toml::Value::Boolean(false)) => Some(choice::OFF.to_owned()),
            Some(toml::Value::String(s)) => Some(checked(s)?),
            Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => {
                Some(checked(&a.iter().filter_map(toml::Value::as_str).collect::<Vec<_>>().join(","))?)
            }
            Some(_) => {
                return Err(fail(format!("workflow '{name}': matcher must be a name, a list of names, or false")))
            }
        };
        let duration = |key: &str| match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => {
                crate::duration::parse_ms(s).map(Some).map_err(|e| fail(format!("workflow '{name}': {key}: {e}")))
            }
            Some(toml::Value::Integer(secs)) if *secs > 0 && *secs <= i64::MAX / 1000 => Ok(Some(*secs as u64 * 1000)),
            Some(_) => Err(fail(format!("workflow '{name}': {key} must be like \"10m\" or seconds"))),
        };
        wf.timeout_ms = duration("timeout")?;
        wf.retry_delay_ms = duration("retry_delay")?;
        wf.retry = match t.get("retry") {
            None => 0,
            Some(toml::Value::Integer(n)) if (0..=i64::from(MAX_RETRIES)).contains(n) => *n as u32,
            Some(_) => return Err(fail(format!("workflow '{name}': retry must be a number from 0 to {MAX_RETRIES}"))),
        };
        for (key, hook) in [("on_finish", &mut wf.hooks.on_finish), ("on_failure", &mut wf.hooks.on_failure)] {
            *hook = match t.get(key) {
                None => None,
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                Some(_) => return Err(fail(format!("workflow '{name}': {key} must be a shell command"))),
            };
        }
        wf.progress_from_output = match t.get("progress") {
            None => true,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => return Err(fail(format!("workflow '{name}': progress must be true or false"))),
        };
        wf.ready = string("ready")?;
        if let Some(pattern) = &wf.ready {
            crate::output::ready::Pattern::new(pattern).map_err(|e| fail(format!("workflow '{name}': {e}")))?;
        }
        wf.watch = match t.get("watch") {
            None => Vec::new(),
            Some(toml::Value::String(s)) if !s.is_empty() => vec![base.join(s)],
            Some(toml::Value::Array(a))
                if !a.is_empty() && a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty())) =>
            {
                a.iter().filter_map(toml::Value::as_str).map(|s| base.join(s)).collect()
            }
            Some(_) => return Err(fail(format!("workflow '{name}': watch must be a path or a list of paths"))),
        };
        wf.instance = match t.get("instance") {
            None => Instance::default(),
            Some(v) => v.as_str().and_then(Instance::parse).ok_or_else(|| {
                fail(format!("workflow '{name}': instance must be \"single\", \"parallel\", \"restart\" or \"queue\""))
            })?,
        };
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
    wf.command.validate().map_err(|e| fail(format!("workflow '{name}': {e}")))?;
    validate_env(&wf.env).map_err(|e| fail(format!("workflow '{name}': {e}")))?;
    Ok(wf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Result<BTreeMap<String, Workflow>> {
        let file = Path::new("/proj/errand.toml");
        let table: BTreeMap<String, toml::Spanned<toml::Value>> = toml_file::parse(file, text)?;
        table.iter().map(|(n, v)| Ok((n.clone(), parse(n, v, Path::new("/proj"), file, text)?))).collect()
    }

    #[test]
    fn strings_and_tables_become_workflows_at_the_project_root() {
        let all = parse_all(
            "build = \"cargo build\"\n\
             [serve]\nargv = [\"python3\", \"-m\", \"http.server\"]\ncwd = \"site\"\n\
             env = { PORT = \"8000\" }\ndescription = \"Serve the site\"\n",
        )
        .unwrap();
        let build = &all["build"];
        assert_eq!(build.command, CommandSpec::Shell("cargo build".into()));
        assert_eq!(build.cwd, Path::new("/proj"));
        assert_eq!(build.source, Path::new("/proj/errand.toml"));
        let serve = &all["serve"];
        assert_eq!(serve.command, CommandSpec::Argv(vec!["python3".into(), "-m".into(), "http.server".into()]));
        assert_eq!(serve.cwd, Path::new("/proj/site"));
        assert_eq!(serve.env["PORT"], "8000");
        assert_eq!(serve.description.as_deref(), Some("Serve the site"));
        assert_eq!(serve.matcher, None, "every built-in matcher");
        let chosen = parse_all(
            "a = { command = \"x\", matcher = [\"tsc\", \"eslint\"] }\n\
                                b = { command = \"x\", matcher = false }\n",
        )
        .unwrap();
        assert_eq!(
            (chosen["a"].matcher.as_deref(), chosen["b"].matcher.as_deref()),
            (Some("tsc,eslint"), Some("none"))
        );
        let timed = parse_all("a = { command = \"x\", timeout = \"1m30s\" }\nb = { command = \"x\", timeout = 5 }\n");
        let timed = timed.unwrap();
        assert_eq!((timed["a"].timeout_ms, timed["b"].timeout_ms), (Some(90_000), Some(5_000)));
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let cases = [
            ("a = 1\nb = 42\n", "errand.toml:1: workflow 'a' must be a command string or a table"),
            ("[x]\ncommand = \"a\"\nargv = [\"b\"]\n", ":1: workflow 'x': give either command or argv, not both"),
            ("ok = \"true\"\n[x]\ncomand = \"a\"\n", ":2: workflow 'x': unknown key 'comand'"),
            ("[x]\nargv = [1]\n", "workflow 'x': argv must be a list of strings"),
            ("[x]\ncommand = \"a\"\ncwd = 3\n", "workflow 'x': cwd must be a string"),
            ("[x]\ncommand = \"a\"\nenv = { A = 1 }\n", "workflow 'x': env.A must be a string"),
            ("x = \"  \"\n", "workflow 'x': the command is empty"),
            ("\"a b\" = \"true\"\n", "workflow name 'a b' may only hold"),
            ("[x]\ndescription = \"no command\"\n", "workflow 'x': needs command"),
            ("[x]\ncommand = \"a\"\nmatcher = \"javac\"\n", ":1: workflow 'x': unknown matcher 'javac'"),
            ("[x]\ncommand = \"a\"\nmatcher = true\n", "workflow 'x': matcher must be a name, a list"),
            ("[x]\ncommand = \"a\"\ntimeout = \"soon\"\n", "workflow 'x': timeout: 'soon' is not a duration"),
            ("[x]\ncommand = \"a\"\ntimeout = 0\n", "workflow 'x': timeout must be like"),
            ("[x]\ncommand = \"a\"\ntimeout = 9223372036854775807\n", "workflow 'x': timeout must be like"),
        ];
        for (text, expected) in cases {
            let err = parse_all(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn close_names_are_suggested_best_first() {
        let names = ["build", "bench", "test", "builds"].map(String::from);
        assert_eq!(close_matches("biuld", names.clone().into_iter()), ["build", "builds"]);
        assert!(close_matches("zzz", names.into_iter()).is_empty());
    }
}
