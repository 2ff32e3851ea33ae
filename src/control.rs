//! Reaching a task that is queued or running, for any client: cancel it,
//! write to its stdin, close its stdin.

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
