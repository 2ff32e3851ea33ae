//! `errand run`: queue a command or a workflow, print its id, maybe wait.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use super::args::RunArgs;
use super::{foreground, print_json, stdout_error, Context};
use crate::error::{Error, Result};
use crate::launch::{self, RunRequest, What};
use crate::protocol;
use crate::task::CommandSpec;

pub fn run(cx: &Context, args: RunArgs, out: &mut impl Write) -> Result<i32> {
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
    let planned = launch::new_task(cx.config, cx.paths, request(what, args)?)?;
    let task = cx.queue().launch(planned)?;
    super::wait::say_if_queue_paused(cx);
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
