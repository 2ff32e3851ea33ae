//! The params, results and notification payloads of the protocol. Every
//! type and field carries its documentation: the schema and the clients'
//! generated types take it from here. Fields are camelCase; params fields
//! a client may leave out have defaults; unknown fields are ignored.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::diagnostics::{Diagnostic, DiagnosticCounts, Severity};
use crate::output::Which;
pub use crate::store::CancelAction;
use crate::task::{self, CommandSpec, Counts, Status};
use crate::workflow::Workflow;

/// A JSON value passed on byte for byte as it was stored (a task's
/// result): never parsed into a tree, so big numbers and deep nesting
/// arrive as written, and it takes no more memory than its text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(pub Box<serde_json::value::RawValue>);

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.0.get() == other.0.get()
    }
}

/// One task, as clients see it: flat, every field present (null when it
/// does not apply). Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Short and typeable (4 characters, more when those run out); any unique prefix names it.
    pub id: String,
    /// The name given, the workflow's name, or the command shortened.
    pub name: String,
    /// What it runs.
    pub command: CommandSpec,
    /// Where it runs.
    pub cwd: String,
    /// Environment overrides on top of the submitter's environment.
    pub env: BTreeMap<String, String>,
    /// Its project (the folder of the nearest errand.toml) or the group given.
    pub group: Option<String>,
    /// The workflow it runs, if it runs one.
    pub workflow: Option<String>,
    /// Where it is in its life.
    pub status: Status,
    /// When it was queued.
    pub created_at: i64,
    /// When a supervisor started it; null while queued and for a task cancelled before it started.
    pub started_at: Option<i64>,
    /// When it reached its final status; null while queued or running.
    pub ended_at: Option<i64>,
    /// Run time so far (running) or in all (finished); null if it never started.
    pub duration_ms: Option<i64>,
    /// Its exit code, when it exited (0 for every completed task).
    pub exit_code: Option<i32>,
    /// The signal that killed it, when one did.
    pub signal: Option<i32>,
    /// Why it failed to start, why it was lost or cancelled, or a capture error (full disk).
    pub error: Option<String>,
    /// The last progress it reported, 0 to 100 (`errand progress`).
    pub progress: Option<f64>,
    /// The message that came with that progress.
    pub progress_message: Option<String>,
    /// When it should end at the pace of its progress so far; only while running.
    pub eta_at: Option<i64>,
    /// When a client marked it read (finished tasks only); unread failures count in `Counts.failed`.
    pub read_at: Option<i64>,
    /// When it was deleted (restorable); deleted tasks are left out of lists unless asked for.
    pub deleted_at: Option<i64>,
    /// The task it is a restart of.
    pub restarted_from: Option<String>,
    /// Its process (and process group) id, once it started.
    pub pid: Option<u32>,
    /// Processes it started may outlive it.
    pub keep_children: bool,
    /// A task it waits for: it starts once that one has ended (a restart of a running task).
    pub after: Option<String>,
    /// Which matchers read its output: null for every built-in one,
    /// `none`, or names joined by `,` (`gcc`, `tsc,eslint`, `generic`).
    pub matcher: Option<String>,
    /// How many compiler and linter messages its output held, counted when
    /// it ended (`task/diagnostics` has them); null before, or when not matched.
    pub diagnostics: Option<DiagnosticCounts>,
    /// How long it may run: then it is stopped (as a cancel stops it) and
    /// ends `failed` with the error "timed out after …".
    pub timeout_ms: Option<u64>,
    /// Tasks that must complete before it starts (`task/run`'s `after`).
    pub depends_on: Vec<String>,
    /// How many times a failed run is run again, in the same task.
    pub retries: u32,
    /// The pause before each rerun, in milliseconds (null: none).
    pub retry_delay_ms: Option<u64>,
    /// Its failed runs so far, oldest first; the task's own exit, error and
    /// end are those of its current or last run. Each new one is a
    /// `task/updated`; `task/finished` comes once, for the last run.
    pub attempts: Vec<task::Attempt>,
    /// The size in bytes of the JSON result it left in `$ERRAND_RESULT`
    /// (`task/get` and `task/finished` carry the value); null: none.
    pub result_bytes: Option<u64>,
    /// Why what it left in `$ERRAND_RESULT` was not kept (not one JSON
    /// value, over 1 MiB, not a regular file).
    pub result_error: Option<String>,
    /// When it was paused (`task/pause`), while it is: its status stays
    /// `running` (it holds its slot), its processes are stopped.
    pub paused_at: Option<i64>,
    /// A long-running task (a dev server): the regex a line of its output
    /// matches once it is ready. Tasks that depend on it start then, not
    /// when it ends; its ending by itself is a failure (a cancel is not).
    pub ready_pattern: Option<String>,
    /// When its output matched `readyPattern`, while it runs (`task/ready`);
    /// its status stays `running`.
    pub ready_at: Option<i64>,
}

