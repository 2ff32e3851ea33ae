//! `errand errors`: the compiler and linter messages in a task's output.

use std::io::Write;
use std::path::Path;

use super::render::visible;
use super::{print_json, stdout_error, Context};
use crate::diagnostics::{self, Diagnostic};
use crate::error::Result;
use crate::protocol::{self, DiagnosticsResult};

pub fn errors(cx: &Context, id: Option<&str>, json: bool, out: &mut impl Write) -> Result<i32> {
    let task = diagnostics::which_task(cx.store, id)?;
    let (found, truncated) = diagnostics::of_task(cx.paths, &task)?;
    if json {
        print_json(out, &DiagnosticsResult { task: protocol::Task::now(&task), diagnostics: found, truncated })?;
        return Ok(0);
    }
    let here = std::env::current_dir().unwrap_or_default();
    for d in &found {
        writeln!(out, "{}", line(d, &here)).map_err(stdout_error)?;
    }
    if found.is_empty() {
        eprintln!("errand: no compiler or linter messages in the output of {} ({})", task.id, visible(&task.name));
    }
    if truncated {
        eprintln!("errand: only the first {} MiB of the output were read", diagnostics::MAX_OUTPUT >> 20);
    }
    Ok(0)
}

/// `src/main.rs:3:22: error: mismatched types [E0308]`, the path relative to
/// `here` when it is below it.
fn line(d: &Diagnostic, here: &Path) -> String {
    let file = Path::new(&d.file);
    let file = file.strip_prefix(here).unwrap_or(file).display().to_string();
    let column = d.column.map(|c| format!(":{c}")).unwrap_or_default();
    let code = d.code.as_ref().map(|c| format!(" [{c}]")).unwrap_or_default();
    // One line each, whatever the tool's message holds.
    let message = visible(&d.message.replace('\n', " ")).into_owned();
    format!("{}:{}{column}: {}: {message}{code}", visible(&file), d.line, d.severity.as_str())
}
