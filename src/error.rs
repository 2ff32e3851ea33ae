//! One error type for the whole binary. Each variant is something a user can
//! act on; `code()` maps it to a documented exit code (and, for the server,
//! to a JSON-RPC application error code).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no task matches '{0}'")]
    NoSuchTask(String),

    #[error("no watch is '{0}' (errand ls lists the open ones)")]
    NoSuchWatch(String),

    #[error("'{prefix}' is ambiguous: it matches {}", .matches.join(", "))]
    AmbiguousId { prefix: String, matches: Vec<String> },

    #[error("task {id} is not running (it is {status})")]
    NotRunning { id: String, status: String },

    #[error("task {id} has already finished ({status})")]
    AlreadyFinished { id: String, status: String },

    #[error("task {id} is {status}: cancel it first")]
    Active { id: String, status: String },

    #[error("#{workflow} is already {status} here as {id} (instance = \"single\"): errand restart {id}")]
    WorkflowActive { workflow: String, id: String, status: String },

    #[error("no workflow named '{name}'{}", suggestion(.suggestions))]
    WorkflowNotFound { name: String, suggestions: Vec<String> },

    #[error("{}:{line}: {message}", .path.display())]
    Config { path: PathBuf, line: usize, message: String },

    #[error("{0}")]
    InvalidInput(String),

    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },

    #[error("task store: {0}")]
    Store(#[from] rusqlite::Error),
}

fn suggestion(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" (did you mean '{one}'?)"),
        many => format!(" (did you mean one of: {}?)", many.join(", ")),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Attach what we were doing to an OS error, so the one-line message
    /// names the file or the operation.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    /// The error as a command ends with it: a store error names the store's
    /// file, so a damaged or unreadable one is found at once.
    pub fn naming_store(self, db: &Path) -> Self {
        match self {
            Error::Store(e) => Error::io(format!("task store {}", db.display()), std::io::Error::other(e)),
            other => other,
        }
    }

    /// Exit codes documented in README.md ("Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoSuchTask(_)
            | Error::NoSuchWatch(_)
            | Error::AmbiguousId { .. }
            | Error::WorkflowNotFound { .. } => 3,
            Error::NotRunning { .. }
            | Error::AlreadyFinished { .. }
            | Error::Active { .. }
            | Error::WorkflowActive { .. } => 4,
            Error::InvalidInput(_) | Error::Config { .. } => 2,
            Error::Io { .. } | Error::Store(_) => 1,
        }
    }
}

/// `.context("opening x")?` for io results.
pub trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(what(), e))
    }
}