impl Task {
    /// The task as clients see it at `now` (for its duration and ETA).
    pub fn at(t: &task::Task, now: i64) -> Task {
        let exit = t.exit();
        let progress = t.progress();
        Task {
            id: t.id.clone(),
            name: t.name.clone(),
            command: t.command.clone(),
            cwd: t.cwd.clone(),
            env: t.env.clone(),
            group: t.group.clone(),
            workflow: t.workflow.clone(),
            status: t.status(),
            created_at: t.created_at,
            started_at: t.started_at(),
            ended_at: t.ended_at(),
            duration_ms: t.duration_ms(now),
            exit_code: exit.and_then(task::Exit::code),
            signal: exit.and_then(task::Exit::signal),
            error: t.error().map(str::to_owned),
            progress: progress.map(|p| p.percent),
            progress_message: progress.and_then(|p| p.message.clone()),
            eta_at: t.eta_at(now),
            read_at: t.read_at,
            deleted_at: t.deleted_at,
            restarted_from: t.restarted_from.clone(),
            pid: t.pid(),
            keep_children: t.keep_children,
            after: t.after.clone(),
            matcher: t.matcher.clone(),
            diagnostics: t.diagnostics,
            timeout_ms: t.timeout_ms,
            depends_on: t.depends_on.clone(),
            retries: t.retries,
            retry_delay_ms: t.retry_delay_ms,
            attempts: t.attempts.clone(),
            result_bytes: t.result_bytes,
            result_error: t.result_error.clone(),
            paused_at: t.paused_at,
            ready_pattern: t.ready_pattern.clone(),
            ready_at: t.ready_at,
        }
    }

    /// The task as clients see it now.
    pub fn now(t: &task::Task) -> Task {
        Task::at(t, task::now_ms())
    }
}

/// `initialize` params: who is asking.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// Who is asking ("nvim", "vscode"): shows in errand's log.
    #[serde(default)]
    pub client_name: Option<String>,
    /// The client's own version, for the log.
    #[serde(default)]
    pub client_version: Option<String>,
    /// The protocol version the client was built for; a difference is logged.
    #[serde(default)]
    pub protocol_version: Option<u32>,
}

/// Limits the server works within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Tasks running at once, across every client.
    pub parallel: u32,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled.
    pub cancel_grace_secs: f64,
    /// Frames larger than this are refused with RequestTooLarge.
    pub max_frame_bytes: u64,
}

/// What a client learns when it connects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// Always "errand".
    pub server: String,
    /// errand's version.
    pub version: String,
    /// The protocol version this server speaks; a client built for another should warn its user.
    pub protocol_version: u32,
    /// The server's process id (for diagnostics).
    pub pid: u32,
    /// Where the task store lives.
    pub data_dir: String,
    /// The limits in force.
    pub limits: Limits,
    /// The counts now.
    pub counts: Counts,
    /// What finished while no client was there to be told: finished tasks
    /// no client got a `task/finished` or a summary for, and nobody read,
    /// newest first (at most 50). Each is given once: to the first client
    /// that asks, never again.
    pub unread: Vec<Task>,
    /// How many such tasks there were in all (`unread` holds the newest 50).
    pub unread_total: u32,
    /// How many of those failed or were lost.
    pub unread_failed: u32,
}

