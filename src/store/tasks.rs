//! Tasks as records: insert, read, list, count, mark read, delete, prune.

use std::collections::BTreeMap;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{task_from_row, TASK_COLUMNS};
use super::search;
use super::Store;
use crate::config::History;
use crate::error::{Error, Result};
use crate::task::{id, now_ms, CommandSpec, Counts, Status, Task, TaskHooks};

/// Failures stop counting in the statusline after this long, read or not.
pub const FAILURE_VISIBLE_MS: i64 = 3_600_000;

/// Which tasks a completion or a picker offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Any, newest first (show, restart).
    Newest,
    /// Running, then queued, then the newest (logs, wait).
    ActiveFirst,
    /// Only running and queued ones (cancel, send).
    Active,
    /// Only finished ones (rm).
    Finished,
    /// Only deleted ones (restore).
    Deleted,
}

/// What a new task needs; everything else the store fills in.
#[derive(Debug, Clone, PartialEq)]
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
    /// It may leave processes behind when it ends.
    pub keep_children: bool,
    /// The submitter's file mode mask.
    pub umask: Option<u32>,
    /// It starts only once this task has ended.
    pub after: Option<String>,
    /// Which matchers read its output (`diagnostics::choice`); None: the built-in ones.
    pub matcher: Option<String>,
    /// Stopped and failed once it ran this long.
    pub timeout_ms: Option<u64>,
    /// Tasks (full ids) that must complete before it starts.
    pub depends_on: Vec<String>,
    /// How many times a failed run is run again.
    pub retries: u32,
    /// The pause before each rerun.
    pub retry_delay_ms: Option<u64>,
    /// Its workflow's own finish hooks.
    pub hooks: TaskHooks,
    /// A finish hook queued it: it runs none.
    pub from_hook: bool,
    /// Read progress from its output.
    pub progress_from_output: bool,
    /// It is `ready` once a line of its output matches this regex.
    pub ready_pattern: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub group: Option<String>,
    /// Case-insensitive text in the name or the command.
    pub text: Option<String>,
    pub include_deleted: bool,
    pub only_deleted: bool,
    /// Only tasks older than this sequence number (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: Option<u32>,
    /// Stop after about this many bytes of tasks (as JSON), with more to
    /// come: a page of a thousand tasks near the size limits would be GBs.
    pub max_bytes: Option<usize>,
}

/// The statuses of finished tasks, for SQL.
const FINAL: &str = "status NOT IN ('queued', 'running')";

/// What finished while no client was told: see `Store::take_unannounced`.
pub struct Unannounced {
    /// The newest of them.
    pub tasks: Vec<Task>,
    /// How many in all.
    pub total: u32,
    /// How many of them failed or were lost.
    pub failed: u32,
    /// They are marked told.
    pub marked: bool,
}

/// The unannounced tasks final at or before change `?1` (see `Store::take_unannounced`).
fn unannounced_rows() -> String {
    format!(
        "FROM tasks INDEXED BY tasks_unannounced WHERE announced_at IS NULL AND read_at IS NULL
         AND deleted_at IS NULL AND {FINAL} AND final_change <= ?1"
    )
}

fn unannounced(conn: &Connection, up_to: i64, limit: u32) -> Result<Unannounced> {
    let (total, failed): (u32, u32) = conn.query_row(
        &format!("SELECT count(*), coalesce(sum(status IN ('failed', 'lost')), 0) {}", unannounced_rows()),
        [up_to],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} {} ORDER BY seq DESC LIMIT ?2", unannounced_rows()))?;
    let tasks = stmt.query_map(params![up_to, limit], task_from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Unannounced { tasks, total, failed, marked: true })
}

/// A new task's columns that are JSON or derived, made before the write
/// transaction so that it holds the lock only to insert.
struct Row {
    name: String,
    command: String,
    env: String,
    base_env: String,
    depends_on: Option<String>,
    hooks: Option<String>,
}

impl Row {
    fn of(new: &NewTask) -> Result<Row> {
        Ok(Row {
            name: new.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| new.command.title()),
            command: to_json(&new.command)?,
            env: to_json(&new.env)?,
            base_env: to_json(&new.base_env)?,
            depends_on: if new.depends_on.is_empty() { None } else { Some(to_json(&new.depends_on)?) },
            hooks: if new.hooks.is_empty() { None } else { Some(to_json(&new.hooks)?) },
        })
    }
}

