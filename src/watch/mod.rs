//! Watch mode: a command run again when files change (`errand run --watch`).
//!
//! A watch is held by a detached `errand __watch ID` process of its own (its
//! own session, like a supervisor), so it outlives the shell or editor that
//! started it. While nothing changes it sleeps in the kernel: no timer, no
//! wake-up. A burst of changes (an editor's save, `git checkout`) is one
//! rerun once the files have been quiet for `DEBOUNCE`. Each run is an
//! ordinary task, a copy of the one before (`Queue::restart`), so
//! notifications, `ls`, `logs` and the editors need nothing new for them.
//!
//! - `tree`: which folders are watched and which changes count.

mod tree;

use std::io::{BufRead, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::launch::{Queue, Spawner};
use crate::paths::Paths;
use crate::process::Identity;
use crate::store::{OnChange, Store};
use crate::task::{Status, Task};
use tree::Tree;

/// How long files must be quiet after a change before the rerun: a save is
/// a few events within a millisecond, a checkout thousands within a second.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// Check the user's --ignore globs before anything starts.
pub fn check_ignores(ignores: &[String]) -> Result<()> {
    for glob in ignores {
        // A bad glob shows only when the set is built.
        ignore::gitignore::GitignoreBuilder::new("/")
            .add_line(None, glob)
            .and_then(|b| b.build())
            .map_err(|e| Error::InvalidInput(format!("--ignore '{glob}': {e}")))?;
    }
    Ok(())
}

/// Watched paths as absolute, existing, UTF-8 paths (relative ones from
/// `here`), each once; `what` names where they came from in an error.
pub fn resolve_paths(here: &Path, given: impl IntoIterator<Item = PathBuf>, what: &str) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    for path in given {
        let full = here.join(&path).canonicalize().map_err(|e| {
            let why =
                if e.kind() == std::io::ErrorKind::NotFound { "no such file or folder".into() } else { e.to_string() };
            Error::InvalidInput(format!("{what} {}: {why}", path.display()))
        })?;
        let full = full
            .into_os_string()
            .into_string()
            .map_err(|p| Error::InvalidInput(format!("{what} {}: not a UTF-8 path", Path::new(&p).display())))?;
        if !paths.contains(&full) {
            paths.push(full);
        }
    }
    Ok(paths)
}

/// Record a watch whose first run `first` is queued, and start holding it:
/// its id and how many folders it watches. If it cannot start, nothing is
/// left: no watch, no lone first run either.
pub fn begin(
    store: &Store,
    paths: &Paths,
    watched: &[String],
    ignores: &[String],
    on_change: OnChange,
    first: &Task,
) -> Result<(String, usize)> {
    let id = store.insert_watch(watched, ignores, on_change, &first.id)?;
    match start(&id) {
        Ok(folders) => Ok((id, folders)),
        Err(e) => {
            let _ = end(store, paths, &id);
            Err(e)
        }
    }
}

/// Start holding watch `id` (recorded, its first run queued): returns once
/// it watches, with how many folders it watches, so a change made right
/// after `errand run --watch` returns is never missed.
pub fn start(id: &str) -> Result<usize> {
    let exe = std::env::current_exe().context(|| "cannot find the errand executable".to_owned())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["__watch", id]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).current_dir("/");
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(crate::sys::setsid);
    }
    let mut child = cmd.spawn().context(|| "cannot start the watch".to_owned())?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    // Left to init once we exit; it is not reaped here, it lives on.
    drop(child);
    match line.trim_end().split_once(' ') {
        Some(("watching", n)) => Ok(n.parse().unwrap_or(0)),
        Some(("error:", message)) => Err(Error::InvalidInput(format!("cannot watch: {message}"))),
        _ => Err(Error::InvalidInput("the watch ended before it started (see errand's log)".into())),
    }
}

