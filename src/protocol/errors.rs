//! The error codes of the protocol, each declared once with what it means,
//! and how errand's own errors become JSON-RPC error objects.

use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{json, Value};

use crate::error::Error;

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])+ $name:ident = $code:literal, )+) => {
        /// Every error code a response can carry. JSON-RPC reserves -32768
        /// to -32000; -32099 to -32000 are for servers, errand's own start at -32001.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])+ $name, )+
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),+];

            pub fn code(self) -> i32 {
                match self { $(ErrorCode::$name => $code,)+ }
            }

            /// The name the schema gives it.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)+ }
            }

            /// What it means, for the schema.
            pub fn meaning(self) -> String {
                match self { $(ErrorCode::$name => super::doc_text(&[$($doc),+]),)+ }
            }
        }
    };
}

error_codes! {
    /// The frame is not valid JSON, or its header is malformed.
    ParseError = -32700,
    /// Not a JSON-RPC 2.0 request: wrong `jsonrpc`, missing method, bad id.
    InvalidRequest = -32600,
    /// No such method.
    MethodNotFound = -32601,
    /// Params do not fit the method: `data` names the bad field.
    InvalidParams = -32602,
    /// A bug in errand: the request failed, the server stays up.
    InternalError = -32603,
    /// No task has that id or id prefix. data: {id}.
    NoSuchTask = -32001,
    /// The id prefix matches several tasks. data: {id, matches}.
    AmbiguousId = -32002,
    /// The task is not running (sendInput). data: {id, status}.
    NotRunning = -32003,
    /// The task has finished (cancel). data: {id, status}.
    AlreadyFinished = -32004,
    /// No workflow of that name. data: {name, suggestions}.
    WorkflowNotFound = -32005,
    /// config.toml or errand.toml is malformed. data: {file, line}.
    ConfigError = -32006,
    /// The task store or the disk failed (full, unwritable).
    StoreError = -32007,
    /// The frame exceeds the size limit (16 MiB); it was skipped and the connection stays up.
    RequestTooLarge = -32008,
    /// The task is still queued or running (delete), or a run of a
    /// single-instance workflow is (run). data: {id, status} (and {workflow}).
    TaskActive = -32009,
}

impl ErrorCode {
    /// An error object with this code.
    pub fn with(self, message: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
        ErrorObjectOwned::owned(self.code(), message, data)
    }
}

impl From<Error> for ErrorObjectOwned {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (code, data) = match e {
            Error::NoSuchTask(id) | Error::NoSuchWatch(id) => (ErrorCode::NoSuchTask, Some(json!({ "id": id }))),
            Error::AmbiguousId { prefix, matches } => {
                (ErrorCode::AmbiguousId, Some(json!({ "id": prefix, "matches": matches })))
            }
            Error::NotRunning { id, status } => (ErrorCode::NotRunning, Some(json!({ "id": id, "status": status }))),
            Error::AlreadyFinished { id, status } => {
                (ErrorCode::AlreadyFinished, Some(json!({ "id": id, "status": status })))
            }
            Error::Active { id, status } => (ErrorCode::TaskActive, Some(json!({ "id": id, "status": status }))),
            Error::WorkflowActive { workflow, id, status } => {
                (ErrorCode::TaskActive, Some(json!({ "id": id, "status": status, "workflow": workflow })))
            }
            Error::WorkflowNotFound { name, suggestions } => {
                (ErrorCode::WorkflowNotFound, Some(json!({ "name": name, "suggestions": suggestions })))
            }
            Error::Config { path, line, .. } => (ErrorCode::ConfigError, Some(json!({ "file": path, "line": line }))),
            Error::InvalidInput(detail) => (ErrorCode::InvalidParams, Some(Value::String(detail))),
            Error::Io { .. } | Error::Store(_) => (ErrorCode::StoreError, None),
        };
        code.with(message, data)
    }
}
