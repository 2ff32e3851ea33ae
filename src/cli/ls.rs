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
    if !filtered && group.is_none() {
        out.write_all(watches(cx)?.as_bytes()).map_err(stdout_error)?;
    }
    out.write_all(render::table(&tasks, more, now_ms(), &cx.style).as_bytes()).map_err(stdout_error)?;
    Ok(0)
}

/// Open watches, one line each, above the tasks: "w1  watching  3 runs ·
/// last k3vq completed · src, Cargo.toml". A lost one (its holder died)
/// says how to clear it.
fn watches(cx: &Context) -> Result<String> {
    let here = crate::launch::current_dir().ok();
    let mut text = String::new();
    for watch in cx.store.open_watches()? {
        let last = match cx.store.get(&watch.last_task) {
            Ok(task) => format!("last {} {}", task.id, render::status_word(&task)),
            Err(_) => String::new(),
        };
        let shown: Vec<String> = watch
            .paths
            .iter()
            .map(|p| {
                let p = std::path::Path::new(p);
                let rel = here.as_deref().and_then(|h| p.strip_prefix(h).ok()).filter(|r| !r.as_os_str().is_empty());
                render::visible(&rel.unwrap_or(p).display().to_string()).into_owned()
            })
            .collect();
        let state = match watch.state() {
            "lost" => format!("lost (its watcher died: errand cancel {} clears it)", watch.id),
            state => state.to_owned(),
        };
        let runs = if watch.runs == 1 { "1 run".to_owned() } else { format!("{} runs", watch.runs) };
        let line = format!("{}  {state}  {runs} · {last} · {}", watch.id, shown.join(", "));
        let line = cx.style.width.map_or_else(|| line.clone(), |w| render::fit(&line, w));
        text.push_str(&cx.style.bold(&line));
        text.push('\n');
    }
    Ok(text)
}
