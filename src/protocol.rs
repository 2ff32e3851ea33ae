//! The JSON-RPC protocol of `errand serve`: every method, its params and
//! result, every notification and error code. The types here are the single
//! source: the server is built from the `Api` trait, and `openrpc()` turns
//! the same types into the OpenRPC document in schema/ (a test checks that
//! the two agree).

use std::collections::BTreeMap;

use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use schemars::{JsonSchema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::error::Error;
use crate::output::Which;
use crate::store::Counts;
use crate::task::{CommandSpec, Status, Task};

/// Bumped on any incompatible change; `initialize` reports it.
pub const PROTOCOL_VERSION: u32 = 1;

/// Application error codes (JSON-RPC reserves -32768..-32000 for itself
/// only from -32768 to -32600; -32099..-32000 is for servers).
pub mod code {
    pub const PARSE_ERROR: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL: i32 = -32603;
    pub const NO_SUCH_TASK: i32 = -32001;
    pub const AMBIGUOUS_ID: i32 = -32002;
    pub const NOT_RUNNING: i32 = -32003;
    pub const ALREADY_FINISHED: i32 = -32004;
    pub const WORKFLOW_NOT_FOUND: i32 = -32005;
    pub const CONFIG: i32 = -32006;
    pub const STORE: i32 = -32007;
    pub const TOO_LARGE: i32 = -32008;
}

/// (code, name, what it means): documented in the schema.
pub const ERRORS: &[(i32, &str, &str)] = &[
    (code::PARSE_ERROR, "ParseError", "The frame is not valid JSON (or its header is malformed)."),
    (code::INVALID_REQUEST, "InvalidRequest", "Not a JSON-RPC 2.0 request: wrong jsonrpc, missing method, bad id."),
    (code::METHOD_NOT_FOUND, "MethodNotFound", "No such method."),
    (code::INVALID_PARAMS, "InvalidParams", "Params do not fit the method; the message names the bad field."),
    (code::INTERNAL, "InternalError", "A bug in errand: the request failed, the server stays up."),
    (code::NO_SUCH_TASK, "NoSuchTask", "No task has that id or id prefix. data: {id}."),
    (code::AMBIGUOUS_ID, "AmbiguousId", "The id prefix matches several tasks. data: {id, matches}."),
    (code::NOT_RUNNING, "NotRunning", "The task is not running (sendInput). data: {id, status}."),
    (code::ALREADY_FINISHED, "AlreadyFinished", "The task has finished (cancel). data: {id, status}."),
    (code::WORKFLOW_NOT_FOUND, "WorkflowNotFound", "No workflow of that name. data: {name, suggestions}."),
    (code::CONFIG, "ConfigError", "config.toml or errand.toml is malformed. data: {file, line}."),
    (code::STORE, "StoreError", "The task store or the disk failed (full, unwritable)."),
    (code::TOO_LARGE, "RequestTooLarge", "The frame exceeds the size limit (16 MiB by default); it was skipped."),
];

impl From<Error> for ErrorObjectOwned {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (code, data) = match &e {
            Error::NoSuchTask(id) => (code::NO_SUCH_TASK, json!({ "id": id })),
            Error::AmbiguousId { prefix, matches } => (code::AMBIGUOUS_ID, json!({ "id": prefix, "matches": matches })),
            Error::NotRunning { id, status } => (code::NOT_RUNNING, json!({ "id": id, "status": status })),
            Error::AlreadyFinished { id, status } => (code::ALREADY_FINISHED, json!({ "id": id, "status": status })),
            Error::WorkflowNotFound { name, suggestions } => {
                (code::WORKFLOW_NOT_FOUND, json!({ "name": name, "suggestions": suggestions }))
            }
            Error::Config { path, line, .. } => (code::CONFIG, json!({ "file": path, "line": line })),
            Error::InvalidInput(_) => (code::INVALID_PARAMS, Value::Null),
            Error::Io { .. } | Error::Store(_) => (code::STORE, Value::Null),
        };
        ErrorObjectOwned::owned(code, message, (!data.is_null()).then_some(data))
    }
}

/// Params of every method are one JSON object (by name). This wrapper
/// parses it with the path of a bad field in the message
/// ("tail_lines: invalid type: string, expected u32").
#[derive(Debug)]
pub struct Checked<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        serde_path_to_error::deserialize(value).map(Checked).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            serde::de::Error::custom(if path == "." { inner } else { format!("{path}: {inner}") })
        })
    }
}

