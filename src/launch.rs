//! Starting tasks, for any client: turn what a client asks for into a new
//! task (one home for it, so the CLI and the server cannot drift apart),
//! queue it, and make sure a supervisor will pick it up. Supervisors claim
//! tasks themselves (oldest first, within the parallel limit) and keep
//! claiming until the queue is empty (lingering a moment for more), so a
//! client only starts one when a slot is free and no supervisor is idle.
//! Nothing polls: a task waits in the store until a supervisor claims it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diagnostics::choice;
use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use crate::store::{NewTask, Store};
use crate::task::{validate_env, CommandSpec, Status, Task};
use crate::workflow;

/// What to run: a command, or a workflow by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    Command(CommandSpec),
    Workflow(String),
}

impl What {
    /// A shell string; `#name` names a workflow.
    pub fn shell(s: String) -> What {
        match s.strip_prefix('#') {
            Some(name) => What::Workflow(name.to_owned()),
            None => What::Command(CommandSpec::Shell(s)),
        }
    }
}

/// What a client asks to run, before errand fills in the rest.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub what: What,
    pub name: Option<String>,
    /// The client's own directory: workflows are looked up from it, and a
    /// relative `cwd` starts from it. A command runs in it by default.
    pub client_dir: PathBuf,
    /// Where to run: instead of `client_dir` for a command, instead of the
    /// workflow's own folder for a workflow.
    pub cwd: Option<PathBuf>,
    /// Overrides on top of the workflow's environment and the base one.
    pub env: BTreeMap<String, String>,
    /// Default: the project of the folder it runs in.
    pub group: Option<String>,
    /// The environment the task starts from: the client's.
    pub base_env: BTreeMap<String, String>,
    /// It may leave processes behind when it ends (also a workflow's `keep_children`).
    pub keep_children: bool,
    /// Which matchers read its output (`diagnostics::choice`), instead of a
    /// workflow's own choice or the built-in ones.
    pub matcher: Option<String>,
    /// Stop it and record it failed once it ran this long (instead of a workflow's own).
    pub timeout_ms: Option<u64>,
    /// Tasks (ids or unique prefixes) that must complete before it starts.
    pub after: Vec<String>,
    /// How many times a failed run is run again (instead of a workflow's `retry`).
    pub retry: Option<u32>,
    /// The pause before each rerun (instead of a workflow's `retry_delay`).
    pub retry_delay_ms: Option<u64>,
}

/// The file mode mask errand's processes started with (main records it
/// before making errand's own files private): the one tasks get.
static CLIENT_UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// Remember the mask this process started with. Called once, first thing.
pub fn record_client_umask() {
    let _ = CLIENT_UMASK.set(crate::sys::current_umask());
}

/// The mask a task submitted from here runs with.
pub fn client_umask() -> Option<u32> {
    CLIENT_UMASK.get().copied()
}

/// The environment of this process, for a task it submits: its PATH,
/// virtualenv and the rest, minus errand's marker of an enclosing task.
pub fn client_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k != "ERRAND_TASK_ID")
        .collect()
}

/// A client's environment sent over the protocol, checked as overrides
/// are, minus errand's marker of an enclosing task (an editor started
/// inside a task must not make its tasks look nested).
pub fn base_env(mut env: BTreeMap<String, String>) -> std::result::Result<BTreeMap<String, String>, String> {
    validate_env(&env)?;
    env.remove("ERRAND_TASK_ID");
    Ok(env)
}

/// This process's current directory.
pub fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().context(|| "cannot read the current directory".to_owned())
}

/// `dir` relative to `base`; it must be a directory.
pub fn resolve_dir(base: &Path, dir: &Path) -> Result<PathBuf> {
    let dir = base.join(dir);
    if !dir.is_dir() {
        return Err(Error::InvalidInput(format!("{} is not a directory", dir.display())));
    }
    Ok(dir)
}

