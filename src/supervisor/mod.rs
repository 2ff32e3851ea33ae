//! The supervisor: a detached `errand __worker` process (its own session)
//! that claims the oldest queued task, runs it, records its outcome, and
//! claims the next one until the queue is empty. It outlives whatever
//! client started it, so quitting an editor or SIGKILLing `errand serve`
//! loses nothing.
//!
//! - `run_task`: one task from start to outcome.
//! - `process`: how a task's processes are started, signalled and waited for.
//! - `fifo`: the control FIFO through which clients reach the running task.
//! - `hooks`: the user's commands run when a task ends.

pub mod fifo;
pub mod hooks;
pub mod process;
mod run_task;

use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::error::{IoContext, Result};
use crate::output::LogFiles;
use crate::paths::Paths;
use crate::process::Identity;
use crate::store::{Limits, Outcome, Store, WhenIdle};
use crate::task::Task;
use crate::wakeup::Waiter;

/// How long a supervisor with nothing to do waits for another task before
/// it exits: long enough to carry a burst of short tasks, short enough that
/// no errand process stays around once work stops.
const LINGER: Duration = Duration::from_secs(2);

/// The command that starts a supervisor: this executable, detached from the
/// caller's session so no SIGHUP of a closing terminal reaches it.
pub fn command() -> Result<std::process::Command> {
    let exe = std::env::current_exe().context(|| "cannot find the errand executable".to_owned())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("__worker").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).current_dir("/");
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(crate::sys::setsid);
    }
    Ok(cmd)
}

/// Supervisors this process started (for a ready task's dependents): they
/// are its children, but not its task's, so stopping the task leaves them be.
static STARTED: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Remember a supervisor this process started.
pub fn note_started(pid: u32) {
    STARTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(pid);
}

/// A supervisor this process started has ended (and was reaped): its pid
/// may be a task's next.
pub fn forget_started(pid: u32) {
    STARTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|p| *p != pid);
}

