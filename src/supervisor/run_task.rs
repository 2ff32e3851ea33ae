//! One task, from start to outcome: start its processes, capture their
//! output, feed them input, stop them when asked, and wait for the end.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::signal::unix::Signal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::fifo::Message;
use super::process::{Spec, Stop, TaskProcesses};
use crate::output::{Capture, Stream};
use crate::paths::Paths;
use crate::store::{Outcome, Store};
use crate::task::{now_ms, Task};

/// What a supervisor hands to the task it runs.
pub struct Supervision<'a> {
    pub paths: &'a Paths,
    pub store: &'a Store,
    /// SIGTERM → SIGKILL.
    pub grace: Duration,
    /// Frames from the control FIFO (for any task this supervisor ran).
    pub control: &'a mut mpsc::Receiver<(String, Message)>,
    /// SIGTERM to the supervisor itself.
    pub sigterm: &'a mut Signal,
    /// Set when the supervisor was told to stop: it claims nothing more.
    pub stopping: &'a mut bool,
}

pub async fn run<P: TaskProcesses>(task: &Task, s: Supervision<'_>) -> Outcome {
    let mut capture = Capture::new(s.paths, &task.id);
    let base_env = s.store.base_env(&task.id).unwrap_or_default();
    if s.store.cancel_requested(&task.id).unwrap_or(false) {
        return Outcome { cancelled: true, ended_at: now_ms(), ..Outcome::default() };
    }
    let spec = Spec { task_id: &task.id, command: &task.command, cwd: &task.cwd, base_env: &base_env, env: &task.env };
    let (mut processes, pipes) = match P::start(&spec) {
        Ok(started) => started,
        Err(message) => {
            capture.write(Stream::Stderr, format!("errand: {message}\n").as_bytes());
            return Outcome { error: Some(message), ended_at: now_ms(), ..Outcome::default() };
        }
    };
    if let Err(e) = s.store.set_pid(&task.id, processes.pid()) {
        tracing::warn!("cannot record pid: {e}");
    }
    crate::wakeup::signal(s.paths);

    let (mut stdout, mut stderr) = (pipes.stdout, pipes.stderr);
    // Input is queued for the task without bound: a task that does not read
    // its stdin must not stall the capture of its output.
    let (stdin_tx, stdin_rx) = mpsc::unbounded_channel();
    let feeder = tokio::spawn(feed_stdin(pipes.stdin, stdin_rx));

    let mut out_buf = vec![0u8; 64 << 10];
    let mut err_buf = vec![0u8; 64 << 10];
    let (mut out_open, mut err_open) = (true, true);
    // Set once a cancel started: when SIGKILL follows.
    let mut kill_at: Option<Instant> = None;
    let start_cancel = |processes: &P, kill_at: &mut Option<Instant>| {
        if kill_at.is_none() {
            processes.stop(Stop::Term);
            *kill_at = Some(Instant::now() + s.grace);
        }
    };
    let exit = loop {
        tokio::select! {
            r = stdout.read(&mut out_buf), if out_open => match r {
                Ok(n) if n > 0 => capture.write(Stream::Stdout, &out_buf[..n]),
                _ => out_open = false,
            },
            r = stderr.read(&mut err_buf), if err_open => match r {
                Ok(n) if n > 0 => capture.write(Stream::Stderr, &err_buf[..n]),
                _ => err_open = false,
            },
            exit = processes.wait() => break exit,
            Some((id, message)) = s.control.recv() => match message {
                // Frames for a task this supervisor ran before: stale, dropped.
                _ if id != task.id => {}
                Message::Input(data) => drop(stdin_tx.send(Some(data))),
                Message::Eof => drop(stdin_tx.send(None)),
                Message::Cancel => start_cancel(&processes, &mut kill_at),
            },
            _ = s.sigterm.recv(), if kill_at.is_none() => {
                *s.stopping = true;
                start_cancel(&processes, &mut kill_at);
            }
            () = sleep_until(kill_at) => {
                processes.stop(Stop::Kill);
                kill_at = Some(Instant::now() + Duration::from_secs(3600));
            }
        }
    };
    let ended_at = now_ms();

    // What the task wrote before it exited is still in the pipes. Read it
    // all; stop early only if a background child keeps a pipe open.
    if out_open {
        drain(&mut stdout, &mut out_buf, &mut capture, Stream::Stdout).await;
    }
    if err_open {
        drain(&mut stderr, &mut err_buf, &mut capture, Stream::Stderr).await;
    }

    let cancelled = kill_at.is_some();
    if let Some(deadline) = kill_at {
        // A cancelled task leaves nothing behind: children that outlived the
        // leader get the rest of the grace period, then SIGKILL.
        while processes.any_left() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        processes.stop(Stop::Kill);
    }
    feeder.abort();

    let mut error = capture.error().map(str::to_owned);
    let exit = match exit {
        Ok(exit) => Some(exit),
        Err(e) => {
            error.get_or_insert(format!("cannot wait for the task: {e}"));
            None
        }
    };
    Outcome { exit, error, ended_at, cancelled }
}

/// Read a pipe to its end; give up after a short silence (a background
/// child may hold it open forever).
async fn drain(pipe: &mut (impl AsyncRead + Unpin), buf: &mut [u8], capture: &mut Capture, stream: Stream) {
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(20), pipe.read(buf)).await {
        if n == 0 {
            break;
        }
        capture.write(stream, &buf[..n]);
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Write queued input to the task's stdin, in order; None closes it.
async fn feed_stdin(stdin: impl AsyncWrite + Unpin, mut input: mpsc::UnboundedReceiver<Option<Vec<u8>>>) {
    let mut stdin = Some(stdin);
    while let Some(next) = input.recv().await {
        match (next, stdin.as_mut()) {
            (Some(data), Some(w)) => {
                if w.write_all(&data).await.and(w.flush().await).is_err() {
                    stdin = None; // the task closed its stdin: drop further input
                }
            }
            (None, _) => stdin = None,
            (Some(_), None) => {}
        }
    }
}
