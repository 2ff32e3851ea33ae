//! The global queue, seen from a client: put a task in the store, and make
//! sure a supervisor will pick it up. Supervisors claim tasks themselves
//! (oldest first, within the parallel limit) and keep claiming until the
//! queue is empty (lingering a moment for more), so a client only spawns one
//! when a slot is free and no supervisor is idle. Nothing
//! polls: a task waits in the store until a finishing supervisor claims it.

use crate::config::{Config, Paths};
use crate::error::{Error, Result};
use crate::notify;
use crate::store::{CancelAction, NewTask, Store};
use crate::supervisor::{self, Message};
use crate::task::Task;

/// The environment a new task runs in: the submitting client's own (its
/// PATH, virtualenv, …), minus errand's marker of an enclosing task.
pub fn client_env() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k != "ERRAND_TASK_ID")
        .collect()
}

/// The project a folder belongs to: the folder name of the nearest errand.toml.
pub fn project_group(dir: &std::path::Path) -> Option<String> {
    crate::config::project_root(dir).and_then(|root| root.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// Queue a task and start it if a slot is free.
pub fn submit(store: &Store, paths: &Paths, config: &Config, new: &NewTask) -> Result<Task> {
    new.command.validate().map_err(Error::InvalidInput)?;
    crate::task::validate_env(&new.env).map_err(Error::InvalidInput)?;
    let task = store.insert(new)?;
    notify::touch(paths);
    kick(store, config)?;
    Ok(task)
}

/// Spawn supervisors for queued tasks that could start now and that no
/// idle supervisor is waiting to take. Also the repair
/// path: supervisors that died are noticed here and their tasks marked lost,
/// which frees their slots.
pub fn kick(store: &Store, config: &Config) -> Result<()> {
    store.reap_lost()?;
    for _ in 0..store.workers_wanted(config.parallel)? {
        // Detached (own session). A CLI exits right away and the supervisor
        // is re-parented; a long-lived caller reaps it on a thread.
        let mut child = supervisor::spawn_worker()?;
        if config.reap_workers {
            std::thread::spawn(move || child.wait());
        }
    }
    Ok(())
}

/// Restart: a new task with the same command, cwd, environment and name.
pub fn restart(store: &Store, paths: &Paths, config: &Config, id: &str) -> Result<Task> {
    let old = store.get(id)?;
    let new = NewTask {
        name: Some(old.name.clone()),
        command: old.command.clone(),
        cwd: old.cwd.clone(),
        env: old.env.clone(),
        base_env: store.base_env(id)?,
        group: old.group.clone(),
        workflow: old.workflow.clone(),
        restarted_from: Some(old.id.clone()),
    };
    submit(store, paths, config, &new)
}

/// Cancel: a queued task never runs; a running one gets SIGTERM (its whole
/// process group), then SIGKILL after the grace period, from its supervisor.
pub fn cancel(store: &Store, paths: &Paths, id: &str) -> Result<CancelAction> {
    let action = store.request_cancel(id)?;
    match action {
        CancelAction::Dequeued => notify::touch(paths),
        CancelAction::Signal => match supervisor::send(paths, store, id, Message::Cancel) {
            Ok(()) => {}
            // No FIFO: either the supervisor is between claiming and starting
            // the task (it will see the request in the store), or it died.
            // Then the task is lost; still stop what is left of it.
            Err(Error::NotRunning { .. }) => {
                store.reap_lost()?;
                let task = store.get(id)?;
                if let (crate::task::Status::Lost, Some(pid)) = (task.status, task.pid) {
                    let _ = crate::sys::kill_group(pid, libc::SIGTERM);
                }
                notify::touch(paths);
            }
            Err(e) => return Err(e),
        },
    }
    Ok(action)
}