/// The task a request describes: its workflow looked up, its directory and
/// environment resolved, its command and environment checked.
pub fn new_task(config: &Config, paths: &Paths, req: RunRequest) -> Result<NewTask> {
    let cwd = req.cwd.as_deref().map(|d| resolve_dir(&req.client_dir, d)).transpose()?;
    let mut keep_children = req.keep_children;
    let mut timeout_ms = req.timeout_ms;
    if timeout_ms == Some(0) {
        return Err(Error::InvalidInput("a timeout must be more than 0".into()));
    }
    if let Some(n) = req.retry.filter(|n| *n > workflow::MAX_RETRIES) {
        return Err(Error::InvalidInput(format!("{n} retries: at most {}", workflow::MAX_RETRIES)));
    }
    let (mut retry, mut retry_delay_ms) = (req.retry, req.retry_delay_ms);
    let mut matcher = req.matcher.as_deref().map(choice::normalize).transpose().map_err(Error::InvalidInput)?;
    let (command, workflow, cwd, env, name) = match req.what {
        What::Command(command) => (command, None, cwd.unwrap_or(req.client_dir), req.env, req.name),
        What::Workflow(name) => {
            let wf = workflow::find(config, paths, &req.client_dir, &name)?;
            keep_children |= wf.keep_children;
            matcher = matcher.or(wf.matcher);
            timeout_ms = timeout_ms.or(wf.timeout_ms);
            retry = retry.or(Some(wf.retry));
            retry_delay_ms = retry_delay_ms.or(wf.retry_delay_ms);
            let mut env = wf.env;
            env.extend(req.env);
            (wf.command, Some(wf.name.clone()), cwd.unwrap_or(wf.cwd), env, req.name.or(Some(wf.name)))
        }
    };
    command.validate().map_err(Error::InvalidInput)?;
    validate_env(&env).map_err(Error::InvalidInput)?;
    if let Some(long) = name.as_ref().filter(|n| n.len() > crate::task::MAX_ARG) {
        return Err(Error::InvalidInput(format!("the name is {} bytes; at most {}", long.len(), crate::task::MAX_ARG)));
    }
    Ok(NewTask {
        name,
        command,
        group: req.group.or_else(|| workflow::project_group(&cwd)),
        cwd: cwd.to_string_lossy().into_owned(),
        env,
        base_env: req.base_env,
        workflow,
        restarted_from: None,
        keep_children,
        umask: client_umask(),
        after: None,
        matcher,
        timeout_ms,
        depends_on: req.after,
        retries: retry.unwrap_or(0),
        retry_delay_ms: retry_delay_ms.filter(|ms| *ms > 0),
    })
}

/// How this process starts supervisors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spawner {
    /// A short-lived command: the supervisor is left to init when we exit.
    Detached,
    /// A long-lived process in a tokio runtime: tokio reaps the supervisors
    /// it starts (on SIGCHLD), with no thread per supervisor.
    Reaped,
}

/// Where the queue lives and how this process feeds it.
pub struct Queue<'a> {
    pub store: &'a Store,
    pub paths: &'a Paths,
    pub config: &'a Config,
    pub spawner: Spawner,
}

