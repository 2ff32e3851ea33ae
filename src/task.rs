//! The task model: what a task is, the states it moves through, and how its
//! command is spelled.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// queued → running → completed | failed | cancelled; queued → cancelled;
/// lost when the outcome can no longer be known. Final states never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    Lost,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Queued, Status::Running, Status::Completed, Status::Failed, Status::Cancelled, Status::Lost];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A shell string run by `sh -c`, or an argv run with no shell at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommandSpec {
    Shell(String),
    Argv(Vec<String>),
}

impl CommandSpec {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            CommandSpec::Shell(s) if s.trim().is_empty() => Err("the command is empty".into()),
            CommandSpec::Argv(a) if a.is_empty() || a[0].is_empty() => Err("argv is empty".into()),
            CommandSpec::Shell(s) if s.contains('\0') => Err("the command contains a NUL byte".into()),
            CommandSpec::Argv(a) if a.iter().any(|x| x.contains('\0')) => Err("argv contains a NUL byte".into()),
            _ => Ok(()),
        }
    }

    /// A title for a task that was given no name: the command, shortened.
    pub fn title(&self) -> String {
        let full = self.to_string();
        let first_line = full.lines().next().unwrap_or_default().trim();
        let mut title: String = first_line.chars().take(60).collect();
        if title.len() < first_line.len() || full.trim().lines().count() > 1 {
            title.push('…');
        }
        title
    }
}

impl fmt::Display for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandSpec::Shell(s) => f.write_str(s),
            CommandSpec::Argv(argv) => {
                for (i, arg) in argv.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str(&shell_quote(arg))?;
                }
                Ok(())
            }
        }
    }
}

/// Quote one word so a person can paste it back into a shell.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub fn validate_env(env: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in env {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(format!("invalid environment variable name '{k}'"));
        }
        if v.contains('\0') {
            return Err(format!("environment variable {k} contains a NUL byte"));
        }
    }
    Ok(())
}

/// One task, as the store records it. Times are milliseconds since the Unix
/// epoch.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Task {
    pub id: String,
    pub name: String,
    pub command: CommandSpec,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
    pub group: Option<String>,
    pub workflow: Option<String>,
    pub status: Status,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<String>,
    pub progress: Option<f64>,
    pub progress_message: Option<String>,
    /// Estimated end, from progress so far (only while running).
    pub eta_at: Option<i64>,
    pub read_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub restarted_from: Option<String>,
    /// The task's process (and process group) id while it runs.
    pub pid: Option<u32>,
}

impl Task {
    /// The shell-style exit status: the code, or 128 + signal.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit_code.or(self.signal.map(|s| 128 + s))
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
