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

/// Sleeps until the store changes, a watched file grows, or a watched
/// supervisor dies (its death is a change nobody writes: whoever wakes
/// marks its task lost).
pub struct Waiter {
    inotify: Inotify,
    /// pidfds of supervisors of running tasks.
    supervisors: Vec<(Identity, OwnedFd)>,
    /// A supervisor was found dead while watching: the next wait returns at once.
    found_dead: bool,
    /// A watched supervisor died since the last `supervisor_died`.
    died: bool,
    /// Ctrl-C, when listened for (`listen_for_interrupt`), and how many came.
    interrupt: Option<OwnedFd>,
    interrupts: usize,
}

impl Waiter {
    pub fn new(paths: &Paths) -> Result<Waiter> {
        let file = changed_file(paths);
        let inotify = Inotify::new().context(|| "inotify".to_owned())?;
        inotify.watch(&file, libc::IN_MODIFY).map(drop).context(|| format!("cannot watch {}", file.display()))?;
        Ok(Waiter { inotify, supervisors: Vec::new(), found_dead: false, died: false, interrupt: None, interrupts: 0 })
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
    pub fn watch_file(&self, path: &Path) -> Result<()> {
        self.inotify.watch(path, libc::IN_MODIFY).map(drop).context(|| format!("cannot watch {}", path.display()))
    }

    /// Also wake when a file appears in `dir` or leaves it (output files are
    /// created on a task's first write; a follower must notice them deleted).
    pub fn watch_entries(&self, dir: &Path) -> Result<()> {
        let mask = libc::IN_CREATE | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_MOVED_TO;
        self.inotify.watch(dir, mask).map(drop).context(|| format!("cannot watch {}", dir.display()))
    }

    /// Block until something changed; false if `timeout` passed first.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        if std::mem::take(&mut self.found_dead) {
            self.died = true;
            return Ok(true);
        }
        let mut fds: Vec<BorrowedFd<'_>> = self.supervisors.iter().map(|(_, fd)| fd.as_fd()).collect();
        fds.extend(self.interrupt.as_ref().map(|fd| fd.as_fd()));
        let mut woke = self.inotify.wait_with(&fds, timeout).context(|| "waiting for a change".to_owned())?;
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
        let mut waiter = Waiter::new(&paths).unwrap();
        assert!(!waiter.wait(Some(Duration::from_millis(1))).unwrap(), "nothing happened");
        signal(&paths);
        assert!(waiter.wait(Some(Duration::from_secs(10))).unwrap());
    }
}
