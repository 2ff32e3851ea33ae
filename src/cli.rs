//! The `errand` command line: the shell's client of the store.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, Paths};
use crate::error::{Error, IoContext, Result};
use crate::notify::Waiter;
use crate::output::{LogFiles, Reader, Which};
use crate::scheduler;
use crate::store::{CancelAction, ListFilter, NewTask, Store};
use crate::supervisor::{self, Message};
use crate::task::{now_ms, CommandSpec, Status, Task};

#[derive(Parser, Debug)]
#[command(name = "errand", version, about = "Run commands in the background; get told when they finish.")]
#[command(after_help = "Exit codes: 0 ok, 1 I/O or store error, 2 bad usage or input, 3 no such task or workflow,\n\
4 task in the wrong state; `wait` exits with the task's own status.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start a command (or '#workflow') in the background; prints its id.
    ///
    /// One word is run by `sh -c` (quote pipelines: errand run 'make && make install');
    /// several words are run as they are, with no shell.
    Run(RunArgs),
    /// List tasks, newest first.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Everything about one task, with the end of its output.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a task's output (stdout and stderr merged in order, or one of them).
    Logs(LogsArgs),
    /// Cancel tasks: queued ones never run; running ones get SIGTERM, then SIGKILL.
    Cancel {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Run a task again, as a new task.
    Restart {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete tasks from the list (restorable with `errand restore`).
    Rm {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Bring deleted tasks back.
    Restore {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Wait until tasks finish; exit with the first failure's status.
    Wait {
        ids: Vec<String>,
        /// Wait for every queued and running task.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Counts for a prompt or statusline: "2 running · 1 failed", empty when idle.
    Status {
        /// One line (the default).
        #[arg(long)]
        short: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write to a running task's stdin (a newline is added unless --raw).
    Send {
        id: String,
        text: Option<String>,
        /// Send the text as it is, without a trailing newline.
        #[arg(long)]
        raw: bool,
        /// Close the task's stdin afterwards.
        #[arg(long)]
        eof: bool,
    },
    /// List the workflows visible from here.
    Workflows {
        #[arg(long)]
        json: bool,
    },
    /// Mark finished tasks read: failures stop counting in `errand status`.
    Clear,
    /// Remove finished tasks beyond the history limits (config: [history]).
    Prune,
    /// Report progress from inside a task: errand progress 40 "linking".
    Progress {
        percent: f64,
        message: Option<String>,
        /// The task (default: $ERRAND_TASK_ID, set for every task).
        #[arg(long)]
        id: Option<String>,
    },
    /// Speak JSON-RPC 2.0 on stdin/stdout for an editor (see schema/).
    Serve,
    /// Print the protocol as an OpenRPC document.
    #[command(name = "__schema", hide = true)]
    Schema,
    /// Supervise queued tasks (started by errand itself).
    #[command(name = "__worker", hide = true)]
    Worker,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A name for the task (default: the command).
    #[arg(long)]
    name: Option<String>,
    /// Working directory (default: the current one).
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Environment overrides, KEY=VALUE.
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Group (default: the project folder, if there is an errand.toml).
    #[arg(long)]
    group: Option<String>,
    /// Wait for the task and exit with its status.
    #[arg(long, short = 'w')]
    wait: bool,
    #[arg(long)]
    json: bool,
    /// The command, or '#name' for a workflow.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Every task, not just the latest page.
    #[arg(long, short = 'a')]
    all: bool,
    /// Only these statuses (repeatable): queued, running, completed, failed, cancelled, lost.
    #[arg(long, short = 's')]
    status: Vec<String>,
    #[arg(long, short = 'g')]
    group: Option<String>,
    /// Only deleted tasks.
    #[arg(long)]
    deleted: bool,
    /// How many per page.
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: u32,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    id: String,
    /// Keep printing output as it arrives, until the task ends.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Only the last N lines.
    #[arg(long, short = 'n')]
    lines: Option<usize>,
    #[arg(long, conflicts_with = "stderr")]
    stdout: bool,
    #[arg(long)]
    stderr: bool,
}

/// Human output: aligned, coloured only on a terminal (and without NO_COLOR).
struct Style {
    color: bool,
}

impl Style {
    fn detect() -> Style {
        Style { color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn status(&self, status: Status, width: usize) -> String {
        let text = format!("{:<width$}", status.as_str());
        let code = match status {
            Status::Queued => "2",
            Status::Running => "36",
            Status::Completed => "32",
            Status::Failed => "31",
            Status::Cancelled => "33",
            Status::Lost => "35",
        };
        self.paint(code, &text)
    }
}

pub fn run(cli: Cli, paths: &Paths) -> Result<i32> {
    let config = Config::load(paths)?;
    match cli.command {
        Command::Worker => {
            supervisor::run_worker(paths)?;
            return Ok(0);
        }
        Command::Serve => return crate::server::serve(paths),
        Command::Schema => {
            let doc = serde_json::to_string_pretty(&crate::protocol::openrpc())
                .map_err(|e| Error::io("cannot write JSON", e.into()))?;
            println!("{doc}");
            return Ok(0);
        }
        _ => {}
    }
    let store = Store::open(paths)?;
    let out = &mut io::stdout().lock();
    let style = Style::detect();
    match cli.command {
        Command::Worker | Command::Serve | Command::Schema => Ok(0), // handled above
        Command::Run(args) => cmd_run(&store, paths, &config, args, out),
        Command::Ls(args) => cmd_ls(&store, args, &style, out),
        Command::Show { id, json } => {
            store.reap_lost()?;
            let task = store.get(&store.resolve(&id)?)?;
            if json {
                print_json(out, &task)?;
            } else {
                show(&task, paths, &style, out)?;
            }
            store.mark_read(Some(std::slice::from_ref(&task.id)))?;
            Ok(0)
        }
        Command::Logs(args) => cmd_logs(&store, paths, args, out),
        Command::Cancel { ids } => {
            let ids = resolve_all(&store, &ids)?;
            for id in &ids {
                match scheduler::cancel(&store, paths, id)? {
                    CancelAction::Dequeued => writeln!(out, "{id}: cancelled (it had not started)"),
                    CancelAction::Signal => writeln!(out, "{id}: cancelling"),
                }
                .map_err(stdout_error)?;
            }
            Ok(0)
        }
        Command::Restart { id, json } => {
            let task = scheduler::restart(&store, paths, &config, &store.resolve(&id)?)?;
            if json {
                print_json(out, &task)?;
            } else {
                writeln!(out, "{}", task.id).map_err(stdout_error)?;
            }
            Ok(0)
        }
        Command::Rm { ids } => {
            for id in resolve_all(&store, &ids)? {
                store.delete(&id)?;
            }
            crate::notify::touch(paths);
            Ok(0)
        }
        Command::Restore { ids } => {
            for id in resolve_all(&store, &ids)? {
                store.restore(&id)?;
            }
            crate::notify::touch(paths);
            Ok(0)
        }
        Command::Wait { ids, all } => {
            if !all && ids.is_empty() {
                return Err(Error::InvalidInput("name the tasks to wait for, or --all".into()));
            }
            let ids = if all { None } else { Some(resolve_all(&store, &ids)?) };
            wait(&store, paths, &config, ids.as_deref())
        }
        Command::Status { short: _, json } => {
            store.reap_lost()?;
            let counts = store.counts()?;
            if json {
                print_json(out, &counts)?;
                return Ok(0);
            }
            let mut parts = Vec::new();
            if counts.running > 0 {
                parts.push(format!("{} running", counts.running));
            }
            if counts.queued > 0 {
                parts.push(format!("{} queued", counts.queued));
            }
            if counts.failed > 0 {
                parts.push(format!("{} failed", counts.failed));
            }
            if !parts.is_empty() {
                writeln!(out, "{}", parts.join(" · ")).map_err(stdout_error)?;
            }
            Ok(0)
        }
        Command::Send { id, text, raw, eof } => {
            let id = store.resolve(&id)?;
            if text.is_none() && !eof {
                return Err(Error::InvalidInput("give the text to send, or --eof".into()));
            }
            if let Some(mut text) = text {
                if !raw {
                    text.push('\n');
                }
                supervisor::send(paths, &store, &id, Message::Input(text.into_bytes()))?;
            }
            if eof {
                supervisor::send(paths, &store, &id, Message::Eof)?;
            }
            Ok(0)
        }
        Command::Workflows { json } => {
            let cwd = std::env::current_dir().context(|| "cannot read the current directory".to_owned())?;
            let all = config::workflows(&config, paths, &cwd)?;
            if json {
                print_json(out, &all.values().collect::<Vec<_>>())?;
            } else {
                let width = all.keys().map(|k| k.chars().count()).max().unwrap_or(0) + 1;
                for wf in all.values() {
                    let about = wf.description.clone().unwrap_or_else(|| wf.command.to_string());
                    writeln!(out, "{}  {about}", style.paint("1", &format!("#{:<width$}", wf.name)))
                        .map_err(stdout_error)?;
                }
            }
            Ok(0)
        }
        Command::Clear => {
            let n = store.mark_read(None)?;
            crate::notify::touch(paths);
            writeln!(out, "{n} marked read").map_err(stdout_error)?;
            Ok(0)
        }
        Command::Prune => {
            let ids = store.prune(&config.history)?;
            for id in &ids {
                LogFiles::of(paths, id).remove();
            }
            crate::notify::touch(paths);
            writeln!(out, "{} pruned", ids.len()).map_err(stdout_error)?;
            Ok(0)
        }
        Command::Progress { percent, message, id } => {
            let id = id
                .or_else(|| std::env::var("ERRAND_TASK_ID").ok())
                .ok_or_else(|| Error::InvalidInput("no task: pass --id or run this inside a task".into()))?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(Error::InvalidInput("percent must be between 0 and 100".into()));
            }
            store.set_progress(&store.resolve(&id)?, Some(percent), message.as_deref())?;
            crate::notify::touch(paths);
            Ok(0)
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

fn resolve_all(store: &Store, ids: &[String]) -> Result<Vec<String>> {
    ids.iter().map(|id| store.resolve(id)).collect()
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

fn absolute(cwd: &Path, dir: &Path) -> Result<PathBuf> {
    let dir = cwd.join(dir);
    if !dir.is_dir() {
        return Err(Error::InvalidInput(format!("{} is not a directory", dir.display())));
    }
    Ok(dir)
}

fn cmd_run(store: &Store, paths: &Paths, config: &Config, args: RunArgs, out: &mut impl Write) -> Result<i32> {
    let here = std::env::current_dir().context(|| "cannot read the current directory".to_owned())?;
    let mut env = parse_env(&args.env)?;
    let base_env = scheduler::client_env();
    let new = match args.command.as_slice() {
        [one] if one.starts_with('#') => {
            let wf = config::find_workflow(config, paths, &here, &one[1..])?;
            let mut wf_env = wf.env.clone();
            wf_env.append(&mut env);
            let cwd = match &args.cwd {
                Some(d) => absolute(&here, d)?,
                None => wf.cwd.clone(),
            };
            NewTask {
                name: args.name.or(Some(wf.name.clone())),
                command: wf.command.clone(),
                cwd: cwd.to_string_lossy().into_owned(),
                env: wf_env,
                base_env,
                group: args.group.or_else(|| scheduler::project_group(&cwd)),
                workflow: Some(wf.name),
                restarted_from: None,
            }
        }
        words => {
            let command = match words {
                [one] => CommandSpec::Shell(one.clone()),
                many => CommandSpec::Argv(many.to_vec()),
            };
            let cwd = match &args.cwd {
                Some(d) => absolute(&here, d)?,
                None => here.clone(),
            };
            NewTask {
                name: args.name,
                command,
                cwd: cwd.to_string_lossy().into_owned(),
                env,
                base_env,
                group: args.group.or_else(|| scheduler::project_group(&cwd)),
                workflow: None,
                restarted_from: None,
            }
        }
    };
    let task = scheduler::submit(store, paths, config, &new)?;
    if args.json {
        print_json(out, &task)?;
    } else {
        writeln!(out, "{}", task.id).map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    if args.wait {
        return wait(store, paths, config, Some(std::slice::from_ref(&task.id)));
    }
    Ok(0)
}

fn cmd_ls(store: &Store, args: LsArgs, style: &Style, out: &mut impl Write) -> Result<i32> {
    store.reap_lost()?;
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
    let (tasks, more) = store.list(&filter)?;
    if args.json {
        print_json(out, &tasks)?;
        return Ok(0);
    }
    if tasks.is_empty() {
        return Ok(0);
    }
    let now = now_ms();
    let id_w = tasks.iter().map(|t| t.id.len()).max().unwrap_or(4).max(2);
    let name_w = if style.color { 60 } else { usize::MAX };
    let mut text = format!("{:<id_w$}  {:<9}  {:>8}  {:>8}  {:>5}  NAME\n", "ID", "STATUS", "WHEN", "TOOK", "EXIT");
    if style.color {
        text = style.paint("1", text.trim_end()) + "\n";
    }
    for t in &tasks {
        let when = t.ended_at.or(t.started_at).unwrap_or(t.created_at);
        let exit = match (t.exit_code, t.signal) {
            (Some(c), _) => c.to_string(),
            (None, Some(s)) => format!("sig{s}"),
            _ => String::new(),
        };
        let name: String = if t.name.chars().count() > name_w {
            t.name.chars().take(name_w - 1).chain(['…']).collect()
        } else {
            t.name.clone()
        };
        text.push_str(&format!(
            "{:<id_w$}  {}  {:>8}  {:>8}  {:>5}  {}\n",
            t.id,
            style.status(t.status, 9),
            relative(now - when),
            t.duration_ms.map(duration).unwrap_or_default(),
            exit,
            name
        ));
    }
    if more {
        text.push_str(&style.paint("2", "… older tasks: errand ls --all"));
        text.push('\n');
    }
    out.write_all(text.as_bytes()).map_err(stdout_error)?;
    Ok(0)
}

fn show(task: &Task, paths: &Paths, style: &Style, out: &mut impl Write) -> Result<()> {
    let mut lines: Vec<(&str, String)> = vec![
        ("id", task.id.clone()),
        ("name", task.name.clone()),
        ("status", style.status(task.status, 0)),
        ("command", task.command.to_string()),
        ("cwd", task.cwd.clone()),
    ];
    for (k, v) in &task.env {
        lines.push(("env", format!("{k}={v}")));
    }
    let now = now_ms();
    lines.push(("created", relative(now - task.created_at)));
    if let Some(s) = task.started_at {
        lines.push(("started", relative(now - s)));
    }
    if let Some(e) = task.ended_at {
        lines.push(("ended", relative(now - e)));
    }
    if let Some(d) = task.duration_ms {
        lines.push(("duration", duration(d)));
    }
    if let Some(c) = task.exit_code {
        lines.push(("exit code", c.to_string()));
    }
    if let Some(s) = task.signal {
        lines.push(("signal", s.to_string()));
    }
    if let Some(p) = task.progress {
        let msg = task.progress_message.as_deref().unwrap_or("");
        lines.push(("progress", format!("{p:.0}% {msg}").trim_end().to_owned()));
    }
    if let Some(eta) = task.eta_at {
        lines.push(("eta", format!("in {}", duration((eta - now).max(0)))));
    }
    if let Some(e) = &task.error {
        lines.push(("error", e.clone()));
    }
    if let Some(g) = &task.group {
        lines.push(("group", g.clone()));
    }
    if let Some(w) = &task.workflow {
        lines.push(("workflow", format!("#{w}")));
    }
    if let Some(r) = &task.restarted_from {
        lines.push(("restarted from", r.clone()));
    }
    if let Some(pid) = task.pid.filter(|_| task.status == Status::Running) {
        lines.push(("pid", pid.to_string()));
    }
    if task.deleted_at.is_some() {
        lines.push(("deleted", "yes (errand restore)".into()));
    }
    let mut text = String::new();
    for (k, v) in lines {
        text.push_str(&format!("{}  {v}\n", style.paint("1", &format!("{k:>14}"))));
    }
    let tail = Reader::open(paths, &task.id)?.tail(Which::Both, 10).context(|| "cannot read the output".to_owned())?;
    if !tail.is_empty() {
        text.push_str(&style.paint("2", "── output (last 10 lines; errand logs for all) ──"));
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&tail));
        if !tail.ends_with(b"\n") {
            text.push('\n');
        }
    }
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

fn cmd_logs(store: &Store, paths: &Paths, args: LogsArgs, out: &mut impl Write) -> Result<i32> {
    let id = store.resolve(&args.id)?;
    let which = if args.stdout {
        Which::Stdout
    } else if args.stderr {
        Which::Stderr
    } else {
        Which::Both
    };
    let read_err = |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => stdout_error(e),
        _ => Error::io(format!("cannot read the output of {id}"), e),
    };
    // Watch before the first read, so nothing written in between is missed.
    let waiter = match args.follow {
        true => {
            let w = Waiter::new(paths)?;
            w.watch_creates(&paths.logs)?;
            Some(w)
        }
        false => None,
    };
    let mut reader = Reader::open(paths, &id)?;
    let mut pos = match args.lines {
        Some(n) => {
            out.write_all(&reader.tail(which, n).map_err(read_err)?).map_err(stdout_error)?;
            reader.end(which)
        }
        None => 0,
    };
    let Some(waiter) = waiter else {
        reader.copy(which, pos, u64::MAX, out).map_err(read_err)?;
        store.mark_read(Some(std::slice::from_ref(&id)))?;
        return Ok(0);
    };
    loop {
        // Status first, output second: output written before the task
        // ended is then always printed before we leave.
        store.reap_lost()?;
        let finished = store.get(&id)?.status.is_final();
        reader = Reader::open(paths, &id)?;
        let growing = LogFiles::of(paths, &id).growing(which).clone();
        if growing.exists() {
            waiter.watch_file(&growing)?;
        }
        pos = reader.copy(which, pos, u64::MAX, out).map_err(read_err)?;
        out.flush().map_err(stdout_error)?;
        if finished {
            return Ok(0);
        }
        waiter.wait(None)?;
    }
}

/// Block until the tasks (or every active task) are final. Exit status: 0
/// when all completed, else the first failure's (exit code, 128+signal, or
/// 125 for a cancelled or lost task with no status of its own).
fn wait(store: &Store, paths: &Paths, config: &Config, ids: Option<&[String]>) -> Result<i32> {
    let waiter = Waiter::new(paths)?;
    let mut kicked = false;
    loop {
        store.reap_lost()?;
        let pending = match ids {
            Some(ids) => {
                let mut pending = false;
                for id in ids {
                    pending |= !store.get(id)?.status.is_final();
                }
                pending
            }
            None => {
                let c = store.counts()?;
                c.running + c.queued > 0
            }
        };
        if !pending {
            break;
        }
        // A queue left without supervisors (they were killed) would wait forever.
        if !kicked {
            scheduler::kick(store, config)?;
            kicked = true;
        }
        if !waiter.wait(Some(std::time::Duration::from_secs(60)))? {
            kicked = false; // an hour-long task is fine; re-check the supervisors now and then
        }
    }
    let Some(ids) = ids else { return Ok(0) };
    for id in ids {
        let t = store.get(id)?;
        if t.status != Status::Completed {
            return Ok(t.exit_status().filter(|&c| c != 0).unwrap_or(125));
        }
    }
    Ok(0)
}

/// "3s", "4m", "2h", "5d": for "when" columns.
fn relative(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// "0.4s", "12.3s", "3m04s", "1h02m".
fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}
