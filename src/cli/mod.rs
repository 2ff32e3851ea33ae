//! The `errand` command line: the shell's client of the store. One file
//! per command (or per small family of them); `render` holds the human
//! output, `args` the command line itself.

pub mod args;
mod batch;
pub mod complete;
mod errors;
mod foreground;
mod logs;
mod ls;
mod man;
mod manage;
mod pick;
mod progress;
mod render;
mod result;
mod run;
mod send;
mod show;
mod status;
mod wait;
mod workflows;

use std::io::{self, Write};

pub use args::{Cli, Command};
pub use man::man;
pub use render::visible;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::launch::{Queue, Spawner};
use crate::paths::Paths;
use crate::store::{Offer, Store};
use render::Style;

/// What every command works with.
pub struct Context<'a> {
    pub paths: &'a Paths,
    pub config: &'a Config,
    pub store: &'a Store,
    pub style: Style,
}

impl Context<'_> {
    /// The queue, fed from this short-lived process.
    fn queue(&self) -> Queue<'_> {
        Queue { store: self.store, paths: self.paths, config: self.config, spawner: Spawner::Detached }
    }

    fn resolve_all(&self, ids: &[String]) -> Result<Vec<String>> {
        ids.iter().map(|id| self.store.resolve(id)).collect()
    }
}

/// Run one of the shell's commands; the process's exit code.
pub fn run(command: Command, paths: &Paths) -> Result<i32> {
    let config = settings(&command, paths)?;
    let store = Store::open(paths)?;
    let cx = Context { paths, config: &config, store: &store, style: Style::detect() };
    // Whoever looks notices: lost tasks are marked, and a queued task whose
    // client died before starting a supervisor gets one now.
    if let Err(e) = cx.queue().kick() {
        tracing::warn!("cannot check the queue: {e}");
    }
    let out = &mut io::stdout().lock();
    match command {
        Command::Run(args) => run::run(&cx, *args, out),
        Command::Ls(args) => ls::ls(&cx, args, out),
        Command::Show { id, json } => {
            let id = match id {
                Some(id) => id,
                None => pick::pick(&cx, "show", Offer::Newest)?,
            };
            show::show(&cx, &id, json, out)
        }
        Command::Logs(mut args) => {
            if args.id.is_none() {
                args.id = Some(pick::pick(&cx, "logs", Offer::ActiveFirst)?);
            }
            logs::logs(&cx, args, out)
        }
        Command::Cancel { mut ids } => {
            if ids.is_empty() {
                ids.push(pick::pick(&cx, "cancel", Offer::Active)?);
            }
            manage::cancel(&cx, &ids, out)
        }
        Command::Pause { ids, queue } => manage::pause(&cx, ids, queue, true, out),
        Command::Resume { ids, queue } => manage::pause(&cx, ids, queue, false, out),
        Command::Restart { id, json } => manage::restart(&cx, &id, json, out),
        Command::Rm { ids } => manage::delete(&cx, &ids),
        Command::Restore { ids } => manage::restore(&cx, &ids),
        Command::Wait { ids, all, follow } => wait::wait_command(&cx, &ids, all, follow),
        Command::Status { group, short: _, long, json, format } => {
            let shape = match (long, json, format) {
                (true, _, _) => status::Shape::Long,
                (_, true, _) => status::Shape::Json,
                (_, _, Some(format)) => status::Shape::Format(format),
                _ => status::Shape::Short,
            };
            status::status(&cx, group.as_deref(), shape, out)
        }
        Command::Result { id } => result::result(&cx, &id, out),
        Command::Send { id, text, raw, eof } => send::send(&cx, &id, text, raw, eof),
        Command::Errors { id, json } => errors::errors(&cx, id.as_deref(), json, out),
        Command::Workflows { json } => workflows::workflows(&cx, json, out),
        Command::Clear => manage::clear(&cx, out),
        Command::Prune => manage::prune(&cx, out),
        Command::Progress { percent, message, id } => progress::progress(&cx, percent, message, id),
        Command::Completions { .. }
        | Command::Man { .. }
        | Command::Serve
        | Command::Schema { .. }
        | Command::Worker
        | Command::Watch { .. } => Err(Error::InvalidInput("not a shell command (main picks errand's roles)".into())),
    }
}

/// The user's settings. A broken config file stops only the commands that
/// start or remove work with them (run, restart, prune); the others say so in
/// one line and go on with the defaults, so a typo never keeps anyone from
/// seeing or cancelling their tasks.
fn settings(command: &Command, paths: &Paths) -> Result<Config> {
    match Config::read(paths) {
        Ok(config) => Ok(config),
        Err(e) if matches!(command, Command::Run(_) | Command::Restart { .. } | Command::Prune) => Err(e),
        Err(e) => {
            eprintln!("errand: warning: {}; using defaults", visible(&e.to_string()));
            Ok(Config::fallback())
        }
    }
}

fn stdout_error(e: io::Error) -> Error {
    Error::io("cannot write to stdout", e)
}

fn print_json<T: serde::Serialize + ?Sized>(out: &mut impl Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| Error::io("cannot write JSON", e.into()))?;
    writeln!(out).map_err(stdout_error)
}
