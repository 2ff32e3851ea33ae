//! The task store: one SQLite database (WAL) shared by every errand process.
//! It is the source of truth for tasks and for the global queue: a slot is
//! claimed in a write transaction, so the parallel limit holds across every
//! client at once.
//!
//! - `schema`: the tables, as migrations.
//! - `tasks`: tasks as records (insert, read, list, mark, delete, prune).
//! - `queue`: claiming, finishing, cancelling, and idle supervisors.
//! - `liveness`: running tasks whose supervisor died become `lost`.
//! - `changes`: what changed since a change number (for watchers).
//! - `search`: text search of names and commands, and its index.
//! - `watches`: commands rerun when files change.

mod changes;
mod liveness;
mod queue;
mod rows;
mod schema;
mod search;
mod tasks;
mod watches;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::paths::Paths;

pub use changes::{Change, Snapshot};
pub use queue::{CancelAction, Limits, Outcome, WhenIdle};
pub use search::INDEX_LAG;
pub use watches::{watch_seq, OnChange, Watch};

/// `w3`: a watch's id, never a task's.
pub fn is_watch_id(id: &str) -> bool {
    watch_seq(id).is_some()
}
pub use tasks::{ListFilter, NewTask, Offer, Unannounced, FAILURE_VISIBLE_MS};

/// One connection to the store. Not shared between threads: each thread
/// (or pooled job) opens or borrows its own.
pub struct Store {
    conn: Connection,
    reserve: std::path::PathBuf,
    /// SQLite's write-ahead log beside the database.
    wal: std::path::PathBuf,
    /// errand's writers take turns on this file's lock before asking
    /// SQLite for its write lock. SQLite's waiters poll; on an overloaded
    /// machine a hundred of them polling every few milliseconds starve the
    /// one holding the lock of CPU, and the queue collapses (a CI run saw
    /// writes wait minutes). The kernel's queue costs a waiter nothing.
    /// None if the file cannot be opened (a full disk): SQLite's busy
    /// handler still keeps writes apart.
    write_lock: Option<std::fs::File>,
}

/// A turn at writing, released when dropped.
struct WriteTurn<'a>(Option<&'a std::fs::File>);

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.0 {
            crate::sys::unlock(file);
        }
    }
}

/// How long the WAL may grow before the writer that crossed it empties it.
const WAL_TRIM_BYTES: u64 = 256 << 10;

/// How much space the reserve holds: room for many outcomes in the WAL.
const RESERVE_BYTES: u64 = 1 << 20;

