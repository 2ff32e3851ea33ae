//! `errand workflows`: the workflows visible from here.

use std::io::Write;

use super::render::visible;
use super::{print_json, stdout_error, Context};
use crate::error::Result;
use crate::launch;
use crate::protocol::WorkflowInfo;
use crate::workflow::{self, Workflow};

pub fn workflows(cx: &Context, json: bool, out: &mut impl Write) -> Result<i32> {
    let listing = workflow::listing(cx.config, cx.paths, &launch::current_dir()?)?;
    // A malformed project file hides none of the others.
    for warning in &listing.warnings {
        eprintln!("errand: warning: {}", visible(warning));
    }
    let all = listing.workflows;
    if json {
        print_json(out, &all.into_values().map(WorkflowInfo::from).collect::<Vec<_>>())?;
        return Ok(0);
    }
    // Names and descriptions come from whatever project this is: shown, never obeyed.
    let width = all.keys().map(|k| visible(k).chars().count()).max().unwrap_or(0) + 1;
    // errand's own first, then the detected ones (by tool, then name).
    let (own, detected): (Vec<&Workflow>, Vec<&Workflow>) = all.values().partition(|wf| wf.detected.is_none());
    for wf in own.into_iter().chain(detected) {
        let about = match &wf.refused {
            Some(why) => format!("(cannot run: {why})"),
            None => wf.description.clone().unwrap_or_else(|| wf.command.to_string()),
        };
        let name = format!("#{:<width$}", visible(&wf.name));
        writeln!(out, "{}  {}", cx.style.bold(&name), visible(&about)).map_err(stdout_error)?;
    }
    Ok(0)
}
