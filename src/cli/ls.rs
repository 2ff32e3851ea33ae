//! `errand ls`: tasks, newest first.

use std::io::Write;

use super::args::LsArgs;
use super::{print_json, render, stdout_error, Context};
use crate::error::{Error, Result};
use crate::protocol;
use crate::store::ListFilter;
use crate::task::{now_ms, Status};

pub fn ls(cx: &Context, args: LsArgs, out: &mut impl Write) -> Result<i32> {
    let statuses = args
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| Status::parse(s.trim()).ok_or_else(|| Error::InvalidInput(format!("unknown status '{s}'"))))
        .collect::<Result<Vec<_>>>()?;
    let filtered = !statuses.is_empty() || args.deleted || args.find.is_some();
    let group = args.project.or(args.group);
    let filter = ListFilter {
        statuses,
        group: group.clone(),
        only_deleted: args.deleted,
        text: args.find,
        limit: if args.all || args.limit == 0 { None } else { Some(args.limit) },
        ..ListFilter::default()
    };
    let (tasks, more) = cx.store.list(&filter)?;
    if args.json {
        let now = now_ms();
        print_json(out, &tasks.iter().map(|t| protocol::Task::at(t, now)).collect::<Vec<_>>())?;
        return Ok(0);
    }
    if tasks.is_empty() {
        // Say so, on stderr: stdout stays empty for a script that counts lines.
        // Only an empty history calls for the hint on starting a task.
        match (&group, filtered) {
            (Some(g), _) => eprintln!("No tasks in group {}", render::visible(g)),
            (None, true) => eprintln!("No tasks match"),
            (None, false) => eprintln!("No tasks yet. Start one with: errand run 'make test'"),
        }
        return Ok(0);
    }
    out.write_all(render::table(&tasks, more, now_ms(), &cx.style).as_bytes()).map_err(stdout_error)?;
    Ok(0)
}
