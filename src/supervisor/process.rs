//! How a supervisor runs a task's processes: start, signal, wait. Behind one
//! small trait, so that another way to run a task (a `systemd-run` scope, a
//! remote host) could be added without touching the store, the queue or the
//! output capture. `ProcessGroup` is the one there is: the task's command in
//! a process group of its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncWrite};

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
}

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
    /// Does any process of the task remain?
    fn any_left(&self) -> bool;
    /// How the task's main process ended.
    fn wait(&mut self) -> impl Future<Output = io::Result<Exit>> + Send;
}

/// The task's command in a process group of its own (pgid = its pid), so
/// that one signal reaches it and every child that stayed in the group.
pub struct ProcessGroup {
    child: tokio::process::Child,
    pgid: u32,
}

impl TaskProcesses for ProcessGroup {
    fn start(spec: &Spec<'_>) -> Result<(Self, Pipes), String> {
        let (program, args): (&str, &[String]) = match spec.command {
            CommandSpec::Shell(s) => ("/bin/sh", std::slice::from_ref(s)),
            CommandSpec::Argv(argv) => (&argv[0], &argv[1..]),
        };
        let mut cmd = tokio::process::Command::new(program);
        if matches!(spec.command, CommandSpec::Shell(_)) {
            cmd.arg("-c");
        }
        cmd.args(args);
        if !spec.base_env.is_empty() {
            cmd.env_clear().envs(spec.base_env);
        }
        cmd.envs(spec.env)
            .env("ERRAND_TASK_ID", spec.task_id)
            .current_dir(spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {program} in {}: {e}", spec.cwd))?;
        let pgid = child.id().ok_or("the task exited before it could be supervised")?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("the task's pipes are missing".into());
        };
        // Big pipes mean fewer wake-ups for chatty tasks.
        crate::sys::grow_pipe(&stdout, 1 << 20);
        crate::sys::grow_pipe(&stderr, 1 << 20);
        let pipes = Pipes { stdin: Box::new(stdin), stdout: Box::new(stdout), stderr: Box::new(stderr) };
        Ok((ProcessGroup { child, pgid }, pipes))
    }

    fn pid(&self) -> u32 {
        self.pgid
    }

    fn stop(&self, how: Stop) {
        let signal = match how {
            Stop::Term => libc::SIGTERM,
            Stop::Kill => libc::SIGKILL,
        };
        if let Err(e) = crate::sys::kill_group(self.pgid, signal) {
            tracing::warn!(pgid = self.pgid, "cannot signal the task: {e}");
        }
    }

    fn any_left(&self) -> bool {
        crate::sys::group_alive(self.pgid)
    }

    async fn wait(&mut self) -> io::Result<Exit> {
        let status = self.child.wait().await?;
        match (status.code(), status.signal()) {
            (Some(code), _) => Ok(Exit::Code(code)),
            (None, Some(signal)) => Ok(Exit::Signal(signal)),
            (None, None) => Err(io::Error::other(format!("unknown exit status {status}"))),
        }
    }
}