/// How long new ids are: the shortest length whose ids are at most 1/16
/// taken by the tasks the store may hold (its span of `seq`, read from the
/// primary key at no cost), so a draw rarely collides at any history.
fn id_length(tx: &Connection) -> Result<usize> {
    let held: i64 = tx.query_row("SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM tasks", [], |r| r.get(0))?;
    Ok(id::length_for(u64::try_from(held).unwrap_or(0)))
}

fn mark_unannounced(tx: &Connection, up_to: i64) -> Result<()> {
    let sql = format!("UPDATE tasks SET announced_at = ?2 WHERE seq IN (SELECT seq {})", unannounced_rows());
    tx.execute(&sql, params![up_to, now_ms()])?;
    Ok(())
}

impl Store {
    pub fn insert(&self, new: &NewTask) -> Result<Task> {
        let mut tasks = self.insert_many(std::slice::from_ref(new))?;
        tasks.pop().ok_or_else(|| Error::InvalidInput("nothing to insert".into()))
    }

    /// Queue tasks in one transaction, in order: all of them or none.
    pub fn insert_many(&self, news: &[NewTask]) -> Result<Vec<Task>> {
        let rows = news.iter().map(Row::of).collect::<Result<Vec<_>>>()?;
        let ids = self.write(|tx| {
            let mut len = id_length(tx)?;
            let mut ids = Vec::with_capacity(rows.len());
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO tasks (id, name, command, cwd, env, base_env, grp, workflow, status, created_at,
                    restarted_from, keep_children, umask, after_task, matcher, timeout_ms, depends_on, retries,
                    retry_delay_ms, hooks, from_hook, progress_from_output, ready_pattern)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
                    ?20, ?21, ?22)",
            )?;
            let mut env_hashes = std::collections::HashSet::new();
            let mut any_dependency = false;
            for (new, row) in news.iter().zip(&rows) {
                let env_hash = format!("{:016x}", fnv1a(row.base_env.as_bytes()));
                if env_hashes.insert(env_hash.clone()) {
                    tx.prepare_cached("INSERT OR IGNORE INTO envs (hash, vars) VALUES (?1, ?2)")?
                        .execute(params![env_hash, row.base_env])?;
                }
                any_dependency |= row.depends_on.is_some();
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let id = id::random(len);
                    let inserted = insert.execute(params![
                        id,
                        row.name,
                        row.command,
                        new.cwd,
                        row.env,
                        env_hash,
                        new.group,
                        new.workflow,
                        now_ms(),
                        new.restarted_from,
                        new.keep_children,
                        new.umask,
                        new.after,
                        new.matcher,
                        new.timeout_ms.map(|ms| ms.min(i64::MAX as u64) as i64),
                        row.depends_on,
                        new.retries,
                        new.retry_delay_ms.map(|ms| ms.min(i64::MAX as u64) as i64),
                        row.hooks,
                        new.from_hook,
                        new.progress_from_output,
                        new.ready_pattern,
                    ])?;
                    if inserted == 1 {
                        ids.push(id);
                        break;
                    }
                    if attempt % 8 == 0 {
                        len += 1; // this length is getting crowded
                    }
                }
            }
            // A dependency that already failed ends its dependents at once.
            if any_dependency {
                super::queue::cancel_dependents(tx)?;
            }
            Ok(ids)
        })?;
        ids.iter().map(|id| self.get(id)).collect()
    }

    pub fn get(&self, id: &str) -> Result<Task> {
        self.conn
            .prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))?
            .query_row([id], task_from_row)
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
        let prefix = id::normalize(typed)?;
        let mut stmt =
            self.conn.prepare_cached("SELECT id FROM tasks WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6")?;
        let matches: Vec<String> =
            stmt.query_map(params![prefix, id::prefix_end(&prefix)], |r| r.get(0))?.collect::<Result<_, _>>()?;
        id::choose(&prefix, &matches)
    }

    /// For a shell's completion or a picker: up to `limit` tasks whose id
    /// starts with `prefix`, newest first, as `offer` says.
    pub fn complete_ids(&self, prefix: &str, offer: Offer, limit: u32) -> Result<Vec<Task>> {
        let prefix = prefix.to_ascii_lowercase();
        if !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Vec::new());
        }
        let deleted = if offer == Offer::Deleted { "deleted_at IS NOT NULL" } else { "deleted_at IS NULL" };
        // A narrow prefix: its few ids through the id index, then sorted. A
        // broad one (`b` of 100,000): newest first along seq, filtered as it
        // goes (`+id` keeps SQLite off the id index), stopping at `limit`.
        let end = id::prefix_end(&prefix);
        let matching: u32 = self.conn.query_row(
            "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE id >= ?1 AND id < ?2 LIMIT 1001)",
            params![prefix, end],
            |r| r.get(0),
        )?;
        let range = match (prefix.is_empty(), matching > 1000) {
            (true, _) => "1",
            (false, false) => "id >= ?1 AND id < ?2",
            (false, true) => "+id >= ?1 AND +id < ?2",
        };
        let mut found: Vec<Task> = Vec::new();
        let mut query = |filter: &str| -> Result<()> {
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE {deleted} AND {range} AND {filter} ORDER BY seq DESC LIMIT {limit}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = if prefix.is_empty() {
                stmt.query_map([], task_from_row)?.collect::<Result<Vec<_>, _>>()?
            } else {
                stmt.query_map(params![prefix, end], task_from_row)?.collect::<Result<Vec<_>, _>>()?
            };
            for task in rows {
                if found.len() < limit as usize && !found.iter().any(|t| t.id == task.id) {
                    found.push(task);
                }
            }
            Ok(())
        };
        if matches!(offer, Offer::ActiveFirst | Offer::Active) {
            query("status = 'running'")?;
            query("status = 'queued'")?;
        }
        match offer {
            Offer::Active => {}
            Offer::Finished => query(FINAL)?,
            Offer::Newest | Offer::ActiveFirst | Offer::Deleted => query("1")?,
        }
        Ok(found)
    }

    /// Tasks newest first. Returns the page and whether more follow it.
    pub fn list(&self, filter: &ListFilter) -> Result<(Vec<Task>, bool)> {
        let mut conditions = String::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !filter.statuses.is_empty() {
            let marks = vec!["?"; filter.statuses.len()].join(",");
            conditions.push_str(&format!(" AND tasks.status IN ({marks})"));
            args.extend(filter.statuses.iter().map(|s| s.as_str().to_owned().into()));
        }
        if filter.only_deleted {
            conditions.push_str(" AND tasks.deleted_at IS NOT NULL");
        } else if !filter.include_deleted {
            conditions.push_str(" AND tasks.deleted_at IS NULL");
        }
        if let Some(group) = &filter.group {
            conditions.push_str(" AND tasks.grp = ?");
            args.push(group.clone().into());
        }
        let limit = match filter.limit {
            Some(limit) => format!(" LIMIT {}", u64::from(limit) + 1),
            None => String::new(),
        };
        let before = |seq: &str, args: &mut Vec<rusqlite::types::Value>| match filter.before {
            Some(before) => {
                args.push(before.into());
                format!(" AND {seq} < ?")
            }
            None => String::new(),
        };
        // The queries in turn, newest tasks first: one, or for text the
        // tasks past the index's mark and then those in it.
        let mut queries: Vec<(String, Vec<rusqlite::types::Value>)> = Vec::new();
        let direct = |text: Option<(&String, i64)>| {
            let mut args = args.clone();
            let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1{conditions}");
            if let Some((text, past)) = text {
                sql.push_str(&format!(" AND seq > ? AND {}", search::DIRECT_MATCH));
                args.extend([past.into(), text.clone().into(), text.clone().into()]);
            }
            sql.push_str(&before("seq", &mut args));
            (format!("{sql} ORDER BY seq DESC{limit}"), args)
        };
        // No transaction of its own (callers may hold one): the mark is
        // read once and passed on, so the two reads cover every task even
        // if the index moves between them.
        match &filter.text {
            None => queries.push(direct(None)),
            Some(text) => match search::text_search(&self.conn, text)? {
                search::TextSearch::Scan => queries.push(direct(Some((text, 0)))),
                search::TextSearch::Indexed { phrase, mark } => {
                    queries.push(direct(Some((text, mark))));
                    // The index finds candidates (it folds more than ASCII
                    // case); the direct match keeps the answer the same
                    // whether a task is indexed yet or not.
                    let mut indexed_args: Vec<rusqlite::types::Value> =
                        vec![phrase.into(), mark.into(), text.clone().into(), text.clone().into()];
                    indexed_args.extend(args.iter().cloned());
                    let sql = format!(
                        "{} AND {}{conditions}{} ORDER BY task_text.rowid DESC{limit}",
                        search::indexed_select(),
                        search::DIRECT_MATCH,
                        before("task_text.rowid", &mut indexed_args)
                    );
                    queries.push((sql, indexed_args));
                }
            },
        }
        let (mut tasks, mut bytes) = (Vec::new(), 0);
        for (sql, args) in &queries {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let full = filter.limit.is_some_and(|l| tasks.len() >= l as usize)
                    || filter.max_bytes.is_some_and(|max| bytes >= max);
                if full {
                    return Ok((tasks, true));
                }
                let task = task_from_row(row)?;
                bytes += task.approx_size();
                tasks.push(task);
            }
        }
        Ok((tasks, false))
    }

    /// The sequence number of a task (the list cursor).
    pub fn seq_of(&self, id: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT seq FROM tasks WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NoSuchTask(id.to_owned()))
    }

    pub fn counts(&self) -> Result<Counts> {
        self.counts_in(None)
    }

    /// The counts of one group's tasks (None: all).
    pub fn counts_in(&self, group: Option<&str>) -> Result<Counts> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT (SELECT count(*) FROM tasks WHERE status = 'running' AND (?2 IS NULL OR grp = ?2)),
                    (SELECT count(*) FROM tasks WHERE status = 'queued' AND (?2 IS NULL OR grp = ?2)),
                    (SELECT count(*) FROM tasks INDEXED BY tasks_failures
                        WHERE status IN ('failed', 'lost') AND read_at IS NULL AND deleted_at IS NULL AND ended_at > ?1
                        AND (?2 IS NULL OR grp = ?2)),
                    (SELECT value FROM counters WHERE name = 'change'),
                    (SELECT count(*) FROM tasks WHERE status = 'running' AND paused_at IS NOT NULL
                        AND (?2 IS NULL OR grp = ?2)),
                    coalesce((SELECT value FROM counters WHERE name = 'queue_paused'), 0)",
        )?;
        let watching = match group {
            None => self.open_watches()?.iter().filter(|w| !w.is_over()).count() as u32,
            Some(_) => 0,
        };
        // One statement: the numbers and the change number are one snapshot.
        Ok(stmt.query_row(params![now_ms() - FAILURE_VISIBLE_MS, group], |r| {
            Ok(Counts {
                running: r.get(0)?,
                queued: r.get(1)?,
                failed: r.get(2)?,
                seq: r.get(3)?,
                paused: r.get(4)?,
                queue_paused: r.get(5)?,
                limit: None,
                watching,
            })
        })?)
    }

    /// Finished tasks of a group (None: all) nobody has marked read, counted
    /// up to `cap` (a prompt shows "999+", and stays fast at any history).
    pub fn unread_count(&self, group: Option<&str>, cap: u32) -> Result<u32> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM tasks INDEXED BY tasks_unread
             WHERE read_at IS NULL AND deleted_at IS NULL AND {FINAL} AND (?1 IS NULL OR grp = ?1) LIMIT ?2)"
        ))?;
        Ok(stmt.query_row(params![group, cap], |r| r.get(0))?)
    }

    /// Finished tasks no client was told about and nobody read, final at
    /// or before the store change `up_to` (later ones reach the asking
    /// client as `task/finished`): the newest `limit`, how many there are in
    /// all and how many of those failed (or were lost), and every one of
    /// them is marked told, so no other client's summary repeats them.
    /// Marking waits at most `wait` for the write lock: a client's first
    /// answer must not queue behind every writer of an overloaded machine.
    /// When it could not, `marked` is false and the caller marks them later
    /// (`mark_announced_up_to`).
    pub fn take_unannounced(&self, up_to: i64, limit: u32, wait: Duration) -> Result<Unannounced> {
        // A read first: the common case (nothing missed) takes no write lock.
        let seen = self.read(|conn| unannounced(conn, up_to, limit))?;
        if seen.total == 0 {
            return Ok(seen);
        }
        let taken = self.write_within(wait, |tx| {
            let taken = unannounced(tx, up_to, limit)?;
            mark_unannounced(tx, up_to)?;
            Ok(taken)
        })?;
        Ok(taken.unwrap_or(Unannounced { marked: false, ..seen }))
    }

    /// Mark told what `take_unannounced` could not.
    pub fn mark_announced_up_to(&self, up_to: i64) -> Result<()> {
        self.write(|tx| mark_unannounced(tx, up_to))
    }

    /// A client was told these tasks finished.
    pub fn mark_announced(&self, ids: &[String]) -> Result<()> {
        // Every connected server hears of each end and tells its client: the
        // first marks it, the others find it marked with a read, and take no
        // write lock (25 servers made 25 writes per task, and under load a
        // writer could wait out the busy handler).
        let pending = {
            let mut stmt = self.conn.prepare_cached("SELECT 1 FROM tasks WHERE id = ?1 AND announced_at IS NULL")?;
            let mut pending = Vec::new();
            for id in ids {
                if stmt.exists([id])? {
                    pending.push(id);
                }
            }
            pending
        };
        if pending.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        self.write(|tx| {
            let mut stmt =
                tx.prepare_cached("UPDATE tasks SET announced_at = ?2 WHERE id = ?1 AND announced_at IS NULL")?;
            for id in &pending {
                stmt.execute(params![id, now])?;
            }
            Ok(())
        })
    }

    pub fn set_progress(&self, id: &str, percent: f64, message: Option<&str>) -> Result<()> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE tasks SET progress = ?2, progress_message = ?3 WHERE id = ?1 AND status = 'running'",
                params![id, percent, message],
            )?)
        })?;
        if changed == 0 {
            let task = self.get(id)?;
            return Err(Error::NotRunning { status: task.status().to_string(), id: task.id });
        }
        Ok(())
    }

    /// Bytes of (stdout, stderr) its supervisor captured, once it ended; None
    /// while it runs or when not known (a lost task, an older errand).
    pub fn output_bytes(&self, id: &str) -> Result<Option<(u64, u64)>> {
        let sql = "SELECT stdout_bytes, stderr_bytes FROM tasks WHERE id = ?1";
        let row: Option<(Option<i64>, Option<i64>)> =
            self.conn.query_row(sql, [id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match row {
            None => Err(Error::NoSuchTask(id.to_owned())),
            Some((Some(out), Some(err))) => Ok(Some((out.max(0) as u64, err.max(0) as u64))),
            Some(_) => Ok(None),
        }
    }

    /// The JSON result it left, as the task wrote it (None: none kept). A
    /// value is the task's once its outcome names its size: a row stored
    /// by a supervisor that died before recording the outcome is not.
    pub fn result(&self, id: &str) -> Result<Option<String>> {
        let sql = "SELECT r.value FROM results AS r JOIN tasks AS t ON t.id = r.task
                   WHERE r.task = ?1 AND t.result_bytes IS NOT NULL";
        Ok(self.conn.query_row(sql, [id], |r| r.get(0)).optional()?)
    }

    /// A run of a retrying task failed and another follows: keep how it
    /// ended (watchers see the change), and forget its process.
    pub fn record_attempt(&self, id: &str, attempt: &crate::task::Attempt) -> Result<()> {
        let attempt = to_json(attempt)?;
        // The next run starts afresh: no process yet, no progress of the last one.
        let sql = "UPDATE tasks SET attempts = json_insert(coalesce(attempts, '[]'), '$[#]', json(?2)), pid = NULL,
                   progress = NULL, progress_message = NULL, paused_at = NULL, ready_at = NULL,
                   cycle_from = NULL, cycle_to = NULL, diag_errors = NULL, diag_warnings = NULL, diag_infos = NULL
                   WHERE id = ?1 AND status = 'running'";
        self.write(|tx| Ok(tx.execute(sql, params![id, attempt])?)).map(drop)
    }

    /// The newest run of workflow `name` in folder `cwd` that is queued or running.
    pub fn active_run_of(&self, name: &str, cwd: &str) -> Result<Option<Task>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE status IN ('queued', 'running') AND workflow = ?1 AND cwd = ?2
                 AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1"
            ))?
            .query_row([name, cwd], task_from_row)
            .optional()?)
    }

    /// Record the process a running task runs as.
    pub fn set_pid(&self, id: &str, pid: u32) -> Result<()> {
        let sql = "UPDATE tasks SET pid = ?2 WHERE id = ?1 AND status = 'running'";
        self.write(|tx| Ok(tx.execute(sql, params![id, pid])?)).map(drop)
    }

    /// Mark finished tasks read: the given ids, or every finished task.
    pub fn mark_read(&self, ids: Option<&[String]>) -> Result<usize> {
        let now = now_ms();
        Ok(match ids {
            None => self.write(|tx| {
                Ok(tx.execute(&format!("UPDATE tasks SET read_at = ?1 WHERE read_at IS NULL AND {FINAL}"), [now])?)
            })?,
            Some(ids) => {
                // A read first: showing a running or already read task takes no write lock.
                let mut unread = self
                    .conn
                    .prepare_cached(&format!("SELECT 1 FROM tasks WHERE id = ?1 AND read_at IS NULL AND {FINAL}"))?;
                let mut pending = Vec::new();
                for id in ids {
                    if unread.exists([id])? {
                        pending.push(id);
                    }
                }
                if pending.is_empty() {
                    return Ok(0);
                }
                self.write(|tx| {
                    let mut stmt = tx.prepare(&format!(
                        "UPDATE tasks SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL AND {FINAL}"
                    ))?;
                    let mut n = 0;
                    for id in &pending {
                        n += stmt.execute(params![id, now])?;
                    }
                    Ok(n)
                })?
            }
        })
    }

    /// Soft delete (restorable). Queued or running tasks must be cancelled first.
    pub fn delete(&self, id: &str) -> Result<()> {
        let task = self.get(id)?;
        if !task.is_final() {
            return Err(Error::Active { status: task.status().to_string(), id: task.id });
        }
        let sql = "UPDATE tasks SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL";
        self.write(|tx| Ok(tx.execute(sql, params![id, now_ms()])?)).map(drop)
    }

    pub fn restore(&self, id: &str) -> Result<()> {
        self.get(id)?;
        self.write(|tx| Ok(tx.execute("UPDATE tasks SET deleted_at = NULL WHERE id = ?1", [id])?)).map(drop)
    }

    /// Drop finished tasks beyond the history limits. Returns the ids removed,
    /// so their output files can go too.
    pub fn prune(&self, history: &History) -> Result<Vec<String>> {
        let cutoff = now_ms() - i64::from(history.keep_days) * 86_400_000;
        // Finished tasks older than the keep_count-th newest finished one
        // go; found once, walking back from the newest.
        let beyond: Option<i64> = self
            .conn
            .prepare_cached(&format!("SELECT seq FROM tasks WHERE {FINAL} ORDER BY seq DESC LIMIT 1 OFFSET ?1"))?
            .query_row([history.keep_count], |r| r.get(0))
            .optional()?;
        let mut pruned = Vec::new();
        // In batches, each its own transaction: other writers wait for one
        // batch at most, never for a whole prune of a large history.
        loop {
            let batch = self.write(|tx| {
                let mut doomed = tx.prepare_cached(&format!(
                    "SELECT seq FROM (SELECT seq FROM tasks INDEXED BY tasks_ended WHERE ended_at < ?1 AND {FINAL} AND {UNWATCHED} LIMIT ?3)
                     UNION SELECT seq FROM (SELECT seq FROM tasks WHERE seq <= ?2 AND {FINAL} AND {UNWATCHED} ORDER BY seq LIMIT ?3)"
                ))?;
                let mut seqs: Vec<i64> = doomed
                    .query_map(params![cutoff, beyond.unwrap_or(0), PRUNE_BATCH], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                // The two halves may find up to twice a batch: one batch goes.
                seqs.truncate(PRUNE_BATCH as usize);
                let mut delete = tx.prepare_cached("DELETE FROM tasks WHERE seq = ?1 RETURNING id, base_env")?;
                search::unindex(tx, &seqs)?;
                let mut gone = Vec::with_capacity(seqs.len());
                let mut envs = std::collections::BTreeSet::new();
                for seq in &seqs {
                    if let Some((id, env)) = delete
                        .query_row([seq], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))
                        .optional()?
                    {
                        gone.push(id);
                        envs.extend(env);
                    }
                }
                // An environment only pruned tasks used goes with them.
                let mut unused = tx.prepare_cached(
                    "DELETE FROM envs WHERE hash = ?1 AND NOT EXISTS
                        (SELECT 1 FROM tasks INDEXED BY tasks_base_env WHERE base_env = ?1)",
                )?;
                for env in &envs {
                    unused.execute([env])?;
                }
                Ok(gone)
            })?;
            let done = (batch.len() as u32) < PRUNE_BATCH;
            pruned.extend(batch);
            if done {
                return Ok(pruned);
            }
        }
    }
}

