//! The command line, as clap reads it. The hidden commands are errand's own
//! roles (`__worker`, `__watch`, `__schema`); `main` picks the role, `cli::run` the rest.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::engine::ArgValueCompleter;

use super::complete;

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
    Run(Box<RunArgs>),
    /// List tasks, newest first.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Everything about one task, with the end of its output.
    Show {
        /// A task id or a unique prefix (none: pick one from a list).
        #[arg(add = ArgValueCompleter::new(complete::any_task))]
        id: Option<String>,
        /// The task as JSON (the protocol's Task).
        #[arg(long)]
        json: bool,
    },
    /// Print a task's output (stdout and stderr merged in order, or one of them).
    Logs(LogsArgs),
    /// Cancel tasks: queued ones never run; running ones get SIGTERM, then SIGKILL.
    Cancel {
        /// Task ids or unique prefixes (none: pick one from a list).
        #[arg(add = ArgValueCompleter::new(complete::active_task))]
        ids: Vec<String>,
    },
    /// Pause running tasks: every process of each is stopped (SIGSTOP) where
    /// it is, and keeps its slot. --queue: start no new task (running ones go on).
    Pause {
        /// Task ids or unique prefixes (none: pick one from a list).
        #[arg(add = ArgValueCompleter::new(complete::active_task))]
        ids: Vec<String>,
        /// Start no queued task until `errand resume --queue`.
        #[arg(long, conflicts_with = "ids")]
        queue: bool,
    },
    /// Resume paused tasks (SIGCONT), or let the queue start tasks again (--queue).
    Resume {
        /// Task ids or unique prefixes (none: pick one from a list).
        #[arg(add = ArgValueCompleter::new(complete::active_task))]
        ids: Vec<String>,
        /// Start queued tasks again.
        #[arg(long, conflicts_with = "ids")]
        queue: bool,
    },
    /// Run a task again, as a new task.
    Restart {
        /// A task id or a unique prefix.
        #[arg(add = ArgValueCompleter::new(complete::any_task))]
        id: String,
        /// The new task as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete tasks from the list (restorable with `errand restore`).
    Rm {
        /// Task ids or unique prefixes (of finished tasks).
        #[arg(required = true, add = ArgValueCompleter::new(complete::finished_task))]
        ids: Vec<String>,
    },
    /// Bring deleted tasks back.
    Restore {
        /// Task ids or unique prefixes (of deleted tasks).
        #[arg(required = true, add = ArgValueCompleter::new(complete::deleted_task))]
        ids: Vec<String>,
    },
    /// Wait until tasks finish; exit with the first failure's status.
    Wait {
        /// Task ids or unique prefixes.
        #[arg(add = ArgValueCompleter::new(complete::active_task_first))]
        ids: Vec<String>,
        /// Wait for every queued and running task.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Show the task's output as it comes (one task; Ctrl-C detaches,
        /// twice cancels).
        #[arg(long, short = 'f', conflicts_with = "all")]
        follow: bool,
    },
    /// Counts for a prompt or statusline: "2 running · 1 failed", empty when idle.
    Status {
        /// Only this group's tasks (a project: its folder's name).
        group: Option<String>,
        /// One line (the default).
        #[arg(long, conflicts_with_all = ["long", "json", "format"])]
        short: bool,
        /// The running tasks with their progress, ETA and stage.
        #[arg(long, conflicts_with_all = ["json", "format"])]
        long: bool,
        /// The counts as JSON.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Your own line: {running} {queued} {failed} {unread} {eta}; a [...]
        /// part shows only when a field in it has a value; idle prints nothing.
        #[arg(long, value_name = "TEMPLATE")]
        format: Option<String>,
    },
    /// Print the JSON value a finished task left in $ERRAND_RESULT, as it
    /// wrote it (exit 5 when it left none).
    Result {
        /// A task id or a unique prefix.
        #[arg(add = ArgValueCompleter::new(complete::finished_task))]
        id: String,
    },
    /// Write to a running task's stdin (a newline is added unless --raw).
    Send {
        /// A task id or a unique prefix.
        #[arg(add = ArgValueCompleter::new(complete::active_task))]
        id: String,
        /// The text to send.
        text: Option<String>,
        /// Send the text as it is, without a trailing newline.
        #[arg(long)]
        raw: bool,
        /// Close the task's stdin afterwards.
        #[arg(long)]
        eof: bool,
    },
    /// The compiler and linter messages in a task's output, as
    /// file:line:col: severity: message lines (vim -q, Emacs compilation-mode
    /// and VS Code's terminal links understand them).
    Errors {
        /// A task id or a unique prefix (default: the newest failed task whose
        /// output held messages, else the newest failed task).
        #[arg(add = ArgValueCompleter::new(complete::any_task))]
        id: Option<String>,
        /// The diagnostics as JSON (the protocol's task/diagnostics result).
        #[arg(long)]
        json: bool,
    },
    /// List the workflows visible from here.
    Workflows {
        /// The workflows as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark finished tasks read: failures stop counting in `errand status`.
    Clear,
    /// Remove finished tasks beyond the history limits (config: [history]).
    Prune,
    /// Report progress from inside a task: errand progress 40 "linking".
    Progress {
        /// 0 to 100.
        percent: f64,
        /// What the task is doing.
        message: Option<String>,
        /// The task (default: $ERRAND_TASK_ID, set for every task).
        #[arg(long)]
        id: Option<String>,
    },
    /// Speak JSON-RPC 2.0 on stdin/stdout for an editor (see schema/).
    Serve,
    /// Print the script that completes errand's commands, task ids and
    /// workflows in a shell: source <(errand completions bash).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_parser = complete::SHELLS)]
        shell: String,
    },
    /// Print the manual page (errand.1), or write it and one per command
    /// (errand-run.1, ...) into a folder.
    Man {
        /// Write every page into this folder, e.g. ~/.local/share/man/man1.
        #[arg(long, value_hint = ValueHint::DirPath)]
        dir: Option<PathBuf>,
    },
    /// Print the protocol: the OpenRPC document, or the clients' types.
    #[command(name = "__schema", hide = true)]
    Schema {
        /// What to print.
        #[arg(value_enum, default_value_t = SchemaFormat::Openrpc)]
        format: SchemaFormat,
    },
    /// Supervise queued tasks (started by errand itself).
    #[command(name = "__worker", hide = true)]
    Worker,
    /// Hold a watch (started by `errand run --watch`).
    #[command(name = "__watch", hide = true)]
    Watch {
        /// The watch's id.
        id: String,
    },
}