/// The supervisors this process started.
pub fn started() -> Vec<u32> {
    STARTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// The body of `errand __worker`.
pub fn run(paths: &Paths) -> Result<()> {
    let config = Config::load(paths);
    let store = Store::open(paths)?;
    let me = Identity::current();
    // Orphans of a task come back here, not to init: nothing of a task escapes.
    if let Err(e) = crate::sys::set_child_subreaper() {
        tracing::warn!("cannot become a child subreaper: {e}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "cannot start the async runtime".to_owned())?;
    // SIGTERM to a supervisor (a shutdown, a user's kill) cancels its task
    // properly and records it, instead of losing it.
    let mut sigterm =
        runtime.block_on(async { signal(SignalKind::terminate()) }).context(|| "cannot handle SIGTERM".to_owned())?;
    let (mut control, _cleanup) = open_control(&runtime, paths, &me)?;
    // Watch before claiming, so a task queued right after an empty claim
    // wakes us. Only while not running a task: inotify instances are a
    // per-user resource (128 by default), and 64 busy supervisors should
    // not hold 64 of them.
    let mut waiter = Some(Waiter::new(paths));
    let mut stopping = false;
    let limits = config.limits();
    let mut finished: Option<(String, Outcome)> = None;
    // The task that just ended has hooks to run (the user's or its workflow's).
    let mut hooked = false;
    let mut idle_since: Option<Instant> = None;
    loop {
        let lingering = idle_since.is_some_and(|t| t.elapsed() < LINGER);
        let when_idle = if stopping {
            WhenIdle::Stop
        } else if idle_since.is_some() && !lingering {
            WhenIdle::Leave
        } else {
            WhenIdle::Linger
        };
        let mut just_finished = finished.take();
        // With hooks, the outcome is recorded first and the next task claimed
        // after them: it is not held `running` with no process meanwhile.
        if let Some((id, outcome)) = just_finished.take_if(|_| hooked) {
            record_and_claim(&store, Some(&(id.clone(), outcome)), &me, &limits, WhenIdle::Stop);
            crate::wakeup::signal(paths);
            after_hooks(&store, &config, &id);
        }
        let next = record_and_claim(&store, just_finished.as_ref(), &me, &limits, when_idle);
        crate::wakeup::signal(paths);
        // A queue that never empties (a burst of thousands) still gets its
        // tasks indexed for search: after an outcome is told, a batch at a time.
        if just_finished.is_some() && store.text_lag().is_ok_and(|lag| lag >= crate::store::INDEX_LAG) {
            if let Err(e) = store.index_text_batch() {
                tracing::warn!("cannot index tasks for search: {e}");
            }
        }
        match next {
            Some(task) => {
                idle_since = None;
                waiter = None;
                tracing::info!(task = %task.id, "starting");
                let supervision = run_task::Supervision {
                    paths,
                    config: &config,
                    store: &store,
                    grace: config.cancel_grace(),
                    control: &mut control,
                    sigterm: &mut sigterm,
                    stopping: &mut stopping,
                };
                let outcome = runtime.block_on(run_task::run::<process::ProcessGroup>(&task, supervision));
                tracing::info!(task = %task.id, exit = ?outcome.exit, "ended");
                // Children a task kept are this subreaper's until it exits:
                // it runs nothing else, so they are never taken for another task's.
                stopping |= task.keep_children;
                hooked = config.hooks.any() || !task.hooks.is_empty();
                finished = Some((task.id, outcome));
            }
            None if when_idle != WhenIdle::Linger => break,
            None => {
                let since = *idle_since.get_or_insert_with(Instant::now);
                // Watching before the check: a task queued after it wakes us.
                let waiter = waiter.get_or_insert_with(|| Waiter::new(paths));
                wait_for_work(&store, waiter, since, &limits);
            }
        }
    }
    leave(&store, paths, &config, stopping);
    Ok(())
}

/// The control FIFO lives as long as this supervisor: it exists before any
/// task is claimed, so a client that finds a task running finds it. The
/// guard removes it when the supervisor ends.
fn open_control(
    runtime: &tokio::runtime::Runtime,
    paths: &Paths,
    me: &Identity,
) -> Result<(mpsc::Receiver<(String, fifo::Message)>, RemoveOnDrop)> {
    let ctl = fifo::path(paths, me.pid);
    let _ = std::fs::remove_file(&ctl);
    crate::sys::mkfifo(&ctl).context(|| format!("cannot create {}", ctl.display()))?;
    let cleanup = RemoveOnDrop(ctl.clone());
    let control = runtime
        .block_on(async {
            let receiver = tokio::net::unix::pipe::OpenOptions::new().read_write(true).open_receiver(&ctl)?;
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(fifo::read(receiver, tx));
            Ok::<_, std::io::Error>(rx)
        })
        .context(|| format!("cannot open {}", ctl.display()))?;
    Ok((control, cleanup))
}

/// Sleep until a task is queued or the linger time since `since` is up.
/// Most changes are not new tasks: check with a read before trying a claim
/// (a write). A task waiting for a slot is not one to claim: its slot frees
/// with an outcome, and that outcome's supervisor claims it.
fn wait_for_work(store: &Store, waiter: &mut Waiter, since: Instant, limits: &Limits) {
    while since.elapsed() < LINGER && !store.has_claimable(limits).unwrap_or(true) {
        let _ = waiter.wait(Some(LINGER.saturating_sub(since.elapsed())));
    }
}

/// The user's finish hooks for a task whose outcome was just recorded.
fn after_hooks(store: &Store, config: &Config, id: &str) {
    match store.get(id) {
        // The environment the task started from: its submitter's, not whichever client started this supervisor.
        Ok(task) => hooks::after(&config.hooks, &task, &store.base_env(id).unwrap_or_default()),
        Err(e) => tracing::warn!(task = id, "cannot read the task for its hooks: {e}"),
    }
}

/// What a supervisor does on its way out.
fn leave(store: &Store, paths: &Paths, config: &Config, stopping: bool) {
    // A client that found this supervisor running (or idle) left the next
    // task to it: one told to stop hands it on.
    if stopping {
        let queue = crate::launch::Queue { store, paths, config, spawner: crate::launch::Spawner::Detached };
        if let Err(e) = queue.kick() {
            tracing::warn!("cannot start a supervisor for the tasks left: {e}");
        }
    }
    // The queue drained: a quiet moment to keep history within its limits.
    match store.prune(&config.history) {
        Ok(ids) => ids.iter().for_each(|id| LogFiles::of(paths, id).remove()),
        Err(e) => tracing::warn!("prune failed: {e}"),
    }
    index_text(store);
    if let Err(e) = store.checkpoint() {
        tracing::warn!("checkpoint failed: {e}");
    }
}

/// Bring the text index up to date (see `store::search`).
fn index_text(store: &Store) {
    let start = Instant::now();
    match store.index_all_text() {
        Ok(0) => {}
        Ok(n) => tracing::info!("indexed {n} tasks for search in {:?}", start.elapsed()),
        Err(e) => tracing::warn!("cannot index tasks for search: {e}"),
    }
}

/// Record the last outcome and claim the next task. A busy or full store is
/// retried for a while: an outcome is worth waiting for.
fn record_and_claim(
    store: &Store,
    finished: Option<&(String, Outcome)>,
    me: &Identity,
    limits: &Limits,
    when_idle: WhenIdle,
) -> Option<Task> {
    let finished = finished.map(|(id, o)| (id.as_str(), o));
    for attempt in 0..50 {
        match store.finish_and_claim(finished, me, limits, when_idle) {
            Ok(next) => return next,
            Err(e) => {
                tracing::error!("cannot record the outcome (attempt {attempt}): {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    None
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
