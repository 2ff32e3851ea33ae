//! The store's tables, as migrations applied in order; `PRAGMA
//! user_version` records how many ran. Append, never edit: a store written
//! by any earlier errand opens in this one.

pub const MIGRATIONS: &[&str] = &[
    V1_TABLES,
    V2_UNREAD_INDEX,
    V3_STATE_CHECKS,
    V4_CONTAINMENT,
    V5_OUTPUT_SIZE,
    V6_ANNOUNCED,
    V7_DIAGNOSTICS,
    V8_TIMEOUT,
    V9_DEPENDENCIES,
    V10_RETRIES,
    V11_RESULTS,
    V12_TASK_HOOKS,
    V13_PAUSE,
    V14_PROGRESS_FROM_OUTPUT,
    V15_PRUNE_INDEXES,
    V16_TEXT_INDEX,
    V17_WATCHES,
    V18_READY,
    V19_CYCLES,
];

const V1_TABLES: &str = r#"
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
"#;

const V2_UNREAD_INDEX: &str = r#"
-- Finished tasks nobody has read: what an editor offers when it starts.
CREATE INDEX tasks_unread ON tasks(seq)
    WHERE read_at IS NULL AND deleted_at IS NULL AND status NOT IN ('queued', 'running');
"#;

/// The same table with the task lifecycle as CHECK constraints, so that no
/// writer (a bug, a hand-edited store) can record a task in a state that
/// cannot be: SQLite adds CHECKs only by rebuilding the table.
const V3_STATE_CHECKS: &str = r#"
CREATE TABLE tasks_checked (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    command           TEXT NOT NULL,
    cwd               TEXT NOT NULL,
    env               TEXT NOT NULL DEFAULT '{}',
    base_env          TEXT REFERENCES envs(hash),
    grp               TEXT,
    workflow          TEXT,
    status            TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'lost')),
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    ended_at          INTEGER,
    exit_code         INTEGER,
    signal            INTEGER,
    error             TEXT,
    progress          REAL CHECK (progress IS NULL OR (progress >= 0 AND progress <= 100)),
    progress_message  TEXT,
    read_at           INTEGER,
    deleted_at        INTEGER,
    restarted_from    TEXT,
    pid               INTEGER,
    worker_pid        INTEGER,
    worker_start      INTEGER,
    worker_boot       TEXT,
    cancel_requested  INTEGER,
    changed           INTEGER NOT NULL DEFAULT 0,
    -- The change at which it became final: a watcher tells "finished since
    -- I last looked" from "finished long ago, then marked read".
    final_change      INTEGER,
    -- Final exactly when it has an end time.
    CHECK ((ended_at IS NULL) = (status IN ('queued', 'running'))),
    -- A queued task has not started; everything but a cancelled task started.
    CHECK (status <> 'queued' OR (started_at IS NULL AND pid IS NULL AND progress IS NULL)),
    CHECK (status IN ('queued', 'cancelled') OR started_at IS NOT NULL),
    -- An exit code or a signal, never both, and only once it ended (not lost).
    CHECK (exit_code IS NULL OR signal IS NULL),
    CHECK ((exit_code IS NULL AND signal IS NULL) OR status IN ('completed', 'failed', 'cancelled')),
    CHECK (status <> 'completed' OR exit_code = 0)
);
INSERT INTO tasks_checked SELECT *, CASE WHEN status IN ('queued', 'running') THEN NULL ELSE changed END FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_checked RENAME TO tasks;

CREATE INDEX tasks_status ON tasks(status, seq);
CREATE INDEX tasks_ended ON tasks(ended_at);
CREATE INDEX tasks_changed ON tasks(changed);
CREATE INDEX tasks_failures ON tasks(ended_at)
    WHERE status IN ('failed', 'lost') AND read_at IS NULL AND deleted_at IS NULL;
CREATE INDEX tasks_unread ON tasks(seq)
    WHERE read_at IS NULL AND deleted_at IS NULL AND status NOT IN ('queued', 'running');
CREATE TRIGGER tasks_inserted AFTER INSERT ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET changed = (SELECT value FROM counters WHERE name = 'change') WHERE seq = NEW.seq;
END;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET
        changed = (SELECT value FROM counters WHERE name = 'change'),
        final_change = CASE WHEN OLD.status IN ('queued', 'running') AND NEW.status NOT IN ('queued', 'running')
            THEN (SELECT value FROM counters WHERE name = 'change') ELSE final_change END
    WHERE seq = NEW.seq;
END;
"#;

