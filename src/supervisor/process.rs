//! How a supervisor runs a task's processes: start, signal, wait. Behind one
//! small trait, so that another way to run a task (a `systemd-run` scope, a
//! remote host) could be added without touching the store, the queue or the
//! output capture. `ProcessGroup` is the one there is: the task's command in
//! a process group of its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::task::{CommandSpec, Exit};

/// What to start.
pub struct Spec<'a> {
    pub task_id: &'a str,
    pub command: &'a CommandSpec,
    pub cwd: &'a str,
    /// The submitter's environment (empty: this process's own).
    pub base_env: &'a BTreeMap<String, String>,
    /// The task's overrides on top of it.
    pub env: &'a BTreeMap<String, String>,
    /// The file mode mask (the submitter's; default 022).
    pub umask: Option<u32>,
    /// Where the task may leave a JSON result (`$ERRAND_RESULT`).
    pub result_file: &'a Path,
}

/// The variable every process of a task carries: how the task's processes
/// are found when its supervisor is gone.
pub const MARKER: &str = "ERRAND_TASK_ID";

/// The task's standard streams, seen from the supervisor.
pub struct Pipes {
    pub stdin: Box<dyn AsyncWrite + Unpin + Send>,
    pub stdout: Box<dyn AsyncRead + Unpin + Send>,
    pub stderr: Box<dyn AsyncRead + Unpin + Send>,
}

/// How to stop a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ask (SIGTERM).
    Term,
    /// Insist (SIGKILL).
    Kill,
}

/// A running task's processes.
pub trait TaskProcesses: Sized {
    /// Start the task. The error is a sentence for the user.
    fn start(spec: &Spec<'_>) -> Result<(Self, Pipes), String>;
    /// The id recorded as the task's pid.
    fn pid(&self) -> u32;
    /// Signal every process of the task.
    fn stop(&self, how: Stop);
    /// Stop every process of the task where it is (SIGSTOP), or let it go
    /// on (SIGCONT).
    fn suspend(&self, paused: bool);
    /// Does any process of the task remain (zombies aside)?
    fn any_left(&mut self) -> bool;
    /// How the task's main process ended.
    fn wait(&mut self) -> impl Future<Output = io::Result<Exit>> + Send;
    /// Has the main process ended (whether or not `wait` saw it yet)?
    fn exited(&mut self) -> bool;
}

/// The task's command in a process group of its own (pgid = its pid),
/// under a supervisor that is a child subreaper: every process the task
/// starts, `setsid` and double-forked ones included, stays a descendant of
/// the supervisor, so all of them can be found, stopped and reaped. The
/// leader dies with its supervisor (PR_SET_PDEATHSIG); whoever declares the
/// task lost stops the rest by its marker (see `store::liveness`).
pub struct ProcessGroup {
    leader: u32,
    supervisor: u32,
    exit: Option<Exit>,
    sigchld: Signal,
}

impl TaskProcesses for ProcessGroup {
    fn start(spec: &Spec<'_>) -> Result<(Self, Pipes), String> {
        let (program, args): (&str, &[String]) = match spec.command {
            CommandSpec::Shell(s) => ("/bin/sh", std::slice::from_ref(s)),
            CommandSpec::Argv(argv) => (&argv[0], &argv[1..]),
        };
        let mut cmd = std::process::Command::new(program);
        if matches!(spec.command, CommandSpec::Shell(_)) {
            cmd.arg("-c");
        }
        cmd.args(args);
        if !spec.base_env.is_empty() {
            cmd.env_clear().envs(spec.base_env);
        }
        cmd.envs(spec.env).env(MARKER, spec.task_id).env(crate::task::result::VARIABLE, spec.result_file);
        // The errand that runs the task, for `"$ERRAND_BIN" progress 40`
        // when errand is not on the task's PATH.
        if let Ok(exe) = std::env::current_exe() {
            cmd.env("ERRAND_BIN", exe);
        }
        cmd.current_dir(spec.cwd).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let supervisor = std::process::id();
        let umask = spec.umask.unwrap_or(0o022);
        // SAFETY: the closure only makes async-signal-safe calls (prctl,
        // getppid, umask) and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(move || {
                crate::sys::die_with_parent(supervisor)?;
                crate::sys::set_umask(umask);
                Ok(())
            });
        }
        // SIGCHLD is watched before the task can end, so no end is missed.
        let sigchld = signal(SignalKind::child()).map_err(|e| format!("cannot watch for the task's end: {e}"))?;
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {program} in {}: {e}", spec.cwd))?;
        let leader = child.id();
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("the task's pipes are missing".into());
        };
        // Big pipes mean fewer wake-ups for chatty tasks.
        crate::sys::grow_pipe(&stdout, 1 << 20);
        crate::sys::grow_pipe(&stderr, 1 << 20);
        let pipe_err = |e: io::Error| format!("cannot watch the task's pipes: {e}");
        let pipes = Pipes {
            stdin: Box::new(pipe::Sender::from_owned_fd(OwnedFd::from(stdin)).map_err(pipe_err)?),
            stdout: Box::new(pipe::Receiver::from_owned_fd(OwnedFd::from(stdout)).map_err(pipe_err)?),
            stderr: Box::new(pipe::Receiver::from_owned_fd(OwnedFd::from(stderr)).map_err(pipe_err)?),
        };
        // The std Child is only a pid from here: this supervisor reaps it (and
        // every orphan it adopts) itself, on SIGCHLD.
        Ok((ProcessGroup { leader, supervisor, exit: None, sigchld }, pipes))
    }

    fn pid(&self) -> u32 {
        self.leader
    }

    fn stop(&self, how: Stop) {
        let signal = match how {
            Stop::Term => libc::SIGTERM,
            Stop::Kill => libc::SIGKILL,
        };
        if self.exit.is_none() {
            let _ = crate::sys::kill_group(self.leader, signal);
        }
        for pid in crate::sys::descendants(self.supervisor, &super::started()) {
            let _ = crate::sys::kill_process(pid, signal);
        }
    }

    fn suspend(&self, paused: bool) {
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        if self.exit.is_none() {
            let _ = crate::sys::kill_group(self.leader, signal);
        }
        for pid in crate::sys::descendants(self.supervisor, &super::started()) {
            let _ = crate::sys::kill_process(pid, signal);
        }
    }

    fn any_left(&mut self) -> bool {
        self.reap();
        // Without children there are no descendants: every orphan comes back here.
        crate::sys::has_children() && !crate::sys::descendants(self.supervisor, &super::started()).is_empty()
    }

    fn exited(&mut self) -> bool {
        self.reap();
        self.exit.is_some()
    }

    async fn wait(&mut self) -> io::Result<Exit> {
        loop {
            self.reap();
            if let Some(exit) = self.exit {
                return Ok(exit);
            }
            if self.sigchld.recv().await.is_none() {
                return Err(io::Error::other("SIGCHLD is no longer delivered"));
            }
        }
    }
}

impl ProcessGroup {
    /// Reap whatever ended: the leader (its exit is kept) and adopted orphans.
    fn reap(&mut self) {
        for (pid, status) in crate::sys::reap_children() {
            super::forget_started(pid);
            if pid == self.leader {
                self.exit = Some(match status {
                    crate::sys::WaitStatus::Exited(code) => Exit::Code(code),
                    crate::sys::WaitStatus::Signalled(signal) => Exit::Signal(signal),
                });
            }
        }
    }
}
