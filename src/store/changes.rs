//! The change feed: every write to a task bumps a counter (a trigger does
//! it), so a watcher asks "what changed since N" and turns the answer into
//! events, whoever wrote.

use rusqlite::params;

use super::rows::{task_from_row, TASK_COLUMNS, TASK_COLUMN_COUNT};
use super::tasks::{ListFilter, FAILURE_VISIBLE_MS};
use super::Store;
use crate::error::Result;
use crate::task::{now_ms, Counts, Status, Task};

/// A task as it is after a change.
pub struct Change {
    pub task: Task,
    /// The change number of its last write.
    pub changed: i64,
    /// It became final after the change number asked about (it is news,
    /// not an old task marked read or deleted).
    pub finished_now: bool,
}

/// Where a watcher starts: the change number, the tasks not yet final and
/// the counts, all of one moment.
pub struct Snapshot {
    pub change: i64,
    pub active: Vec<Task>,
    pub counts: Counts,
}

impl Store {
    pub fn snapshot(&self) -> Result<Snapshot> {
        let ((active, counts), change) = self.at_one_change(|store| {
            let (active, _) = store.list(&ListFilter {
                statuses: vec![Status::Queued, Status::Running],
                include_deleted: true,
                ..ListFilter::default()
            })?;
            Ok((active, store.counts()?))
        })?;
        Ok(Snapshot { change, active, counts })
    }

    /// The store's change number now: every write to a task moves it on.
    pub fn change(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT value FROM counters WHERE name = 'change'", [], |r| r.get(0))?)
    }

    /// Run `f` in one read transaction: what it reads is the store at one
    /// change, returned beside its result.
    pub fn at_one_change<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<(T, i64)> {
        self.read(|_| {
            let value = f(self)?;
            Ok((value, self.change()?))
        })
    }

    /// Tasks written since change `after`, oldest change first (at most
    /// `limit`), with the change number of the last one.
    pub fn changed_since(&self, after: i64, limit: u32) -> Result<(Vec<Change>, i64)> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS}, changed, final_change FROM tasks WHERE changed > ?1 ORDER BY changed LIMIT ?2"
        ))?;
        let mut last = after;
        let changes = stmt
            .query_map(params![after, limit], |r| {
                let changed: i64 = r.get(TASK_COLUMN_COUNT)?;
                last = changed;
                let final_change: Option<i64> = r.get(TASK_COLUMN_COUNT + 1)?;
                Ok(Change { task: task_from_row(r)?, changed, finished_now: final_change.is_some_and(|c| c > after) })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((changes, last))
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
}

#[cfg(test)]
mod tests {
    use crate::store::tasks::tests::new_task;
    use crate::store::testing::temp_store;

    #[test]
    fn every_write_moves_the_feed_and_is_seen_once() {
        let t = temp_store();
        let start = t.store.snapshot().unwrap();
        assert!(start.active.is_empty());
        let a = t.store.insert(&new_task("a")).unwrap().id;
        let b = t.store.insert(&new_task("b")).unwrap().id;
        let (changes, last) = t.store.changed_since(start.change, 500).unwrap();
        assert_eq!(changes.iter().map(|c| c.task.id.clone()).collect::<Vec<_>>(), [a.clone(), b]);
        assert!(t.store.changed_since(last, 500).unwrap().0.is_empty(), "nothing new");
        t.store.request_cancel(&a).unwrap();
        let (changes, after_cancel) = t.store.changed_since(last, 500).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].task.id, a);
        assert!(changes[0].finished_now, "it became final since `last`");
        t.store.mark_read(Some(std::slice::from_ref(&a))).unwrap();
        let (changes, _) = t.store.changed_since(after_cancel, 500).unwrap();
        assert!(!changes[0].finished_now, "marked read: a change, but no news of a finish");
        let (one, _) = t.store.changed_since(start.change, 1).unwrap();
        assert_eq!(one.len(), 1, "at most `limit`");
    }
}
