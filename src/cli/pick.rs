//! Picking a task at a terminal when a command was given no id (`errand
//! cancel`, `logs`, `show`): the candidates numbered on stderr (running
//! ones first, or the newest), a number read from the terminal. Not at a
//! terminal, a missing id stays a usage error: a script never waits on a
//! question.

use std::io::{self, BufRead, IsTerminal, Write};

use super::render::{fit, visible};
use super::Context;
use crate::error::{Error, Result};

/// How many tasks the list offers.
const OFFERED: u32 = 15;

/// Which tasks to offer first.
#[derive(Clone, Copy)]
pub enum Offer {
    /// Running, then queued, then the newest (cancel, logs).
    Active,
    /// The newest (show).
    Newest,
}

/// The id the user picks for `errand COMMAND`.
pub fn pick(cx: &Context, command: &str, offer: Offer) -> Result<String> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Err(Error::InvalidInput(format!("errand {command} needs a task id (at a terminal it offers a list)")));
    }
    let tasks = cx.store.complete_ids("", false, matches!(offer, Offer::Active), OFFERED)?;
    if tasks.is_empty() {
        return Err(Error::InvalidInput("there are no tasks to choose from; start one with errand run".into()));
    }
    let width = crate::sys::terminal_columns().map(usize::from).unwrap_or(80);
    let mut err = io::stderr().lock();
    let line = |e: io::Error| Error::io("cannot write to the terminal", e);
    writeln!(err, "Which task for errand {command}?").map_err(line)?;
    for (i, t) in tasks.iter().enumerate() {
        let name = fit(&visible(&t.name), width.saturating_sub(25).max(10));
        writeln!(err, "{:>3}  {}  {:<9}  {name}", i + 1, t.id, t.status().as_str()).map_err(line)?;
    }
    write!(err, "Number [1], or q to quit: ").map_err(line)?;
    err.flush().map_err(line)?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer).map_err(|e| Error::io("cannot read the answer", e))?;
    let answer = answer.trim();
    let chosen = match answer {
        "" => 1,
        "q" | "Q" => return Err(Error::InvalidInput("no task chosen".into())),
        n => n.parse::<usize>().ok().filter(|n| (1..=tasks.len()).contains(n)).ok_or_else(|| {
            Error::InvalidInput(format!("'{}' is not a number from 1 to {}", visible(n), tasks.len()))
        })?,
    };
    Ok(tasks[chosen - 1].id.clone())
}
