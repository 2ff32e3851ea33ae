//! inotify: the way errand waits for "something changed" without a timer
//! (see wakeup.rs), and fds registered with tokio's reactor.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use super::{cstr, cvt};

/// An inotify instance: the way errand waits for "something changed" without
/// a timer (see wakeup.rs).
pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    pub fn new() -> io::Result<Self> {
        Self::with_flags(libc::IN_CLOEXEC)
    }

    /// For an event loop (AsyncFd): reads never block.
    pub fn new_nonblocking() -> io::Result<Self> {
        Self::with_flags(libc::IN_CLOEXEC | libc::IN_NONBLOCK)
    }

    fn with_flags(flags: libc::c_int) -> io::Result<Self> {
        // SAFETY: no preconditions; the fd is owned right away.
        let fd = cvt(unsafe { libc::inotify_init1(flags) })?;
        // SAFETY: fd is fresh and owned by nobody else.
        Ok(Inotify { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Returns the watch descriptor (the same one again for the same file).
    pub fn watch(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let c = cstr(path)?;
        // SAFETY: valid fd and string.
        cvt(unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) })
    }

    pub fn unwatch(&self, wd: i32) {
        // SAFETY: valid fd; a stale wd only yields EINVAL.
        unsafe {
            libc::inotify_rm_watch(self.fd.as_raw_fd(), wd);
        }
    }

    /// Read and discard queued events (non-blocking instances). Returns
    /// whether there were any.
    pub fn drain(&self) -> io::Result<bool> {
        let mut any = false;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: buf is valid for its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                any = true;
                continue;
            }
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(any),
                io::ErrorKind::Interrupted => continue,
                _ if n == 0 => Ok(any),
                _ => Err(e),
            };
        }
    }

    /// Read the queued events (non-blocking instances): empty once none are
    /// left. The name is the file's within a watched folder (empty for the
    /// folder itself).
    pub fn read_events(&self) -> io::Result<Vec<Event>> {
        // Room for at least one event with the longest name.
        let mut buf = vec![0u8; 64 << 10];
        let n = loop {
            // SAFETY: buf is valid for its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(Vec::new()),
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        };
        let header = std::mem::size_of::<libc::inotify_event>();
        let mut events = Vec::new();
        let mut at = 0;
        while at + header <= n {
            // SAFETY: the kernel wrote whole events; read_unaligned copes with the Vec's alignment.
            let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
            let name_end = (at + header + ev.len as usize).min(n);
            let raw = &buf[at + header..name_end];
            let name = raw.split(|&b| b == 0).next().unwrap_or_default();
            events.push(Event { wd: ev.wd, mask: ev.mask, name: std::ffi::OsStr::from_bytes(name).to_owned() });
            at = name_end;
        }
        Ok(events)
    }

    /// Block until at least one event arrives (or `timeout` passes), then
    /// drain whatever is queued. Returns false on timeout.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        self.wait_with(&[], timeout).map(|woke| woke.is_some())
    }

    /// `wait`, also woken by any of `others` becoming readable (pidfds of
    /// processes whose end matters). Some(indexes of the readable others).
    pub fn wait_with(&self, others: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Option<Vec<usize>>> {
        let mut fds = vec![self.fd.as_fd()];
        fds.extend_from_slice(others);
        let Some(mut ready) = poll_readable(&fds, timeout)? else { return Ok(None) };
        if ready.first() == Some(&0) {
            ready.remove(0);
            let mut buf = [0u8; 4096];
            // SAFETY: buf is valid for its length. Events are only a wake-up: their content is not needed.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
        Ok(Some(ready.into_iter().map(|i| i - 1).collect()))
    }
}

/// One inotify event.
#[derive(Debug)]
pub struct Event {
    pub wd: i32,
    pub mask: u32,
    pub name: std::ffi::OsString,
}

/// Whether an inotify call failed for want of a per-user resource
/// (instances, watches, kernel memory) rather than for its arguments: a
/// waiter then looks again on a timer instead of failing.
pub fn is_exhausted(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOSPC | libc::ENOMEM))
}

/// Block until any of `fds` is readable or `timeout` passes (None).
/// Some(indexes of the readable fds).
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Option<Vec<usize>>> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|fd| libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
    loop {
        // SAFETY: pfds is a valid array of pollfd of the length given.
        match cvt(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) }) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Some(pfds.iter().enumerate().filter(|(_, p)| p.revents != 0).map(|(i, _)| i).collect()))
}

impl AsRawFd for Inotify {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// A file descriptor its value owns for its whole life (closed on drop,
/// never replaced): what tokio's reactor may watch.
pub trait OwnsFd: AsRawFd {}
impl OwnsFd for OwnedFd {}
impl OwnsFd for Inotify {}

/// Register an owned fd (inotify, pidfd) with tokio's reactor, for readiness.
pub fn async_fd<T: OwnsFd>(inner: T) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: `T: OwnsFd` holds its fd open, unchanged, until it is dropped,
    // which the AsyncFd does only after deregistering it.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(inner, tokio::io::Interest::READABLE) }
        .map_err(|e| io::Error::other(e.to_string()))
}
