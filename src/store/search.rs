//! Text search of task names and commands. A trigram index (SQLite's FTS5)
//! holds the tasks up to its mark, `text_indexed`; supervisors fill it in
//! batches after the fact (`index_text`), so a submission pays nothing for
//! it. The tasks past the mark, few unless a large burst is still queued,
//! are read directly. A term shorter than three characters has no trigram:
//! it reads every task, as all search did before the index.

use rusqlite::{params, Connection};

use super::rows::TASK_COLUMNS;
use super::Store;
use crate::error::Result;

/// Tasks indexed per transaction: a few milliseconds of the write turn.
const INDEX_BATCH: i64 = 2000;

/// A busy supervisor catches the index up once this many tasks are past
/// its mark (an idle one always does).
pub const INDEX_LAG: i64 = 2000;

/// How a search for `text` reads the tasks.
pub(super) enum TextSearch {
    /// Through the index up to `mark`, directly past it.
    Indexed { phrase: String, mark: i64 },
    /// Every task, directly.
    Scan,
}

/// The condition a task read directly meets: the text in its name or its
/// command, ignoring ASCII case. Takes the text twice.
pub(super) const DIRECT_MATCH: &str =
    "(instr(lower(tasks.name), lower(?)) > 0 OR instr(lower(tasks.command), lower(?)) > 0)";

