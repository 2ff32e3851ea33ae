//! How one errand process wakes another without polling: after every state
//! change a writer touches one file (`run/changed`); waiters hold an inotify
//! watch on it and sleep in the kernel until it moves. An idle waiter makes
//! no wake-ups at all.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{IoContext, Result};
use crate::paths::Paths;
use crate::process::Identity;
use crate::store::Store;
use crate::sys::Inotify;

/// Tell every waiter to look at the store again. Best effort: the store
/// already holds the truth, a missed wake-up only delays a waiter.
pub fn signal(paths: &Paths) {
    let file = OpenOptions::new().create(true).write(true).truncate(false).mode(0o600).open(changed_file(paths));
    if let Ok(f) = file {
        if let Err(e) = f.write_at(b"x", 0) {
            tracing::warn!("cannot signal a store change: {e}");
        }
    }
}

/// The file every state change touches, created if missing (a watch needs
/// the file to exist).
pub fn changed_file(paths: &Paths) -> PathBuf {
    let file = paths.run.join("changed");
    let _ = OpenOptions::new().create(true).append(true).mode(0o600).open(&file);
    file
}

/// How often a waiter looks again when inotify is out of instances or
/// watches (a per-user limit other programs share: 128 instances by
/// default): late by at most this, never stuck.
pub const FALLBACK_TICK: Duration = Duration::from_millis(50);

/// Sleeps until the store changes, a watched file grows, or a watched
/// supervisor dies (its death is a change nobody writes: whoever wakes
/// marks its task lost).
pub struct Waiter {
    /// None while inotify is out of resources: waits then end on a timer,
    /// and each wait tries again to get an instance.
    inotify: Option<Inotify>,
    /// Everything watched, to set up again on a new instance.
    watches: Vec<(PathBuf, u32)>,
    /// pidfds of supervisors of running tasks.
    supervisors: Vec<(Identity, OwnedFd)>,
    /// A supervisor was found dead while watching: the next wait returns at once.
    found_dead: bool,
    /// A watched supervisor died since the last `supervisor_died`.
    died: bool,
    /// Ctrl-C, when listened for (`listen_for_interrupt`), and how many came.
    interrupt: Option<OwnedFd>,
    interrupts: usize,
    /// The want of inotify was logged (once per spell without it).
    warned: bool,
}

impl Waiter {
    /// A waiter on the store's change file. Never fails for want of
    /// inotify: it then looks again every `FALLBACK_TICK`.
    pub fn new(paths: &Paths) -> Waiter {
        let mut waiter = Waiter {
            inotify: None,
            watches: vec![(changed_file(paths), libc::IN_MODIFY)],
            supervisors: Vec::new(),
            found_dead: false,
            died: false,
            interrupt: None,
            interrupts: 0,
            warned: false,
        };
        waiter.arm();
        waiter
    }

    /// Get an inotify instance with every watch on it, if there is none.
    fn arm(&mut self) {
        if self.inotify.is_some() {
            return;
        }
        let armed = Inotify::new().and_then(|inotify| {
            for (path, mask) in &self.watches {
                match inotify.watch(path, *mask) {
                    Err(e) if crate::sys::is_exhausted(&e) => return Err(e),
                    // A file gone since is no longer worth watching.
                    _ => {}
                }
            }
            Ok(inotify)
        });
        match armed {
            Ok(inotify) => {
                self.inotify = Some(inotify);
                self.warned = false;
            }
            Err(e) if !std::mem::replace(&mut self.warned, true) => {
                tracing::warn!("inotify unavailable ({e}): looking again every {FALLBACK_TICK:?}");
            }
            Err(_) => {}
        }
    }

    fn watch(&mut self, path: &Path, mask: u32) -> Result<()> {
        if !self.watches.iter().any(|(p, m)| p == path && *m == mask) {
            self.watches.push((path.to_owned(), mask));
        }
        let Some(inotify) = &self.inotify else { return Ok(()) };
        match inotify.watch(path, mask) {
            Ok(_) => Ok(()),
            Err(e) if crate::sys::is_exhausted(&e) => {
                tracing::warn!("cannot watch {} ({e}): looking again every {FALLBACK_TICK:?}", path.display());
                self.inotify = None;
                self.warned = true;
                Ok(())
            }
            Err(e) => Err(e).context(|| format!("cannot watch {}", path.display())),
        }
    }