/// `task/run` params: exactly one of `command`, `argv`, `workflow`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunParams {
    /// A shell string, run by `sh -c`. "#name" runs a workflow.
    #[serde(default)]
    pub command: Option<String>,
    /// Or a program and its arguments, run with no shell.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// Or a workflow by name (from errand.toml or the user config).
    #[serde(default)]
    pub workflow: Option<String>,
    /// A name for the task (default: the workflow's name, or the command).
    #[serde(default)]
    pub name: Option<String>,
    /// The client's own directory (an editor's current directory): workflows
    /// are looked up from it, a relative `cwd` starts from it, and a command
    /// runs in it by default. Default: the server's directory.
    #[serde(default)]
    pub client_cwd: Option<String>,
    /// Where to run, instead of `clientCwd` for a command, or instead of the
    /// workflow's own folder for a workflow.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Environment overrides, on top of the workflow's and the base environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The base environment: the client's own as it is now (an editor's,
    /// after `:let $VAR` or a PATH change, as its `:!` sees it), the whole
    /// of it. Default: the server's, fixed when it started.
    #[serde(default)]
    pub client_env: Option<BTreeMap<String, String>>,
    /// A group (default: the project of the folder it runs in).
    #[serde(default)]
    pub group: Option<String>,
    /// Let processes the task starts outlive it (a command meant to leave a
    /// daemon behind); by default whatever is left when it ends is stopped.
    #[serde(default)]
    pub keep_children: bool,
    /// Which matchers read its output when it ends, instead of the
    /// workflow's choice or every built-in one: a name (`rustc`, `gcc`,
    /// `tsc`, `eslint`, `python`, `go`, `generic`), names joined by `,`, or
    /// `none`.
    #[serde(default)]
    pub matcher: Option<String>,
    /// Stop it and end it `failed` once it ran this long, in milliseconds
    /// (instead of the workflow's `timeout`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Tasks (ids or unique prefixes) that must complete before it starts;
    /// if one fails, is cancelled or is lost, it ends `cancelled` with the
    /// error "dependency ID failed" (and its own dependents follow).
    #[serde(default)]
    pub after: Vec<String>,
    /// Run a failed run again, up to this many times (at most 100), in the
    /// same task (instead of the workflow's `retry`). A cancel is never retried.
    #[serde(default)]
    pub retry: Option<u32>,
    /// The pause before each rerun, in milliseconds (instead of the
    /// workflow's `retry_delay`).
    #[serde(default)]
    pub retry_delay_ms: Option<u64>,
    /// A long-running task: it becomes ready (`task/ready`) once a line of
    /// its output matches this regex (instead of the workflow's `ready`);
    /// tasks that depend on it start then.
    #[serde(default)]
    pub ready: Option<String>,
}

/// Which deleted tasks a list shows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Deleted {
    /// Deleted tasks are left out (the default).
    #[default]
    Exclude,
    /// Deleted tasks are listed with the others.
    Include,
    /// Only deleted tasks.
    Only,
}

/// `task/list` params: filters and a page.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    /// Only these statuses (default: all).
    #[serde(default)]
    pub status: Vec<Status>,
    /// Only this group.
    #[serde(default)]
    pub group: Option<String>,
    /// Case-insensitive text in the name or the command.
    #[serde(default)]
    pub text: Option<String>,
    /// Whether deleted tasks are left out (default), included, or the only ones.
    #[serde(default)]
    pub deleted: Deleted,
    /// `nextCursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size: default 50, at most 1000. A page of large tasks ends
    /// sooner (at about 4 MiB): follow `nextCursor`.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListResult {
    /// Newest first.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
    /// The store's change number the page was read at (as `Counts.seq`):
    /// notifications about changes after it may already have arrived.
    pub seq: i64,
}

/// Params that name one task.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdParams {
    /// A task id, or a unique prefix of one (any case).
    pub id: String,
}

/// `task/get` params.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    /// A task id, or a unique prefix of one.
    pub id: String,
    /// How many lines of output to include (default 20, at most 10000).
    #[serde(default)]
    pub tail_lines: Option<u32>,
}

/// One task with the end of its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    /// The task as it is now.
    pub task: Task,
    /// The last lines of stdout and stderr, merged in order.
    pub output_tail: String,
    /// The JSON value it left in `$ERRAND_RESULT`, once it ended, as the
    /// task wrote it; null: none.
    #[schemars(with = "Option<serde_json::Value>")]
    pub result: Option<RawJson>,
}

/// The answer to `task/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResult {
    /// The task's full id.
    pub id: String,
    /// What happened to it.
    pub action: CancelAction,
}

/// `task/counts` params.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountsParams {
    /// Only this group's tasks (a project: its folder's name); none: every task.
    #[serde(default)]
    pub group: Option<String>,
}

/// `task/markRead` params: `ids`, or `all`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkReadParams {
    /// These tasks (ids or unique prefixes)...
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// ...or every finished task.
    #[serde(default)]
    pub all: bool,
}

/// The answer to `task/markRead`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkReadResult {
    /// How many tasks were unread and are now read.
    pub marked: usize,
}

