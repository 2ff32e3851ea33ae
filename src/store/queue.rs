//! The global queue: supervisors claim the oldest queued task within the
//! parallel limit, record outcomes, and register as idle while they linger;
//! clients ask how many supervisors to start, and cancel.

use rusqlite::{params, Connection, OptionalExtension};

use super::liveness::{idle_workers, reap_lost};
use super::Store;
use crate::diagnostics::DiagnosticCounts;
use crate::error::{Error, Result};
use crate::process::Identity;
use crate::task::result::Left;
use crate::task::{Cycle, Exit, Status, Task};

/// What a supervisor does about the next task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenIdle {
    /// Claim one, or register as idle: clients then leave the next task to it.
    Linger,
    /// Claim one, or deregister to exit (its linger time is up). It must
    /// still claim: a client that saw it idle a moment ago left a task to it.
    Leave,
    /// Deregister without claiming (it was told to stop); it then starts
    /// a supervisor for whatever was left to it.
    Stop,
}

/// How a task's process ended, as its supervisor saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// None when it never started (or could not be waited for).
    pub exit: Option<Exit>,
    /// Why it did not start, or a capture error (full disk).
    pub error: Option<String>,
    pub ended_at: i64,
    /// Stopped by errand (a cancel request, or its supervisor was told to stop).
    pub cancelled: bool,
    /// Bytes captured of (stdout, stderr); None if nothing was captured.
    pub output_bytes: Option<(u64, u64)>,
    /// The diagnostics its output held; None if it was not matched.
    pub diagnostics: Option<DiagnosticCounts>,
    /// They are those of its last compile cycle and what followed (a
    /// watch-mode tool errand stopped); else the cycle recorded is
    /// forgotten, and its whole last run is read again when asked.
    pub counted_cycle: bool,
    /// Stopped by errand because it ran past its timeout (then it failed).
    pub timed_out: bool,
    /// The JSON result its last run left (a value was kept already: `keep_result`).
    pub result: Left,
    /// A long-running task (one with a ready pattern) ended by itself: a
    /// failure whatever its exit status.
    pub ended_by_itself: bool,
}

impl Outcome {
    /// The final status: a timeout is a failure, whatever came after it;
    /// then a cancel wins; then a long-running task's end by itself is a
    /// failure; then exit status 0 is success (a capture error is
    /// recorded, but the task itself succeeded).
    pub fn status(&self, cancel_requested: bool) -> Status {
        if self.timed_out {
            Status::Failed
        } else if cancel_requested || self.cancelled {
            Status::Cancelled
        } else if self.ended_by_itself {
            Status::Failed
        } else if self.exit == Some(Exit::Code(0)) {
            Status::Completed
        } else {
            Status::Failed
        }
    }
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CancelAction {
    /// It was queued and will never run.
    Dequeued,
    /// It was running: SIGTERM went to its process group (SIGKILL follows
    /// after the grace period); task/finished reports the end.
    Signalled,
}

/// A queued task that may start: the task it waits for (a restart's) has
/// ended or is gone from history, and every dependency completed or, for a
/// long-running one (a dev server), is running and ready.
const STARTABLE: &str = "status = 'queued' AND (after_task IS NULL OR NOT EXISTS
    (SELECT 1 FROM tasks AS a WHERE a.id = tasks.after_task AND a.status IN ('queued', 'running')))
    AND (depends_on IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(tasks.depends_on) AS d
        JOIN tasks AS a ON a.id = d.value WHERE a.status <> 'completed' AND a.ready_at IS NULL))";

/// How many tasks may run at once: in all, and in each group that has a
/// limit of its own (`[groups.NAME] parallel = 2` in config.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub parallel: u32,
    pub groups: std::collections::BTreeMap<String, u32>,
}

impl Limits {
    /// `parallel` in all, no group limits.
    pub fn of(parallel: u32) -> Limits {
        Limits { parallel, groups: Default::default() }
    }

