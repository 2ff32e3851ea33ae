//! The supervisor: a detached `errand __worker` process (its own session)
//! that claims the oldest queued task, runs it in its own process group,
//! captures its output, records its outcome, and claims the next one until
//! the queue is empty. It outlives whatever client started it, so quitting
//! an editor or SIGKILLing `errand serve` loses nothing.
//!
//! Each running task has a control FIFO (`run/ID.ctl`) through which any
//! client sends it stdin, closes its stdin, or cancels it. The FIFO exists
//! only while its supervisor reads it, so a frame can never reach the wrong
//! task.

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;

use crate::config::{Config, Paths};
use crate::error::{Error, IoContext, Result};
use crate::notify;
use crate::output::{Capture, LogFiles, Stream};
use crate::store::{Outcome, Store, WorkerId};
use crate::task::{now_ms, CommandSpec, Task};

/// Frames on the control FIFO: kind, u16 length, payload. A whole frame is
/// at most PIPE_BUF bytes, so concurrent senders never interleave inside one.
const FRAME_INPUT: u8 = 1;
const FRAME_EOF: u8 = 2;
const FRAME_CANCEL: u8 = 3;
const FRAME_MAX_PAYLOAD: usize = 4096 - 3;

fn ctl_path(paths: &Paths, id: &str) -> PathBuf {
    paths.run.join(format!("{id}.ctl"))
}

/// Start a supervisor process, detached from the caller's session. The
/// caller owns the returned child (a short-lived CLI may simply drop it; a
/// long-lived one must reap it).
pub fn spawn_worker() -> Result<std::process::Child> {
    let exe = std::env::current_exe().context(|| "cannot find the errand executable".to_owned())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("__worker").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).current_dir("/");
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(crate::sys::setsid);
    }
    cmd.spawn().context(|| "cannot start a task supervisor".to_owned())
}

/// The body of `errand __worker`.
pub fn run_worker(paths: &Paths) -> Result<()> {
    let config = Config::load(paths)?;
    let store = Store::open(paths)?;
    let me = WorkerId::current();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "cannot start the async runtime".to_owned())?;
    // SIGTERM to a supervisor (a shutdown, a user's kill) cancels its task
    // properly and records it, instead of losing it.
    let mut sigterm = runtime
        .block_on(async { signal(SignalKind::terminate()) })
        .context(|| "cannot handle SIGTERM".to_owned())?;
    let mut stopping = false;
    let mut finished: Option<(String, Outcome)> = None;
    loop {
        let next = record_and_claim(&store, finished.as_ref(), &me, config.parallel, !stopping);
        notify::touch(paths);
        let Some(task) = next else { break };
        tracing::info!(task = %task.id, "starting");
        let outcome = runtime.block_on(run_task(paths, &store, &config, &task, &mut sigterm, &mut stopping));
        tracing::info!(task = %task.id, code = ?outcome.exit_code, signal = ?outcome.signal, "ended");
        finished = Some((task.id, outcome));
    }
    // The queue drained: a quiet moment to keep history within its limits.
    match store.prune(&config.history) {
        Ok(ids) => ids.iter().for_each(|id| LogFiles::of(paths, id).remove()),
        Err(e) => tracing::warn!("prune failed: {e}"),
    }
    Ok(())
}