/// What `__schema` prints.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaFormat {
    /// schema/errand.openrpc.json
    Openrpc,
    /// plugin/vscode/src/protocol.ts
    Typescript,
    /// plugin/nvim/lua/errand/protocol.lua
    Lua,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A name for the task (default: the command).
    #[arg(long)]
    pub name: Option<String>,
    /// Working directory (default: the current one; a workflow's own folder for a workflow).
    #[arg(long, value_hint = ValueHint::DirPath)]
    pub cwd: Option<PathBuf>,
    /// Environment overrides, KEY=VALUE.
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Group (default: the project folder, if there is an errand.toml).
    #[arg(long)]
    pub group: Option<String>,
    /// Stay in the foreground: show its output as it comes and exit with
    /// its status. Ctrl-C detaches (the task goes on); twice cancels it.
    #[arg(long, short = 'w')]
    pub wait: bool,
    /// Let processes the task starts outlive it (a command meant to leave a
    /// daemon behind); otherwise whatever is left when it ends is stopped.
    #[arg(long)]
    pub keep_children: bool,
    /// Which matchers read its output for `errand errors` when it ends:
    /// rustc, gcc, tsc, eslint, python, go, generic (a plain
    /// file:line: message), several joined by ',', or none. Default: every
    /// built-in one but generic.
    #[arg(long, value_name = "NAME")]
    pub matcher: Option<String>,
    /// Stop it (TERM, then KILL after the grace period) and end it failed
    /// once it ran this long (each run, with --retry): 90s, 10m, 1h30m, 500ms.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Run it again, up to N times (at most 100), when a run fails (exits
    /// non-zero, is killed, times out); a cancel is never retried. Each
    /// failed run is kept and shown; one notification, for the last.
    #[arg(long, value_name = "N")]
    pub retry: Option<u32>,
    /// Pause this long before each rerun: 5s, 1m.
    #[arg(long, value_name = "DURATION")]
    pub retry_delay: Option<String>,
    /// Start only once these tasks completed (ids, comma-separated or
    /// repeated); if one fails, is cancelled or is lost, this one is
    /// cancelled, and so are the tasks waiting for it.
    #[arg(long, value_name = "ID,...", add = ArgValueCompleter::new(complete::any_task))]
    pub after: Vec<String>,
    /// A long-running task (a dev server, `tsc --watch`): it is ready once a
    /// line of its output matches this regex (`'Listening on'`,
    /// `'Local:.*http://'`); tasks run `--after` it start then, and its
    /// ending by itself is a failure.
    #[arg(long, value_name = "REGEX")]
    pub ready: Option<String>,
    /// The new task as JSON (with --batch: one line of JSON per task).
    #[arg(long)]
    pub json: bool,
    /// Queue one command per line of stdin, in order, in one go (a
    /// transaction per few thousand); every other option applies to each.
    /// Prints their ids, one per line, as they are queued.
    #[arg(long, conflicts_with_all = ["wait", "command"])]
    pub batch: bool,
    /// With --batch: commands are separated by NUL, not newline (as `xargs -0`).
    #[arg(short = '0', long = "null", requires = "batch")]
    pub null: bool,
    /// Run it again whenever a file under these folders (or these files)
    /// changes, until `errand cancel` of the watch: `--watch src Cargo.toml
    /// -- cargo test`. .gitignore, .ignore and hidden files are left out.
    #[arg(long, value_name = "PATH", num_args = 1.., value_terminator = "--", conflicts_with_all = ["batch", "wait"], value_hint = ValueHint::AnyPath)]
    pub watch: Vec<PathBuf>,
    /// With --watch: leave out changes to paths matching this gitignore-style
    /// glob (repeatable): `--ignore '*.snap'`.
    #[arg(long, value_name = "GLOB", requires = "watch")]
    pub ignore: Vec<String>,
    /// With --watch, a change while a run is going: restart it (the
    /// default), or queue one more run after it.
    #[arg(long, value_name = "POLICY", requires = "watch", value_parser = ["restart", "queue"])]
    pub on_change: Option<String>,
    /// The command, or '#name' for a workflow.
    #[arg(
        required_unless_present = "batch",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        add = ArgValueCompleter::new(complete::run_target)
    )]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only this group's tasks (same as -g).
    #[arg(value_name = "GROUP", conflicts_with = "group")]
    pub project: Option<String>,
    /// Every task, not just the latest page.
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Only these statuses (repeatable): queued, running, completed, failed, cancelled, lost.
    #[arg(long, short = 's')]
    pub status: Vec<String>,
    /// Only this group.
    #[arg(long, short = 'g')]
    pub group: Option<String>,
    /// Only deleted tasks.
    #[arg(long)]
    pub deleted: bool,
    /// Only tasks with this text in their name or command (ASCII case ignored).
    #[arg(long, value_name = "TEXT")]
    pub find: Option<String>,
    /// How many per page (0: all, as --all).
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: u32,
    /// The tasks as JSON (the protocol's Task).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// A task id or a unique prefix (none: pick one from a list).
    #[arg(add = ArgValueCompleter::new(complete::active_task_first))]
    pub id: Option<String>,
    /// Keep printing output as it arrives, until the task ends.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only the last N lines.
    #[arg(long, short = 'n')]
    pub lines: Option<usize>,
    /// Only stdout.
    #[arg(long, conflicts_with = "stderr")]
    pub stdout: bool,
    /// Only stderr.
    #[arg(long)]
    pub stderr: bool,
}

