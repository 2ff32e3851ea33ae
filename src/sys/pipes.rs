//! FIFOs, pipe sizes, and the stdio of `errand serve`.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::{cstr, cvt};

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
