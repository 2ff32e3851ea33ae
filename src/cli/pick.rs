//! Picking a task at a terminal when a command was given no id (`errand
//! cancel`, `logs`, `show`): the candidates numbered on stderr (running
//! ones only for cancel, first for logs; the newest for show), a number
//! read from the terminal. Not at a terminal, a missing id stays a usage
//! error: a script never waits on a question.

use std::io::{self, BufRead, IsTerminal, Write};

use super::render::{fit, visible};
use super::Context;
use crate::error::{Error, Result};
use crate::store::Offer;

/// How many tasks the list offers.
const OFFERED: u32 = 15;

/// The id the user picks for `errand COMMAND`.
pub fn pick(cx: &Context, command: &str, offer: Offer) -> Result<String> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Err(Error::InvalidInput(format!("errand {command} needs a task id (at a terminal it offers a list)")));
    }
    let tasks = cx.store.complete_ids("", offer, OFFERED)?;
    if tasks.is_empty() {
        return Err(Error::InvalidInput(format!("there are no tasks for errand {command}; start one with errand run")));
    }
    let width = crate::sys::terminal_columns().map(usize::from).unwrap_or(80);
    let mut err = io::stderr().lock();
    let line = |e: io::Error| Error::io("cannot write to the terminal", e);
    writeln!(err, "Which task for errand {command}?").map_err(line)?;
    for (i, t) in tasks.iter().enumerate() {
        let name = fit(&visible(&t.name), width.saturating_sub(25).max(10));
        writeln!(err, "{:>3}  {}  {:<9}  {name}", i + 1, t.id, t.status().as_str()).map_err(line)?;
    }
    // A wrong answer asks again; q or Ctrl-D (end of input) chooses nothing.
    loop {
        write!(err, "Number [1], or q to quit: ").map_err(line)?;
        err.flush().map_err(line)?;
        let mut answer = String::new();
        let read = io::stdin().lock().read_line(&mut answer).map_err(|e| Error::io("cannot read the answer", e))?;
        let answer = answer.trim();
        if read == 0 || answer.eq_ignore_ascii_case("q") {
            if read == 0 {
                writeln!(err).map_err(line)?;
            }
            return Err(Error::InvalidInput("no task chosen".into()));
        }
        let chosen = if answer.is_empty() { Some(1) } else { answer.parse::<usize>().ok() };
        match chosen.filter(|n| (1..=tasks.len()).contains(n)) {
            Some(n) => return Ok(tasks[n - 1].id.clone()),
            None => writeln!(err, "'{}' is not a number from 1 to {}", visible(answer), tasks.len()).map_err(line)?,
        }
    }
}
