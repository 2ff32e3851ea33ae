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
use crate::task::{validate_env, CommandSpec, Status, Task, TaskHooks};
use crate::workflow::{self, Instance};

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
    /// A long-running task: `ready` once a line of its output matches this
    /// regex (instead of a workflow's `ready`).
    pub ready: Option<String>,
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

/// A run ready to submit: its task, and from its workflow what a second run
/// does and which workflows run first.
#[derive(Debug)]
pub struct Planned {
    pub task: NewTask,
    pub instance: Instance,
    /// Workflows run first (`workflow::Workflow::depends`).
    pub depends: Vec<String>,
    pub in_sequence: bool,
    /// Where those are looked up: where this one was.
    pub client_dir: PathBuf,
    /// Its workflow's `watch`: run from the CLI, it is a watch of these.
    pub watch: Vec<PathBuf>,
}

impl RunRequest {
    /// A run of workflow `name` as a dependency of another, from `client_dir`.
    fn dependency(name: &str, client_dir: &Path, base_env: BTreeMap<String, String>) -> RunRequest {
        RunRequest {
            what: What::Workflow(name.to_owned()),
            name: None,
            client_dir: client_dir.to_path_buf(),
            cwd: None,
            env: BTreeMap::new(),
            group: None,
            base_env,
            keep_children: false,
            matcher: None,
            timeout_ms: None,
            after: Vec::new(),
            retry: None,
            retry_delay_ms: None,
            ready: None,
        }
    }
}