/// What a task needs to be contained and ordered: whether it may leave
/// processes behind, the file mode mask its submitter had, and the task it
/// waits for (a restart of a running task waits for the old one to end).
const V4_CONTAINMENT: &str = r#"
ALTER TABLE tasks ADD COLUMN keep_children INTEGER NOT NULL DEFAULT 0 CHECK (keep_children IN (0, 1));
ALTER TABLE tasks ADD COLUMN umask INTEGER CHECK (umask IS NULL OR (umask >= 0 AND umask <= 511));
ALTER TABLE tasks ADD COLUMN after_task TEXT;
"#;

/// How much output each stream of a task captured, recorded with its
/// outcome: a reader can then tell output that was deleted from output that
/// never was (NULL: not known, as for a lost task).
const V5_OUTPUT_SIZE: &str = r#"
ALTER TABLE tasks ADD COLUMN stdout_bytes INTEGER CHECK (stdout_bytes IS NULL OR stdout_bytes >= 0);
ALTER TABLE tasks ADD COLUMN stderr_bytes INTEGER CHECK (stderr_bytes IS NULL OR stderr_bytes >= 0);
"#;

/// When a client was first told a task finished (a `task/finished`, or an
/// editor's start-up summary): an editor that starts reports only what no
/// client was told and nobody read, and each such task once. Not a change a
/// watcher reports (the trigger leaves it out).
const V6_ANNOUNCED: &str = r#"
ALTER TABLE tasks ADD COLUMN announced_at INTEGER;
CREATE INDEX tasks_unannounced ON tasks(seq)
    WHERE announced_at IS NULL AND read_at IS NULL AND deleted_at IS NULL AND status NOT IN ('queued', 'running');
"#;

/// Which matchers read a task's output (NULL: every built-in one; `none`:
/// none), and how many diagnostics of each severity they found when it
/// ended (NULL: not matched, as for a lost task or one with matching off).
const V7_DIAGNOSTICS: &str = r#"
ALTER TABLE tasks ADD COLUMN matcher TEXT;
ALTER TABLE tasks ADD COLUMN diag_errors INTEGER CHECK (diag_errors IS NULL OR diag_errors >= 0);
ALTER TABLE tasks ADD COLUMN diag_warnings INTEGER CHECK (diag_warnings IS NULL OR diag_warnings >= 0);
ALTER TABLE tasks ADD COLUMN diag_infos INTEGER CHECK (diag_infos IS NULL OR diag_infos >= 0);
"#;

/// How long a task may run before errand stops it and records it failed
/// (NULL: as long as it takes).
const V8_TIMEOUT: &str = r#"
ALTER TABLE tasks ADD COLUMN timeout_ms INTEGER CHECK (timeout_ms IS NULL OR timeout_ms > 0);
"#;

/// The tasks a task waits for, as a JSON array of ids: it starts once
/// every one completed, and is cancelled when one fails, is cancelled or is
/// lost (NULL: none).
const V9_DEPENDENCIES: &str = r#"
ALTER TABLE tasks ADD COLUMN depends_on TEXT CHECK (depends_on IS NULL OR json_valid(depends_on));
"#;

/// How many times a failed run is run again, the pause between runs, and
/// the failed runs so far (a JSON array of `task::Attempt`). A new attempt
/// is a change watchers report: the trigger now names `attempts`.
const V10_RETRIES: &str = r#"
ALTER TABLE tasks ADD COLUMN retries INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0 AND retries <= 100);
ALTER TABLE tasks ADD COLUMN retry_delay_ms INTEGER CHECK (retry_delay_ms IS NULL OR retry_delay_ms >= 0);
ALTER TABLE tasks ADD COLUMN attempts TEXT CHECK (attempts IS NULL OR json_valid(attempts));
DROP TRIGGER tasks_updated;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested, attempts ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET
        changed = (SELECT value FROM counters WHERE name = 'change'),
        final_change = CASE WHEN OLD.status IN ('queued', 'running') AND NEW.status NOT IN ('queued', 'running')
            THEN (SELECT value FROM counters WHERE name = 'change') ELSE final_change END
    WHERE seq = NEW.seq;
END;
"#;

/// The JSON value a task left in `$ERRAND_RESULT`: its size (or why it was
/// not kept) with the task; the value itself in a table of its own, so that
/// lists never page through results of up to 1 MiB. It goes with its task.
const V11_RESULTS: &str = r#"
ALTER TABLE tasks ADD COLUMN result_bytes INTEGER CHECK (result_bytes IS NULL OR result_bytes > 0);
ALTER TABLE tasks ADD COLUMN result_error TEXT;
CREATE TABLE results (task TEXT PRIMARY KEY, value TEXT NOT NULL CHECK (json_valid(value))) WITHOUT ROWID;
CREATE TRIGGER tasks_deleted_results AFTER DELETE ON tasks BEGIN
    DELETE FROM results WHERE task = OLD.id;
