//! The JSON-RPC protocol of `errand serve`, defined once, here: every
//! method with its params, result and errors, and every notification. From
//! this list come the server's dispatch (`rpc_module`), its typed
//! notifications (`Notification`), the OpenRPC document in schema/
//! (`openrpc`), and the TypeScript and Lua types of the editor clients
//! (`codegen`). Tests fail when a generated file is stale.
//!
//! Rules (README, "The editor protocol"): every name is camelCase; params
//! are one object, by name; unknown fields are ignored; a wrong type or a
//! missing field is -32602 naming the field; `initialize` carries the
//! protocol version both ways.

#[macro_use]
mod define;
pub mod codegen;
mod errors;
pub mod openrpc;
pub mod params;
mod types;

use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;

pub use errors::ErrorCode;
pub use types::*;

use crate::task::Counts;

/// Bumped on any incompatible change (a renamed or removed field or method);
/// additions keep it. `initialize` carries it both ways.
pub const PROTOCOL_VERSION: u32 = 2;

protocol! {
    methods {
        /// Server and protocol version, limits, counts, and the tasks that
        /// finished unread (while no editor was open).
        "initialize" => fn initialize(InitializeParams) -> InitializeResult, errors [StoreError];
        /// Queue a shell command, an argv or a workflow; it starts when a slot is free.
        "task/run" => fn run(RunParams) -> Task, errors [WorkflowNotFound, ConfigError, StoreError];
        /// Queue many commands at once, in order, in one transaction: all
        /// of them, or none and an error naming the first bad one.
        "task/runMany" => fn run_many(RunManyParams) -> RunManyResult, errors [StoreError];
        /// Tasks newest first, filtered, paginated by cursor.
        "task/list" => fn list(ListParams) -> ListResult, errors [NoSuchTask, StoreError];
        /// One task, with its output tail, progress and ETA.
        "task/get" => fn get(GetParams) -> TaskDetail, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Cancel: a queued task never runs; a running one gets SIGTERM, then SIGKILL.
        "task/cancel" => fn cancel(IdParams) -> CancelResult, errors [NoSuchTask, AmbiguousId, AlreadyFinished, StoreError];
        /// Pause a running task: every process of it stopped (SIGSTOP) where it is; it keeps its slot.
        "task/pause" => fn pause(IdParams) -> Task, errors [NoSuchTask, AmbiguousId, NotRunning, AlreadyFinished, StoreError];
        /// Resume a paused task (SIGCONT).
        "task/resume" => fn resume(IdParams) -> Task, errors [NoSuchTask, AmbiguousId, NotRunning, AlreadyFinished, StoreError];
        /// Start no queued task until `queue/resume`; running ones go on. Answers the counts.
        "queue/pause" => fn pause_queue(Empty) -> Counts, errors [StoreError];
        /// Let the queue start tasks again. Answers the counts.
        "queue/resume" => fn resume_queue(Empty) -> Counts, errors [StoreError];
        /// Run a task again as a new task (same command, cwd, environment, name).
        "task/restart" => fn restart(IdParams) -> Task, errors [NoSuchTask, AmbiguousId, ConfigError, StoreError];
        /// Soft-delete a finished task (restorable).
        "task/delete" => fn delete(IdParams) -> Task, errors [NoSuchTask, AmbiguousId, TaskActive, StoreError];
        /// Undo a delete.
        "task/restore" => fn restore(IdParams) -> Task, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Mark finished tasks read: they leave `unread` and the failure count.
        "task/markRead" => fn mark_read(MarkReadParams) -> MarkReadResult, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Read output by position, or its last lines.
        "task/output" => fn output(OutputParams) -> OutputResult, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Push this task's output as task/outputAppended notifications until it ends.
        "task/follow" => fn follow(FollowParams) -> FollowResult, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Stop pushing a task's output.
        "task/unfollow" => fn unfollow(IdParams) -> UnfollowResult, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Write to a running task's stdin, and/or close it.
        "task/sendInput" => fn send_input(SendInputParams) -> Ack, errors [NoSuchTask, AmbiguousId, NotRunning, StoreError];
        /// Running, queued and recent unread failed counts.
        "task/counts" => fn counts(CountsParams) -> Counts, errors [StoreError];
        /// Compiler and linter messages in a task's output (default: the newest failed task with any).
        "task/diagnostics" => fn diagnostics(DiagnosticsParams) -> DiagnosticsResult, errors [NoSuchTask, AmbiguousId, StoreError];
        /// Start a watch: the command or workflow runs now, and again whenever
        /// a watched file changes, until `watch/end`.
        "watch/start" => fn watch_start(WatchStartParams) -> WatchStarted, errors [NoSuchTask, AmbiguousId, ConfigError, StoreError];
        /// The open watches (lost ones too), newest first.
        "watch/list" => fn watch_list(Empty) -> Vec<WatchInfo>, errors [StoreError];
        /// End a watch (`w3`): no more runs, its run in progress cancelled.
        "watch/end" => fn watch_end(IdParams) -> WatchEnded, errors [NoSuchTask, StoreError];
        /// Workflows visible from a folder.
        "workflow/list" => fn workflows(WorkflowListParams) -> Vec<WorkflowInfo>, errors [ConfigError];
        /// Answer, then exit once the requests in flight are answered. Tasks keep running.
        "shutdown" => fn shutdown(Empty) -> Ack, errors [];
    }
    notifications {
        /// A task was queued (by any client).
        "task/queued" => TaskQueued(TaskEvent);
        /// A task started running.
        "task/started" => TaskStarted(TaskEvent);
        /// A task reached a final status: completed, failed, cancelled or lost.
        "task/finished" => TaskFinished(FinishedEvent);
        /// A long-running task's output matched its ready pattern
        /// (`readyAt` is set; it is still `running`): what waited for it starts.
        "task/ready" => TaskReady(TaskEvent);
        /// A watch-mode tool's compile cycle ended (`tsc --watch`, `cargo
        /// watch`): its diagnostics replace the last cycle's (the task's
        /// `diagnostics` counts them).
        "task/diagnosticsChanged" => TaskDiagnostics(DiagnosticsResult);
        /// A running task reported progress.
        "task/progress" => TaskProgress(ProgressEvent);
        /// A finished task changed otherwise (read, deleted, restored), or a
        /// running one: a run of a task that retries failed and the next
        /// follows (`attempts`), it was paused or resumed, or a rerun of a
        /// long-running task starts unready.
        "task/updated" => TaskUpdated(TaskEvent);
        /// New output of a followed task (batched, contiguous).
        "task/outputAppended" => OutputAppended(OutputEvent);
        /// The counts changed (sent only when they do).
        "counts/changed" => CountsChanged(Counts);
    }
}

