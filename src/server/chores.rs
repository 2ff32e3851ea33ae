//! Store writes the server owes but nobody should wait for: marking
//! finished tasks as told, marking lost the tasks of a dead supervisor,
//! starting a supervisor for a queue left without one. On an overloaded
//! machine SQLite's one write lock can take seconds to get; done in the
//! watcher, that wait delayed every later notification (a CI run saw a
//! task/finished 45 s late). Here they run one after another on their own,
//! and what piles up meanwhile is done in one go.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::state::Server;

/// One chore; several of a kind merge.
pub enum Chore {
    /// The client was told these tasks finished.
    Announced(Vec<String>),
    /// The client's first answer listed what finished before this change,
    /// but could not mark it told then.
    AnnouncedUpTo(i64),
    /// A supervisor died or the queue may lack one: mark lost what it ran
    /// and start supervisors for queued tasks with a free slot.
    Kick,
    /// Answer once everything asked before is done (the server is leaving).
    Flush(oneshot::Sender<()>),
}

pub struct Chores {
    tx: mpsc::UnboundedSender<Chore>,
    /// Taken by `start`.
    rx: Mutex<Option<mpsc::UnboundedReceiver<Chore>>>,
}

impl Chores {
    pub fn new() -> Chores {
        let (tx, rx) = mpsc::unbounded_channel();
        Chores { tx, rx: Mutex::new(Some(rx)) }
    }

    pub fn ask(&self, chore: Chore) {
        let _ = self.tx.send(chore);
    }

    /// Wait until what was asked so far is done: a server that leaves with
    /// chores queued would leave tasks unmarked (the next editor's summary
    /// repeats them) or a queue without a supervisor.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        self.ask(Chore::Flush(done));
        let _ = wait.await;
    }

    /// Do the chores asked for, for as long as the server runs.
    pub fn start(server: &Arc<Server>) {
        let rx = server.chores.rx.lock().ok().and_then(|mut rx| rx.take());
        if let Some(rx) = rx {
            tokio::spawn(run(server.clone(), rx));
        }
    }
}

/// What is owed, merged.
#[derive(Default)]
struct Owed {
    announced: BTreeSet<String>,
    up_to: Option<i64>,
    kick: bool,
    /// Told once the rest is done.
    flushed: Vec<oneshot::Sender<()>>,
}

impl Owed {
    fn add(&mut self, chore: Chore) {
        match chore {
            Chore::Announced(ids) => self.announced.extend(ids),
            Chore::AnnouncedUpTo(change) => self.up_to = self.up_to.max(Some(change)),
            Chore::Kick => self.kick = true,
            Chore::Flush(done) => self.flushed.push(done),
        }
    }

    /// Each part on its own: one failing (a busy or full disk) does not stop the others.
    fn pay(mut self, server: &Server) {
        if let Some(change) = self.up_to {
            if let Err(e) = server.with_store(|store| store.mark_announced_up_to(change)) {
                tracing::warn!("cannot record that the first answer's tasks were announced: {e}");
            }
        }
        if !self.announced.is_empty() {
            let ids: Vec<String> = self.announced.into_iter().collect();
            if let Err(e) = server.with_store(|store| store.mark_announced(&ids)) {
                tracing::warn!("cannot record that finished tasks were announced: {e}");
            }
        }
        if self.kick {
            let kicked = server.with_store(|store| {
                if store.reap_lost()? > 0 {
                    crate::wakeup::signal(&server.paths);
                }
                server.queue(store).kick()
            });
            if let Err(e) = kicked {
                tracing::warn!("cannot start a supervisor: {e}");
            }
        }
        for done in self.flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn run(server: Arc<Server>, mut rx: mpsc::UnboundedReceiver<Chore>) {
    while let Some(first) = rx.recv().await {
        let mut owed = Owed::default();
        owed.add(first);
        while let Ok(more) = rx.try_recv() {
            owed.add(more);
        }
        if let Err(e) = server.blocking(move |s| owed.pay(s)).await {
            tracing::warn!("a store chore failed: {e}");
        }
    }
}