/// The task a request describes: its workflow looked up, its directory and
/// environment resolved, its command and environment checked.
pub fn new_task(config: &Config, paths: &Paths, req: RunRequest) -> Result<Planned> {
    let client_dir = req.client_dir.clone();
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
    let mut instance = Instance::Parallel;
    let (mut depends, mut in_sequence) = (Vec::new(), false);
    let mut hooks = TaskHooks::default();
    let mut progress_from_output = true;
    let mut ready_pattern = req.ready;
    let mut watch = Vec::new();
    let (command, workflow, cwd, env, name) = match req.what {
        What::Command(command) => (command, None, cwd.unwrap_or(req.client_dir), req.env, req.name),
        What::Workflow(name) => {
            let wf = workflow::find(config, paths, &req.client_dir, &name)?;
            keep_children |= wf.keep_children;
            matcher = matcher.or(wf.matcher);
            timeout_ms = timeout_ms.or(wf.timeout_ms);
            retry = retry.or(Some(wf.retry));
            retry_delay_ms = retry_delay_ms.or(wf.retry_delay_ms);
            instance = wf.instance;
            hooks = wf.hooks;
            progress_from_output = wf.progress_from_output;
            ready_pattern = ready_pattern.or(wf.ready);
            watch = wf.watch;
            (depends, in_sequence) = (wf.depends, wf.in_sequence);
            let mut env = wf.env;
            env.extend(req.env);
            (wf.command, Some(wf.name.clone()), cwd.unwrap_or(wf.cwd), env, req.name.or(Some(wf.name)))
        }
    };
    command.validate().map_err(Error::InvalidInput)?;
    validate_env(&env).map_err(Error::InvalidInput)?;
    if let Some(pattern) = &ready_pattern {
        crate::output::ready::Pattern::new(pattern).map_err(Error::InvalidInput)?;
    }
    if let Some(long) = name.as_ref().filter(|n| n.len() > crate::task::MAX_ARG) {
        return Err(Error::InvalidInput(format!("the name is {} bytes; at most {}", long.len(), crate::task::MAX_ARG)));
    }
    // Who queues it from a hook is told apart here, once: its processes
    // (and its restarts) do not carry the hook's variable.
    let mut base_env = req.base_env;
    let from_hook = base_env.remove(crate::supervisor::hooks::VARIABLE).is_some();
    let new = NewTask {
        name,
        command,
        group: req.group.or_else(|| workflow::project_group(&cwd)),
        cwd: cwd.to_string_lossy().into_owned(),
        env,
        base_env,
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
        hooks,
        from_hook,
        progress_from_output,
        ready_pattern,
    };
    Ok(Planned { task: new, instance, depends, in_sequence, client_dir, watch })
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
        let mut tasks = self.submit_many(std::slice::from_ref(new))?;
        tasks.pop().ok_or_else(|| Error::InvalidInput("nothing to submit".into()))
    }

    /// Queue many tasks in one transaction, in order (a bulk submit: `run
    /// --batch`, `task/runMany`), then start what a free slot allows. Every
    /// one is checked first: one bad task queues none.
    pub fn submit_many(&self, news: &[NewTask]) -> Result<Vec<Task>> {
        let mut resolved = Vec::with_capacity(news.len());
        // A batch's tasks often wait for the same ids: each looked up once.
        let mut full_ids: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        for (k, new) in news.iter().enumerate() {
            let at = |e: String| match news.len() {
                1 => Error::InvalidInput(e),
                n => Error::InvalidInput(format!("task {} of {n}: {e}", k + 1)),
            };
            new.command.validate().map_err(at)?;
            validate_env(&new.env).map_err(at)?;
            let mut ids: Vec<String> = Vec::with_capacity(new.depends_on.len());
            for given in &new.depends_on {
                let id = match full_ids.get(given.as_str()) {
                    Some(id) => id.clone(),
                    None => self.store.resolve(given)?,
                };
                full_ids.insert(given, id.clone());
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            resolved.push(NewTask { depends_on: ids, ..new.clone() });
        }
        let tasks = self.store.insert_many(&resolved)?;
        crate::wakeup::signal(self.paths);
        self.kick()?;
        Ok(tasks)
    }

    /// Run a task again as a new task: the same command, cwd, environment
    /// and name, pointing back at the old one. A task still running is
    /// cancelled first, and the new one starts once it has ended (as VS
    /// Code's "Restart Running Task" does); a queued one never runs.
    pub fn restart(&self, id: &str) -> Result<Task> {
        let old = self.store.get(id)?;
        let after = self.stop_for_a_new_run(&old)?;
        self.copy(old, after)
    }

    /// Run a task again as a new task once it has ended, leaving it to run
    /// (a watch's `queue` policy): the copy waits for it if it is running.
    pub fn rerun_after(&self, id: &str) -> Result<Task> {
        let old = self.store.get(id)?;
        let after = (old.status() == Status::Running).then(|| old.id.clone());
        self.copy(old, after)
    }

    /// Queue a copy of `old`, started once `after` (if any) has ended.
    fn copy(&self, old: Task, after: Option<String>) -> Result<Task> {
        // A queued task's copy waits for the same tasks; once a task ran,
        // what it waited for is done with.
        let depends_on = if old.status() == Status::Queued { old.depends_on.clone() } else { Vec::new() };
        let new = NewTask {
            base_env: self.store.base_env(&old.id)?,
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
            hooks: old.hooks,
            // Restarted by a hook (`on_failure = 'errand restart $ERRAND_ID'`):
            // no hooks, or it would restart itself for ever.
            from_hook: std::env::var_os(crate::supervisor::hooks::VARIABLE).is_some(),
            progress_from_output: old.progress_from_output,
            ready_pattern: old.ready_pattern,
        };
        self.submit(&new)
    }

    /// Stop `old` for a run replacing it: cancelled if queued or running;
    /// the task the new run must wait for (one still stopping), if any.
    fn stop_for_a_new_run(&self, old: &Task) -> Result<Option<String>> {
        Ok(match old.status() {
            Status::Running => match crate::control::cancel(self.store, self.paths, &old.id) {
                // It ended meanwhile: nothing to wait for.
                Err(Error::AlreadyFinished { .. }) => None,
                other => other.map(|_| Some(old.id.clone()))?,
            },
            Status::Queued => {
                let _ = crate::control::cancel(self.store, self.paths, &old.id);
                None
            }
            _ => None,
        })
    }

    /// Submit a planned run: the workflows it depends on first (each once:
    /// a run of one already queued or running in its folder is waited for
    /// rather than started again), then the run itself, waiting for them.
    /// Workflows that depend on each other in a cycle are refused, naming
    /// it, before anything starts; so is a run its `single` policy refuses.
    pub fn launch(&self, planned: Planned) -> Result<Task> {
        if planned.depends.is_empty() {
            return self.run(&planned.task, planned.instance);
        }
        let root = planned.task.workflow.clone().unwrap_or_default();
        self.check_cycles(&planned.client_dir, &mut vec![root], &planned.depends)?;
        if planned.instance == Instance::Single {
            self.refuse_if_active(&planned.task)?;
        }
        // A bad --after is refused before any dependency starts.
        let mut planned = planned;
        planned.task.depends_on =
            planned.task.depends_on.iter().map(|d| self.store.resolve(d)).collect::<Result<Vec<_>>>()?;
        self.launch_with_dependencies(planned, &[])
    }

    /// Follow `depends` down from the workflows in `chain`, refusing a cycle.
    fn check_cycles(&self, dir: &Path, chain: &mut Vec<String>, depends: &[String]) -> Result<()> {
        for name in depends {
            if let Some(at) = chain.iter().position(|n| n == name) {
                let cycle: Vec<String> = chain[at..].iter().chain([name]).map(|n| format!("#{n}")).collect();
                return Err(Error::InvalidInput(format!("workflows depend on each other: {}", cycle.join(" → "))));
            }
            let wf = workflow::find(self.config, self.paths, dir, name)?;
            chain.push(name.clone());
            self.check_cycles(dir, chain, &wf.depends)?;
            chain.pop();
        }
        Ok(())
    }

    /// Submit the workflows `planned` depends on, then it. `first`: tasks
    /// everything of it waits for (the steps before it, in a sequence).
    fn launch_with_dependencies(&self, planned: Planned, first: &[String]) -> Result<Task> {
        let Planned { mut task, instance, depends, in_sequence, client_dir, .. } = planned;
        task.depends_on.extend(first.iter().cloned());
        let mut earlier: Vec<String> = first.to_vec();
        for name in &depends {
            let request = RunRequest::dependency(name, &client_dir, task.base_env.clone());
            let mut dependency = new_task(self.config, self.paths, request)?;
            dependency.task.from_hook = task.from_hook;
            // Not reused, a dependency waits for a run in progress rather than
            // be refused (single) or stop it (restart) halfway through a launch.
            if dependency.instance != Instance::Parallel {
                dependency.instance = Instance::Queue;
            }
            // A run in progress serves, unless it must come after earlier steps.
            let waits = in_sequence && earlier.len() > first.len();
            let reusable = if waits { None } else { self.store.active_run_of(name, &dependency.task.cwd)? };
            let id = match reusable {
                Some(running) => running.id,
                None => self.launch_with_dependencies(dependency, if in_sequence { &earlier } else { first })?.id,
            };
            task.depends_on.push(id.clone());
            earlier.push(id);
        }
        self.run(&task, instance)
    }

    /// A `single` workflow's run while another run of it is in progress: refused.
    fn refuse_if_active(&self, new: &NewTask) -> Result<()> {
        let Some(workflow) = new.workflow.as_deref() else { return Ok(()) };
        match self.store.active_run_of(workflow, &new.cwd)? {
            Some(active) => {
                let status = active.status().to_string();
                Err(Error::WorkflowActive { workflow: workflow.to_owned(), id: active.id, status })
            }
            None => Ok(()),
        }
    }

    /// Submit a new run of a command or workflow, as its workflow's
    /// `instance` says while another run of it is queued or running in the
    /// same folder: refused (single), run too (parallel), that one
    /// cancelled first (restart), or after it (queue).
    pub fn run(&self, new: &NewTask, instance: Instance) -> Result<Task> {
        let active = match (new.workflow.as_deref(), instance) {
            (Some(_), Instance::Single) => {
                self.refuse_if_active(new)?;
                None
            }
            (Some(workflow), Instance::Restart | Instance::Queue) => self.store.active_run_of(workflow, &new.cwd)?,
            _ => None,
        };
        let Some(active) = active else { return self.submit(new) };
        let after = if instance == Instance::Restart { self.stop_for_a_new_run(&active)? } else { Some(active.id) };
        self.submit(&NewTask { after, ..new.clone() })
    }

    /// Start supervisors for queued tasks that could start now and that no
    /// idle supervisor is waiting to take. Also the repair path: supervisors
    /// that died are noticed here and their tasks marked lost, which frees
    /// their slots.
    pub fn kick(&self) -> Result<()> {
        self.store.reap_lost()?;
        for _ in 0..self.store.workers_wanted(&self.config.limits())? {
            let mut cmd = crate::supervisor::command()?;
            let started = match self.spawner {
                Spawner::Detached => cmd.spawn().map(|child| crate::supervisor::note_started(child.id())),
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
            ready: None,
        }
    }

    #[test]
    fn a_workflow_runs_at_its_root_unless_cwd_says_otherwise() {
        let (_dir, paths, proj) = project();
        let deep = proj.join("sub/deep");
        let config = Config::default();
        let t = new_task(&config, &paths, request(What::shell("#build".into()), &deep)).unwrap().task;
        assert_eq!(
            (t.cwd.as_str(), t.workflow.as_deref(), t.name.as_deref()),
            (proj.to_str().unwrap(), Some("build"), Some("build"))
        );
        assert_eq!(t.group.as_deref(), Some("proj"));
        // cwd is relative to the client's directory and replaces the workflow's own.
        let with_cwd = RunRequest { cwd: Some("..".into()), ..request(What::Workflow("build".into()), &deep) };
        let t = new_task(&config, &paths, with_cwd).unwrap().task;
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
        let t = new_task(&Config::default(), &paths, req).unwrap().task;
        assert_eq!((t.env["A"].as_str(), t.env["B"].as_str()), ("wf", "req"));
        let cmd = request(What::shell("echo hi".into()), &proj.join("sub"));
        let t = new_task(&Config::default(), &paths, cmd).unwrap().task;
        assert_eq!((t.cwd, t.name, t.workflow), (proj.join("sub").to_string_lossy().into_owned(), None, None));
        let empty = request(What::shell(" ".into()), &proj);
        assert!(matches!(new_task(&Config::default(), &paths, empty), Err(Error::InvalidInput(_))));
        let missing = request(What::shell("#nope".into()), &proj);
        assert!(matches!(new_task(&Config::default(), &paths, missing), Err(Error::WorkflowNotFound { .. })));
    }
}
