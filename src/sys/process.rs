//! Processes: identity across pid reuse, signals, reaping, the tree of a
//! supervisor's descendants.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use super::cvt;

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

/// Make this process a child subreaper: orphaned descendants (a daemon that
/// double-forked, a `setsid` child whose parent died) become its children
/// instead of init's, so it can find, stop and reap all of them.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

/// For `pre_exec` of a task's leader: SIGKILL it when its supervisor
/// (`parent`) dies, and exit at once if that already happened.
pub fn die_with_parent(parent: u32) -> io::Result<()> {
    // SAFETY: prctl and getppid are async-signal-safe and take integers only.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })?;
    // SAFETY: as above.
    if unsafe { libc::getppid() } as u32 != parent {
        return Err(io::Error::other("the supervisor is gone"));
    }
    Ok(())
}

/// For `pre_exec`: the file mode mask a task runs with.
pub fn set_umask(mask: u32) {
    // SAFETY: umask is async-signal-safe and cannot fail.
    unsafe {
        libc::umask(mask as libc::mode_t);
    }
}

/// This process's file mode mask (read by setting it back).
pub fn current_umask() -> u32 {
    // SAFETY: umask cannot fail; the mask is restored at once (errand
    // starts no thread that creates files in between).
    unsafe {
        let mask = libc::umask(0o077);
        libc::umask(mask);
        mask as u32
    }
}

/// Send `signal` to one process. Ok(false) if it does not exist.
pub fn kill_process(pid: u32, signal: libc::c_int) -> io::Result<bool> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    if pid <= 1 {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: kill has no memory-safety preconditions.
    match cvt(unsafe { libc::kill(pid, signal) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
        Err(e) => Err(e),
    }
}

/// How a reaped child ended: its exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signalled(i32),
}

/// Reap every child that has ended, without blocking.
pub fn reap_children() -> Vec<(u32, WaitStatus)> {
    let mut reaped = Vec::new();
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return reaped; // 0: none ended yet; -1: no children (ECHILD) or EINTR
        }
        let how = if libc::WIFEXITED(status) {
            WaitStatus::Exited(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            WaitStatus::Signalled(libc::WTERMSIG(status))
        } else {
            continue; // stopped or continued: not an end
        };
        reaped.push((pid as u32, how));
    }
}

/// One entry of the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessEntry {
    pub pid: u32,
    pub ppid: u32,
    /// Ended, not yet reaped: it runs nothing.
    pub zombie: bool,
}

/// Every process this user can see, from /proc.
pub fn process_table() -> Vec<ProcessEntry> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Field 2 (the name) may hold spaces and parens: skip past the last ')'.
            let mut rest = stat[stat.rfind(')')? + 2..].split(' ');
            let state = rest.next()?;
            let ppid = rest.next()?.parse().ok()?;
            Some(ProcessEntry { pid, ppid, zombie: state == "Z" })
        })
        .collect()
}

/// The living (not zombie) descendants of `root`, parents before children,
/// leaving out the processes in `except` and their own descendants.
pub fn descendants(root: u32, except: &[u32]) -> Vec<u32> {
    let table = process_table();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            table.iter().filter(|p| p.ppid == parent && p.pid != root && !except.contains(&p.pid)).map(|p| p.pid),
        );
        i += 1;
    }
    let zombies: Vec<u32> = table.iter().filter(|p| p.zombie).map(|p| p.pid).collect();
    found.into_iter().skip(1).filter(|p| !zombies.contains(p)).collect()
}

/// The processes whose environment holds `name=value` exactly: the marker
/// every process of a task carries (ERRAND_TASK_ID), however it left its
/// parent's tree. Other users' processes cannot be read and are not listed.
pub fn processes_with_env(name: &str, value: &str) -> Vec<u32> {
    let marker = format!("{name}={value}");
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let me = std::process::id();
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == marker.as_bytes()))
        })
        .collect()
}

/// Has this process any child, living or not yet reaped? Cheap: one
/// waitid that neither blocks nor reaps.
pub fn has_children() -> bool {
    // SAFETY: siginfo_t is plain data, written by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer; WNOWAIT leaves any child unreaped.
    let r = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT) };
    !(r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD))
}

/// The process group of a process, if it exists.
pub fn process_group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the name: state, ppid, pgrp.
    stat[stat.rfind(')')? + 2..].split(' ').nth(2)?.parse().ok()
}
