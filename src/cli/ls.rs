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
    let filter = ListFilter {
        statuses,
        group: args.group,
        only_deleted: args.deleted,
        limit: if args.all { None } else { Some(args.limit.max(1)) },
        ..ListFilter::default()
    };
    let (tasks, more) = cx.store.list(&filter)?;
    if args.json {
        let now = now_ms();
        print_json(out, &tasks.iter().map(|t| protocol::Task::at(t, now)).collect::<Vec<_>>())?;
        return Ok(0);
    }
    if tasks.is_empty() {
        return Ok(0);
    }
    out.write_all(render::table(&tasks, more, now_ms(), &cx.style).as_bytes()).map_err(stdout_error)?;
    Ok(0)
}
