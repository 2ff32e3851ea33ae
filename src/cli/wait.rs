//! `errand wait` (and `run -w`): block until tasks are final, without polling.

use std::time::Duration;

use super::Context;
use crate::error::{Error, Result};
use crate::task::Task;
use crate::wakeup::Waiter;

/// Every so long a waiter checks that the queue still has supervisors
/// (they could have been killed); an hour-long task is fine.
const RECHECK: Duration = Duration::from_secs(60);

pub fn wait_command(cx: &Context, ids: &[String], all: bool, follow: bool) -> Result<i32> {
    if !all && ids.is_empty() {
        return Err(Error::InvalidInput("name the tasks to wait for, or --all".into()));
    }
    if follow {
        let [id] = ids else { return Err(Error::InvalidInput("--follow shows one task's output: name one".into())) };
        return super::foreground::follow(cx, &cx.store.resolve(id)?);
    }
    let ids = if all { None } else { Some(cx.resolve_all(ids)?) };
    say_if_queue_paused(cx);
    wait(cx, ids.as_deref())
}

/// A queued task waits for `errand resume --queue` while the queue is
/// paused: say so on stderr rather than seem to hang.
pub fn say_if_queue_paused(cx: &Context) {
    if cx.store.queue_paused().unwrap_or(false) {
        eprintln!("errand: the queue is paused: queued tasks wait for `errand resume --queue`");
    }
}

/// Block until the tasks (or every active task) are final. Exit status: 0
/// when all completed, else the first failure's (exit code, 128+signal, or
/// 125 for a cancelled or lost task with no status of its own): in the order
/// given, or for every active task, oldest first.
pub fn wait(cx: &Context, ids: Option<&[String]>) -> Result<i32> {
    // Taken first: every task that ends from here on, queued meanwhile or
    // not, is one `--all` waited for.
    let start = cx.store.change()?;
    let mut waiter = Waiter::new(cx.paths);
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
        if !kicked || waiter.supervisor_died() {
            cx.queue().kick()?;
            kicked = true;
        }
        if !waiter.wait(Some(RECHECK))? {
            kicked = false;
        }
    }
    let first_failure = |tasks: Vec<Task>| tasks.iter().map(Task::wait_status).find(|&status| status != 0);
    let status = match ids {
        Some(ids) => first_failure(ids.iter().map(|id| cx.store.get(id)).collect::<Result<_>>()?),
        None => first_failure(ended_since(cx, start)?),
    };
    Ok(status.unwrap_or(0))
}

/// The tasks that became final after change `start`, in queue order.
fn ended_since(cx: &Context, start: i64) -> Result<Vec<Task>> {
    // In one read: no more rows than tasks written while it waited.
    let (changes, _) = cx.store.changed_since(start, u32::MAX)?;
    let mut ended = Vec::new();
    for change in changes.into_iter().filter(|c| c.finished_now) {
        ended.push((cx.store.seq_of(&change.task.id)?, change.task));
    }
    ended.sort_by_key(|(seq, _)| *seq);
    Ok(ended.into_iter().map(|(_, task)| task).collect())
}
