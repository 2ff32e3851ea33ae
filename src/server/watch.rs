//! Notifications for every change to the store, whoever made it: the CLI,
//! another editor, a supervisor. The watcher sleeps until the store's change
//! file moves (inotify), a followed task writes, or a supervisor dies
//! (pidfd); nothing runs on a timer while nothing happens (unless inotify
//! ran short: see wakeups.rs). The one timer:
//! when the oldest counted failure stops counting, an hour after it ended.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::chores::Chore;
use super::follow;
use super::state::Server;
use super::transport::Out;
use super::wakeups::Wakeups;
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::output::{Reader, Which};
use crate::paths::Paths;
use crate::process::Identity;
use crate::protocol::{self, DiagnosticsResult, FinishedEvent, Notification, ProgressEvent, TaskEvent};
use crate::store::{Change, Store};
use crate::task::{now_ms, Counts, Progress, Status, Task};

/// Lines of output a task/finished carries.
const FINISHED_TAIL_LINES: usize = 10;

/// Queue a notification for the client, once the budget has room for it
/// (a client that does not read holds the watcher here). False if the
/// client is gone.
pub async fn send(server: &Server, out: &mpsc::Sender<Out>, notification: &Notification) -> bool {
    match notification.to_json() {
        Ok(json) => {
            let Some(held) = server.budget.for_notification(json.len()).await else { return false };
            out.send(Out::Message(json, held)).await.is_ok()
        }
        Err(e) => {
            tracing::error!(method = notification.method(), "cannot encode a notification: {e}");
            true
        }
    }
}

/// The store as the client first sees it, taken before the server reads
/// the first frame: whatever changes after it is reported.
pub async fn baseline(server: &Arc<Server>) -> Result<Feed> {
    let paths = server.paths.clone();
    let feed = server.store(move |store| Feed::start(paths, store)).await?;
    server.set_counts(feed.counts);
    server.set_baseline_change(feed.last_change);
    Ok(feed)
}

/// Runs until the client is gone; errors are logged. Sends nothing before
/// `ready` (the `initialize` answer is queued first).
pub async fn watch(server: Arc<Server>, out: mpsc::Sender<Out>, feed: Feed, ready: oneshot::Receiver<()>) {
    let _ = ready.await;
    if let Err(e) = run(&server, &out, feed).await {
        tracing::error!("watcher stopped: {e}");
    }
}

async fn run(server: &Arc<Server>, out: &mpsc::Sender<Out>, mut feed: Feed) -> Result<()> {
    let mut wakeups = Wakeups::new(server.paths.clone());
    let mut watched_workers: HashSet<Identity> = HashSet::new();
    let (died_tx, mut died_rx) = mpsc::unbounded_channel::<Identity>();
    let looker = Looker::start(server.clone())?;
    loop {
        // What changed; the feed goes to the looker and back.
        let (returned, polled) = looker.look(feed).await?;
        feed = returned;
        // A failed poll (a busy or full disk) kept the feed's place: try
        // again soon, as nothing else may wake the watcher.
        let polled = match polled {
            Ok(polled) => polled,
            Err(e) => {
                tracing::warn!("cannot read the store's changes: {e}");
                tokio::time::sleep(RETRY_POLL).await;
                continue;
            }
        };
        for notification in &polled.notifications {
            if !send(server, out, notification).await {
                return Ok(());
            }
        }
        // Told: no later editor's start-up summary repeats these, once the
        // chore has marked them (within moments, unless the store is busy).
        let told: Vec<String> = polled
            .notifications
            .iter()
            .filter_map(|n| match n {
                Notification::TaskFinished(e) => Some(e.task.id.clone()),
                _ => None,
            })
            .collect();
        if !told.is_empty() {
            server.chores.ask(Chore::Announced(told));
        }
        // Without an instance yet (inotify ran short): try again.
        wakeups.arm();
        let pushed = follow::push(server, &mut wakeups, out).await;
        if pushed.gone {
            return Ok(());
        }
        // A queued task with a free slot and no supervisor (its client died
        // before starting one): start one.
        if polled.counts.queued > 0 && polled.counts.running < server.config.parallel {
            server.chores.ask(Chore::Kick);
        }
        // A supervisor's death is a change nobody writes: watch each one
        // the queue counts on, running a task or idle.
        for worker in polled.workers {
            if watched_workers.insert(worker.clone()) {
                watch_worker(worker, died_tx.clone());
            }
        }
        let expiry = async {
            match polled.next_failure_expiry {
                Some(at) => tokio::time::sleep(Duration::from_millis((at - now_ms()).max(0) as u64 + 5)).await,
                None => std::future::pending().await,
            }
        };
        if polled.more || pushed.more {
            continue;
        }
        let paced = async {
            match pushed.resume_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wakeups.next() => {}
            () = server.wake.notified() => {}
            // Its task is lost, or (an idle one) a task left to it needs
            // another supervisor.
            Some(dead) = died_rx.recv() => {
                watched_workers.remove(&dead);
                server.chores.ask(Chore::Kick);
            }
            () = expiry => {}
            // A paced follow's next event is due.
            () = paced => {}
            // The client read queued output: a follow waiting for room goes on.
            () = server.budget.output_written.notified(), if pushed.blocked => {}
        }
    }
}

