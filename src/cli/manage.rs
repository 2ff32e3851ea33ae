//! Commands that change tasks: cancel, pause, resume, restart, rm, restore,
//! clear, prune.

use std::io::Write;

use super::{print_json, stdout_error, Context};
use crate::control;
use crate::error::Result;
use crate::output::LogFiles;
use crate::protocol;
use crate::store::CancelAction;

pub fn cancel(cx: &Context, ids: &[String], out: &mut impl Write) -> Result<i32> {
    // Watches (`w3`) end with their run in progress; the rest are tasks.
    let (watches, tasks): (Vec<String>, Vec<String>) =
        ids.iter().cloned().partition(|id| crate::store::is_watch_id(id));
    for id in &watches {
        match crate::watch::end(cx.store, cx.paths, id)? {
            Some(run) => writeln!(out, "{id}: watch ended; its run {run} cancelled"),
            None => writeln!(out, "{id}: watch ended"),
        }
        .map_err(stdout_error)?;
    }
    for id in cx.resolve_all(&tasks)? {
        match control::cancel(cx.store, cx.paths, &id)? {
            CancelAction::Dequeued => writeln!(out, "{id}: cancelled (it had not started)"),
            CancelAction::Signalled => writeln!(out, "{id}: cancelling"),
        }
        .map_err(stdout_error)?;
    }
    Ok(0)
}

/// `pause` (`paused`) or `resume`: tasks, one picked at a terminal, or the queue.
pub fn pause(cx: &Context, mut ids: Vec<String>, queue: bool, paused: bool, out: &mut impl Write) -> Result<i32> {
    let verb = if paused { "pause" } else { "resume" };
    if queue {
        control::pause_queue(cx.store, cx.paths, paused)?;
        if paused {
            writeln!(out, "queue paused: running tasks go on, queued ones wait (errand resume --queue)")
        } else {
            cx.queue().kick()?;
            writeln!(out, "queue resumed")
        }
        .map_err(stdout_error)?;
        return Ok(0);
    }
    if ids.is_empty() {
        ids.push(super::pick::pick(cx, verb, crate::store::Offer::Active)?);
    }
    for id in cx.resolve_all(&ids)? {
        control::pause(cx.store, cx.paths, &id, paused)?;
        writeln!(out, "{id}: {verb}d").map_err(stdout_error)?;
    }
    Ok(0)
}

pub fn restart(cx: &Context, id: &str, json: bool, out: &mut impl Write) -> Result<i32> {
    let task = cx.queue().restart(&cx.store.resolve(id)?)?;
    if json {
        print_json(out, &protocol::Task::now(&task))?;
    } else {
        writeln!(out, "{}", task.id).map_err(stdout_error)?;
    }
    Ok(0)
}

pub fn delete(cx: &Context, ids: &[String]) -> Result<i32> {
    for id in cx.resolve_all(ids)? {
        cx.store.delete(&id)?;
    }
    crate::wakeup::signal(cx.paths);
    Ok(0)
}

pub fn restore(cx: &Context, ids: &[String]) -> Result<i32> {
    for id in cx.resolve_all(ids)? {
        cx.store.restore(&id)?;
    }
    crate::wakeup::signal(cx.paths);
    Ok(0)
}

pub fn clear(cx: &Context, out: &mut impl Write) -> Result<i32> {
    let n = cx.store.mark_read(None)?;
    crate::wakeup::signal(cx.paths);
    writeln!(out, "{n} marked read").map_err(stdout_error)?;
    Ok(0)
}

pub fn prune(cx: &Context, out: &mut impl Write) -> Result<i32> {
    let ids = cx.store.prune(&cx.config.history)?;
    for id in &ids {
        LogFiles::of(cx.paths, id).remove();
    }
    crate::wakeup::signal(cx.paths);
    writeln!(out, "{} pruned", ids.len()).map_err(stdout_error)?;
    Ok(0)
}