/// `task/output` params: a range by position, or the last lines.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputParams {
    /// A task id, or a unique prefix of one.
    pub id: String,
    /// Which output (default: both, merged).
    #[serde(default)]
    pub stream: Which,
    /// Start here: a byte offset for stdout or stderr, a chunk number for
    /// both (as returned in `next`). Default 0.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Instead of an offset: the last N lines.
    #[serde(default)]
    pub lines: Option<u32>,
    /// At most this many bytes (default 1 MiB, at most 4 MiB: read on from `next`).
    #[serde(default)]
    pub max_bytes: Option<u32>,
}

/// A piece of a task's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputResult {
    /// The output, as UTF-8 (invalid bytes replaced).
    pub data: String,
    /// Which output it is.
    pub stream: Which,
    /// Where `data` starts (for a tail: where the output ends).
    pub offset: u64,
    /// Where the next read should start.
    pub next: u64,
    /// True if more output is already available past `next`.
    pub more: bool,
    /// The task has finished: no more output will come.
    pub finished: bool,
}

/// `task/follow` params.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowParams {
    /// A task id, or a unique prefix of one.
    pub id: String,
    /// Which output (default: both, merged).
    #[serde(default)]
    pub stream: Which,
    /// Push output from this position (default 0: everything so far, then what comes).
    #[serde(default)]
    pub from: Option<u64>,
}

/// The answer to `task/follow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowResult {
    /// The task's full id (notifications carry it).
    pub id: String,
    /// Which output is pushed.
    pub stream: Which,
    /// The position pushing starts from.
    pub from: u64,
}

/// The answer to `task/unfollow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnfollowResult {
    /// Whether the task was being followed.
    pub was_following: bool,
}

/// `task/sendInput` params: text, and/or close the input.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendInputParams {
    /// A task id, or a unique prefix of one.
    pub id: String,
    /// Written to the task's stdin as it is (add "\n" for a line).
    #[serde(default)]
    pub text: Option<String>,
    /// Close the task's stdin after the text.
    #[serde(default)]
    pub eof: bool,
}

/// `task/diagnostics` params.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsParams {
    /// A task id, or a unique prefix of one (default: the newest failed task
    /// whose output held messages, else the newest failed task).
    #[serde(default)]
    pub id: Option<String>,
}

/// The compiler and linter messages in a task's output (of its last
/// compile cycle, for a watch-mode tool that runs): `task/diagnostics`,
/// `task/diagnosticsChanged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsResult {
    /// The task they are from.
    pub task: Task,
    /// In the order the tools printed them, each once, to files that exist.
    pub diagnostics: Vec<Diagnostic>,
    /// The output went on past the 16 MiB that were read.
    pub truncated: bool,
}

/// `task/runMany` params: commands queued together, in order.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunManyParams {
    /// Each as `task/run` takes it, a `command` or an `argv` (a workflow
    /// is run with `task/run`); at most 10,000.
    pub tasks: Vec<RunParams>,
}

/// The answer to `task/runMany`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunManyResult {
    /// The queued tasks, in the order they were given.
    pub tasks: Vec<Task>,
}

/// `workflow/list` params.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowListParams {
    /// Where to look for errand.toml, upwards (default: the server's directory).
    #[serde(default)]
    pub client_cwd: Option<String>,
}

/// `watch/start` params: what `task/run` takes, and what to watch.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchStartParams {
    /// The command or workflow, as for `task/run`.
    #[serde(flatten)]
    pub run: RunParams,
    /// Folders (everything under them) or files to watch, relative ones from
    /// where it runs. Default: the workflow's `watch`, else the folder it runs in.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Gitignore-style globs left out, beside .gitignore, .ignore and hidden files.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// A change while a run is going: `restart` it (the default), or `queue`
    /// one more run after it.
    #[serde(default)]
    pub on_change: Option<String>,
}

/// A watch: a command run again when files change. Each run is a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchInfo {
    /// `w` and a number (`w3`): `watch/end` takes it, as `errand cancel` does.
    pub id: String,
    /// Watched folders and files, absolute.
    pub paths: Vec<String>,
    /// Globs left out.
    pub ignores: Vec<String>,
    /// `restart` or `queue`.
    pub on_change: String,
    /// `watching`, or `lost` (the process holding it died: `watch/end` clears it).
    pub state: String,
    /// How many runs it started.
    pub runs: u32,
    /// When it was started, in ms since the epoch.
    pub created_at: i64,
    /// Its latest run (null if that task was deleted).
    pub last_run: Option<Task>,
}

