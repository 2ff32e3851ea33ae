//! `errand run`: queue a command or a workflow, print its id, maybe wait.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use super::args::RunArgs;
use super::{foreground, print_json, stdout_error, Context};
use crate::error::{Error, Result};
use crate::launch::{self, RunRequest, What};
use crate::protocol;
use crate::store::OnChange;
use crate::task::{CommandSpec, Task};

pub fn run(cx: &Context, mut args: RunArgs, out: &mut impl Write) -> Result<i32> {
    if args.batch {
        let (null, json) = (args.null, args.json);
        let template = request(What::Command(CommandSpec::Shell("true".into())), args)?;
        let mut input = std::io::BufReader::with_capacity(64 << 10, std::io::stdin().lock());
        return super::batch::run(cx, template, null, json, &mut input, out);
    }
    if args.null {
        // clap's `requires` does not see a bool flag, so say it here.
        return Err(Error::InvalidInput("-0 (--null) goes with --batch: errand run --batch -0 < commands".into()));
    }
    let what = match args.command.as_slice() {
        [one] => What::shell(one.clone()),
        many => What::Command(CommandSpec::Argv(many.to_vec())),
    };
    let (json, wait) = (args.json, args.wait);
    let mut watch = Watching::from_args(&mut args)?;
    let planned = launch::new_task(cx.config, cx.paths, request(what, args)?)?;
    // A workflow that says what it watches is a watch; `-w` runs it once, in the foreground.
    if watch.is_none() && !wait && !planned.watch.is_empty() {
        let paths = crate::watch::resolve_paths(&launch::current_dir()?, planned.watch.iter().cloned(), "watch")?;
        watch = Some(Watching { paths, ignores: Vec::new(), on_change: OnChange::Restart });
    }
    let task = cx.queue().launch(planned)?;
    super::wait::say_if_queue_paused(cx);
    if let Some(watch) = watch {
        return watch.start(cx, &task, json, out);
    }
    if json {
        print_json(out, &protocol::Task::now(&task))?;
    } else if wait {
        // stdout is the task's own now: the id goes with foreground's hint.
    } else {
        writeln!(out, "{}", task.id).map_err(stdout_error)?;
        // On a terminal, what to do next; stdout stays the bare id for scripts.
        if std::io::stderr().is_terminal() {
            let hint = format!("errand logs -f {id} · errand cancel {id}", id = task.id);
            eprintln!("{}", cx.style.dim(&hint));
        }
    }
    out.flush().map_err(stdout_error)?;
    if wait {
        return foreground::follow(cx, &task.id);
    }
    Ok(0)
}

/// `--watch`: what to watch, checked before the first run is queued.
struct Watching {
    paths: Vec<String>,
    ignores: Vec<String>,
    on_change: OnChange,
}

impl Watching {
    fn from_args(args: &mut RunArgs) -> Result<Option<Watching>> {
        if args.watch.is_empty() {
            return Ok(None);
        }
        if args.command.is_empty() {
            return Err(Error::InvalidInput(
                "put `--` between the watched paths and the command: errand run --watch src -- cargo test".into(),
            ));
        }
        let paths = crate::watch::resolve_paths(&launch::current_dir()?, std::mem::take(&mut args.watch), "--watch")?;
        let ignores = std::mem::take(&mut args.ignore);
        crate::watch::check_ignores(&ignores)?;
        let on_change = args.on_change.take().as_deref().map_or(Ok(OnChange::Restart), OnChange::parse)?;
        Ok(Some(Watching { paths, ignores, on_change }))
    }
}

impl Watching {
    /// Record the watch of `first` and start holding it; the watch's id on
    /// stdout (what `errand cancel` takes).
    fn start(self, cx: &Context, first: &Task, json: bool, out: &mut impl Write) -> Result<i32> {
        let (id, folders) = crate::watch::begin(cx.store, cx.paths, &self.paths, &self.ignores, self.on_change, first)?;
        if json {
            let value = serde_json::json!({ "watch": id, "folders": folders, "task": protocol::Task::now(first) });
            print_json(out, &value)?;
        } else {
            writeln!(out, "{id}").map_err(stdout_error)?;
            if std::io::stderr().is_terminal() {
                let hint = format!(
                    "watching {folders} folder{s}; first run {task} · errand ls · errand cancel {id} ends it",
                    s = if folders == 1 { "" } else { "s" },
                    task = first.id
                );
                eprintln!("{}", cx.style.dim(&hint));
            }
        }
        out.flush().map_err(stdout_error)?;
        Ok(0)
    }
}

/// What the command line asks to run `what` with.
fn request(what: What, args: RunArgs) -> Result<RunRequest> {
    Ok(RunRequest {
        what,
        name: args.name,
        client_dir: launch::current_dir()?,
        cwd: args.cwd,
        env: parse_env(&args.env)?,
        group: args.group,
        base_env: launch::client_env(),
        keep_children: args.keep_children,
        matcher: args.matcher,
        after: args
            .after
            .iter()
            .flat_map(|a| a.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
        timeout_ms: args.timeout.as_deref().map(crate::duration::parse_ms).transpose().map_err(Error::InvalidInput)?,
        retry: args.retry,
        retry_delay_ms: args
            .retry_delay
            .as_deref()
            .map(crate::duration::parse_ms)
            .transpose()
            .map_err(Error::InvalidInput)?,
        ready: args.ready,
    })
}

fn parse_env(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(Error::InvalidInput(format!("--env wants KEY=VALUE, got '{pair}'"))),
        })
        .collect()
}