/// Record the last outcome and claim the next task. A busy or full store is
/// retried for a while: an outcome is worth waiting for.
fn record_and_claim(
    store: &Store,
    finished: Option<&(String, Outcome)>,
    me: &WorkerId,
    limit: u32,
    claim: bool,
) -> Option<Task> {
    let finished = finished.map(|(id, o)| (id.as_str(), o));
    for attempt in 0..50 {
        match store.finish_and_claim(finished, me, limit, claim) {
            Ok(next) => return next,
            Err(e) => {
                tracing::error!("cannot record the outcome (attempt {attempt}): {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    None
}

fn failed_to_start(capture: Option<&mut Capture>, message: String) -> Outcome {
    if let Some(c) = capture {
        c.write(Stream::Stderr, format!("errand: {message}\n").as_bytes());
    }
    Outcome { error: Some(message), ended_at: now_ms(), ..Outcome::default() }
}

async fn run_task(
    paths: &Paths,
    store: &Store,
    config: &Config,
    task: &Task,
    sigterm: &mut Signal,
    stopping: &mut bool,
) -> Outcome {
    let mut capture = match Capture::create(paths, &task.id) {
        Ok(c) => c,
        Err(e) => return failed_to_start(None, e.to_string()),
    };
    // The FIFO exists before the cancel check below: a cancel request made
    // before it existed is seen in the store, one made after reaches the FIFO.
    let ctl = ctl_path(paths, &task.id);
    let _ = std::fs::remove_file(&ctl);
    if let Err(e) = crate::sys::mkfifo(&ctl) {
        return failed_to_start(Some(&mut capture), format!("cannot create {}: {e}", ctl.display()));
    }
    let _cleanup = RemoveOnDrop(ctl.clone());
    let ctl_reader = tokio::net::unix::pipe::OpenOptions::new().read_write(true).open_receiver(&ctl);
    let ctl_reader = match ctl_reader {
        Ok(r) => r,
        Err(e) => return failed_to_start(Some(&mut capture), format!("cannot open {}: {e}", ctl.display())),
    };
    let base_env = store.base_env(&task.id).unwrap_or_default();
    let mut cmd = match &task.command {
        CommandSpec::Shell(s) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(s);
            c
        }
        CommandSpec::Argv(argv) => {
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    if !base_env.is_empty() {
        cmd.env_clear().envs(&base_env);
    }
    cmd.envs(&task.env)
        .env("ERRAND_TASK_ID", &task.id)
        .current_dir(&task.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if store.cancel_requested(&task.id).unwrap_or(false) {
        return Outcome { cancelled: true, ended_at: now_ms(), ..Outcome::default() };
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let what = match &task.command {
                CommandSpec::Shell(_) => "/bin/sh".to_owned(),
                CommandSpec::Argv(a) => a[0].clone(),
            };
            return failed_to_start(Some(&mut capture), format!("cannot start {what} in {}: {e}", task.cwd));
        }
    };
    let Some(pid) = child.id() else {
        return failed_to_start(Some(&mut capture), "the task exited before it could be supervised".into());
    };
    if let Err(e) = store.set_pid(&task.id, pid) {
        tracing::warn!("cannot record pid: {e}");
    }
    notify::touch(paths);

    let (Some(mut stdout), Some(mut stderr), Some(stdin)) = (child.stdout.take(), child.stderr.take(), child.stdin.take())
    else {
        return failed_to_start(Some(&mut capture), "the task's pipes are missing".into());
    };
    // Big pipes mean fewer wake-ups for chatty tasks.
    crate::sys::grow_pipe(&stdout, 1 << 20);
    crate::sys::grow_pipe(&stderr, 1 << 20);

    let (cancel_tx, mut cancel_rx) = mpsc::channel::<()>(1);
    let control = tokio::spawn(serve_control(ctl_reader, stdin, cancel_tx));

    let mut out_buf = vec![0u8; 64 << 10];
    let mut err_buf = vec![0u8; 64 << 10];
    let (mut out_open, mut err_open) = (true, true);
    let grace = config.cancel_grace();
    let mut kill_at: Option<tokio::time::Instant> = None;
    let start_cancel = |kill_at: &mut Option<tokio::time::Instant>| {
        if kill_at.is_none() {
            let _ = crate::sys::kill_group(pid, libc::SIGTERM);
            *kill_at = Some(tokio::time::Instant::now() + grace);
        }
    };
    let status = loop {
        tokio::select! {
            r = stdout.read(&mut out_buf), if out_open => match r {
                Ok(n) if n > 0 => capture.write(Stream::Stdout, &out_buf[..n]),
                _ => out_open = false,
            },
            r = stderr.read(&mut err_buf), if err_open => match r {
                Ok(n) if n > 0 => capture.write(Stream::Stderr, &err_buf[..n]),
                _ => err_open = false,
            },
            status = child.wait() => break status,
            Some(()) = cancel_rx.recv(), if kill_at.is_none() => start_cancel(&mut kill_at),
            _ = sigterm.recv(), if kill_at.is_none() => {
                *stopping = true;
                start_cancel(&mut kill_at);
            }
            () = sleep_until(kill_at) => {
                let _ = crate::sys::kill_group(pid, libc::SIGKILL);
                kill_at = Some(tokio::time::Instant::now() + Duration::from_secs(3600));
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
        while crate::sys::group_alive(pid) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = crate::sys::kill_group(pid, libc::SIGKILL);
    }
    control.abort();

    let mut error = capture.error().map(str::to_owned);
    let status = match status {
        Ok(s) => Some(s),
        Err(e) => {
            error.get_or_insert(format!("cannot wait for the task: {e}"));
            None
        }
    };
    Outcome {
        exit_code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        error,
        ended_at,
        cancelled,
    }
}

/// Read a pipe to its end; give up after a short silence (a background
/// child may hold it open forever).
async fn drain(pipe: &mut (impl tokio::io::AsyncRead + Unpin), buf: &mut [u8], capture: &mut Capture, stream: Stream) {
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(20), pipe.read(buf)).await {
        if n == 0 {
            break;
        }
        capture.write(stream, &buf[..n]);
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Read control frames; feed stdin in order (a task that does not read its
/// stdin holds up later input, never the cancel signal of another task).
async fn serve_control(
    mut fifo: tokio::net::unix::pipe::Receiver,
    stdin: tokio::process::ChildStdin,
    cancel: mpsc::Sender<()>,
) {
    let mut stdin = Some(stdin);
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = match fifo.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 3 {
            let len = usize::from(u16::from_le_bytes([buf[1], buf[2]]));
            if buf.len() < 3 + len {
                break;
            }
            let kind = buf[0];
            let payload: Vec<u8> = buf.drain(..3 + len).skip(3).collect();
            match kind {
                FRAME_INPUT => {
                    if let Some(w) = stdin.as_mut() {
                        if w.write_all(&payload).await.and(w.flush().await).is_err() {
                            stdin = None; // the task closed its stdin
                        }
                    }
                }
                FRAME_EOF => stdin = None,
                FRAME_CANCEL => {
                    let _ = cancel.try_send(());
                }
                _ => buf.clear(), // garbage: resynchronise on the next write
            }
        }
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a client can say to a running task.
pub enum Control<'a> {
    Input(&'a [u8]),
    Eof,
    Cancel,
}

/// Send a control message to a task's supervisor. Fails with NotRunning if
/// no supervisor listens (the task is not running).
pub fn send(paths: &Paths, id: &str, status: &str, message: Control<'_>) -> Result<()> {
    let path = ctl_path(paths, id);
    let mut fifo = crate::sys::open_fifo_writer(&path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENXIO) | Some(libc::ENOENT) => Error::NotRunning { id: id.to_owned(), status: status.to_owned() },
        _ => Error::io(format!("cannot open {}", path.display()), e),
    })?;
    let mut write_frame = |kind: u8, payload: &[u8]| {
        let mut frame = Vec::with_capacity(3 + payload.len());
        frame.push(kind);
        frame.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        frame.extend_from_slice(payload);
        fifo.write_all(&frame).context(|| format!("cannot write to task {id}"))
    };
    match message {
        Control::Input(data) => data.chunks(FRAME_MAX_PAYLOAD).try_for_each(|c| write_frame(FRAME_INPUT, c)),
        Control::Eof => write_frame(FRAME_EOF, &[]),
        Control::Cancel => write_frame(FRAME_CANCEL, &[]),
    }
}
