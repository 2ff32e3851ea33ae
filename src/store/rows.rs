//! A task row, read into the task model. The CHECK constraints of the
//! schema and this reading agree on what a row may hold.

use rusqlite::types::Type;
use rusqlite::Row;

use crate::diagnostics::DiagnosticCounts;
use crate::task::{Cycle, End, Exit, Progress, State, Status, Task};

/// The columns `task_from_row` reads, in its order.
pub const TASK_COLUMNS: &str = "id, name, command, cwd, env, grp, workflow, status, created_at, started_at, \
     ended_at, exit_code, signal, error, progress, progress_message, read_at, deleted_at, restarted_from, pid, \
     keep_children, umask, after_task, matcher, diag_errors, diag_warnings, diag_infos, timeout_ms, depends_on, \
     retries, retry_delay_ms, attempts, result_bytes, result_error, hooks, paused_at, from_hook, progress_from_output, expected_ms, \
     ready_pattern, ready_at, cycle_from, cycle_to";
/// How many: a query may select more after them (the change number).
pub const TASK_COLUMN_COUNT: usize = 43;

fn invalid(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, message.into())
}

/// A JSON column read into `T` (NULL: its default).
fn json_or_default<T: serde::de::DeserializeOwned + Default>(r: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    match r.get::<_, Option<String>>(column)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| invalid(column, e.to_string())),
        None => Ok(T::default()),
    }
}

pub fn task_from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let command = serde_json::from_str(&json(2)?).map_err(|e| invalid(2, e.to_string()))?;
    let env = serde_json::from_str(&json(4)?).map_err(|e| invalid(4, e.to_string()))?;
    let status: String = r.get(7)?;
    let status = Status::parse(&status).ok_or_else(|| invalid(7, format!("unknown status {status}")))?;
    let started_at: Option<i64> = r.get(9)?;
    let ended_at: Option<i64> = r.get(10)?;
    let exit = match (r.get::<_, Option<i32>>(11)?, r.get::<_, Option<i32>>(12)?) {
        (Some(code), _) => Some(Exit::Code(code)),
        (None, Some(signal)) => Some(Exit::Signal(signal)),
        (None, None) => None,
    };
    let error: Option<String> = r.get(13)?;
    let progress = r.get::<_, Option<f64>>(14)?.map(|percent| Progress { percent, message: None });
    let progress = match (progress, r.get::<_, Option<String>>(15)?) {
        (Some(p), message) => Some(Progress { message, ..p }),
        (None, _) => None,
    };
    let pid: Option<u32> = r.get(19)?;
    let state = match (status, started_at, ended_at) {
        (Status::Queued, None, None) => State::Queued,
        (Status::Running, Some(started_at), None) => State::Running { started_at, pid, progress },
        (final_status, started_at, Some(ended_at)) if final_status.is_final() => {
            let end = match final_status {
                Status::Completed => End::Completed,
                Status::Failed => End::Failed(exit),
                Status::Cancelled => End::Cancelled(exit),
                _ => End::Lost,
            };
            State::Ended { started_at, ended_at, end, pid, progress, error }
        }
        (status, started, ended) => {
            return Err(invalid(7, format!("a {status} task cannot have start {started:?} and end {ended:?}")))
        }
    };
    Ok(Task {
        id: r.get(0)?,
        name: r.get(1)?,
        command,
        cwd: r.get(3)?,
        env,
        group: r.get(5)?,
        workflow: r.get(6)?,
        created_at: r.get(8)?,
        read_at: r.get(16)?,
        deleted_at: r.get(17)?,
        restarted_from: r.get(18)?,
        keep_children: r.get(20)?,
        umask: r.get(21)?,
        after: r.get(22)?,
        matcher: r.get(23)?,
        diagnostics: match (r.get(24)?, r.get(25)?, r.get(26)?) {
            (Some(errors), Some(warnings), Some(infos)) => Some(DiagnosticCounts { errors, warnings, infos }),
            _ => None,
        },
        timeout_ms: r.get(27)?,
        depends_on: json_or_default(r, 28)?,
        retries: r.get(29)?,
        retry_delay_ms: r.get(30)?,
        attempts: json_or_default(r, 31)?,
        result_bytes: r.get(32)?,
        result_error: r.get(33)?,
        hooks: json_or_default(r, 34)?,
        paused_at: r.get(35)?,
        from_hook: r.get(36)?,
        progress_from_output: r.get(37)?,
        expected_ms: r.get(38)?,
        ready_pattern: r.get(39)?,
        ready_at: r.get(40)?,
        cycle: match (r.get(41)?, r.get(42)?) {
            (Some(from), Some(to)) => Some(Cycle { from, to }),
            _ => None,
        },
        state,
    })
}