type Look = (Feed, Result<Polled>);

/// The watcher's own thread and store connection for its looks at the
/// store: on the shared blocking pool they queued behind requests that
/// wait for the write lock, and notifications waited with them.
struct Looker {
    jobs: std::sync::mpsc::Sender<(Feed, oneshot::Sender<Look>)>,
}

impl Looker {
    /// The thread ends with the watcher (its sender dropped).
    fn start(server: Arc<Server>) -> Result<Looker> {
        let (jobs, asked) = std::sync::mpsc::channel::<(Feed, oneshot::Sender<Look>)>();
        let paths = server.paths.clone();
        std::thread::Builder::new()
            .name("errand-watch".into())
            .spawn(move || {
                let mut store = None;
                for (mut feed, reply) in asked {
                    let polled = match &store {
                        Some(store) => feed.poll(store, &server),
                        None => Store::open(&paths).and_then(|opened| {
                            let polled = feed.poll(&opened, &server);
                            store = Some(opened);
                            polled
                        }),
                    };
                    let _ = reply.send((feed, polled));
                }
            })
            .map_err(|e| Error::io("cannot start the watcher's thread", e))?;
        Ok(Looker { jobs })
    }

    async fn look(&self, feed: Feed) -> Result<Look> {
        let gone = || Error::io("the watcher's thread ended", std::io::Error::other("it stopped"));
        let (reply, answer) = oneshot::channel();
        self.jobs.send((feed, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }
}

/// What the watcher remembers of an active task, to tell what changed.
#[derive(Clone)]
struct Known {
    status: Status,
    progress: Option<Progress>,
    /// Failed runs of a task that retries.
    attempts: usize,
    paused: bool,
    ready: bool,
    /// Where its last compile cycle ended (a watch-mode tool).
    cycle_to: Option<u64>,
}

impl Known {
    fn of(task: &Task) -> Known {
        Known {
            status: task.status(),
            progress: task.progress().cloned(),
            attempts: task.attempts.len(),
            paused: task.paused_at.is_some(),
            ready: task.ready_at.is_some(),
            cycle_to: task.cycle.map(|c| c.to),
        }
    }
}

/// The watcher's place in the store's change feed.
pub struct Feed {
    paths: Paths,
    last_change: i64,
    known: HashMap<String, Known>,
    counts: Counts,
}

/// One look at the store.
#[derive(Default)]
struct Polled {
    notifications: Vec<Notification>,
    /// The supervisors of running tasks.
    workers: Vec<Identity>,
    /// When the failure count next drops by itself.
    next_failure_expiry: Option<i64>,
    /// The counts at this look.
    counts: Counts,
    /// The look stopped at its size limit: more changes wait.
    more: bool,
}

/// How soon a failed look at the store is tried again.
const RETRY_POLL: Duration = Duration::from_millis(200);
/// Changes read per query.
const PAGE: u32 = 500;
/// Roughly how many bytes of notifications one look builds before it stops
/// (the rest is read right after they are sent): a burst of large tasks
/// (each up to the submission limits) must not be held all at once.
const POLL_BYTES: usize = 4 << 20;

impl Feed {
    fn start(paths: Paths, store: &Store) -> Result<Feed> {
        let snapshot = store.snapshot()?;
        Ok(Feed {
            paths,
            last_change: snapshot.change,
            known: snapshot.active.iter().map(|t| (t.id.clone(), Known::of(t))).collect(),
            counts: snapshot.counts,
        })
    }

    /// Tasks changed since the last poll as notifications, then the counts
    /// if they differ from what the client was last given. On an error the
    /// feed stays where it was: the changes read so far are read again.
    fn poll(&mut self, store: &Store, server: &Server) -> Result<Polled> {
        let (last_change, known) = (self.last_change, self.known.clone());
        let polled = self.look(store, server);
        if polled.is_err() {
            (self.last_change, self.known) = (last_change, known);
        }
        polled
    }

    fn look(&mut self, store: &Store, server: &Server) -> Result<Polled> {
        let mut polled = Polled::default();
        let mut bytes = 0;
        'pages: loop {
            let (changes, last) = store.changed_since(self.last_change, PAGE)?;
            for change in &changes {
                let events = self.events_for(change, store)?;
                bytes += events.iter().map(|n| approx_size(n, &change.task)).sum::<usize>();
                polled.notifications.extend(events);
                let task = &change.task;
                if task.is_final() {
                    self.known.remove(&task.id);
                } else {
                    self.known.insert(task.id.clone(), Known::of(task));
                }
                self.last_change = change.changed;
                if bytes >= POLL_BYTES {
                    polled.more = true;
                    break 'pages;
                }
            }
            self.last_change = last;
            if changes.len() < PAGE as usize {
                break;
            }
        }
        let counts = store.counts()?;
        polled.workers = store.supervisors()?;
        polled.next_failure_expiry = store.next_failure_expiry()?;
        // Last: a read that fails after this would leave the counts noted as given.
        polled.counts = counts;
        if server.set_counts(counts) {
            polled.notifications.push(Notification::CountsChanged(counts));
        }
        Ok(polled)
    }

    fn events_for(&self, change: &Change, store: &Store) -> Result<Vec<Notification>> {
        let mut events = self.status_events_for(change, store)?;
        let task = &change.task;
        // A compile cycle ended: its messages, read now (a few kB of output).
        let cycle_to = task.cycle.map(|c| c.to);
        if !task.is_final() && cycle_to.is_some() && cycle_to != self.known.get(&task.id).and_then(|k| k.cycle_to) {
            match diagnostics::of_task(&self.paths, task) {
                Ok((diagnostics, truncated)) => events.push(Notification::TaskDiagnostics(DiagnosticsResult {
                    task: protocol::Task::at(task, now_ms()),
                    diagnostics,
                    truncated,
                })),
                Err(e) => tracing::warn!(task = %task.id, "cannot read a compile cycle's messages: {e}"),
            }
        }
        Ok(events)
    }

    fn status_events_for(&self, change: &Change, store: &Store) -> Result<Vec<Notification>> {
        let task = &change.task;
        let before = self.known.get(&task.id);
        let was = before.map(|k| k.status);
        let now = now_ms();
        let event = || TaskEvent { task: protocol::Task::at(task, now) };
        // A long-running task whose output just said it is ready (it may
        // have started since the last look, too).
        let became_ready = task.ready_at.is_some() && !before.is_some_and(|k| k.ready);
        Ok(match task.status() {
            Status::Queued if was.is_none() => vec![Notification::TaskQueued(event())],
            Status::Running if was != Some(Status::Running) && became_ready => {
                vec![Notification::TaskStarted(event()), Notification::TaskReady(event())]
            }
            Status::Running if was != Some(Status::Running) => vec![Notification::TaskStarted(event())],
            Status::Running if became_ready => vec![Notification::TaskReady(event())],
            // A failed run of a task that retries (the next one follows), or a pause or resume.
            Status::Running
                if before.is_some_and(|k| {
                    k.attempts != task.attempts.len()
                        || k.paused != task.paused_at.is_some()
                        || k.ready != task.ready_at.is_some()
                }) =>
            {
                vec![Notification::TaskUpdated(event())]
            }
            Status::Running => {
                let progress = task.progress();
                if before.is_some_and(|k| k.progress.as_ref() != progress) {
                    vec![Notification::TaskProgress(ProgressEvent {
                        id: task.id.clone(),
                        progress: progress.map(|p| p.percent),
                        progress_message: progress.and_then(|p| p.message.clone()),
                        eta_at: task.eta_at(now),
                    })]
                } else {
                    Vec::new()
                }
            }
            s if s.is_final() && change.finished_now => {
                vec![Notification::TaskFinished(FinishedEvent {
                    task: protocol::Task::at(task, now),
                    output_tail: tail_of(&self.paths, &task.id),
                    result: result_of(store, task)?,
                })]
            }
            s if s.is_final() => vec![Notification::TaskUpdated(event())],
            _ => Vec::new(),
        })
    }
}

/// About how many bytes a notification about `task` takes as JSON.
fn approx_size(n: &Notification, task: &Task) -> usize {
    let tail = match n {
        Notification::TaskFinished(e) => 2 * e.output_tail.len() + task.result_bytes.unwrap_or(0) as usize,
        Notification::TaskDiagnostics(e) => e.diagnostics.iter().map(|d| d.file.len() + d.message.len() + 100).sum(),
        _ => 0,
    };
    task.approx_size() + tail
}

/// The JSON result `task` left, for clients (null when it left none).
pub(super) fn result_of(store: &Store, task: &Task) -> Result<Option<protocol::RawJson>> {
    // Most tasks leave none: no query for them.
    if task.result_bytes.is_none() {
        return Ok(None);
    }
    let Some(json) = store.result(&task.id)? else { return Ok(None) };
    // Validated when stored: text that is no longer one value is a damaged store.
    match serde_json::value::RawValue::from_string(json) {
        Ok(raw) => Ok(Some(protocol::RawJson(raw))),
        Err(e) => {
            tracing::warn!(task = %task.id, "the stored result is not JSON: {e}");
            Ok(None)
        }
    }
}

fn tail_of(paths: &Paths, id: &str) -> String {
    Reader::open(paths, id)
        .ok()
        .and_then(|r| r.tail_within(Which::Both, FINISHED_TAIL_LINES, crate::output::SUMMARY_TAIL_BYTES).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Tell the watcher when this supervisor exits (its pidfd becomes readable).
fn watch_worker(worker: Identity, died: mpsc::UnboundedSender<Identity>) {
    let Ok(fd) = crate::sys::pidfd_open(worker.pid) else {
        let _ = died.send(worker); // already gone
        return;
    };
    // The pid may have been reused between the store read and pidfd_open.
    if !worker.is_alive() {
        let _ = died.send(worker);
        return;
    }
    tokio::spawn(async move {
        if let Ok(fd) = crate::sys::async_fd(fd) {
            let _ = fd.readable().await;
        }
        let _ = died.send(worker);
    });
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::io("a background job failed", std::io::Error::other(e.to_string()))
    }
}
