//! `errand show`: everything about one task and the end of its output.

use std::io::Write;

use super::{print_json, render, stdout_error, Context};
use crate::error::{IoContext, Result};
use crate::output::{Reader, Which};
use crate::protocol;
use crate::task::now_ms;

/// Lines of output `show` ends with.
const TAIL_LINES: usize = 10;
/// Lines of a result `show` prints.
const RESULT_LINES: usize = 40;

pub fn show(cx: &Context, id: &str, json: bool, out: &mut impl Write) -> Result<i32> {
    let task = cx.store.get(&cx.store.resolve(id)?)?;
    if json {
        print_json(out, &protocol::Task::now(&task))?;
    } else {
        let mut text = render::details(&task, now_ms(), &cx.style);
        if let Some(json) = cx.store.result(&task.id)? {
            text.push_str(&cx.style.dim("── result ──"));
            text.push('\n');
            text.push_str(&pretty_result(&json, &task.id));
        }
        let tail = Reader::open(cx.paths, &task.id)?
            .tail_within(Which::Both, TAIL_LINES, crate::output::SUMMARY_TAIL_BYTES)
            .context(|| "cannot read the output".to_owned())?;
        if !tail.is_empty() {
            text.push_str(&cx.style.dim("── output (last 10 lines; errand logs for all) ──"));
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(&tail));
            if !tail.ends_with(b"\n") {
                text.push('\n');
            }
        }
        out.write_all(text.as_bytes()).map_err(stdout_error)?;
    }
    cx.store.mark_read(Some(std::slice::from_ref(&task.id)))?;
    Ok(0)
}

/// A result indented for reading, cut after `RESULT_LINES` lines.
fn pretty_result(json: &str, id: &str) -> String {
    let pretty = serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_owned());
    let lines: Vec<&str> = pretty.lines().collect();
    let mut text = String::new();
    for line in lines.iter().take(RESULT_LINES) {
        text.push_str(&render::visible(line));
        text.push('\n');
    }
    if lines.len() > RESULT_LINES {
        text.push_str(&format!("… {} more lines (errand result {id})\n", lines.len() - RESULT_LINES));
    }
    text
}
