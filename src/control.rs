//! Reaching a task that is queued or running, for any client: cancel it,
//! write to its stdin, close its stdin, pause and resume it.

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::store::{CancelAction, Store};
use crate::supervisor::fifo::{self, Message};
use crate::task::Status;

/// Cancel: a queued task never runs; a running one gets SIGTERM (its whole
/// process group), then SIGKILL after the grace period, from its supervisor.
pub fn cancel(store: &Store, paths: &Paths, id: &str) -> Result<CancelAction> {
    let action = store.request_cancel(id)?;
    match action {
        CancelAction::Dequeued => crate::wakeup::signal(paths),
        CancelAction::Signalled => match fifo::send(paths, store, id, &Message::Cancel) {
            Ok(()) => {}
            // No FIFO: either the supervisor is between claiming and starting
            // the task (it will see the request in the store), or it died.
            // Then the task is lost; still stop what is left of it.
            Err(Error::NotRunning { .. }) => {
                store.reap_lost()?;
                let task = store.get(id)?;
                if let (Status::Lost, Some(pid)) = (task.status(), task.pid()) {
                    let _ = crate::sys::kill_group(pid, libc::SIGTERM);
                }
                crate::wakeup::signal(paths);
            }
            Err(e) => return Err(e),
        },
    }
    Ok(action)
}

/// Write `input` to a running task's stdin, then close it if `eof`.
pub fn send_input(store: &Store, paths: &Paths, id: &str, input: Option<Vec<u8>>, eof: bool) -> Result<()> {
    if input.is_none() && !eof {
        return Err(Error::InvalidInput("give the text to send, or close the input (eof)".into()));
    }
    if let Some(data) = input {
        fifo::send(paths, store, id, &Message::Input(data))?;
    }
    if eof {
        fifo::send(paths, store, id, &Message::Eof)?;
    }
    Ok(())
}

/// Pause a running task (SIGSTOP to every process of it, by its supervisor)
/// or resume it (SIGCONT); returns once its supervisor recorded it.
pub fn pause(store: &Store, paths: &Paths, id: &str, paused: bool) -> Result<()> {
    let task = store.get(id)?;
    if task.status() != Status::Running {
        return Err(Error::NotRunning { id: id.to_owned(), status: task.status().as_str().to_owned() });
    }
    if task.paused_at.is_some() == paused {
        return Ok(());
    }
    fifo::send(paths, store, id, if paused { &Message::Pause } else { &Message::Resume })?;
    // Bounded: a supervisor answers in milliseconds (a frame sent before its
    // task's processes start waits for them); one busy stopping its task
    // does not, and the client is told so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let task = store.get(id)?;
        if task.paused_at.is_some() == paused {
            return Ok(());
        }
        if task.is_final() {
            return Err(Error::AlreadyFinished { id: id.to_owned(), status: task.status().as_str().to_owned() });
        }
        if std::time::Instant::now() > deadline {
            return Err(Error::NotRunning { id: id.to_owned(), status: "starting or stopping".to_owned() });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Stop the queue starting new tasks (running ones go on), or let it again.
/// Resuming, the caller starts supervisors for what waits (`Queue::kick`).
pub fn pause_queue(store: &Store, paths: &Paths, paused: bool) -> Result<()> {
    store.set_queue_paused(paused)?;
    crate::wakeup::signal(paths);
    Ok(())
}