/// The latest run of an open watch is kept: its next run copies it.
const UNWATCHED: &str = "id NOT IN (SELECT last_task FROM watches WHERE ended_at IS NULL)";

/// Tasks pruned per transaction.
const PRUNE_BATCH: u32 = 2000;

/// A stable hash (unlike std's, which may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::InvalidInput(e.to_string()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[test]
    fn the_first_answer_never_waits_out_a_held_write_lock_and_its_tasks_are_marked_later() {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::paths::Paths::in_home(dir.path());
        let store = Store::open(&paths).unwrap();
        let other = Store::open(&paths).unwrap();
        let none = store.take_unannounced(store.change().unwrap(), 10, Duration::ZERO).unwrap();
        assert_eq!((none.total, none.marked), (0, true), "nothing missed: no write at all");
        let ids: Vec<String> = (0..3).map(|i| store.insert(&new_task(&format!("t{i}"))).unwrap().id).collect();
        for id in &ids {
            store.request_cancel(id).unwrap();
        }
        let up_to = store.change().unwrap();
        // Another process writes and holds the lock.
        other.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let seen = store.take_unannounced(up_to, 2, Duration::from_millis(50)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
        assert_eq!((seen.total, seen.tasks.len(), seen.marked), (3, 2, false));
        assert_eq!(seen.tasks[0].id, ids[2], "newest first");
        other.conn.execute_batch("COMMIT").unwrap();
        store.mark_announced_up_to(up_to).unwrap();
        let again = store.take_unannounced(up_to, 2, Duration::ZERO).unwrap();
        assert_eq!(again.total, 0, "marked later, so no other client's summary repeats them");
        // With the lock free, the answer marks them itself.
        let late = store.insert(&new_task("late")).unwrap().id;
        store.request_cancel(&late).unwrap();
        let taken = store.take_unannounced(store.change().unwrap(), 10, Duration::from_millis(50)).unwrap();
        assert_eq!((taken.total, taken.marked), (1, true));
        assert_eq!(store.take_unannounced(store.change().unwrap(), 10, Duration::ZERO).unwrap().total, 0);
    }

    #[test]
    fn completion_offers_newest_first_active_first_and_only_the_prefix() {
        let t = temp_store();
        let ids: Vec<String> = (0..1100).map(|i| t.store.insert(&new_task(&format!("t{i}"))).unwrap().id).collect();
        let deleted = &ids[3];
        t.store
            .finish_and_claim(
                None,
                &crate::process::Identity::current(),
                &crate::store::Limits::of(10),
                crate::store::WhenIdle::Linger,
            )
            .unwrap();
        assert_eq!(t.store.get(&ids[0]).unwrap().status(), Status::Running, "the oldest is claimed");
        t.store.request_cancel(deleted).unwrap();
        t.store.delete(deleted).unwrap();
        let offered = |prefix: &str, active_first: bool| -> Vec<String> {
            let offer = if active_first { Offer::ActiveFirst } else { Offer::Newest };
            t.store.complete_ids(prefix, offer, 100).unwrap().into_iter().map(|t| t.id).collect()
        };
        // Empty and broad prefixes (more than 1000 ids) walk seq backwards.
        let newest: Vec<String> = ids.iter().rev().filter(|id| *id != deleted).take(100).cloned().collect();
        assert_eq!(offered("", false), newest);
        assert_eq!(offered("", true)[0], ids[0], "the running task leads");
        assert_eq!(offered("", true).len(), 100);
        // A narrow prefix: only its ids, still newest first.
        let prefix = &ids[500][..2];
        let expected: Vec<String> =
            ids.iter().rev().filter(|id| id.starts_with(prefix) && *id != deleted).take(100).cloned().collect();
        assert_eq!(offered(&prefix.to_uppercase(), false), expected);
        assert_eq!(t.store.complete_ids("", Offer::Deleted, 100).unwrap()[0].id, *deleted, "deleted ones, for restore");
        assert!(t.store.complete_ids("", Offer::Finished, 100).unwrap().iter().all(|t| t.is_final()));
        let active = t.store.complete_ids("", Offer::Active, 2000).unwrap();
        assert_eq!(active.len(), 1099, "the running one and the queued ones");
        assert!(offered("no-such!", false).is_empty());
    }

    pub fn new_task(shell: &str) -> NewTask {
        NewTask {
            name: None,
            command: CommandSpec::Shell(shell.into()),
            cwd: "/".into(),
            env: BTreeMap::new(),
            base_env: BTreeMap::from([("PATH".into(), "/bin".into())]),
            group: None,
            workflow: None,
            restarted_from: None,
            keep_children: false,
            umask: None,
            after: None,
            matcher: None,
            timeout_ms: None,
            depends_on: Vec::new(),
            retries: 0,
            retry_delay_ms: None,
            hooks: TaskHooks::default(),
            from_hook: false,
            progress_from_output: true,
            ready_pattern: None,
        }
    }

    #[test]
    fn a_new_task_is_queued_with_its_command_as_name() {
        let t = temp_store();
        let task = t.store.insert(&new_task("make\nmake install")).unwrap();
        assert_eq!(task.status(), Status::Queued);
        assert_eq!(task.name, "make…");
        assert_eq!(task.id.len(), 4);
        assert_eq!(t.store.get(&task.id).unwrap(), task);
        assert_eq!(t.store.base_env(&task.id).unwrap()["PATH"], "/bin");
        assert_eq!(t.store.resolve(&task.id[..3].to_uppercase()).unwrap(), task.id);
    }

    #[test]
    fn lists_page_newest_first_and_filter() {
        let t = temp_store();
        let ids: Vec<String> = (0..5).map(|i| t.store.insert(&new_task(&format!("echo {i}"))).unwrap().id).collect();
        let page = |before, limit| t.store.list(&ListFilter { before, limit: Some(limit), ..ListFilter::default() });
        let (first, more) = page(None, 3).unwrap();
        assert!(more);
        assert_eq!(
            first.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
            [&ids[4], &ids[3], &ids[2]].map(String::clone)
        );
        let cursor = t.store.seq_of(&first[2].id).unwrap();
        let (rest, more) = page(Some(cursor), 3).unwrap();
        assert!(!more);
        assert_eq!(rest.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), [&ids[1], &ids[0]].map(String::clone));
        let text = ListFilter { text: Some("ECHO 3".into()), ..ListFilter::default() };
        assert_eq!(t.store.list(&text).unwrap().0.len(), 1);
        assert!(t.store.counts().unwrap().same_numbers(&Counts { queued: 5, ..Counts::default() }));
    }

    #[test]
    fn an_active_task_cannot_be_deleted_and_progress_needs_a_running_one() {
        let t = temp_store();
        let task = t.store.insert(&new_task("true")).unwrap();
        assert!(matches!(t.store.delete(&task.id), Err(Error::Active { .. })));
        assert!(matches!(t.store.set_progress(&task.id, 10.0, None), Err(Error::NotRunning { .. })));
    }
}