/// End watch `id`: its holder stops, then its run in progress is cancelled.
/// Returns that run's id, if one was stopped.
pub fn end(store: &Store, paths: &Paths, id: &str) -> Result<Option<String>> {
    let watch = store.watch(id)?.ok_or_else(|| Error::NoSuchWatch(id.to_owned()))?;
    store.end_watch(id)?;
    if let Some(holder) = watch.holder.filter(Identity::is_alive) {
        // The identity check above makes it this watch's holder, not a
        // process that took its pid. Gone meanwhile is fine.
        let _ = crate::sys::kill_process(holder.pid, libc::SIGTERM);
        // It stops between two steps: no rerun starts after this returns.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while holder.is_alive() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // Read again: the holder may have started a run before it stopped.
    let last = store.watch(id)?.map_or(watch.last_task, |w| w.last_task);
    match store.get(&last).map(|t| t.status()) {
        Ok(Status::Queued | Status::Running) => match crate::control::cancel(store, paths, &last) {
            Ok(_) | Err(Error::AlreadyFinished { .. }) => Ok(Some(last)),
            Err(e) => Err(e),
        },
        _ => Ok(None),
    }
}

/// The body of `errand __watch ID`.
pub fn run(paths: &Paths, id: &str) -> Result<()> {
    let config = Config::load(paths);
    let store = Store::open(paths)?;
    let watch = store.watch(id)?.ok_or_else(|| Error::NoSuchWatch(id.to_owned()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "cannot start the async runtime".to_owned())?;
    runtime.block_on(async {
        let mut sigterm = signal(SignalKind::terminate()).context(|| "cannot handle SIGTERM".to_owned())?;
        let tree = crate::sys::Inotify::new_nonblocking()
            .and_then(crate::sys::async_fd)
            .and_then(|inotify| Tree::new(inotify, &watch.paths, &watch.ignores));
        let mut tree = match tree {
            Ok(tree) => tree,
            Err(e) => {
                tell_starter(&format!("error: {e}"));
                store.end_watch(id)?;
                return Err(Error::io("cannot watch", e));
            }
        };
        store.hold_watch(id, &Identity::current())?;
        if tree.missed > 0 {
            tracing::warn!(watch = id, "{} folders not watched: out of inotify watches", tree.missed);
        }
        tracing::info!(watch = id, folders = tree.len(), "watching");
        tell_starter(&format!("watching {}", tree.len()));
        let queue = Queue { store: &store, paths, config: &config, spawner: Spawner::Reaped };
        let mut changed_at: Option<tokio::time::Instant> = None;
        loop {
            let rerun_at = changed_at.map(|t| t + DEBOUNCE);
            tokio::select! {
                _ = sigterm.recv() => break,
                ready = tree.inotify.readable() => {
                    let mut ready = ready.context(|| "cannot wait for changes".to_owned())?;
                    let events = ready.get_inner().read_events().context(|| "cannot read changes".to_owned())?;
                    if events.is_empty() {
                        ready.clear_ready();
                        continue;
                    }
                    drop(ready);
                    // Every event is looked at: each may add or drop a folder.
                    if events.iter().filter(|e| tree.counts(e)).count() > 0 {
                        changed_at = Some(tokio::time::Instant::now());
                    }
                }
                () = tokio::time::sleep_until(rerun_at.unwrap_or_else(tokio::time::Instant::now)), if rerun_at.is_some() => {
                    changed_at = None;
                    match rerun(&queue, id) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => tracing::error!(watch = id, "cannot run again: {e}"),
                    }
                }
            }
        }
        tracing::info!(watch = id, "watch ended");
        Ok(())
    })
}

/// Run the watched command again, as the watch's policy says. False if the
/// watch has ended (cancelled meanwhile).
fn rerun(queue: &Queue, id: &str) -> Result<bool> {
    let Some(watch) = queue.store.watch(id)?.filter(|w| w.ended_at.is_none()) else { return Ok(false) };
    let last = queue.store.get(&watch.last_task)?;
    let task = match (watch.on_change, last.status()) {
        // Not started yet: it will see the files as they are now.
        (_, Status::Queued) => return Ok(true),
        (OnChange::Restart, _) => queue.restart(&last.id)?,
        (OnChange::Queue, _) => queue.rerun_after(&last.id)?,
    };
    queue.store.watch_ran(id, &task.id)?;
    tracing::info!(watch = id, task = %task.id, "files changed: running again");
    Ok(true)
}

/// Tell `errand run --watch` how the start went, then let go of its pipe:
/// stdout becomes /dev/null, so nothing ever blocks on a reader gone.
fn tell_starter(line: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: both fds are valid; dup2 replaces fd 1 atomically.
        unsafe {
            libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
        }
    }
}
