//! `errand run --batch`: one command per line of stdin (or per NUL with
//! `-0`), queued in order, a transaction per chunk (up to what stdin had
//! ready) rather than a process and a transaction per task. Each id is
//! printed once its task is stored, so whatever was printed survives a
//! crash of the client.

use std::io::{BufRead, BufReader, Read, Write};

use super::{stdout_error, Context};
use crate::error::{Error, Result};
use crate::launch::{self, RunRequest};
use crate::protocol;
use crate::store::NewTask;
use crate::task::CommandSpec;

/// Tasks stored per transaction: large enough that the per-transaction cost
/// vanishes, small enough that other writers wait at most a few
/// milliseconds for the lock.
const CHUNK: usize = 2000;

pub fn run(
    cx: &Context,
    template: RunRequest,
    null: bool,
    json: bool,
    input: &mut BufReader<impl Read>,
    out: &mut impl Write,
) -> Result<i32> {
    // Everything but the command is the same for every line: planned once.
    let template = launch::new_task(cx.config, cx.paths, template)?.task;
    let separator = if null { b'\0' } else { b'\n' };
    let (mut chunk, mut line_no, mut queued) = (Vec::with_capacity(CHUNK), 0usize, 0usize);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input.read_until(separator, &mut buf).map_err(|e| Error::io("cannot read stdin", e))?;
        if n > 0 {
            line_no += 1;
            if let Some(command) = command_of(&buf, separator, line_no).map_err(|e| after(e, queued))? {
                chunk.push(NewTask { command, ..template.clone() });
            }
        }
        // Stored when a chunk is full, and whenever what stdin had so far is
        // read: lines from a slow producer start as they come.
        let caught_up = n == 0 || input.buffer().is_empty();
        if chunk.len() == CHUNK || (caught_up && !chunk.is_empty()) {
            let tasks = cx.queue().submit_many(&chunk).map_err(|e| after(e, queued))?;
            queued += tasks.len();
            chunk.clear();
            for task in &tasks {
                if json {
                    serde_json::to_writer(&mut *out, &protocol::Task::now(task))
                        .map_err(|e| Error::io("cannot write JSON", e.into()))?;
                    writeln!(out).map_err(stdout_error)?;
                } else {
                    writeln!(out, "{}", task.id).map_err(stdout_error)?;
                }
            }
            out.flush().map_err(stdout_error)?;
        }
        if n == 0 {
            break;
        }
    }
    if queued > 0 {
        super::wait::say_if_queue_paused(cx);
    }
    Ok(0)
}

/// A line's command; None for a blank line. A line that is not UTF-8 or
/// names a workflow is refused, saying which line.
fn command_of(raw: &[u8], separator: u8, line_no: usize) -> Result<Option<CommandSpec>> {
    let raw = raw.strip_suffix(&[separator]).unwrap_or(raw);
    let raw = if separator == b'\n' { raw.strip_suffix(b"\r").unwrap_or(raw) } else { raw };
    let text =
        std::str::from_utf8(raw).map_err(|_| Error::InvalidInput(format!("line {line_no} of stdin is not UTF-8")))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    if text.trim_start().starts_with('#') {
        return Err(Error::InvalidInput(format!(
            "line {line_no} of stdin: '{}' names a workflow; --batch queues commands (run a workflow with errand run '#name')",
            text.trim()
        )));
    }
    let command = CommandSpec::Shell(text.to_owned());
    command.validate().map_err(|why| Error::InvalidInput(format!("line {line_no} of stdin: {why}")))?;
    Ok(Some(command))
}

/// An error after `queued` tasks were stored: say whether any were.
fn after(e: Error, queued: usize) -> Error {
    match (queued, e) {
        (0, Error::InvalidInput(why)) => Error::InvalidInput(format!("{why}; nothing was queued")),
        (n, Error::InvalidInput(why)) => Error::InvalidInput(format!(
            "{why}; the first {n} tasks are queued (their ids were printed), none after them"
        )),
        (_, e) => e,
    }
}