/// `watch/start` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchStarted {
    /// The watch, its first run queued.
    pub watch: WatchInfo,
    /// How many folders it watches.
    pub folders: u32,
}

/// `watch/end` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchEnded {
    /// Its run in progress, which was cancelled with it; null: none was.
    pub cancelled_run: Option<String>,
}

/// A workflow a client can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowInfo {
    /// Its name (run it as `#name`).
    pub name: String,
    /// What it runs.
    pub command: CommandSpec,
    /// Where it runs.
    pub cwd: String,
    /// Its environment overrides.
    pub env: BTreeMap<String, String>,
    /// What it is for, if its file says.
    pub description: Option<String>,
    /// Its processes may outlive it.
    pub keep_children: bool,
    /// The file it is defined in.
    pub source: String,
    /// The tool a detected task was found for (`npm`, `make`, `cargo`,
    /// `just`, `vscode`, `go`, `deno`, `poe`, `pdm`); its name is
    /// `tool:name`. Null for errand.toml and user workflows.
    pub detected: Option<String>,
    /// Why it cannot run (a detected task errand cannot run as written, such
    /// as a tasks.json task using `${file}`); running it is refused with this.
    pub refused: Option<String>,
    /// Which matchers read its output (as in `Task.matcher`).
    pub matcher: Option<String>,
    /// How long its task may run, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// How many times a failed run is run again.
    pub retry: u32,
    /// The pause before each rerun, in milliseconds.
    pub retry_delay_ms: Option<u64>,
    /// What a run does while another run of it is queued or running in the same folder.
    pub instance: crate::workflow::Instance,
    /// Workflows run first (detected ones as `tool:name`); it starts once
    /// every one completed, and is cancelled if one does not.
    pub depends: Vec<String>,
    /// They run one after another, in order, rather than all at once.
    pub depends_in_sequence: bool,
    /// A long-running task: the regex its output matches once it is ready.
    pub ready: Option<String>,
    /// Run from the CLI, it is a watch of these paths (`errand run --watch`);
    /// `task/run` runs it once.
    pub watch: Vec<String>,
}

impl From<Workflow> for WorkflowInfo {
    fn from(w: Workflow) -> Self {
        WorkflowInfo {
            name: w.name,
            command: w.command,
            cwd: w.cwd.display().to_string(),
            env: w.env,
            description: w.description,
            keep_children: w.keep_children,
            source: w.source.display().to_string(),
            detected: w.detected.map(str::to_owned),
            refused: w.refused,
            matcher: w.matcher,
            timeout_ms: w.timeout_ms,
            retry: w.retry,
            retry_delay_ms: w.retry_delay_ms,
            instance: w.instance,
            depends: w.depends,
            depends_in_sequence: w.in_sequence,
            ready: w.ready,
            watch: w.watch.iter().map(|p| p.display().to_string()).collect(),
        }
    }
}

/// No params.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Empty {}

/// The request was carried out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ack {
    /// Always true.
    pub ok: bool,
}

/// A task changed: `task/queued`, `task/started`, `task/updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    /// The task as it is now.
    pub task: Task,
}

/// A task reached its final status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FinishedEvent {
    /// Status, exit code or signal, duration, error text: all in the task.
    pub task: Task,
    /// The last 10 lines of its output.
    pub output_tail: String,
    /// The JSON value it left in `$ERRAND_RESULT`, as the task wrote it; null: none.
    #[schemars(with = "Option<serde_json::Value>")]
    pub result: Option<RawJson>,
}

/// A running task reported progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent {
    /// The task's id.
    pub id: String,
    /// 0 to 100.
    pub progress: Option<f64>,
    /// The message that came with it.
    pub progress_message: Option<String>,
    /// When the task should end at this pace.
    pub eta_at: Option<i64>,
}

/// New output of a followed task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputEvent {
    /// The task's id.
    pub id: String,
    /// Which output it is.
    pub stream: Which,
    /// Position of `data`'s start: the `next` of the previous event for
    /// this task (or the follow's `from`), so nothing is lost or repeated.
    pub from: u64,
    /// Position after `data`.
    pub next: u64,
    /// The output, as UTF-8 (invalid bytes replaced).
    pub data: String,
    /// Bytes of output left out before `data` (about, when both streams
    /// are followed), 0 normally: a follow far behind a fast writer skips
    /// to its newest output and then sends at most 10 events a second
    /// until it keeps up. `task/output` still reads all of it.
    pub skipped: u64,
}
