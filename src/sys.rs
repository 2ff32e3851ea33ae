//! Thin, safe wrappers over the few Linux calls errand needs that std does
//! not offer: process identity, signals to process groups, FIFOs, inotify.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// The start time of a process (clock ticks since boot, field 22 of
/// /proc/PID/stat). Together with the pid and the boot id it names one
/// process for good: pids are reused, (pid, start time, boot) is not.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parens: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    // rest starts at field 3 (state); start time is field 22.
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.first() == Some(&"Z") {
        return None; // a zombie supervises nothing
    }
    fields.get(22 - 3)?.parse().ok()
}

/// Identifies the current boot, so a pid recorded before a reboot is never
/// mistaken for a live process after it.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// Send `signal` to every process of the group. Ok(false) if the group is empty.
pub fn kill_group(pgid: u32, signal: libc::c_int) -> io::Result<bool> {
    let pgid = libc::pid_t::try_from(pgid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    if pgid <= 1 {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: kill has no memory-safety preconditions.
    match cvt(unsafe { libc::kill(-pgid, signal) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn group_alive(pgid: u32) -> bool {
    kill_group(pgid, 0).unwrap_or(false)
}

/// For `pre_exec`: leave the caller's session, so a closing terminal or a
/// dying editor sends us no SIGHUP.
pub fn setsid() -> io::Result<()> {
    // SAFETY: async-signal-safe, no preconditions.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// CLI commands want the classic "die quietly on a closed pipe" behaviour
/// (`errand ls | head`); Rust ignores SIGPIPE by default.
pub fn default_sigpipe() {
    // SAFETY: setting a signal disposition to SIG_DFL is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn mkfifo(path: &Path) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated string.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }).map(drop)
}

/// Open a FIFO for writing without blocking when nobody reads it: that case
/// fails with ENXIO (the task's supervisor is gone). The returned file is
/// switched back to blocking writes.
pub fn open_fifo_writer(path: &Path) -> io::Result<File> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated string; the fd is owned right away.
    let fd = cvt(unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    // SAFETY: fd was just returned by open and is owned by nobody else.
    let file = unsafe { File::from_raw_fd(fd) };
    // SAFETY: fcntl on a valid fd.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) })?;
    Ok(file)
}

/// Ask for a bigger pipe buffer: fewer wake-ups when a task writes a lot.
pub fn grow_pipe(fd: &impl AsRawFd, bytes: libc::c_int) {
    // SAFETY: fcntl on a valid fd; failure is harmless (the default stays).
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, bytes);
    }
}

pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: buf is valid for 8 bytes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != 8 {
        // No entropy syscall: time and pid still make collisions unlikely,
        // and the caller retries on a duplicate id anyway.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        return t ^ (u64::from(std::process::id()) << 32);
    }
    u64::from_ne_bytes(buf)
}

/// An inotify instance: the way errand waits for "something changed" without
/// a timer (see notify.rs).
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

    /// Block until at least one event arrives (or `timeout` passes), then
    /// drain whatever is queued. Returns false on timeout.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
        loop {
            // SAFETY: pfd is a valid pollfd array of length 1.
            match cvt(unsafe { libc::poll(&mut pfd, 1, ms) }) {
                Ok(0) => return Ok(false),
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let mut buf = [0u8; 4096];
        // SAFETY: buf is valid for its length. Events are only a wake-up: their content is not needed.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(true)
    }
}

impl AsRawFd for Inotify {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// A pidfd: becomes readable when the process exits. How the server learns
/// that a supervisor died without polling for it.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Keep the real stdout for protocol frames only: returns a private
/// duplicate of fd 1 and points fd 1 itself at /dev/null, so that nothing
/// else (a stray print, a library) can ever write into the stream.
pub fn take_stdout() -> io::Result<File> {
    // SAFETY: dup of fd 1 with CLOEXEC; the new fd is owned right away.
    let frames = cvt(unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: fresh fd owned by nobody else.
    let frames = unsafe { File::from_raw_fd(frames) };
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    // SAFETY: both fds are valid.
    cvt(unsafe { libc::dup2(null.as_raw_fd(), 1) })?;
    Ok(frames)
}

/// What kind of file a descriptor is: how the server reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    Fifo,
    Socket,
    /// A regular file, a terminal, /dev/null: no readiness events.
    Other,
}

pub fn fd_kind(fd: &impl AsRawFd) -> io::Result<FdKind> {
    // SAFETY: stat is plain data, fully written by fstat on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and a valid pointer to a stat buffer.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO => FdKind::Fifo,
        libc::S_IFSOCK => FdKind::Socket,
        _ => FdKind::Other,
    })
}

/// A private duplicate of stdin (fd 0), owned by the caller.
pub fn dup_stdin() -> io::Result<OwnedFd> {
    // SAFETY: dup of fd 0 with CLOEXEC; the new fd is owned right away.
    let fd = cvt(unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