    /// SQL: the queued task `tasks` is in no group at its own limit. The
    /// limits are the user's own settings, written as a quoted literal.
    fn group_free(&self) -> String {
        if self.groups.is_empty() {
            return "1".into();
        }
        let json = serde_json::to_string(&self.groups).unwrap_or_else(|_| "{}".into());
        format!(
            "(tasks.grp IS NULL OR NOT EXISTS (SELECT 1 FROM json_each('{}') AS g WHERE g.key = tasks.grp
                AND (SELECT count(*) FROM tasks AS r WHERE r.status = 'running' AND r.grp = g.key) >= g.value))",
            json.replace('\'', "''")
        )
    }
}

/// The queue starts nothing new (`errand pause --queue`).
const QUEUE_PAUSED: &str = "(SELECT value FROM counters WHERE name = 'queue_paused') = 1";

/// Inside a write transaction: queued tasks with a dependency that failed,
/// was cancelled or was lost end `cancelled`, saying which; their own
/// dependents follow, round after round, until none is left.
pub(super) fn cancel_dependents(tx: &Connection) -> Result<()> {
    const FAILED_DEPENDENCY: &str = "SELECT 'dependency ' || a.id || ' ' || a.status
        FROM json_each(tasks.depends_on) AS d JOIN tasks AS a ON a.id = d.value
        WHERE a.status IN ('failed', 'cancelled', 'lost') LIMIT 1";
    let sql = format!(
        "UPDATE tasks INDEXED BY tasks_waiting SET status = 'cancelled', ended_at = ?1, error = ({FAILED_DEPENDENCY})
         WHERE status = 'queued' AND depends_on IS NOT NULL AND EXISTS ({FAILED_DEPENDENCY})"
    );
    while tx.execute(&sql, [crate::task::now_ms()])? > 0 {}
    Ok(())
}