/// The start of a query for the indexed tasks that match `?1` up to `?2`,
/// newest first through the index itself (so a common term stops at the
/// page's end); the caller adds its own conditions and the order.
pub(super) fn indexed_select() -> String {
    let columns = TASK_COLUMNS.split(", ").map(|c| format!("tasks.{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {columns} FROM task_text JOIN tasks ON tasks.seq = task_text.rowid
         WHERE task_text MATCH ? AND task_text.rowid <= ?"
    )
}

pub(super) fn text_search(conn: &Connection, text: &str) -> Result<TextSearch> {
    if text.chars().count() < 3 {
        return Ok(TextSearch::Scan);
    }
    // One phrase: the trigrams in order, that is the text as a substring.
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    Ok(TextSearch::Indexed { phrase, mark: text_mark(conn)? })
}

fn text_mark(conn: &Connection) -> Result<i64> {
    Ok(conn.prepare_cached("SELECT value FROM counters WHERE name = 'text_indexed'")?.query_row([], |r| r.get(0))?)
}

/// Drop pruned tasks from the index (those past its mark are not in it).
pub(super) fn unindex(tx: &Connection, seqs: &[i64]) -> Result<()> {
    let mark = text_mark(tx)?;
    let mut delete = tx.prepare_cached("DELETE FROM task_text WHERE rowid = ?1")?;
    for seq in seqs.iter().filter(|&&s| s <= mark) {
        delete.execute([seq])?;
    }
    Ok(())
}

impl Store {
    /// Bring the text index up to the newest task, a batch per
    /// transaction. Returns how many tasks it indexed.
    pub fn index_all_text(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let indexed = self.index_text_batch()?;
            total += indexed as u64;
            if indexed < INDEX_BATCH {
                return Ok(total);
            }
        }
    }

    /// Index the next batch of tasks past the mark. Returns how many.
    pub fn index_text_batch(&self) -> Result<i64> {
        self.write(|tx| {
            let mark = text_mark(tx)?;
            let (count, last): (i64, Option<i64>) = tx
                .prepare_cached(
                    "SELECT count(*), max(seq) FROM (SELECT seq FROM tasks WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
                )?
                .query_row(params![mark, INDEX_BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let Some(last) = last else { return Ok(0) };
            tx.prepare_cached(
                "INSERT INTO task_text (rowid, name, command)
                     SELECT seq, coalesce(name, ''), command FROM tasks WHERE seq > ?1 AND seq <= ?2",
            )?
            .execute(params![mark, last])?;
            tx.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'text_indexed'")?.execute([last])?;
            Ok(count)
        })
    }

    /// How many tasks are newer than the text index's mark.
    pub fn text_lag(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce((SELECT max(seq) FROM tasks), 0) - (SELECT value FROM counters WHERE name = 'text_indexed')",
            )?
            .query_row([], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tasks::tests::new_task;
    use crate::store::testing::temp_store;
    use crate::store::ListFilter;

    fn found(store: &crate::store::Store, text: &str, before: Option<i64>, limit: Option<u32>) -> (Vec<String>, bool) {
        let filter = ListFilter { text: Some(text.into()), before, limit, ..ListFilter::default() };
        let (tasks, more) = store.list(&filter).unwrap();
        (tasks.into_iter().map(|t| t.id).collect(), more)
    }

    #[test]
    fn search_answers_the_same_before_and_after_indexing_and_after_a_prune() {
        let t = temp_store();
        let commands =
            ["make Grün", "echo \"quoted\" x", "cargo test -p alpha", "CARGO build", "ls", "cargo test -p beta"];
        let ids: Vec<String> = commands.iter().map(|c| t.store.insert(&new_task(c)).unwrap().id).collect();
        let queries = ["cargo", "TEST -p", "\"quoted\"", "grün", "GRÜN", "ls", "s", "nothing like it", "argo b"];
        let before: Vec<_> = queries.iter().map(|q| found(&t.store, q, None, None)).collect();
        assert_eq!(before[0].0, [&ids[5], &ids[3], &ids[2]].map(String::clone), "newest first");
        assert_eq!(before[2].0, [ids[1].clone()]);
        assert_eq!(before[3].0, [ids[0].clone()]);
        assert!(before[4].0.is_empty(), "only ASCII case is ignored, indexed or not");
        assert!(before[7].0.is_empty());

        assert_eq!(t.store.text_lag().unwrap(), 6);
        assert_eq!(t.store.index_all_text().unwrap(), 6);
        assert_eq!(t.store.text_lag().unwrap(), 0);
        // Two more past the mark: a search reads both parts, newest first.
        let late = t.store.insert(&new_task("cargo test -p gamma")).unwrap().id;
        let after: Vec<_> = queries.iter().map(|q| found(&t.store, q, None, None)).collect();
        assert_eq!(after[0].0, [&late, &ids[5], &ids[3], &ids[2]].map(String::clone));
        let without_late = |(ids, more): &(Vec<String>, bool)| {
            (ids.iter().filter(|i| **i != late).cloned().collect::<Vec<_>>(), *more)
        };
        assert_eq!(after.iter().map(without_late).collect::<Vec<_>>(), before);

        // Pages across the mark: two, then the rest from the cursor.
        let (page, more) = found(&t.store, "cargo", None, Some(2));
        assert_eq!((page.clone(), more), (vec![late.clone(), ids[5].clone()], true));
        let cursor = t.store.seq_of(&page[1]).unwrap();
        assert_eq!(found(&t.store, "cargo", Some(cursor), Some(2)), (vec![ids[3].clone(), ids[2].clone()], false));

        // Pruned tasks leave the index; the rest are still found through it.
        for id in &ids[..4] {
            t.store.request_cancel(id).unwrap();
        }
        let pruned = t.store.prune(&crate::config::History { keep_days: 30, keep_count: 1 }).unwrap();
        assert_eq!(pruned.len(), 3, "the newest finished one is kept");
        assert_eq!(found(&t.store, "cargo", None, None).0, [&late, &ids[5], &ids[3]].map(String::clone));
        assert_eq!(t.store.index_all_text().unwrap(), 1);
        assert_eq!(found(&t.store, "cargo", None, None).0, [&late, &ids[5], &ids[3]].map(String::clone));
        assert!(found(&t.store, "quoted", None, None).0.is_empty());
        let in_index: i64 = t
            .store
            .conn
            .query_row("SELECT count(*) FROM task_text WHERE task_text MATCH '\"cargo\"'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(in_index, 3, "the pruned one is gone from the index");
    }
}