impl Queue<'_> {
    /// Queue a task and start it if a slot is free. Its dependencies may
    /// be given as unique prefixes: they are stored as full ids.
    pub fn submit(&self, new: &NewTask) -> Result<Task> {
        new.command.validate().map_err(Error::InvalidInput)?;
        validate_env(&new.env).map_err(Error::InvalidInput)?;
        let resolved;
        let new = if new.depends_on.is_empty() {
            new
        } else {
            let mut ids: Vec<String> = new.depends_on.iter().map(|d| self.store.resolve(d)).collect::<Result<_>>()?;
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(id.clone()));
            resolved = NewTask { depends_on: ids, ..new.clone() };
            &resolved
        };
        let task = self.store.insert(new)?;
        crate::wakeup::signal(self.paths);
        self.kick()?;
        Ok(task)
    }

    /// Run a task again as a new task: the same command, cwd, environment
    /// and name, pointing back at the old one. A task still running is
    /// cancelled first, and the new one starts once it has ended (as VS
    /// Code's "Restart Running Task" does); a queued one never runs.
    pub fn restart(&self, id: &str) -> Result<Task> {
        let old = self.store.get(id)?;
        // A queued task's copy waits for the same tasks; once a task ran,
        // what it waited for is done with.
        let depends_on = if old.status() == Status::Queued { old.depends_on.clone() } else { Vec::new() };
        let after = match old.status() {
            Status::Running => match crate::control::cancel(self.store, self.paths, id) {
                // It ended meanwhile: nothing to wait for.
                Err(Error::AlreadyFinished { .. }) => None,
                other => other.map(|_| Some(old.id.clone()))?,
            },
            Status::Queued => {
                let _ = crate::control::cancel(self.store, self.paths, id);
                None
            }
            _ => None,
        };
        let new = NewTask {
            base_env: self.store.base_env(id)?,
            name: Some(old.name),
            command: old.command,
            cwd: old.cwd,
            env: old.env,
            group: old.group,
            workflow: old.workflow,
            restarted_from: Some(old.id),
            keep_children: old.keep_children,
            umask: old.umask,
            after,
            matcher: old.matcher,
            timeout_ms: old.timeout_ms,
            depends_on,
            retries: old.retries,
            retry_delay_ms: old.retry_delay_ms,
        };
        self.submit(&new)
    }

    /// Start supervisors for queued tasks that could start now and that no
    /// idle supervisor is waiting to take. Also the repair path: supervisors
    /// that died are noticed here and their tasks marked lost, which frees
    /// their slots.
    pub fn kick(&self) -> Result<()> {
        self.store.reap_lost()?;
        for _ in 0..self.store.workers_wanted(self.config.parallel)? {
            let mut cmd = crate::supervisor::command()?;
            let started = match self.spawner {
                Spawner::Detached => cmd.spawn().map(drop),
                Spawner::Reaped => tokio::process::Command::from(cmd).spawn().map(drop),
            };
            started.context(|| "cannot start a task supervisor".to_owned())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, Paths, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(&dir.path().join("home"));
        let proj = dir.path().join("proj");
        std::fs::create_dir_all(proj.join("sub/deep")).unwrap();
        std::fs::write(proj.join("errand.toml"), "[build]\ncommand = \"make\"\nenv = { A = \"wf\", B = \"wf\" }\n")
            .unwrap();
        (dir, paths, proj)
    }

    fn request(what: What, client_dir: &Path) -> RunRequest {
        RunRequest {
            what,
            name: None,
            client_dir: client_dir.to_path_buf(),
            cwd: None,
            env: BTreeMap::new(),
            group: None,
            base_env: BTreeMap::new(),
            keep_children: false,
            matcher: None,
            timeout_ms: None,
            after: Vec::new(),
            retry: None,
            retry_delay_ms: None,
        }
    }

    #[test]
    fn a_workflow_runs_at_its_root_unless_cwd_says_otherwise() {
        let (_dir, paths, proj) = project();
        let deep = proj.join("sub/deep");
        let config = Config::default();
        let t = new_task(&config, &paths, request(What::shell("#build".into()), &deep)).unwrap();
        assert_eq!(
            (t.cwd.as_str(), t.workflow.as_deref(), t.name.as_deref()),
            (proj.to_str().unwrap(), Some("build"), Some("build"))
        );
        assert_eq!(t.group.as_deref(), Some("proj"));
        // cwd is relative to the client's directory and replaces the workflow's own.
        let with_cwd = RunRequest { cwd: Some("..".into()), ..request(What::Workflow("build".into()), &deep) };
        let t = new_task(&config, &paths, with_cwd).unwrap();
        assert_eq!(Path::new(&t.cwd), deep.join(".."));
        let bad = RunRequest { cwd: Some("nope".into()), ..request(What::Workflow("build".into()), &deep) };
        assert!(new_task(&config, &paths, bad).unwrap_err().to_string().contains("not a directory"));
    }

    #[test]
    fn request_env_overrides_the_workflows_and_a_command_runs_where_the_client_is() {
        let (_dir, paths, proj) = project();
        let req = RunRequest {
            env: BTreeMap::from([("B".into(), "req".into())]),
            ..request(What::Workflow("build".into()), &proj)
        };
        let t = new_task(&Config::default(), &paths, req).unwrap();
        assert_eq!((t.env["A"].as_str(), t.env["B"].as_str()), ("wf", "req"));
        let cmd = request(What::shell("echo hi".into()), &proj.join("sub"));
        let t = new_task(&Config::default(), &paths, cmd).unwrap();
        assert_eq!((t.cwd, t.name, t.workflow), (proj.join("sub").to_string_lossy().into_owned(), None, None));
        let empty = request(What::shell(" ".into()), &proj);
        assert!(matches!(new_task(&Config::default(), &paths, empty), Err(Error::InvalidInput(_))));
        let missing = request(What::shell("#nope".into()), &proj);
        assert!(matches!(new_task(&Config::default(), &paths, missing), Err(Error::WorkflowNotFound { .. })));
    }
}