// ---- params and results -------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitializeParams {
    /// Who is asking ("nvim", "vscode"): shows in errand's log.
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub client_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    pub parallel: u32,
    pub cancel_grace_secs: f64,
    pub max_frame_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InitializeResult {
    pub server: String,
    pub version: String,
    pub protocol_version: u32,
    /// The server's process id (for diagnostics).
    pub pid: u32,
    pub data_dir: String,
    pub limits: Limits,
    pub counts: Counts,
    /// Finished tasks nobody has marked read yet, newest first (at most
    /// 50): what finished while no editor was open.
    pub unread: Vec<Task>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunParams {
    /// A shell string, run by `sh -c`. "#name" runs a workflow.
    #[serde(default)]
    pub command: Option<String>,
    /// Or an argv, run with no shell.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// Or a workflow by name (from errand.toml or the user config).
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Working directory (default: the server's); also where workflows are looked up.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Environment overrides on top of the server's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Deleted {
    /// Deleted tasks are left out (the default).
    #[default]
    Exclude,
    Include,
    Only,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only these statuses (default: all).
    #[serde(default)]
    pub status: Vec<Status>,
    #[serde(default)]
    pub group: Option<String>,
    /// Case-insensitive text in the name or command.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub deleted: Deleted,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size: default 50, at most 1000.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ListResult {
    /// Newest first.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdParams {
    /// A task id, or a unique prefix of one.
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    pub id: String,
    /// How many lines of output to include (default 20).
    #[serde(default)]
    pub tail_lines: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    /// The last lines of stdout and stderr, merged in order.
    pub output_tail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CancelAction {
    /// It was queued and will never run.
    Dequeued,
    /// It was running: SIGTERM sent to its process group (SIGKILL follows
    /// after the grace period); task/finished reports the end.
    Signalled,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CancelResult {
    pub id: String,
    pub action: CancelAction,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadParams {
    /// These tasks...
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// ...or every finished task.
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MarkReadResult {
    pub marked: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputParams {
    pub id: String,
    #[serde(default)]
    pub stream: Which,
    /// Start here: a byte offset for stdout/stderr, a chunk number for both
    /// (as returned in `next`). Default 0.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Instead of an offset: the last N lines.
    #[serde(default)]
    pub lines: Option<u32>,
    /// At most this many bytes (default 1 MiB, at most 16 MiB).
    #[serde(default)]
    pub max_bytes: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutputResult {
    /// The output, as UTF-8 (invalid bytes replaced).
    pub data: String,
    pub stream: Which,
    /// Where `data` starts.
    pub offset: u64,
    /// Where the next read should start.
    pub next: u64,
    /// True if more output is already available past `next`.
    pub more: bool,
    /// The task has finished: no more output will come.
    pub finished: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowParams {
    pub id: String,
    #[serde(default)]
    pub stream: Which,
    /// Push output from this position (default 0: everything so far, then
    /// what comes).
    #[serde(default)]
    pub from: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FollowResult {
    pub id: String,
    pub stream: Which,
    pub from: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInputParams {
    pub id: String,
    /// Written to the task's stdin as it is (add "\n" for a line).
    #[serde(default)]
    pub text: Option<String>,
    /// Close the task's stdin after the text.
    #[serde(default)]
    pub eof: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowListParams {
    /// Where to look for errand.toml (default: the server's cwd).
    #[serde(default)]
    pub cwd: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowInfo {
    pub name: String,
    pub command: CommandSpec,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
    pub description: Option<String>,
    /// The file it is defined in.
    pub source: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Ok {
    pub ok: bool,
}

// ---- notifications (server → client) ------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TaskEvent {
    pub task: Task,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FinishedEvent {
    /// Status, exit code or signal, duration, error text: all in the task.
    pub task: Task,
    /// The last 10 lines of output.
    pub output_tail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProgressEvent {
    pub id: String,
    pub progress: Option<f64>,
    pub progress_message: Option<String>,
    pub eta_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutputEvent {
    pub id: String,
    pub stream: Which,
    /// Position of `data`'s start; equal to the `next` of the previous
    /// event for this task, so nothing is lost or repeated.
    pub from: u64,
    pub next: u64,
    pub data: String,
}

/// The methods. Each takes one params object (by name) and runs on its own
/// task, so a slow one never holds up another.
#[rpc(server)]
pub trait Api {
    /// Server and protocol version, limits, counts, and the tasks that
    /// finished unread (while no editor was open).
    #[method(name = "initialize", blocking)]
    fn initialize(&self, params: Checked<InitializeParams>) -> RpcResult<InitializeResult>;

    /// Queue a shell command, an argv or a workflow; it starts when a slot is free.
    #[method(name = "task/run", blocking)]
    fn run(&self, params: Checked<RunParams>) -> RpcResult<Task>;

    /// Tasks newest first, filtered, paginated by cursor.
    #[method(name = "task/list", blocking)]
    fn list(&self, params: Checked<ListParams>) -> RpcResult<ListResult>;

    /// One task, with its output tail, progress and ETA.
    #[method(name = "task/get", blocking)]
    fn get(&self, params: Checked<GetParams>) -> RpcResult<TaskDetail>;

    /// Cancel: a queued task never runs; a running one gets SIGTERM, then SIGKILL.
    #[method(name = "task/cancel", blocking)]
    fn cancel(&self, params: Checked<IdParams>) -> RpcResult<CancelResult>;

    /// Run a task again as a new task (same command, cwd, environment, name).
    #[method(name = "task/restart", blocking)]
    fn restart(&self, params: Checked<IdParams>) -> RpcResult<Task>;

    /// Soft delete (restorable).
    #[method(name = "task/delete", blocking)]
    fn delete(&self, params: Checked<IdParams>) -> RpcResult<Task>;

    #[method(name = "task/restore", blocking)]
    fn restore(&self, params: Checked<IdParams>) -> RpcResult<Task>;

    /// Mark finished tasks read: they leave `unread` and the failure count.
    #[method(name = "task/markRead", blocking)]
    fn mark_read(&self, params: Checked<MarkReadParams>) -> RpcResult<MarkReadResult>;

    /// Read output by offset, or its last N lines.
    #[method(name = "task/output", blocking)]
    fn output(&self, params: Checked<OutputParams>) -> RpcResult<OutputResult>;

    /// Push this task's output as task/output notifications until it ends.
    #[method(name = "task/follow", blocking)]
    fn follow(&self, params: Checked<FollowParams>) -> RpcResult<FollowResult>;

    #[method(name = "task/unfollow", blocking)]
    fn unfollow(&self, params: Checked<IdParams>) -> RpcResult<Ok>;

    /// Write to a running task's stdin, and/or close it.
    #[method(name = "task/sendInput", blocking)]
    fn send_input(&self, params: Checked<SendInputParams>) -> RpcResult<Ok>;

    /// Running, queued and (unread, last hour) failed counts.
    #[method(name = "task/counts", blocking)]
    fn counts(&self, params: Checked<Empty>) -> RpcResult<Counts>;

    /// Workflows visible from a folder.
    #[method(name = "workflow/list", blocking)]
    fn workflows(&self, params: Checked<WorkflowListParams>) -> RpcResult<Vec<WorkflowInfo>>;

    /// Answer, then exit once the requests in flight are answered. Tasks keep running.
    #[method(name = "shutdown", blocking)]
    fn shutdown(&self, params: Checked<Empty>) -> RpcResult<Ok>;
}

// ---- the OpenRPC document -------------------------------------------------

struct Entry {
    name: &'static str,
    summary: &'static str,
    params: Option<Value>,
    result: Option<Value>,
    errors: &'static [i32],
}

fn params_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    // Inline the params object and list its properties by name.
    let schema = T::json_schema(generator).to_value();
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let props = schema["properties"].as_object().cloned().unwrap_or_default();
    Value::Array(
        props
            .into_iter()
            .map(|(name, schema)| {
                let mut d = json!({ "name": name, "required": required.contains(&name.as_str()), "schema": schema });
                if let Some(desc) = schema.get("description") {
                    d["description"] = desc.clone();
                }
                d
            })
            .collect(),
    )
}

fn result_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    json!({ "name": "result", "schema": generator.subschema_for::<T>().to_value() })
}

/// The protocol as an OpenRPC 1.3 document with JSON Schema (2020-12)
/// inside. `errand __schema` prints it; schema/errand.openrpc.json is it.
pub fn openrpc() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut g = settings.into_generator();
    let id_errors: &[i32] = &[code::NO_SUCH_TASK, code::AMBIGUOUS_ID, code::STORE];
    let methods = [
        Entry { name: "initialize", summary: "Server and protocol version, limits, counts, unread finished tasks.", params: Some(params_of::<InitializeParams>(&mut g)), result: Some(result_of::<InitializeResult>(&mut g)), errors: &[code::STORE] },
        Entry { name: "task/run", summary: "Queue a shell command, an argv or a workflow.", params: Some(params_of::<RunParams>(&mut g)), result: Some(result_of::<Task>(&mut g)), errors: &[code::WORKFLOW_NOT_FOUND, code::CONFIG, code::STORE] },
        Entry { name: "task/list", summary: "Tasks newest first, filtered, paginated by cursor.", params: Some(params_of::<ListParams>(&mut g)), result: Some(result_of::<ListResult>(&mut g)), errors: id_errors },
        Entry { name: "task/get", summary: "One task with its output tail, progress and ETA.", params: Some(params_of::<GetParams>(&mut g)), result: Some(result_of::<TaskDetail>(&mut g)), errors: id_errors },
        Entry { name: "task/cancel", summary: "Cancel a queued or running task.", params: Some(params_of::<IdParams>(&mut g)), result: Some(result_of::<CancelResult>(&mut g)), errors: &[code::NO_SUCH_TASK, code::AMBIGUOUS_ID, code::ALREADY_FINISHED, code::STORE] },
        Entry { name: "task/restart", summary: "Run a task again as a new task.", params: Some(params_of::<IdParams>(&mut g)), result: Some(result_of::<Task>(&mut g)), errors: id_errors },
        Entry { name: "task/delete", summary: "Soft-delete a finished task.", params: Some(params_of::<IdParams>(&mut g)), result: Some(result_of::<Task>(&mut g)), errors: id_errors },
        Entry { name: "task/restore", summary: "Undo a delete.", params: Some(params_of::<IdParams>(&mut g)), result: Some(result_of::<Task>(&mut g)), errors: id_errors },
        Entry { name: "task/markRead", summary: "Mark finished tasks read.", params: Some(params_of::<MarkReadParams>(&mut g)), result: Some(result_of::<MarkReadResult>(&mut g)), errors: id_errors },
        Entry { name: "task/output", summary: "Read output by offset or its last lines.", params: Some(params_of::<OutputParams>(&mut g)), result: Some(result_of::<OutputResult>(&mut g)), errors: id_errors },
        Entry { name: "task/follow", summary: "Push output as task/output notifications until the task ends.", params: Some(params_of::<FollowParams>(&mut g)), result: Some(result_of::<FollowResult>(&mut g)), errors: id_errors },
        Entry { name: "task/unfollow", summary: "Stop pushing output.", params: Some(params_of::<IdParams>(&mut g)), result: Some(result_of::<Ok>(&mut g)), errors: id_errors },
        Entry { name: "task/sendInput", summary: "Write to a running task's stdin, or close it.", params: Some(params_of::<SendInputParams>(&mut g)), result: Some(result_of::<Ok>(&mut g)), errors: &[code::NO_SUCH_TASK, code::AMBIGUOUS_ID, code::NOT_RUNNING, code::STORE] },
        Entry { name: "task/counts", summary: "Running, queued and recent unread failed counts.", params: Some(params_of::<Empty>(&mut g)), result: Some(result_of::<Counts>(&mut g)), errors: &[code::STORE] },
        Entry { name: "workflow/list", summary: "Workflows visible from a folder.", params: Some(params_of::<WorkflowListParams>(&mut g)), result: Some(result_of::<Vec<WorkflowInfo>>(&mut g)), errors: &[code::CONFIG] },
        Entry { name: "shutdown", summary: "Answer, finish what is in flight, exit. Tasks keep running.", params: Some(params_of::<Empty>(&mut g)), result: Some(result_of::<Ok>(&mut g)), errors: &[] },
        // Notifications: no result (OpenRPC's convention), sent by the server.
        Entry { name: "task/queued", summary: "A task was queued (by any client).", params: Some(params_of::<TaskEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "task/started", summary: "A task started running.", params: Some(params_of::<TaskEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "task/finished", summary: "A task reached a final state: completed, failed, cancelled or lost.", params: Some(params_of::<FinishedEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "task/progress", summary: "A running task reported progress.", params: Some(params_of::<ProgressEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "task/updated", summary: "A finished task changed otherwise (read, deleted, restored).", params: Some(params_of::<TaskEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "task/outputAppended", summary: "New output of a followed task (batched, contiguous).", params: Some(params_of::<OutputEvent>(&mut g)), result: None, errors: &[] },
        Entry { name: "counts/changed", summary: "The counts changed (sent only when they do).", params: Some(params_of::<Counts>(&mut g)), result: None, errors: &[] },
    ];
    let methods: Vec<Value> = methods
        .into_iter()
        .map(|m| {
            let mut v = json!({ "name": m.name, "summary": m.summary, "paramStructure": "by-name", "params": m.params.unwrap_or(json!([])) });
            match m.result {
                Some(r) => v["result"] = r,
                None => v["x-notification"] = json!(true),
            }
            if !m.errors.is_empty() {
                v["errors"] = m.errors.iter().map(|c| json!({ "$ref": format!("#/components/errors/{}", error_name(*c)) })).collect();
            }
            v
        })
        .collect();
    let errors: serde_json::Map<String, Value> =
        ERRORS.iter().map(|(c, n, m)| ((*n).to_owned(), json!({ "code": c, "message": m }))).collect();
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "errand serve",
            "version": PROTOCOL_VERSION.to_string(),
            "description": "JSON-RPC 2.0 over stdio (Content-Length framing as in LSP, or newline-delimited JSON detected from the first byte). Methods with x-notification are sent by the server, unasked. Times are milliseconds since the Unix epoch."
        },
        "methods": methods,
        "components": { "schemas": g.take_definitions(true), "errors": errors }
    })
}

fn error_name(code: i32) -> &'static str {
    ERRORS.iter().find(|(c, _, _)| *c == code).map_or("InternalError", |(_, n, _)| n)
}
