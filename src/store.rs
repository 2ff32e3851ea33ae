//! The task store: one SQLite database (WAL) shared by every errand process.
//! It is the source of truth for tasks and for the global queue: a slot is
//! claimed in a write transaction, so the parallel limit holds across every
//! client at once.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::config::{History, Paths};
use crate::error::{Error, IoContext, Result};
use crate::task::{now_ms, CommandSpec, Status, Task};

/// Schema migrations, applied in order; `PRAGMA user_version` records how
/// many ran. Append, never edit.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters VALUES ('change', 0);

-- The submitting client's environment, stored once per distinct value.
CREATE TABLE envs (hash TEXT PRIMARY KEY, vars TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE tasks (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT, -- FIFO order, newest-first listing
    id                TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    command           TEXT NOT NULL,                     -- JSON CommandSpec
    cwd               TEXT NOT NULL,
    env               TEXT NOT NULL DEFAULT '{}',        -- JSON overrides
    base_env          TEXT REFERENCES envs(hash),
    grp               TEXT,
    workflow          TEXT,
    status            TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    ended_at          INTEGER,
    exit_code         INTEGER,
    signal            INTEGER,
    error             TEXT,
    progress          REAL,
    progress_message  TEXT,
    read_at           INTEGER,
    deleted_at        INTEGER,
    restarted_from    TEXT,
    pid               INTEGER,
    worker_pid        INTEGER,
    worker_start      INTEGER,
    worker_boot       TEXT,
    cancel_requested  INTEGER,
    changed           INTEGER NOT NULL DEFAULT 0         -- value of counters.change at the last write
);
CREATE INDEX tasks_status ON tasks(status, seq);
CREATE INDEX tasks_ended ON tasks(ended_at);
CREATE INDEX tasks_changed ON tasks(changed);
CREATE INDEX tasks_failures ON tasks(ended_at)
    WHERE status IN ('failed', 'lost') AND read_at IS NULL AND deleted_at IS NULL;

-- Every write to a task bumps the change counter, so a watcher can ask
-- "what changed since N" without any writer having to remember to.
CREATE TRIGGER tasks_inserted AFTER INSERT ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET changed = (SELECT value FROM counters WHERE name = 'change') WHERE seq = NEW.seq;
END;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET changed = (SELECT value FROM counters WHERE name = 'change') WHERE seq = NEW.seq;
END;

-- Supervisors with nothing to do that linger a moment for the next task, so
-- a burst of short tasks does not start one supervisor per task.
CREATE TABLE idle_workers (pid INTEGER PRIMARY KEY, start INTEGER NOT NULL, boot TEXT NOT NULL);
"#, r#"
-- Finished tasks nobody has read: what an editor offers when it starts.
CREATE INDEX tasks_unread ON tasks(seq)
    WHERE read_at IS NULL AND deleted_at IS NULL AND status NOT IN ('queued', 'running');
"#];

const TASK_COLUMN_COUNT: usize = 20;
const TASK_COLUMNS: &str = "id, name, command, cwd, env, grp, workflow, status, created_at, started_at, \
     ended_at, exit_code, signal, error, progress, progress_message, read_at, deleted_at, restarted_from, pid";

/// Failures stop counting in the statusline after this long, read or not.
pub const FAILURE_VISIBLE_MS: i64 = 3_600_000;

/// Alphabet of task ids: digits and lowercase letters minus i, l, o, u,
/// which are easy to misread or mistype.
const ID_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

pub struct Store {
    conn: Connection,
}

/// What a new task needs; everything else the store fills in.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub name: Option<String>,
    pub command: CommandSpec,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
    /// The submitter's whole environment: the base the task runs in.
    pub base_env: BTreeMap<String, String>,
    pub group: Option<String>,
    pub workflow: Option<String>,
    pub restarted_from: Option<String>,
}

/// The process that supervises a task: (pid, start time, boot) names it
/// for good, so a dead supervisor is never mistaken for a live one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerId {
    pub pid: u32,
    pub start: u64,
    pub boot: String,
}

impl WorkerId {
    pub fn current() -> WorkerId {
        let pid = std::process::id();
        WorkerId { pid, start: crate::sys::process_start_time(pid).unwrap_or(0), boot: crate::sys::boot_id() }
    }

    fn is_alive(&self) -> bool {
        self.boot == crate::sys::boot_id() && crate::sys::process_start_time(self.pid) == Some(self.start)
    }
}