END;
"#;

/// A workflow's own finish hooks, with each of its tasks (a JSON object of
/// `task::TaskHooks`; NULL: none).
const V12_TASK_HOOKS: &str = r#"
ALTER TABLE tasks ADD COLUMN hooks TEXT CHECK (hooks IS NULL OR json_valid(hooks));
"#;

/// Pause: when a running task was stopped (SIGSTOP) by `errand pause`,
/// while it is (a change watchers report: the trigger now names it); and
/// whether the queue starts nothing new (`pause --queue`). And whether a
/// finish hook queued the task (then it runs none: hooks never chain).
const V13_PAUSE: &str = r#"
ALTER TABLE tasks ADD COLUMN from_hook INTEGER NOT NULL DEFAULT 0 CHECK (from_hook IN (0, 1));
ALTER TABLE tasks ADD COLUMN paused_at INTEGER CHECK (paused_at IS NULL OR status = 'running');
INSERT OR IGNORE INTO counters VALUES ('queue_paused', 0);
DROP TRIGGER tasks_updated;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested, attempts, paused_at ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET
        changed = (SELECT value FROM counters WHERE name = 'change'),
        final_change = CASE WHEN OLD.status IN ('queued', 'running') AND NEW.status NOT IN ('queued', 'running')
            THEN (SELECT value FROM counters WHERE name = 'change') ELSE final_change END
    WHERE seq = NEW.seq;
END;
"#;

/// Whether progress is read from the task's output (a workflow's
/// `progress = false` turns it off), and how long a task should take by
/// its history (the median of the last completed runs of the same command
/// in the same folder, found through the index when it starts).
const V14_PROGRESS_FROM_OUTPUT: &str = r#"
ALTER TABLE tasks ADD COLUMN progress_from_output INTEGER NOT NULL DEFAULT 1 CHECK (progress_from_output IN (0, 1));
ALTER TABLE tasks ADD COLUMN expected_ms INTEGER CHECK (expected_ms IS NULL OR expected_ms >= 0);
CREATE INDEX tasks_runs ON tasks(command, cwd, seq) WHERE status = 'completed';
"#;

/// A prune finds whether an environment is still used without reading
/// every task (the oldest ended tasks come from `tasks_ended`).
const V15_PRUNE_INDEXES: &str = r#"
CREATE INDEX tasks_base_env ON tasks(base_env);
"#;

/// Text search through a trigram index of names and commands, so a rare
/// term is found without reading every task. Filled after the fact, in
/// batches, by supervisors (see `search.rs`): a submission pays nothing for
/// it. `text_indexed` is the newest task in it; newer ones are read directly.
/// Contentless (the text is in `tasks`), with deletes for the prune.
/// And the index of queued tasks that wait on others.
const V16_TEXT_INDEX: &str = r#"
CREATE VIRTUAL TABLE task_text USING fts5(name, command, content = '', contentless_delete = 1, tokenize = 'trigram');
INSERT INTO counters VALUES ('text_indexed', 0);
-- Cancelling a task looks for queued tasks waiting on a dependency: read
-- through this, not through every queued task (25 ms each with 60,000 queued).
CREATE INDEX tasks_waiting ON tasks(seq) WHERE status = 'queued' AND depends_on IS NOT NULL;
"#;

/// Watches (`errand run --watch`): see `watches.rs`. `last_task` is the
/// run the next one copies, so the prune keeps it while the watch is open.
const V17_WATCHES: &str = r#"
CREATE TABLE watches (
    seq INTEGER PRIMARY KEY,
    paths TEXT NOT NULL,
    ignores TEXT NOT NULL,
    on_change TEXT NOT NULL,
    last_task TEXT NOT NULL,
    runs INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    holder_pid INTEGER,
    holder_start INTEGER,
    holder_boot TEXT,
    ended_at INTEGER
);
CREATE INDEX watches_open ON watches(seq) WHERE ended_at IS NULL;
"#;

