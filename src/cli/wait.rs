//! `errand wait` (and `run -w`): block until tasks are final, without polling.

use std::time::Duration;

use super::Context;
use crate::error::{Error, Result};
use crate::wakeup::Waiter;

/// Every so long a waiter checks that the queue still has supervisors
/// (they could have been killed); an hour-long task is fine.
const RECHECK: Duration = Duration::from_secs(60);

pub fn wait_command(cx: &Context, ids: &[String], all: bool) -> Result<i32> {
    if !all && ids.is_empty() {
        return Err(Error::InvalidInput("name the tasks to wait for, or --all".into()));
    }
    let ids = if all { None } else { Some(cx.resolve_all(ids)?) };
    wait(cx, ids.as_deref())
}

/// Block until the tasks (or every active task) are final. Exit status: 0
/// when all completed, else the first failure's (exit code, 128+signal, or
/// 125 for a cancelled or lost task with no status of its own).
pub fn wait(cx: &Context, ids: Option<&[String]>) -> Result<i32> {
    let mut waiter = Waiter::new(cx.paths)?;
    let mut kicked = false;
    loop {
        cx.store.reap_lost()?;
        let pending = match ids {
            Some(ids) => {
                let mut pending = false;
                for id in ids {
                    pending |= !cx.store.get(id)?.is_final();
                }
                pending
            }
            None => {
                let c = cx.store.counts()?;
                c.running + c.queued > 0
            }
        };
        if !pending {
            break;
        }
        waiter.watch_supervisors(cx.store)?;
        // A queue left without supervisors (they were killed) would wait forever.
        if !kicked {
            cx.queue().kick()?;
            kicked = true;
        }
        if !waiter.wait(Some(RECHECK))? {
            kicked = false;
        }
    }
    let Some(ids) = ids else { return Ok(0) };
    for id in ids {
        let status = cx.store.get(id)?.wait_status();
        if status != 0 {
            return Ok(status);
        }
    }
    Ok(0)
}