impl Store {
    pub fn open(paths: &Paths) -> Result<Store> {
        paths.create_dirs()?;
        // Create the file ourselves so it is private (SQLite would use 0644);
        // the WAL and shm files copy its mode. Only a new file: closing any fd
        // of the database drops every POSIX lock this process holds on it,
        // its other connections' included, and a connection elsewhere that
        // then closes takes itself for the last one and deletes the WAL.
        match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&paths.db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("cannot open {}", paths.db.display()), e)),
        }
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
                Err(e) if is_busy(&e) && attempt < 2000 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other?,
            }
        }
        let write_lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&paths.write_lock)
            .map_err(|e| tracing::warn!("cannot open {}: {e}", paths.write_lock.display()))
            .ok();
        let mut wal = paths.db.clone().into_os_string();
        wal.push("-wal");
        let store = Store { conn, reserve: paths.reserve.clone(), wal: wal.into(), write_lock };
        store.migrate()?;
        store.keep_reserve();
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        let version: usize = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = schema::MIGRATIONS.len();
        if version > known {
            return Err(Error::InvalidInput(format!(
                "the task store was written by a newer errand (schema {version}, this one knows {known})"
            )));
        }
        if version == known {
            return Ok(());
        }
        self.write(|tx| {
            // Re-read under the write lock: another process may have migrated meanwhile.
            let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", i + 1)?;
            }
            Ok(())
        })
    }

    /// Set space aside for a full disk, if it is not (or no longer) there.
    fn keep_reserve(&self) {
        if self.reserve.exists() {
            return;
        }
        let made = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.reserve)
            .and_then(|f| crate::sys::preallocate(&f, RESERVE_BYTES));
        if let Err(e) = made {
            // The disk is full now: there is nothing to set aside.
            let _ = std::fs::remove_file(&self.reserve);
            tracing::debug!("no reserve beside the store: {e}");
        }
    }

    /// Run `f` in a write transaction taken up front (BEGIN IMMEDIATE), so
    /// that read-then-write sequences (claim a slot, cancel) are atomic. On
    /// a full disk the reserve is freed and `f` runs again: an outcome, a
    /// cancel, a mark read still get recorded.
    fn write<T>(&self, f: impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let _turn = self.write_turn(None)?;
        self.write_in_turn(&f)
    }

    fn write_in_turn<T>(&self, f: &impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let written = match self.write_once(f) {
            Err(Error::Store(e)) if is_full(&e) && std::fs::remove_file(&self.reserve).is_ok() => {
                tracing::warn!("the disk is full: freed the reserve beside the store");
                self.write_once(f)
            }
            other => other,
        }?;
        self.trim_wal();
        Ok(written)
    }

    /// Keep the WAL short. A process that opens the store while no other
    /// has it open reads the whole WAL to rebuild its index, and every CLI
    /// command is such a process; and SQLite's own checkpoint (at 1000
    /// pages) copies all of it again in each of them, since a fresh index
    /// knows nothing was copied. Folded in and emptied past a few hundred
    /// KiB instead, by the writer that crossed the line, while it holds its
    /// turn; skipped if a reader is in the way (the next writer tries again).
    fn trim_wal(&self) {
        if std::fs::metadata(&self.wal).is_ok_and(|m| m.len() > WAL_TRIM_BYTES) {
            let _ = self.conn.busy_handler(None);
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            let _ = self.conn.busy_handler(Some(busy_wait));
        }
    }

    fn write_once<T>(&self, f: &impl Fn(&Connection) -> Result<T>) -> Result<T> {
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

    /// Run `f` on one consistent snapshot of the store (a read transaction).
    /// `write`, waiting at most `wait` for the write lock: None if it stayed busy.
    fn write_within<T>(&self, wait: Duration, f: impl Fn(&Connection) -> Result<T>) -> Result<Option<T>> {
        let deadline = std::time::Instant::now() + wait;
        let Some(_turn) = self.write_turn(Some(deadline))? else {
            return Ok(None);
        };
        self.conn.busy_timeout(deadline.saturating_duration_since(std::time::Instant::now()))?;
        let result = self.write_in_turn(&f);
        self.conn.busy_handler(Some(busy_wait))?;
        match result {
            Err(Error::Store(e)) if is_busy(&e) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Wait for this connection's turn to write: for ever (None), or until
    /// `deadline` (then None if it did not come).
    fn write_turn(&self, deadline: Option<std::time::Instant>) -> Result<Option<WriteTurn<'_>>> {
        let Some(file) = &self.write_lock else { return Ok(Some(WriteTurn(None))) };
        let locked = |wait| {
            crate::sys::lock_exclusive(file, wait).map_err(|e| Error::io("cannot lock the task store for writing", e))
        };
        let Some(deadline) = deadline else {
            locked(true)?;
            return Ok(Some(WriteTurn(Some(file))));
        };
        // A bounded wait: flock has no timeout, so poll, gently.
        let mut pause = Duration::from_micros(100);
        loop {
            if locked(false)? {
                return Ok(Some(WriteTurn(Some(file))));
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN")?;
        let result = f(&self.conn);
        let _ = self.conn.execute_batch("COMMIT");
        result
    }

    /// Fold the WAL into the database and empty it. The first process to
    /// open the store after everyone closed it re-reads the whole WAL, so a
    /// supervisor does this when work stops; CLI commands then open fast.
    /// Skipped when others are busy.
    pub fn checkpoint(&self) -> Result<()> {
        let Some(_turn) = self.write_turn(Some(std::time::Instant::now()))? else { return Ok(()) };
        self.conn.busy_handler(None)?;
        let done = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.conn.busy_handler(Some(busy_wait))?;
        match done {
            Err(e) if !is_busy(&e) => Err(e.into()),
            _ => Ok(()),
        }
    }
}

fn is_full(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// SQLite's own busy handler sleeps whole milliseconds and backs off to
/// 100 ms; our transactions last microseconds, so retry soon and often.
/// Gives up after about 2 minutes: on an overloaded machine a writer that
/// holds the lock can be descheduled again and again, and an outcome or a
/// client's request is worth the wait (a CI run lost a task/run to 30 s).
fn busy_wait(attempt: i32) -> bool {
    let micros = (50 * (i64::from(attempt) + 1)).min(2_000) as u64;
    std::thread::sleep(Duration::from_micros(micros));
    attempt < 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another program's connection (sqlite3, a test) that closes must not
    /// take itself for the last one while errand's connections are open:
    /// it would delete the WAL under them.
    #[test]
    fn opening_more_connections_keeps_the_locks_of_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(dir.path());
        let first = Store::open(&paths).unwrap();
        first.counts().unwrap();
        let _second = Store::open(&paths).unwrap();
        // Another process (locks are per process): python's sqlite3.
        let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); \
            c.execute(\"INSERT INTO counters VALUES ('probe', 1)\"); c.commit(); c.close()";
        let status = std::process::Command::new("python3").args(["-c", script]).arg(&paths.db).status().unwrap();
        assert!(status.success());
        assert!(paths.db.with_extension("db-wal").exists(), "the WAL is still there");
        let probe: i64 =
            first.conn.query_row("SELECT value FROM counters WHERE name = 'probe'", [], |r| r.get(0)).unwrap();
        assert_eq!(probe, 1, "and the first connection sees what was written");
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A store of its own in a temp dir, for unit tests of the queries.
    use super::*;

    pub struct TempStore {
        pub store: Store,
        _dir: tempfile::TempDir,
    }

    pub fn temp_store() -> TempStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::in_home(dir.path());
        let store = Store::open(&paths).expect("open store");
        TempStore { store, _dir: dir }
    }
}