/// Long-running tasks: the regex a line of output matches once the task
/// is ready (`--ready`), and when it did, while it runs (a change watchers
/// report: the trigger now names it).
const V18_READY: &str = r#"
ALTER TABLE tasks ADD COLUMN ready_pattern TEXT;
ALTER TABLE tasks ADD COLUMN ready_at INTEGER CHECK (ready_at IS NULL OR status = 'running');
DROP TRIGGER tasks_updated;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested, attempts, paused_at, ready_at ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET
        changed = (SELECT value FROM counters WHERE name = 'change'),
        final_change = CASE WHEN OLD.status IN ('queued', 'running') AND NEW.status NOT IN ('queued', 'running')
            THEN (SELECT value FROM counters WHERE name = 'change') ELSE final_change END
    WHERE seq = NEW.seq;
END;
"#;

/// Watch-mode tools (`tsc --watch`): where in the merged output the last
/// compile cycle of the current run began and ended, while it runs; its
/// diagnostics are counted in `diag_*` then (a change watchers report:
/// the trigger names `cycle_to`).
const V19_CYCLES: &str = r#"
ALTER TABLE tasks ADD COLUMN cycle_from INTEGER CHECK (cycle_from IS NULL OR cycle_from >= 0);
ALTER TABLE tasks ADD COLUMN cycle_to INTEGER CHECK (cycle_to IS NULL OR cycle_to >= cycle_from);
DROP TRIGGER tasks_updated;
CREATE TRIGGER tasks_updated AFTER UPDATE OF
    name, status, started_at, ended_at, exit_code, signal, error, progress, progress_message,
    read_at, deleted_at, pid, worker_pid, cancel_requested, attempts, paused_at, ready_at, cycle_to ON tasks BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'change';
    UPDATE tasks SET
        changed = (SELECT value FROM counters WHERE name = 'change'),
        final_change = CASE WHEN OLD.status IN ('queued', 'running') AND NEW.status NOT IN ('queued', 'running')
            THEN (SELECT value FROM counters WHERE name = 'change') ELSE final_change END
    WHERE seq = NEW.seq;
END;
"#;

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    use super::*;

    /// A store at schema 2 with a task of each state, as errand wrote them
    /// before the checks existed.
    fn v2_store(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        for (i, sql) in MIGRATIONS[..2].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i + 1).unwrap();
        }
        // status, started, ended, exit code, signal
        type Row = (&'static str, Option<i64>, Option<i64>, Option<i32>, Option<i32>);
        let rows: [Row; 6] = [
            ("queued", None, None, None, None),
            ("running", Some(2), None, None, None),
            ("completed", Some(2), Some(3), Some(0), None),
            ("failed", Some(2), Some(3), None, Some(9)),
            ("cancelled", None, Some(3), None, None),
            ("lost", Some(2), Some(3), None, None),
        ];
        for (i, (status, started, ended, code, signal)) in rows.into_iter().enumerate() {
            conn.execute(
                "INSERT INTO tasks (id, name, command, cwd, status, created_at, started_at, ended_at, exit_code, signal)
                 VALUES (?1, 'n', '{\"shell\":\"true\"}', '/', ?2, 1, ?3, ?4, ?5, ?6)",
                params![format!("t{i}"), status, started, ended, code, signal],
            )
            .unwrap();
        }
    }

    #[test]
    fn a_v2_store_keeps_every_task_and_gains_the_checks() {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::paths::Paths::in_home(dir.path());
        paths.create_dirs().unwrap();
        v2_store(&paths.db);
        let store = crate::store::Store::open(&paths).unwrap();
        let (tasks, _) = store.list(&crate::store::ListFilter::default()).unwrap();
        assert_eq!(tasks.len(), 6, "every task survived the rebuild");
        let conn = Connection::open(&paths.db).unwrap();
        let bad = conn.execute("UPDATE tasks SET status = 'completed', exit_code = 3 WHERE id = 't3'", []);
        assert!(bad.is_err(), "a completed task with exit code 3 is refused");
        let bad = conn.execute("UPDATE tasks SET status = 'sleeping' WHERE id = 't0'", []);
        assert!(bad.is_err(), "an unknown status is refused");
        let bad = conn.execute("UPDATE tasks SET ended_at = 5 WHERE id = 't1'", []);
        assert!(bad.is_err(), "a running task has no end");
        // The change counter still moves on writes after the rebuild.
        let before: i64 = conn.query_row("SELECT value FROM counters", [], |r| r.get(0)).unwrap();
        conn.execute("UPDATE tasks SET read_at = 9 WHERE id = 't2'", []).unwrap();
        let after: i64 = conn.query_row("SELECT value FROM counters", [], |r| r.get(0)).unwrap();
        assert_eq!(after, before + 1);
    }
}
