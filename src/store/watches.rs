//! Watches: a command rerun when files change (`errand run --watch`). A
//! watch is held by its own detached process (`watch.rs`); each run is an
//! ordinary task, and the watch remembers the latest one, which the next
//! run copies. Ids are `w` and a number (`w3`): never a task id, which is
//! at least four characters of another alphabet's making.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::{Error, Result};
use crate::process::Identity;
use crate::task::now_ms;

/// What a change does while the last run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnChange {
    /// Cancel it and start again (cargo watch, overseer's restart_on_save).
    Restart,
    /// Let it finish, then run once more with whatever changed meanwhile.
    Queue,
}

impl OnChange {
    pub fn parse(s: &str) -> Result<OnChange> {
        match s {
            "restart" => Ok(OnChange::Restart),
            "queue" => Ok(OnChange::Queue),
            _ => Err(Error::InvalidInput(format!("--on-change is restart or queue, not '{s}'"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OnChange::Restart => "restart",
            OnChange::Queue => "queue",
        }
    }
}

/// A watch as stored.
#[derive(Debug, Clone)]
pub struct Watch {
    pub id: String,
    /// Absolute paths: folders watched with everything under them, or files.
    pub paths: Vec<String>,
    /// Gitignore-style globs left out, beside .gitignore, .ignore and hidden files.
    pub ignores: Vec<String>,
    pub on_change: OnChange,
    /// The latest run, copied by the next one.
    pub last_task: String,
    pub runs: u32,
    pub created_at: i64,
    /// The process holding it; None until it started.
    pub holder: Option<Identity>,
    pub ended_at: Option<i64>,
}

impl Watch {
    /// Ended by a cancel, or its holder is gone (killed, a reboot).
    pub fn is_over(&self) -> bool {
        self.ended_at.is_some() || self.holder.as_ref().is_some_and(|h| !h.is_alive())
    }

    /// `watching`, `ended`, or `lost` (its holder died without ending it).
    pub fn state(&self) -> &'static str {
        match (self.ended_at, &self.holder) {
            (Some(_), _) => "ended",
            (None, Some(h)) if !h.is_alive() => "lost",
            _ => "watching",
        }
    }
}

const COLUMNS: &str =
    "seq, paths, ignores, on_change, last_task, runs, created_at, holder_pid, holder_start, holder_boot, ended_at";

fn from_row(r: &Row) -> rusqlite::Result<Watch> {
    let json = |i: usize| -> rusqlite::Result<Vec<String>> {
        let s: String = r.get(i)?;
        serde_json::from_str(&s)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
    };
    let on_change: String = r.get(3)?;
    let holder = match (r.get::<_, Option<u32>>(7)?, r.get::<_, Option<i64>>(8)?, r.get::<_, Option<String>>(9)?) {
        (Some(pid), Some(start), Some(boot)) => Some(Identity { pid, start: start as u64, boot }),
        _ => None,
    };
    Ok(Watch {
        id: format!("w{}", r.get::<_, i64>(0)?),
        paths: json(1)?,
        ignores: json(2)?,
        on_change: OnChange::parse(&on_change).unwrap_or(OnChange::Restart),
        last_task: r.get(4)?,
        runs: r.get(5)?,
        created_at: r.get(6)?,
        holder,
        ended_at: r.get(10)?,
    })
}

/// `w12` → 12; None for anything that is not a watch id.
pub fn watch_seq(id: &str) -> Option<i64> {
    let digits = id.strip_prefix('w')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Store {
    /// Record a watch whose first run is `first`; returns its id.
    pub fn insert_watch(
        &self,
        paths: &[String],
        ignores: &[String],
        on_change: OnChange,
        first: &str,
    ) -> Result<String> {
        let paths = serde_json::to_string(paths).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let ignores = serde_json::to_string(ignores).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let seq = self.write(|tx| {
            tx.execute(
                "INSERT INTO watches (paths, ignores, on_change, last_task, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![paths, ignores, on_change.as_str(), first, now_ms()],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(format!("w{seq}"))
    }

    /// The watch named `id` exactly (`w3`), if it is one.
    pub fn watch(&self, id: &str) -> Result<Option<Watch>> {
        let Some(seq) = watch_seq(id) else { return Ok(None) };
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM watches WHERE seq = ?1"))?
            .query_row([seq], from_row)
            .optional()?)
    }

    /// Watches not ended, oldest first (some may be lost: see `Watch::state`).
    pub fn open_watches(&self) -> Result<Vec<Watch>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM watches WHERE ended_at IS NULL ORDER BY seq"))?;
        let watches = stmt.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(watches)
    }

    /// The process now holding the watch.
    pub fn hold_watch(&self, id: &str, holder: &Identity) -> Result<()> {
        let seq = watch_seq(id).ok_or_else(|| Error::NoSuchWatch(id.to_owned()))?;
        self.write(|tx| {
            tx.execute(
                "UPDATE watches SET holder_pid = ?2, holder_start = ?3, holder_boot = ?4 WHERE seq = ?1",
                params![seq, holder.pid, holder.start as i64, holder.boot],
            )?;
            Ok(())
        })
    }

    /// Another run started: `task` is the latest.
    pub fn watch_ran(&self, id: &str, task: &str) -> Result<()> {
        let seq = watch_seq(id).ok_or_else(|| Error::NoSuchWatch(id.to_owned()))?;
        self.write(|tx| {
            tx.execute("UPDATE watches SET last_task = ?2, runs = runs + 1 WHERE seq = ?1", params![seq, task])?;
            Ok(())
        })
    }

    /// End a watch; false if it had already ended.
    pub fn end_watch(&self, id: &str) -> Result<bool> {
        let seq = watch_seq(id).ok_or_else(|| Error::NoSuchWatch(id.to_owned()))?;
        let ended = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE watches SET ended_at = ?2 WHERE seq = ?1 AND ended_at IS NULL",
                params![seq, now_ms()],
            )?)
        })?;
        Ok(ended > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_w_and_a_number_is_a_watch_id() {
        assert_eq!(watch_seq("w3"), Some(3));
        assert_eq!(watch_seq("w120"), Some(120));
        for not in ["w", "w0", "w03", "wx", "k3vq", "w3a", "3"] {
            assert_eq!(watch_seq(not), None, "{not}");
        }
    }
}
