//! `errand workflows`: the workflows visible from here.

use std::io::Write;

use super::render::visible;
use super::{print_json, stdout_error, Context};
use crate::error::Result;
use crate::launch;
use crate::protocol::WorkflowInfo;
use crate::workflow;

pub fn workflows(cx: &Context, json: bool, out: &mut impl Write) -> Result<i32> {
    let all = workflow::visible(cx.config, cx.paths, &launch::current_dir()?)?;
    if json {
        print_json(out, &all.into_values().map(WorkflowInfo::from).collect::<Vec<_>>())?;
        return Ok(0);
    }
    // Names and descriptions come from whatever project this is: shown, never obeyed.
    let width = all.keys().map(|k| visible(k).chars().count()).max().unwrap_or(0) + 1;
    for wf in all.values() {
        let about = wf.description.clone().unwrap_or_else(|| wf.command.to_string());
        let name = format!("#{:<width$}", visible(&wf.name));
        writeln!(out, "{}  {}", cx.style.bold(&name), visible(&about)).map_err(stdout_error)?;
    }
    Ok(0)
}
