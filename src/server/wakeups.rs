//! What wakes the watcher: inotify on the store's change file, the output
//! folder and followed output files. inotify instances and watches are a
//! per-user resource other programs share (128 instances by default); when
//! they run out, the watcher looks again on a timer instead of going deaf,
//! and tries again for an instance at each look.

use tokio::io::unix::AsyncFd;

use crate::paths::Paths;
use crate::sys::Inotify;
use crate::wakeup::FALLBACK_TICK;

pub struct Wakeups {
    paths: Paths,
    inotify: Option<AsyncFd<Inotify>>,
    /// A followed file could not be watched this round.
    missed_watch: bool,
    /// The want of inotify was logged (once per spell without it).
    warned: bool,
}

impl Wakeups {
    pub fn new(paths: Paths) -> Wakeups {
        let mut wakeups = Wakeups { paths, inotify: None, missed_watch: false, warned: false };
        wakeups.arm();
        wakeups
    }

    /// Get an instance, if there is none yet. Once there, it stays: the
    /// follows' watches live on it.
    pub fn arm(&mut self) {
        if self.inotify.is_some() {
            return;
        }
        let armed = Inotify::new_nonblocking().and_then(|inotify| {
            inotify.watch(&crate::wakeup::changed_file(&self.paths), libc::IN_MODIFY)?;
            // Output files appear on a task's first write.
            inotify.watch(&self.paths.logs, libc::IN_CREATE)?;
            crate::sys::async_fd(inotify)
        });
        match armed {
            Ok(inotify) => {
                self.inotify = Some(inotify);
                self.warned = false;
            }
            Err(e) => {
                if !std::mem::replace(&mut self.warned, true) {
                    tracing::warn!("inotify unavailable ({e}): looking again every {FALLBACK_TICK:?}");
                }
            }
        }
    }

    /// Watch a followed output file for writes; None if it cannot be
    /// watched (then the next wait ends on the timer).
    pub fn watch(&mut self, file: &std::path::Path) -> Option<i32> {
        let wd = self.inotify.as_ref().and_then(|i| i.get_ref().watch(file, libc::IN_MODIFY).ok());
        self.missed_watch |= wd.is_none();
        wd
    }

    pub fn unwatch(&self, wd: i32) {
        if let Some(inotify) = &self.inotify {
            inotify.get_ref().unwatch(wd);
        }
    }

    /// Until something may have changed.
    pub async fn next(&mut self) {
        let missed_watch = std::mem::take(&mut self.missed_watch);
        match &self.inotify {
            Some(inotify) if !missed_watch => {
                if let Ok(mut guard) = inotify.readable().await {
                    let _ = guard.get_inner().drain();
                    guard.clear_ready();
                }
            }
            _ => tokio::time::sleep(FALLBACK_TICK).await,
        }
    }
}