impl Store {
    /// Could a supervisor claim a task now: one is ready, and a slot is free?
    pub fn has_claimable(&self, limits: &Limits) -> Result<bool> {
        Ok(self.conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM tasks WHERE status = 'running') < ?1
                        AND NOT {QUEUE_PAUSED} AND EXISTS (SELECT 1 FROM tasks WHERE {STARTABLE} AND {})",
                limits.group_free()
            ),
            [limits.parallel],
            |r| r.get(0),
        )?)
    }

    /// How many supervisors a client should start now: queued tasks that no
    /// idle supervisor will take, within the free slots.
    pub fn workers_wanted(&self, limits: &Limits) -> Result<u32> {
        let limit = limits.parallel;
        let (running, queued): (u32, u32) = self.conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM tasks WHERE status = 'running'),
                        CASE WHEN {QUEUE_PAUSED} THEN 0
                             ELSE (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE {STARTABLE} AND {} LIMIT 1000)) END",
                limits.group_free()
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if queued == 0 || running >= limit {
            return Ok(0);
        }
        let idle = idle_workers(&self.conn)?.iter().filter(|w| w.is_alive()).count() as u32;
        Ok(queued.min(limit - running).saturating_sub(idle))
    }

    /// For a supervisor: record how `finished` ended (if given) and, in the
    /// same transaction, claim the oldest queued task if a slot is free
    /// (unless it stops). Finding none, it registers as idle or deregisters
    /// (`when_idle`). One
    /// transaction keeps the queue from stalling between the two steps: a
    /// client that queued a task either sees this supervisor idle (and
    /// leaves the task to it) or sees it gone (and starts another).
    pub fn finish_and_claim(
        &self,
        finished: Option<(&str, &Outcome)>,
        worker: &Identity,
        limits: &Limits,
        when_idle: WhenIdle,
    ) -> Result<Option<Task>> {
        self.write(|tx| {
            if let Some((id, outcome)) = finished {
                finish(tx, id, outcome)?;
            }
            let next = match when_idle {
                WhenIdle::Stop => None,
                // Read in the same transaction: a claim whose task could not
                // be read afterwards would stay `running` with no one to run it.
                WhenIdle::Linger | WhenIdle::Leave => claim(tx, worker, limits)?.map(|id| self.get(&id)).transpose()?,
            };
            if next.is_some() || when_idle != WhenIdle::Linger {
                tx.execute("DELETE FROM idle_workers WHERE pid = ?1", [worker.pid])?;
            } else {
                tx.execute(
                    "INSERT OR REPLACE INTO idle_workers (pid, start, boot) VALUES (?1, ?2, ?3)",
                    params![worker.pid, worker.start as i64, worker.boot],
                )?;
            }
            Ok(next)
        })
    }

    /// Cancel a queued task outright, or flag a running one (its supervisor
    /// then stops it and records `cancelled`).
    pub fn request_cancel(&self, id: &str) -> Result<CancelAction> {
        self.write(|tx| {
            let status: String = tx
                .query_row("SELECT status FROM tasks WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::NoSuchTask(id.to_owned()))?;
            let now = crate::task::now_ms();
            match Status::parse(&status) {
                Some(Status::Queued) => {
                    tx.execute(
                        "UPDATE tasks SET status = 'cancelled', ended_at = ?2, cancel_requested = ?2,
                         error = 'cancelled before it started' WHERE id = ?1",
                        params![id, now],
                    )?;
                    cancel_dependents(tx)?;
                    Ok(CancelAction::Dequeued)
                }
                Some(Status::Running) => {
                    tx.execute(
                        "UPDATE tasks SET cancel_requested = ?2 WHERE id = ?1 AND cancel_requested IS NULL",
                        params![id, now],
                    )?;
                    Ok(CancelAction::Signalled)
                }
                _ => Err(Error::AlreadyFinished { id: id.to_owned(), status }),
            }
        })
    }

    /// Keep the JSON result a running task left, before its outcome is
    /// recorded (which then names its size). A transaction of its own that
    /// never frees the reserve: a result of up to 1 MiB must not spend the
    /// room kept for outcomes on a full disk; it fails instead, and the
    /// outcome says why it was not kept.
    pub fn keep_result(&self, id: &str, json: &str) -> Result<()> {
        let _turn = self.write_turn(None)?;
        self.write_once(&|tx| {
            tx.execute("INSERT OR REPLACE INTO results (task, value) VALUES (?1, ?2)", params![id, json])?;
            Ok(())
        })
    }

    /// Record that a running task's processes were stopped (`Some(when)`) or
    /// continued (None). Its supervisor does, having signalled them.
    pub fn set_paused(&self, id: &str, at: Option<i64>) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE tasks SET paused_at = ?2 WHERE id = ?1 AND status = 'running'", params![id, at])?;
            Ok(())
        })
    }

    /// Record that a running task's output said it is ready (`Some(when)`),
    /// or that a rerun of it starts unready (None). Its supervisor does.
    pub fn set_ready(&self, id: &str, at: Option<i64>) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE tasks SET ready_at = ?2 WHERE id = ?1 AND status = 'running'", params![id, at])?;
            Ok(())
        })
    }

    /// Record the compile cycle a running watch-mode task's output just
    /// finished (`from`..`to` of its merged output) and what it found. Its
    /// supervisor does.
    pub fn set_cycle(&self, id: &str, cycle: Cycle, found: DiagnosticCounts) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE tasks SET cycle_from = ?2, cycle_to = ?3, diag_errors = ?4, diag_warnings = ?5, diag_infos = ?6
                 WHERE id = ?1 AND status = 'running'",
                params![id, cycle.from as i64, cycle.to as i64, found.errors, found.warnings, found.infos],
            )?;
            Ok(())
        })
    }

    /// Stop (or let again) the queue starting new tasks; running ones go on.
    pub fn set_queue_paused(&self, paused: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE counters SET value = ?1 WHERE name = 'queue_paused'", [paused as i64])?;
            // Watchers see the change (the counts carry it).
            tx.execute("UPDATE counters SET value = value + 1 WHERE name = 'change'", [])?;
            Ok(())
        })
    }

    /// Does the queue start nothing new?
    pub fn queue_paused(&self) -> Result<bool> {
        Ok(self.conn.query_row(&format!("SELECT coalesce({QUEUE_PAUSED}, 0)"), [], |r| r.get(0))?)
    }

    pub fn cancel_requested(&self, id: &str) -> Result<bool> {
        Ok(self.conn.query_row("SELECT cancel_requested IS NOT NULL FROM tasks WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// The supervisor of a running task (its pid names its control FIFO).
    pub fn worker_of(&self, id: &str) -> Result<Option<u32>> {
        Ok(self
            .conn
            .query_row("SELECT worker_pid FROM tasks WHERE id = ?1 AND status = 'running'", [id], |r| r.get(0))
            .optional()?
            .flatten())
    }
}

/// Claim the oldest queued task for `worker` if a slot is free.
fn claim(tx: &Connection, worker: &Identity, limits: &Limits) -> Result<Option<String>> {
    reap_lost(tx)?;
    let (running, paused): (u32, bool) = tx.query_row(
        &format!("SELECT (SELECT count(*) FROM tasks WHERE status = 'running'), coalesce({QUEUE_PAUSED}, 0)"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if running >= limits.parallel || paused {
        return Ok(None);
    }
    let next: Option<String> = tx
        .query_row(
            &format!("SELECT id FROM tasks WHERE {STARTABLE} AND {} ORDER BY seq LIMIT 1", limits.group_free()),
            [],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = next else { return Ok(None) };
    tx.execute(
        "UPDATE tasks SET status = 'running', started_at = ?2, worker_pid = ?3, worker_start = ?4, worker_boot = ?5,
                          expected_ms = ?6
         WHERE id = ?1",
        params![id, crate::task::now_ms(), worker.pid, worker.start as i64, worker.boot, expected_ms(tx, &id)?],
    )?;
    Ok(Some(id))
}

/// How long task `id` should take: the median duration of the last 10
/// completed runs of the same command in the same folder (an index walk).
fn expected_ms(tx: &Connection, id: &str) -> Result<Option<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT h.ended_at - h.started_at FROM tasks AS t JOIN tasks AS h INDEXED BY tasks_runs
            ON h.command = t.command AND h.cwd = t.cwd AND h.status = 'completed'
         WHERE t.id = ?1 AND h.started_at IS NOT NULL ORDER BY h.seq DESC LIMIT 10",
    )?;
    let mut took: Vec<i64> = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    if took.is_empty() {
        return Ok(None);
    }
    took.sort_unstable();
    Ok(Some(took[took.len() / 2].max(0)))
}

/// Write the outcome of a running task; the status follows from it (and
/// from a cancel request).
fn finish(tx: &Connection, id: &str, outcome: &Outcome) -> Result<()> {
    let cancel_requested: bool = tx
        .query_row("SELECT cancel_requested IS NOT NULL FROM tasks WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .unwrap_or(false);
    let status = outcome.status(cancel_requested);
    let (result_bytes, result_error) = match &outcome.result {
        Left::Nothing => (None, None),
        Left::Value(json) => (Some(json.len() as i64), None),
        Left::Refused(why) => (None, Some(why.as_str())),
    };
    tx.execute(
        "UPDATE tasks SET status = ?2, ended_at = ?3, exit_code = ?4, signal = ?5, error = ?6,
                          stdout_bytes = ?7, stderr_bytes = ?8,
                          diag_errors = ?9, diag_warnings = ?10, diag_infos = ?11,
                          result_bytes = ?12, result_error = ?13, paused_at = NULL, ready_at = NULL,
                          cycle_from = CASE WHEN ?14 THEN cycle_from END, cycle_to = CASE WHEN ?14 THEN cycle_to END
         WHERE id = ?1 AND status = 'running'",
        params![
            id,
            status.as_str(),
            outcome.ended_at,
            outcome.exit.and_then(Exit::code),
            outcome.exit.and_then(Exit::signal),
            outcome.error,
            outcome.output_bytes.map(|(out, _)| out as i64),
            outcome.output_bytes.map(|(_, err)| err as i64),
            outcome.diagnostics.map(|c| c.errors),
            outcome.diagnostics.map(|c| c.warnings),
            outcome.diagnostics.map(|c| c.infos),
            result_bytes,
            result_error,
            outcome.counted_cycle,
        ],
    )?;
    if status != Status::Completed {
        cancel_dependents(tx)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tasks::tests::new_task;
    use crate::store::testing::temp_store;
    use crate::store::NewTask;
    use crate::task::{now_ms, End, State};

    fn me() -> Identity {
        Identity::current()
    }

    #[test]
    fn claims_go_oldest_first_and_stop_at_the_limit() {
        let t = temp_store();
        let ids: Vec<String> = (0..3).map(|i| t.store.insert(&new_task(&format!("echo {i}"))).unwrap().id).collect();
        let claim = || t.store.finish_and_claim(None, &me(), &Limits::of(2), WhenIdle::Linger).unwrap().map(|t| t.id);
        assert_eq!(claim().as_ref(), Some(&ids[0]));
        assert_eq!(claim().as_ref(), Some(&ids[1]));
        assert_eq!(claim(), None, "two run: the limit is reached");
        let running = t.store.get(&ids[0]).unwrap();
        assert!(matches!(running.state, State::Running { pid: None, .. }));
        assert_eq!(t.store.worker_of(&ids[0]).unwrap(), Some(std::process::id()));
        // Recording an outcome frees the slot in the same transaction as the next claim.
        let outcome = Outcome { exit: Some(Exit::Code(0)), ended_at: now_ms(), ..Outcome::default() };
        let next =
            t.store.finish_and_claim(Some((&ids[0], &outcome)), &me(), &Limits::of(2), WhenIdle::Linger).unwrap();
        assert_eq!(next.map(|t| t.id).as_ref(), Some(&ids[2]));
        assert_eq!(t.store.get(&ids[0]).unwrap().status(), Status::Completed);
    }

    #[test]
    fn the_output_captured_is_recorded_with_the_outcome() {
        let t = temp_store();
        let id = t.store.insert(&new_task("echo hi")).unwrap().id;
        t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Linger).unwrap();
        assert_eq!(t.store.output_bytes(&id).unwrap(), None, "not known while it runs");
        let outcome =
            Outcome { exit: Some(Exit::Code(0)), ended_at: now_ms(), output_bytes: Some((3, 0)), ..Outcome::default() };
        t.store.finish_and_claim(Some((&id, &outcome)), &me(), &Limits::of(10), WhenIdle::Stop).unwrap();
        assert_eq!(t.store.output_bytes(&id).unwrap(), Some((3, 0)));
    }

    #[test]
    fn an_idle_supervisor_means_no_new_one_is_wanted() {
        let t = temp_store();
        t.store.insert(&new_task("true")).unwrap();
        t.store.insert(&new_task("true")).unwrap();
        assert_eq!(t.store.workers_wanted(&Limits::of(10)).unwrap(), 2);
        assert_eq!(t.store.workers_wanted(&Limits::of(1)).unwrap(), 1, "within the limit");
        // This process registers as idle (it claims nothing at limit 0).
        t.store.finish_and_claim(None, &me(), &Limits::of(0), WhenIdle::Linger).unwrap();
        assert_eq!(t.store.workers_wanted(&Limits::of(10)).unwrap(), 1, "the idle one takes a task");
        t.store.finish_and_claim(None, &me(), &Limits::of(0), WhenIdle::Leave).unwrap();
        assert_eq!(t.store.workers_wanted(&Limits::of(10)).unwrap(), 2);
    }

    #[test]
    fn a_supervisor_leaving_still_claims_and_one_stopping_does_not() {
        let t = temp_store();
        let id = t.store.insert(&new_task("true")).unwrap().id;
        assert!(t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Stop).unwrap().is_none());
        let left = t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Leave).unwrap();
        assert_eq!(left.map(|t| t.id), Some(id), "a task left to a leaving supervisor is taken");
    }

    #[test]
    fn nothing_is_claimable_while_every_slot_is_taken() {
        let t = temp_store();
        t.store.insert(&new_task("a")).unwrap();
        t.store.insert(&new_task("b")).unwrap();
        assert!(t.store.has_claimable(&Limits::of(1)).unwrap());
        t.store.finish_and_claim(None, &me(), &Limits::of(1), WhenIdle::Linger).unwrap();
        assert!(!t.store.has_claimable(&Limits::of(1)).unwrap(), "one runs, one waits for its slot");
        assert!(t.store.has_claimable(&Limits::of(2)).unwrap());
    }

    #[test]
    fn a_cancel_wins_over_the_exit_status_and_a_queued_task_never_runs() {
        let t = temp_store();
        let running = t.store.insert(&new_task("true")).unwrap().id;
        t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Linger).unwrap();
        assert_eq!(t.store.request_cancel(&running).unwrap(), CancelAction::Signalled);
        let outcome = Outcome { exit: Some(Exit::Code(0)), ended_at: now_ms(), ..Outcome::default() };
        t.store.finish_and_claim(Some((&running, &outcome)), &me(), &Limits::of(10), WhenIdle::Stop).unwrap();
        assert_eq!(t.store.get(&running).unwrap().status(), Status::Cancelled);
        assert!(matches!(t.store.request_cancel(&running), Err(Error::AlreadyFinished { .. })));

        let fresh = t.store.insert(&new_task("true")).unwrap().id;
        assert_eq!(t.store.request_cancel(&fresh).unwrap(), CancelAction::Dequeued);
        let task = t.store.get(&fresh).unwrap();
        assert!(matches!(task.state, State::Ended { started_at: None, end: End::Cancelled(None), .. }));
        assert!(!t.store.has_claimable(&Limits::of(10)).unwrap());
    }

    #[test]
    fn a_task_waiting_for_another_starts_only_once_that_one_ended() {
        let t = temp_store();
        let old = t.store.insert(&new_task("old")).unwrap().id;
        t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Linger).unwrap();
        let new = t.store.insert(&NewTask { after: Some(old.clone()), ..new_task("new") }).unwrap().id;
        let later = t.store.insert(&new_task("later")).unwrap().id;
        let claimed = t.store.finish_and_claim(None, &me(), &Limits::of(10), WhenIdle::Linger).unwrap();
        assert_eq!(claimed.map(|t| t.id), Some(later), "the waiting one is passed over, not the queue blocked");
        assert!(!t.store.has_claimable(&Limits::of(10)).unwrap());
        assert_eq!(t.store.workers_wanted(&Limits::of(10)).unwrap(), 0);
        let outcome =
            Outcome { exit: Some(Exit::Signal(15)), ended_at: now_ms(), cancelled: true, ..Outcome::default() };
        let next = t.store.finish_and_claim(Some((&old, &outcome)), &me(), &Limits::of(10), WhenIdle::Linger).unwrap();
        assert_eq!(next.map(|t| t.id), Some(new), "claimed in the same transaction that ended the old one");
    }

    #[test]
    fn outcome_decides_the_status() {
        let o = |exit, cancelled| Outcome { exit, cancelled, ..Outcome::default() };
        assert_eq!(o(Some(Exit::Code(0)), false).status(false), Status::Completed);
        assert_eq!(o(Some(Exit::Code(1)), false).status(false), Status::Failed);
        assert_eq!(o(Some(Exit::Signal(9)), false).status(false), Status::Failed);
        assert_eq!(o(None, false).status(false), Status::Failed, "never started");
        assert_eq!(o(Some(Exit::Code(0)), false).status(true), Status::Cancelled);
        assert_eq!(o(Some(Exit::Signal(15)), true).status(false), Status::Cancelled);
    }
}