    /// Also wake when a supervisor the queue counts on dies (running a
    /// task, or idle with a task left to it).
    pub fn watch_supervisors(&mut self, store: &Store) -> Result<()> {
        for worker in store.supervisors()? {
            if self.supervisors.iter().any(|(w, _)| *w == worker) {
                continue;
            }
            match crate::sys::pidfd_open(worker.pid) {
                // Checked after opening: the pid may have been reused before.
                Ok(fd) if worker.is_alive() => self.supervisors.push((worker, fd)),
                // Already gone: the next look at the store marks its task lost.
                _ => self.found_dead = true,
            }
        }
        Ok(())
    }

    /// Also wake when this file is written (a task's output, for `logs -f`).
    pub fn watch_file(&mut self, path: &Path) -> Result<()> {
        self.watch(path, libc::IN_MODIFY)
    }

    /// Also wake when a file appears in `dir` or leaves it (output files are
    /// created on a task's first write; a follower must notice them deleted).
    pub fn watch_entries(&mut self, dir: &Path) -> Result<()> {
        self.watch(dir, libc::IN_CREATE | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_MOVED_TO)
    }

    /// Block until something changed (or, without inotify, until it may
    /// have); false if `timeout` passed first.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        if std::mem::take(&mut self.found_dead) {
            self.died = true;
            return Ok(true);
        }
        self.arm();
        let mut fds: Vec<BorrowedFd<'_>> = self.supervisors.iter().map(|(_, fd)| fd.as_fd()).collect();
        fds.extend(self.interrupt.as_ref().map(|fd| fd.as_fd()));
        let mut woke = match &self.inotify {
            Some(inotify) => inotify.wait_with(&fds, timeout),
            None => {
                let tick = timeout.map_or(FALLBACK_TICK, |t| t.min(FALLBACK_TICK));
                crate::sys::poll_readable(&fds, Some(tick)).map(|woke| match woke {
                    None if timeout.is_some_and(|t| t <= FALLBACK_TICK) => None,
                    // The tick, not the caller's timeout: look again.
                    None => Some(Vec::new()),
                    some => some,
                })
            }
        }
        .context(|| "waiting for a change".to_owned())?;
        if let (Some(fd), Some(ready)) = (&self.interrupt, &mut woke) {
            if ready.last() == Some(&self.supervisors.len()) {
                ready.pop();
                self.interrupts += crate::sys::drain_signals(fd.as_fd());
            }
        }
        if let Some(dead) = &woke {
            // A pidfd stays readable: forget the dead.
            let dead: Vec<Identity> = dead.iter().map(|&i| self.supervisors[i].0.clone()).collect();
            self.supervisors.retain(|(w, _)| !dead.contains(w));
            self.died |= !dead.is_empty();
        }
        Ok(woke.is_some())
    }

    /// Also wake on Ctrl-C, which no longer stops this process: count it
    /// (`interrupts`) and let the caller decide.
    pub fn listen_for_interrupt(&mut self) -> Result<()> {
        self.interrupt = Some(crate::sys::interrupt_fd().context(|| "cannot listen for Ctrl-C".to_owned())?);
        Ok(())
    }

    /// How many times Ctrl-C was pressed since the last call.
    pub fn interrupts(&mut self) -> usize {
        std::mem::take(&mut self.interrupts)
    }

    /// Did a watched supervisor die since the last call? Its tasks may need
    /// another supervisor.
    pub fn supervisor_died(&mut self) -> bool {
        std::mem::take(&mut self.died)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_wakes_a_waiter_and_silence_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(dir.path());
        paths.create_dirs().unwrap();
        let mut waiter = Waiter::new(&paths);
        assert!(!waiter.wait(Some(Duration::from_millis(1))).unwrap(), "nothing happened");
        signal(&paths);
        assert!(waiter.wait(Some(Duration::from_secs(10))).unwrap());
    }
}