/// The whole protocol, described: the input of the OpenRPC document and of
/// the generated client types.
pub struct Described {
    pub methods: Vec<MethodSpec>,
    pub notifications: Vec<NotificationSpec>,
    /// Every named type, by name, as JSON Schema (2020-12); references
    /// point at `#/components/schemas/NAME`.
    pub schemas: std::collections::BTreeMap<String, serde_json::Value>,
}

pub fn describe() -> Described {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut g = settings.with_transform(require_serialized).into_generator();
    let methods = method_specs(&mut g);
    let notifications = notification_specs(&mut g);
    let schemas = g.take_definitions(true).into_iter().collect();
    Described { methods, notifications, schemas }
}

/// Every field is always serialized (null when it does not apply), so
/// every property without a default is required: a client may count on it.
fn require_serialized(schema: &mut schemars::Schema) {
    if let Some(props) = schema.get("properties").and_then(serde_json::Value::as_object) {
        let required: Vec<serde_json::Value> =
            props.iter().filter(|(_, p)| p.get("default").is_none()).map(|(k, _)| k.clone().into()).collect();
        if !required.is_empty() {
            schema.insert("required".into(), required.into());
        }
    }
    schemars::transform::transform_subschemas(&mut require_serialized, schema);
}

/// A method, described for the document and the generated clients.
pub struct MethodSpec {
    pub name: &'static str,
    pub summary: String,
    pub params: TypeSpec,
    pub result: TypeSpec,
    pub errors: Vec<ErrorCode>,
}

/// A notification, described for the document and the generated clients.
pub struct NotificationSpec {
    pub name: &'static str,
    pub summary: String,
    pub params: TypeSpec,
}

/// A type of the protocol: its Rust spelling and its schema (a reference
/// into the document's components where it has a name).
pub struct TypeSpec {
    pub rust: &'static str,
    pub schema: serde_json::Value,
}

impl TypeSpec {
    fn of<T: JsonSchema>(g: &mut SchemaGenerator, rust: &'static str) -> TypeSpec {
        TypeSpec { rust, schema: g.subschema_for::<T>().to_value() }
    }
}

/// Doc comment lines (`/// text` arrives as " text") as one paragraph.
pub fn doc_text(lines: &[&str]) -> String {
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ").trim().to_owned()
}

/// A notification as sent: `{"jsonrpc": "2.0", "method": ..., "params": ...}`.
#[derive(Serialize)]
struct Message<'a, P> {
    jsonrpc: &'static str,
    method: &'static str,
    params: &'a P,
}

impl<'a, P> Message<'a, P> {
    fn new(method: &'static str, params: &'a P) -> Self {
        Message { jsonrpc: "2.0", method, params }
    }
}

/// Run a method body on the blocking pool. A body that panics (a bug)
/// answers InternalError with the request's own id, and the server stays up.
pub async fn blocking<T: Send + 'static>(
    body: impl FnOnce() -> Result<T, crate::error::Error> + Send + 'static,
) -> Result<T, jsonrpsee::types::ErrorObjectOwned> {
    match tokio::task::spawn_blocking(body).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => {
            tracing::error!("a method failed: {e}");
            Err(ErrorCode::InternalError.with(format!("internal error: {e}"), None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_camel_case() {
        let mut g = SchemaGenerator::default();
        let mut names: Vec<&str> = METHOD_NAMES.to_vec();
        names.extend(notification_specs(&mut g).iter().map(|n| n.name));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a name is used twice");
        for name in names {
            assert!(!name.contains('_'), "{name} is not camelCase");
        }
    }

    #[test]
    fn a_notification_is_a_whole_json_rpc_message() {
        let n = Notification::CountsChanged(Counts { running: 1, failed: 2, seq: 9, ..Counts::default() });
        let v: serde_json::Value = serde_json::from_slice(&n.to_json().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"jsonrpc": "2.0", "method": "counts/changed", "params": {"running": 1, "queued": 0, "failed": 2, "paused": 0, "queuePaused": false, "limit": null, "watching": 0, "seq": 9}})
        );
        assert_eq!(n.method(), "counts/changed");
    }

    #[test]
    fn doc_lines_join_into_one_paragraph() {
        assert_eq!(doc_text(&[" Server and", " protocol. "]), "Server and protocol.");
    }
}