/// What a supervisor does when it finds no task to claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenIdle {
    /// Register as idle: clients then leave the next task to it.
    Linger,
    /// Deregister and exit (claiming nothing: it is stopping).
    Exit,
}

/// How a task's process ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<String>,
    pub ended_at: i64,
    /// Cancelled by errand (a cancel request, or the supervisor was told to stop).
    pub cancelled: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub running: u32,
    pub queued: u32,
    /// Failed or lost, unread, ended within the last hour.
    pub failed: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub group: Option<String>,
    pub text: Option<String>,
    pub include_deleted: bool,
    pub only_deleted: bool,
    /// Only tasks older than this sequence number (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

/// What a cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelAction {
    /// It was queued: now cancelled, it never ran.
    Dequeued,
    /// It is running: its supervisor must be told (ctl FIFO).
    Signal,
}

impl Store {
    pub fn open(paths: &Paths) -> Result<Store> {
        paths.create_dirs()?;
        // Create the file ourselves so it is private (SQLite would use 0644);
        // the WAL and shm files copy its mode.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&paths.db)
            .context(|| format!("cannot open {}", paths.db.display()))?;
        let conn = Connection::open(&paths.db)?;
        conn.busy_handler(Some(busy_wait))?;
        // Short-lived CLI processes come and go all the time: the last one
        // out must not checkpoint and delete the WAL (two fsyncs, and the
        // next one recreates it). Writers checkpoint as the WAL grows.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        // Switching a new database to WAL takes an exclusive lock, and
        // SQLite reports BUSY for it without asking the busy handler: two
        // clients creating the store at once must retry here.
        let mut attempt = 0;
        loop {
            let setup = conn.execute_batch(
                // Keep the WAL file from growing without bound after a burst.
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA journal_size_limit = 4194304;",
            );
            match setup {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                        && attempt < 2000 =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other?,
            }
        }
        let store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        let version: usize = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(Error::InvalidInput(format!(
                "the task store was written by a newer errand (schema {version}, this one knows {})",
                MIGRATIONS.len()
            )));
        }
        if version == MIGRATIONS.len() {
            return Ok(());
        }
        self.write(|tx| {
            // Re-read under the write lock: another process may have migrated meanwhile.
            let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", i + 1)?;
            }
            Ok(())
        })
    }

    /// Run `f` in a write transaction taken up front (BEGIN IMMEDIATE), so
    /// that read-then-write sequences (claim a slot, cancel) are atomic.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(&self.conn) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub fn insert(&self, new: &NewTask) -> Result<Task> {
        let command = serde_json::to_string(&new.command).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let env = serde_json::to_string(&new.env).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let base_env = serde_json::to_string(&new.base_env).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let name = new.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| new.command.title());
        let id = self.write(|tx| {
            let env_hash = format!("{:016x}", fnv1a(base_env.as_bytes()));
            tx.execute("INSERT OR IGNORE INTO envs (hash, vars) VALUES (?1, ?2)", params![env_hash, base_env])?;
            let mut len = 4;
            let mut attempts = 0;
            loop {
                let id = random_id(len);
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO tasks (id, name, command, cwd, env, base_env, grp, workflow, status, created_at, restarted_from)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10)",
                    params![id, name, command, new.cwd, env, env_hash, new.group, new.workflow, now_ms(), new.restarted_from],
                )?;
                if inserted == 1 {
                    return Ok(id);
                }
                attempts += 1;
                if attempts % 8 == 0 {
                    len += 1; // this length is getting crowded
                }
            }
        })?;
        self.get(&id)
    }

    pub fn get(&self, id: &str) -> Result<Task> {
        self.conn
            .query_row(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"), [id], task_from_row)
            .optional()?
            .ok_or_else(|| Error::NoSuchTask(id.to_owned()))
    }

    /// The task's base environment (the submitter's), for running it.
    pub fn base_env(&self, id: &str) -> Result<BTreeMap<String, String>> {
        let vars: Option<String> = self
            .conn
            .query_row(
                "SELECT envs.vars FROM tasks JOIN envs ON envs.hash = tasks.base_env WHERE tasks.id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(vars.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
    }

    /// Turn what a user typed into a task id: an exact id, or a unique prefix.
    pub fn resolve(&self, typed: &str) -> Result<String> {
        let typed = typed.trim().to_ascii_lowercase();
        if typed.is_empty() || !typed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::NoSuchTask(typed));
        }
        let mut stmt = self.conn.prepare_cached("SELECT id FROM tasks WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6")?;
        let matches: Vec<String> =
            stmt.query_map(params![typed, format!("{typed}~")], |r| r.get(0))?.collect::<Result<_, _>>()?;
        match matches.as_slice() {
            [] => Err(Error::NoSuchTask(typed)),
            [one] => Ok(one.clone()),
            many if many.iter().any(|m| *m == typed) => Ok(typed),
            many => Err(Error::AmbiguousId { prefix: typed, matches: many.to_vec() }),
        }
    }

    /// Tasks newest first. Returns the page and whether more follow it.
    pub fn list(&self, filter: &ListFilter) -> Result<(Vec<Task>, bool)> {
        let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !filter.statuses.is_empty() {
            let marks = vec!["?"; filter.statuses.len()].join(",");
            sql.push_str(&format!(" AND status IN ({marks})"));
            args.extend(filter.statuses.iter().map(|s| s.as_str().to_owned().into()));
        }
        if filter.only_deleted {
            sql.push_str(" AND deleted_at IS NOT NULL");
        } else if !filter.include_deleted {
            sql.push_str(" AND deleted_at IS NULL");
        }
        if let Some(group) = &filter.group {
            sql.push_str(" AND grp = ?");
            args.push(group.clone().into());
        }
        if let Some(text) = &filter.text {
            sql.push_str(" AND (instr(lower(name), lower(?)) > 0 OR instr(lower(command), lower(?)) > 0)");
            args.push(text.clone().into());
            args.push(text.clone().into());
        }
        if let Some(before) = filter.before {
            sql.push_str(" AND seq < ?");
            args.push(before.into());
        }
        sql.push_str(" ORDER BY seq DESC");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", u64::from(limit) + 1));
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut tasks: Vec<Task> =
            stmt.query_map(rusqlite::params_from_iter(args), task_from_row)?.collect::<Result<_, _>>()?;
        let more = filter.limit.is_some_and(|l| tasks.len() > l as usize);
        if more {
            tasks.pop();
        }
        Ok((tasks, more))
    }

    /// The sequence number of a task (the list cursor).
    pub fn seq_of(&self, id: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT seq FROM tasks WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NoSuchTask(id.to_owned()))
    }

    pub fn counts(&self) -> Result<Counts> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT (SELECT count(*) FROM tasks WHERE status = 'running'),
                    (SELECT count(*) FROM tasks WHERE status = 'queued'),
                    (SELECT count(*) FROM tasks INDEXED BY tasks_failures
                        WHERE status IN ('failed', 'lost') AND read_at IS NULL AND deleted_at IS NULL AND ended_at > ?1)",
        )?;
        Ok(stmt.query_row([now_ms() - FAILURE_VISIBLE_MS], |r| {
            Ok(Counts { running: r.get(0)?, queued: r.get(1)?, failed: r.get(2)? })
        })?)
    }

    pub fn has_queued(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'queued')", [], |r| r.get(0))?)
    }

    /// How many supervisors a client should start now: queued tasks that no
    /// idle supervisor will take, within the free slots.
    pub fn workers_wanted(&self, limit: u32) -> Result<u32> {
        let (running, queued): (u32, u32) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM tasks WHERE status = 'running'),
                    (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE status = 'queued' LIMIT 1000))",
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
    /// same transaction, claim the oldest queued task if a slot is free.
    /// Finding none, it registers as idle or deregisters (`when_idle`). One
    /// transaction keeps the queue from stalling between the two steps: a
    /// client that queued a task either sees this supervisor idle (and
    /// leaves the task to it) or sees it gone (and starts another).
    pub fn finish_and_claim(
        &self,
        finished: Option<(&str, &Outcome)>,
        worker: &WorkerId,
        limit: u32,
        when_idle: WhenIdle,
    ) -> Result<Option<Task>> {
        let claimed = self.write(|tx| {
            if let Some((id, outcome)) = finished {
                finish(tx, id, outcome)?;
            }
            let next = match when_idle {
                WhenIdle::Exit => None,
                WhenIdle::Linger => claim(tx, worker, limit)?,
            };
            if next.is_some() || when_idle == WhenIdle::Exit {
                tx.execute("DELETE FROM idle_workers WHERE pid = ?1", [worker.pid])?;
            } else {
                tx.execute(
                    "INSERT OR REPLACE INTO idle_workers (pid, start, boot) VALUES (?1, ?2, ?3)",
                    params![worker.pid, worker.start as i64, worker.boot],
                )?;
            }
            Ok(next)
        })?;
        claimed.map(|id| self.get(&id)).transpose()
    }

    pub fn set_pid(&self, id: &str, pid: u32) -> Result<()> {
        self.conn.execute("UPDATE tasks SET pid = ?2 WHERE id = ?1", params![id, pid])?;
        Ok(())
    }

    /// Mark running tasks whose supervisor is gone as lost. Returns how many.
    pub fn reap_lost(&self) -> Result<usize> {
        // A read first: the common case (all alive) takes no write lock.
        if running_workers(&self.conn)?.iter().all(|(_, w)| w.is_alive()) {
            return Ok(0);
        }
        self.write(reap_lost)
    }

    pub fn set_progress(&self, id: &str, percent: Option<f64>, message: Option<&str>) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE tasks SET progress = ?2, progress_message = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, percent, message],
        )?;
        if changed == 0 {
            let task = self.get(id)?;
            return Err(Error::NotRunning { id: task.id, status: task.status.to_string() });
        }
        Ok(())
    }

    /// Cancel a queued task outright, or flag a running one (its supervisor
    /// then stops it and records `cancelled`).
    pub fn request_cancel(&self, id: &str) -> Result<CancelAction> {
        self.write(|tx| {
            let status: String = tx
                .query_row("SELECT status FROM tasks WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::NoSuchTask(id.to_owned()))?;
            match Status::parse(&status) {
                Some(Status::Queued) => {
                    tx.execute(
                        "UPDATE tasks SET status = 'cancelled', ended_at = ?2, cancel_requested = ?2,
                         error = 'cancelled before it started' WHERE id = ?1",
                        params![id, now_ms()],
                    )?;
                    Ok(CancelAction::Dequeued)
                }
                Some(Status::Running) => {
                    tx.execute(
                        "UPDATE tasks SET cancel_requested = ?2 WHERE id = ?1 AND cancel_requested IS NULL",
                        params![id, now_ms()],
                    )?;
                    Ok(CancelAction::Signal)
                }
                _ => Err(Error::AlreadyFinished { id: id.to_owned(), status }),
            }
        })
    }

    /// The supervisor of a running task.
    pub fn worker_of(&self, id: &str) -> Result<Option<u32>> {
        Ok(self
            .conn
            .query_row("SELECT worker_pid FROM tasks WHERE id = ?1 AND status = 'running'", [id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    pub fn cancel_requested(&self, id: &str) -> Result<bool> {
        Ok(self.conn.query_row("SELECT cancel_requested IS NOT NULL FROM tasks WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// Mark finished tasks read: the given ids, or every finished task.
    pub fn mark_read(&self, ids: Option<&[String]>) -> Result<usize> {
        let now = now_ms();
        let statuses = "status NOT IN ('queued', 'running')";
        Ok(match ids {
            None => self.conn.execute(&format!("UPDATE tasks SET read_at = ?1 WHERE read_at IS NULL AND {statuses}"), [now])?,
            Some(ids) => self.write(|tx| {
                let mut n = 0;
                for id in ids {
                    n += tx.execute(
                        &format!("UPDATE tasks SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL AND {statuses}"),
                        params![id, now],
                    )?;
                }
                Ok(n)
            })?,
        })
    }

    /// Soft delete (restorable). Queued or running tasks must be cancelled first.
    pub fn delete(&self, id: &str) -> Result<()> {
        let task = self.get(id)?;
        if !task.status.is_final() {
            return Err(Error::InvalidInput(format!("task {id} is {}: cancel it first", task.status)));
        }
        self.conn.execute("UPDATE tasks SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL", params![id, now_ms()])?;
        Ok(())
    }

    pub fn restore(&self, id: &str) -> Result<()> {
        self.get(id)?;
        self.conn.execute("UPDATE tasks SET deleted_at = NULL WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Drop finished tasks beyond the history limits. Returns the ids removed,
    /// so their output files can go too.
    pub fn prune(&self, history: &History) -> Result<Vec<String>> {
        let cutoff = now_ms() - i64::from(history.keep_days) * 86_400_000;
        self.write(|tx| {
            let mut ids: Vec<String> = Vec::new();
            {
                let mut stmt = tx.prepare(
                    "SELECT id FROM tasks WHERE status NOT IN ('queued', 'running') AND ended_at < ?1",
                )?;
                ids.extend(stmt.query_map([cutoff], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?);
                let mut stmt = tx.prepare(
                    "SELECT id FROM tasks WHERE status NOT IN ('queued', 'running') ORDER BY seq DESC LIMIT -1 OFFSET ?1",
                )?;
                ids.extend(stmt.query_map([history.keep_count], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?);
            }
            ids.sort();
            ids.dedup();
            for id in &ids {
                tx.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
            }
            tx.execute("DELETE FROM envs WHERE hash NOT IN (SELECT base_env FROM tasks WHERE base_env IS NOT NULL)", [])?;
            Ok(ids)
        })
    }

    /// Fold the WAL into the database and empty it. The first process to
    /// open the store after everyone closed it re-reads the whole WAL, so a
    /// supervisor does this when work stops; CLI commands then open fast.
    /// Skipped when others are busy.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.busy_handler(None)?;
        let done = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.conn.busy_handler(Some(busy_wait))?;
        match done {
            Ok(()) | Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error { code: rusqlite::ErrorCode::DatabaseBusy, .. }, _)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The change counter (any write to any task moves it) and the tasks
    /// not yet final, read in one snapshot: a watcher's starting point.
    pub fn snapshot(&self) -> Result<(i64, Vec<Task>)> {
        self.conn.execute_batch("BEGIN")?;
        let read = (|| -> Result<(i64, Vec<Task>)> {
            let counter = self.conn.query_row("SELECT value FROM counters WHERE name = 'change'", [], |r| r.get(0))?;
            let (active, _) = self.list(&ListFilter {
                statuses: vec![Status::Queued, Status::Running],
                include_deleted: true,
                ..ListFilter::default()
            })?;
            Ok((counter, active))
        })();
        let _ = self.conn.execute_batch("COMMIT");
        read
    }

    /// Tasks written since change `after`, oldest change first (at most
    /// `limit`), with the change number of the last one.
    pub fn changed_since(&self, after: i64, limit: u32) -> Result<(Vec<Task>, i64)> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {TASK_COLUMNS}, changed FROM tasks WHERE changed > ?1 ORDER BY changed LIMIT ?2"))?;
        let mut last = after;
        let tasks = stmt
            .query_map(params![after, limit], |r| {
                last = r.get(TASK_COLUMN_COUNT)?;
                task_from_row(r)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((tasks, last))
    }

    /// Finished tasks nobody has marked read, newest first.
    pub fn unread(&self, limit: u32) -> Result<Vec<Task>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks INDEXED BY tasks_unread
             WHERE read_at IS NULL AND deleted_at IS NULL AND status NOT IN ('queued', 'running')
             ORDER BY seq DESC LIMIT ?1"
        ))?;
        let tasks = stmt.query_map([limit], task_from_row)?.collect::<Result<_, _>>()?;
        Ok(tasks)
    }

    /// When the oldest failure still counted in `counts` stops counting.
    pub fn next_failure_expiry(&self) -> Result<Option<i64>> {
        let oldest: Option<i64> = self.conn.query_row(
            "SELECT min(ended_at) FROM tasks INDEXED BY tasks_failures
             WHERE status IN ('failed', 'lost') AND read_at IS NULL AND deleted_at IS NULL AND ended_at > ?1",
            [now_ms() - FAILURE_VISIBLE_MS],
            |r| r.get(0),
        )?;
        Ok(oldest.map(|t| t + FAILURE_VISIBLE_MS))
    }

    /// The supervisors of running tasks (to watch them for an unexpected end).
    pub fn running_workers(&self) -> Result<Vec<(String, WorkerId)>> {
        running_workers(&self.conn)
    }
}

/// Claim the oldest queued task for `worker` if a slot is free.
fn claim(tx: &Connection, worker: &WorkerId, limit: u32) -> Result<Option<String>> {
    reap_lost(tx)?;
    let running: u32 = tx.query_row("SELECT count(*) FROM tasks WHERE status = 'running'", [], |r| r.get(0))?;
    if running >= limit {
        return Ok(None);
    }
    let next: Option<String> = tx
        .query_row("SELECT id FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1", [], |r| r.get(0))
        .optional()?;
    let Some(id) = next else { return Ok(None) };
    tx.execute(
        "UPDATE tasks SET status = 'running', started_at = ?2, worker_pid = ?3, worker_start = ?4, worker_boot = ?5
         WHERE id = ?1",
        params![id, now_ms(), worker.pid, worker.start as i64, worker.boot],
    )?;
    Ok(Some(id))
}

fn idle_workers(conn: &Connection) -> Result<Vec<WorkerId>> {
    let mut stmt = conn.prepare_cached("SELECT pid, start, boot FROM idle_workers")?;
    let rows = stmt
        .query_map([], |r| Ok(WorkerId { pid: r.get(0)?, start: r.get::<_, i64>(1)? as u64, boot: r.get(2)? }))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Write the outcome; the status follows from it (and from a cancel request).
fn finish(tx: &Connection, id: &str, outcome: &Outcome) -> Result<()> {
    let cancel_requested: bool = tx
        .query_row("SELECT cancel_requested IS NOT NULL FROM tasks WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .unwrap_or(false);
    let status = if cancel_requested || outcome.cancelled {
        Status::Cancelled
    } else if outcome.exit_code == Some(0) {
        // A capture error (full disk) is recorded as the task's error text;
        // the task itself still succeeded.
        Status::Completed
    } else {
        Status::Failed
    };
    tx.execute(
        "UPDATE tasks SET status = ?2, ended_at = ?3, exit_code = ?4, signal = ?5, error = ?6
         WHERE id = ?1 AND status = 'running'",
        params![id, status.as_str(), outcome.ended_at, outcome.exit_code, outcome.signal, outcome.error],
    )?;
    Ok(())
}

fn running_workers(conn: &Connection) -> Result<Vec<(String, WorkerId)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, worker_pid, worker_start, worker_boot FROM tasks WHERE status = 'running'",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                WorkerId {
                    pid: r.get::<_, Option<u32>>(1)?.unwrap_or(0),
                    start: r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64,
                    boot: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn reap_lost(tx: &Connection) -> Result<usize> {
    let boot = crate::sys::boot_id();
    let mut lost = 0;
    for (id, worker) in running_workers(tx)? {
        if worker.is_alive() {
            continue;
        }
        let why = if worker.boot != boot {
            "the machine restarted while the task ran; its outcome is unknown".to_owned()
        } else {
            format!("its supervisor (pid {}) ended without recording an outcome", worker.pid)
        };
        lost += tx.execute(
            "UPDATE tasks SET status = 'lost', ended_at = ?2, error = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, now_ms(), why],
        )?;
    }
    Ok(lost)
}

fn task_from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let command: String = r.get(2)?;
    let env: String = r.get(4)?;
    let status: String = r.get(7)?;
    let status = Status::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, format!("unknown status {status}").into())
    })?;
    let started_at: Option<i64> = r.get(9)?;
    let ended_at: Option<i64> = r.get(10)?;
    let progress: Option<f64> = r.get(14)?;
    let eta_at = match (status, started_at, progress) {
        (Status::Running, Some(start), Some(p)) if p > 0.0 && p < 100.0 => {
            let elapsed = (now_ms() - start).max(0) as f64;
            Some(start + (elapsed * 100.0 / p) as i64)
        }
        _ => None,
    };
    Ok(Task {
        id: r.get(0)?,
        name: r.get(1)?,
        command: serde_json::from_str(&command).map_err(|e| json_err(2, e))?,
        cwd: r.get(3)?,
        env: serde_json::from_str(&env).map_err(|e| json_err(4, e))?,
        group: r.get(5)?,
        workflow: r.get(6)?,
        status,
        created_at: r.get(8)?,
        started_at,
        ended_at,
        duration_ms: started_at.map(|s| ended_at.unwrap_or_else(now_ms) - s),
        exit_code: r.get(11)?,
        signal: r.get(12)?,
        error: r.get(13)?,
        progress,
        progress_message: r.get(15)?,
        eta_at,
        read_at: r.get(16)?,
        deleted_at: r.get(17)?,
        restarted_from: r.get(18)?,
        pid: r.get(19)?,
    })
}

/// SQLite's own busy handler sleeps whole milliseconds and backs off to
/// 100 ms; our transactions last microseconds, so retry soon and often.
/// Gives up after about 30 s.
fn busy_wait(attempt: i32) -> bool {
    let micros = (50 * (i64::from(attempt) + 1)).min(2_000) as u64;
    std::thread::sleep(Duration::from_micros(micros));
    attempt < 15_000
}

fn random_id(len: usize) -> String {
    let mut bits = crate::sys::random_u64();
    (0..len)
        .map(|_| {
            let c = ID_ALPHABET[(bits % ID_ALPHABET.len() as u64) as usize];
            bits /= ID_ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

/// A stable hash (unlike std's, which may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
