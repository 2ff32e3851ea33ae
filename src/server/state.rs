//! What one `errand serve` holds: its paths and settings, a small pool of
//! store connections, the followed tasks, and the signals between its parts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::config::Config;
use crate::error::Result;
use crate::launch::{Queue, Spawner};
use crate::output::Which;
use crate::paths::Paths;
use crate::store::Store;

/// A followed task: where its next output event starts.
pub struct Follow {
    pub which: Which,
    pub pos: u64,
    /// The inotify watch on its growing file, once set.
    pub watch: Option<i32>,
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
        })
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

    /// The task's follow state, if it is followed.
    pub fn follow_of(&self, id: &str) -> Option<(Which, u64, Option<i32>)> {
        self.follows.lock().ok()?.get(id).map(|f| (f.which, f.pos, f.watch))
    }
}
