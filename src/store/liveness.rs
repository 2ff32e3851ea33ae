//! Running tasks whose supervisor is gone become `lost`: the outcome can no
//! longer be known, and the task must not count as running for ever. Any
//! errand process that looks at the store does this.

use rusqlite::{params, Connection};

use super::Store;
use crate::error::Result;
use crate::process::Identity;
use crate::supervisor::process::MARKER;
use crate::task::now_ms;

impl Store {
    /// Mark running tasks whose supervisor is gone as lost. Returns how many.
    pub fn reap_lost(&self) -> Result<usize> {
        // A read first: the common case (all alive) takes no write lock.
        if running_workers(&self.conn)?.iter().all(|(_, w)| w.is_alive()) {
            return Ok(0);
        }
        self.write(reap_lost)
    }

    /// Every supervisor the queue counts on, to watch for an unexpected
    /// end: those running a task, and those idle (a client that saw one
    /// idle left the next task to it, and started no other).
    pub fn supervisors(&self) -> Result<Vec<Identity>> {
        let mut all: Vec<Identity> = running_workers(&self.conn)?.into_iter().map(|(_, w)| w).collect();
        all.extend(idle_workers(&self.conn)?);
        Ok(all)
    }
}

pub(super) fn idle_workers(conn: &Connection) -> Result<Vec<Identity>> {
    let mut stmt = conn.prepare_cached("SELECT pid, start, boot FROM idle_workers")?;
    let rows = stmt
        .query_map([], |r| Ok(Identity { pid: r.get(0)?, start: r.get::<_, i64>(1)? as u64, boot: r.get(2)? }))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub(super) fn running_workers(conn: &Connection) -> Result<Vec<(String, Identity)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, worker_pid, worker_start, worker_boot FROM tasks WHERE status = 'running'")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Identity {
                    pid: r.get::<_, Option<u32>>(1)?.unwrap_or(0),
                    start: r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64,
                    boot: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Inside a write transaction. Dead idle supervisors are forgotten too.
pub(super) fn reap_lost(tx: &Connection) -> Result<usize> {
    for idle in idle_workers(tx)? {
        if !idle.is_alive() {
            tx.execute("DELETE FROM idle_workers WHERE pid = ?1", [idle.pid])?;
        }
    }
    let mut lost = 0;
    for (id, worker) in running_workers(tx)? {
        if worker.is_alive() {
            continue;
        }
        let why = if worker.same_boot() {
            format!("its supervisor (pid {}) ended without recording an outcome", worker.pid)
        } else {
            "the machine restarted while the task ran; its outcome is unknown".to_owned()
        };
        lost += tx.execute(
            "UPDATE tasks SET status = 'lost', ended_at = ?2, error = ?3, paused_at = NULL, ready_at = NULL
             WHERE id = ?1 AND status = 'running'",
            params![id, now_ms(), why],
        )?;
        // Its leader died with the supervisor; the rest is found by marker.
        // Killing is harmless to repeat: whoever sees the task lost does it.
        if worker.same_boot() {
            stop_remains(tx, &id)?;
        }
    }
    if lost > 0 {
        super::queue::cancel_dependents(tx)?;
    }
    Ok(lost)
}

/// Stop every process that still carries a lost task's marker; for a task
/// that may keep its children, only those of its own process group (the
/// others are let go on, in case the task was paused: never left stopped).
fn stop_remains(tx: &Connection, id: &str) -> Result<()> {
    let (pid, keep_children): (Option<u32>, bool) =
        tx.query_row("SELECT pid, keep_children FROM tasks WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    for remain in crate::sys::processes_with_env(MARKER, id) {
        if keep_children && crate::sys::process_group_of(remain) != pid {
            let _ = crate::sys::kill_process(remain, libc::SIGCONT);
            continue;
        }
        if let Err(e) = crate::sys::kill_process(remain, libc::SIGKILL) {
            tracing::warn!(task = id, pid = remain, "cannot stop what is left of a lost task: {e}");
        }
    }
    Ok(())
}
