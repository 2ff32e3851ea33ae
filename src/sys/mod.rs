//! Thin, safe wrappers over the few Linux calls errand needs that std does
//! not offer. The only `unsafe` code of errand is here, each block with the
//! reason it is sound.
//!
//! - `process`: process identity, signals, reaping, the process tree.
//! - `pipes`: FIFOs, pipe sizes, errand serve's stdio.
//! - `inotify`: waiting for files to change; fds for tokio's reactor.

mod inotify;
mod pipes;
mod process;

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use inotify::{async_fd, is_exhausted, poll_readable, Event as InotifyEvent, Inotify, OwnsFd};
pub use pipes::*;
pub use process::*;

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

/// Give `file` `len` bytes of real disk space now (not a sparse hole).
pub fn preallocate(file: &std::fs::File, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a valid fd; posix_fallocate takes plain integers.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Take an exclusive flock on `file`: waiting asleep in the kernel's queue
/// if `wait`, else only if it is free (false: someone else holds it). Locks
/// of separate opens exclude each other even inside one process.
pub fn lock_exclusive(file: &std::fs::File, wait: bool) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
    loop {
        // SAFETY: a valid fd; flock takes plain integers.
        match cvt(unsafe { libc::flock(file.as_raw_fd(), op) }) {
            Ok(_) => return Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

/// Release what `lock_exclusive` took.
pub fn unlock(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid fd; unlocking cannot fail on one.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
}

/// The width of the terminal on stdout, if stdout is one.
pub fn terminal_columns() -> Option<u16> {
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we own.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col)
}

/// A moment (ms since the epoch) in local time: "2026-12-02 14:03:12".
pub fn local_time(ms: i64) -> String {
    let secs = (ms.div_euclid(1000)) as libc::time_t;
    // SAFETY: localtime_r fills the tm we own from the time_t we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return String::new();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// SIGINT as a file descriptor: blocked for the process, readable when
/// Ctrl-C is pressed, so a waiter that polls files hears it too. Only for a
/// single-threaded command (the mask is this thread's).
pub fn interrupt_fd() -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: the sigset is ours and initialised by sigemptyset before use;
    // signalfd returns a new fd that we own.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut mask);
        libc::sigaddset(&mut mask, libc::SIGINT);
        cvt(libc::pthread_sigmask(libc::SIG_BLOCK, &mask, std::ptr::null_mut()))?;
        let fd = cvt(libc::signalfd(-1, &mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK))?;
        Ok(std::os::fd::OwnedFd::from_raw_fd(fd))
    }
}

/// Consume what a signalfd holds; how many signals it held.
pub fn drain_signals(fd: std::os::fd::BorrowedFd<'_>) -> usize {
    use std::os::fd::AsRawFd;
    let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
    let mut count = 0;
    // SAFETY: info is valid for its length; a non-blocking read ends with EAGAIN.
    while unsafe { libc::read(fd.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) } == info.len() as isize {
        count += 1;
    }
    count
}

/// Send this process's stderr to /dev/null.
pub fn silence_stderr() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto fd 2 of an fd we own; std's stderr is unbuffered.
        unsafe { libc::dup2(null.as_raw_fd(), libc::STDERR_FILENO) };
    }
}
