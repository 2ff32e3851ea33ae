//! What one `errand serve` holds: its paths and settings, a small pool of
//! store connections, the followed tasks, and the signals between its parts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::budget::Budget;
use super::chores::Chores;
use crate::config::Config;
use crate::error::Result;
use crate::launch::{Queue, Spawner};
use crate::output::{Carry, Which};
use crate::paths::Paths;
use crate::store::Store;
use crate::task::Counts;

/// A followed task: where its next output event starts.
pub struct Follow {
    pub which: Which,
    pub pos: u64,
    /// The inotify watch on its growing file, once set.
    pub watch: Option<i32>,
    /// An incomplete character at the end of what was sent (merged view).
    pub carry: Carry,
    /// After it skipped output to keep up: no event before this.
    pub paced_until: Option<std::time::Instant>,
    /// Which `task/follow` made it: a push puts back only its own follow,
    /// not one the client asked for again meanwhile.
    generation: u64,
}

impl Follow {
    pub fn new(which: Which, pos: u64) -> Follow {
        static FOLLOWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let generation = FOLLOWS.fetch_add(1, Ordering::Relaxed);
        Follow { which, pos, watch: None, carry: Carry::default(), paced_until: None, generation }
    }
}

pub struct Server {
    pub paths: Paths,
    pub config: Config,
    /// Store connections, each used by one blocking job at a time. The
    /// blocking pool's size bounds how many ever exist.
    pool: Mutex<Vec<Store>>,
    pub follows: Mutex<HashMap<String, Follow>>,
    /// Wakes the watcher (a follow was added).
    pub wake: Notify,
    /// Ends the server (the `shutdown` method).
    pub shutdown: Notify,
    /// What the connection may hold in memory.
    pub budget: Budget,
    /// Store writes done beside the watcher and the requests.
    pub chores: Chores,
    /// The newest counts given to the client (by the watcher or in an
    /// answer). The watcher compares with these, so a client never keeps
    /// counts that a later change does not correct.
    counts: Mutex<Counts>,
    /// The store's change number the client's first view was taken at (see
    /// watch::baseline): what ends after it is a task/finished.
    baseline_change: AtomicI64,
}

impl Server {
    pub fn new(paths: Paths, config: Config) -> Result<Server> {
        // Open one connection now: a broken store fails the start, not the first request.
        let store = Store::open(&paths)?;
        Ok(Server {
            paths,
            config,
            pool: Mutex::new(vec![store]),
            follows: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            shutdown: Notify::new(),
            budget: Budget::default(),
            chores: Chores::new(),
            counts: Mutex::new(Counts::default()),
            baseline_change: AtomicI64::new(0),
        })
    }

    pub fn set_baseline_change(&self, change: i64) {
        self.baseline_change.store(change, Ordering::Relaxed);
    }

    pub fn baseline_change(&self) -> i64 {
        self.baseline_change.load(Ordering::Relaxed)
    }

    /// Run `f` with a store connection. Blocking: call it from the blocking
    /// pool (method bodies run there), or use `store` from async code.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
        let store = match pooled {
            Some(s) => s,
            None => Store::open(&self.paths)?,
        };
        let result = f(&store);
        if let Ok(mut p) = self.pool.lock() {
            p.push(store);
        }
        result
    }

    /// `with_store` from async code: on the blocking pool.
    pub async fn store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.blocking(move |server| server.with_store(f)).await?
    }

    /// Run `f` on the blocking pool (store work, file reads): the event
    /// loop never waits on the disk.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Server) -> T + Send + 'static,
    ) -> Result<T> {
        let server = self.clone();
        Ok(tokio::task::spawn_blocking(move || f(&server)).await?)
    }

    /// The queue, fed from this process: supervisors it starts are reaped by tokio.
    pub fn queue<'a>(&'a self, store: &'a Store) -> Queue<'a> {
        Queue { store, paths: &self.paths, config: &self.config, spawner: Spawner::Reaped }
    }

    /// Counts read for an answer: the newer of them and the ones the client
    /// may already hold, which they become.
    pub fn give_counts(&self, fresh: Counts) -> Counts {
        match self.counts.lock() {
            Ok(mut view) => {
                if fresh.seq > view.seq {
                    *view = fresh;
                }
                *view
            }
            Err(_) => fresh,
        }
    }

    /// The watcher read `counts`: true if the client must be told (the
    /// numbers differ from the newest it may hold, and these are not older).
    pub fn set_counts(&self, counts: Counts) -> bool {
        match self.counts.lock() {
            Ok(mut view) if counts.seq >= view.seq => {
                let changed = !view.same_numbers(&counts);
                *view = counts;
                changed
            }
            // An answer gave newer counts already; the change behind them wakes the watcher again.
            Ok(_) => false,
            Err(_) => true,
        }
    }

    /// The task's follow state, if it is followed; its carry is taken out
    /// (put it back with `put_follow`).
    pub fn follow_of(&self, id: &str) -> Option<Follow> {
        self.follows.lock().ok()?.get_mut(id).map(|f| Follow {
            which: f.which,
            pos: f.pos,
            watch: f.watch,
            carry: std::mem::take(&mut f.carry),
            paced_until: f.paced_until,
            generation: f.generation,
        })
    }

    /// Back after a push, unless the client unfollowed or followed again
    /// meanwhile.
    pub fn put_follow(&self, id: &str, follow: Follow) {
        if let Ok(mut follows) = self.follows.lock() {
            if let Some(f) = follows.get_mut(id).filter(|f| f.generation == follow.generation) {
                *f = follow;
            }
        }
    }

    /// A follow whose task ended and whose output is all sent.
    pub fn drop_follow(&self, id: &str, follow: &Follow) {
        if let Ok(mut follows) = self.follows.lock() {
            if follows.get(id).is_some_and(|f| f.generation == follow.generation) {
                follows.remove(id);
            }
        }
    }
}
