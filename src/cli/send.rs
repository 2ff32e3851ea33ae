//! `errand send`: a line (or raw text) to a running task's stdin, or EOF.

use super::Context;
use crate::control;
use crate::error::Result;

pub fn send(cx: &Context, id: &str, text: Option<String>, raw: bool, eof: bool) -> Result<i32> {
    let id = cx.store.resolve(id)?;
    let input = text.map(|mut t| {
        if !raw {
            t.push('\n');
        }
        t.into_bytes()
    });
    control::send_input(cx.store, cx.paths, &id, input, eof)?;
    Ok(0)
}