/// A command-line mistake in one line: clap's message up to its first blank
/// line (tips and help follow it), with the usage it names.
pub fn one_line(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is needed (errand --help lists them)".into();
    }
    let text = e.to_string();
    let message: Vec<&str> = text.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    match text.lines().find_map(|l| l.strip_prefix("Usage: ")) {
        Some(usage) => format!("{message} (usage: {})", usage.trim()),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(args: &[&str]) -> String {
        one_line(&Cli::try_parse_from(args).unwrap_err())
    }

    #[test]
    fn every_argument_of_every_command_says_what_it_is_for() {
        use clap::CommandFactory;
        let mut missing = Vec::new();
        let mut stack = vec![Cli::command()];
        while let Some(cmd) = stack.pop() {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && !["help", "version"].contains(&arg.get_id().as_str()) {
                    missing.push(format!("{} {}", cmd.get_name(), arg.get_id()));
                }
            }
            if cmd.get_about().is_none() && cmd.get_name() != "help" {
                missing.push(cmd.get_name().to_owned());
            }
            stack.extend(cmd.get_subcommands().cloned());
        }
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn command_line_mistakes_are_one_line() {
        assert_eq!(error_of(&["errand", "--bogus"]), "unexpected argument '--bogus' found (usage: errand <COMMAND>)");
        assert_eq!(
            error_of(&["errand", "run"]),
            "the following required arguments were not provided: <CMD>... (usage: errand run <CMD>...)"
        );
        assert_eq!(error_of(&["errand"]), "a command is needed (errand --help lists them)");
        assert!(
            error_of(&["errand", "logs", "x", "-n", "ten"]).starts_with("invalid value 'ten' for '--lines <LINES>'")
        );
        for args in [&["errand", "--bogus"][..], &["errand", "run"], &["errand", "wait", "--all", "x"]] {
            assert!(!error_of(args).contains('\n'), "{args:?}");
        }
    }
}
