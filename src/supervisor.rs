//! The supervisor: a detached `errand __worker` process (its own session)
//! that claims the oldest queued task, runs it in its own process group,
//! captures its output, records its outcome, and claims the next one until
//! the queue is empty. It outlives whatever client started it, so quitting
//! an editor or SIGKILLing `errand serve` loses nothing.
//!
//! Each supervisor has a control FIFO (`run/wPID.ctl`) through which any
//! client sends its running task stdin, closes that stdin, or cancels it.
//! The FIFO exists only while its supervisor reads it, and every frame names
//! its task, so a frame can never reach the wrong task.

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;

use crate::config::{Config, Paths};
use crate::error::{Error, IoContext, Result};
use crate::notify;
use crate::output::{Capture, LogFiles, Stream};
use crate::store::{Outcome, Store, WhenIdle, WorkerId};
use crate::task::{now_ms, CommandSpec, Task};

/// Frames on the control FIFO: kind, id length, u16 payload length, task
/// id, payload. A whole frame is at most PIPE_BUF bytes, so concurrent
/// senders never interleave inside one.
const FRAME_INPUT: u8 = 1;
const FRAME_EOF: u8 = 2;
const FRAME_CANCEL: u8 = 3;
const FRAME_HEADER: usize = 4;
const PIPE_BUF: usize = 4096;
/// How long a supervisor with nothing to do waits for another task before
/// it exits: long enough to carry a burst of short tasks, short enough that
/// no errand process stays around once work stops.
const LINGER: Duration = Duration::from_secs(2);

fn ctl_path(paths: &Paths, worker_pid: u32) -> PathBuf {
    paths.run.join(format!("w{worker_pid}.ctl"))
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
    // The control FIFO lives as long as this supervisor: it exists before
    // any task is claimed, so a client that finds a task running finds it.
    let ctl = ctl_path(paths, me.pid);
    let _ = std::fs::remove_file(&ctl);
    crate::sys::mkfifo(&ctl).context(|| format!("cannot create {}", ctl.display()))?;
    let _cleanup = RemoveOnDrop(ctl.clone());
    let mut control = runtime
        .block_on(async {
            let fifo = tokio::net::unix::pipe::OpenOptions::new().read_write(true).open_receiver(&ctl)?;
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(read_control(fifo, tx));
            Ok::<_, std::io::Error>(rx)
        })
        .context(|| format!("cannot open {}", ctl.display()))?;
    // Watch before claiming, so a task queued right after an empty claim wakes us.
    let waiter = notify::Waiter::new(paths)?;
    let mut stopping = false;
    let mut finished: Option<(String, Outcome)> = None;
    let mut idle_since: Option<Instant> = None;
    loop {
        let lingering = idle_since.is_some_and(|t| t.elapsed() < LINGER);
        let when_idle = if stopping || (idle_since.is_some() && !lingering) { WhenIdle::Exit } else { WhenIdle::Linger };
        let next = record_and_claim(&store, finished.take().as_ref(), &me, config.parallel, when_idle);
        notify::touch(paths);
        match next {
            Some(task) => {
                idle_since = None;
                tracing::info!(task = %task.id, "starting");
                let outcome = runtime.block_on(run_task(paths, &store, &config, &task, &mut control, &mut sigterm, &mut stopping));
                tracing::info!(task = %task.id, code = ?outcome.exit_code, signal = ?outcome.signal, "ended");
                finished = Some((task.id, outcome));
            }
            None if when_idle == WhenIdle::Exit => break,
            None => {
                let since = *idle_since.get_or_insert_with(Instant::now);
                // Sleep until a task is queued or the linger time is up.
                // Most changes are not new tasks: check with a read before
                // trying a claim (a write).
                while since.elapsed() < LINGER && !store.has_queued().unwrap_or(true) {
                    let _ = waiter.wait(Some(LINGER.saturating_sub(since.elapsed())));
                }
            }
        }
    }
    // The queue drained: a quiet moment to keep history within its limits.
    match store.prune(&config.history) {
        Ok(ids) => ids.iter().for_each(|id| LogFiles::of(paths, id).remove()),
        Err(e) => tracing::warn!("prune failed: {e}"),
    }
    if let Err(e) = store.checkpoint() {
        tracing::warn!("checkpoint failed: {e}");
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
    when_idle: WhenIdle,
) -> Option<Task> {
    let finished = finished.map(|(id, o)| (id.as_str(), o));
    for attempt in 0..50 {
        match store.finish_and_claim(finished, me, limit, when_idle) {
            Ok(next) => return next,
            Err(e) => {
                tracing::error!("cannot record the outcome (attempt {attempt}): {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    None
}

fn failed_to_start(capture: &mut Capture, message: String) -> Outcome {
    capture.write(Stream::Stderr, format!("errand: {message}\n").as_bytes());
    Outcome { error: Some(message), ended_at: now_ms(), ..Outcome::default() }
}

async fn run_task(
    paths: &Paths,
    store: &Store,
    config: &Config,
    task: &Task,
    control: &mut mpsc::Receiver<(String, Message)>,
    sigterm: &mut Signal,
    stopping: &mut bool,
) -> Outcome {
    let mut capture = Capture::new(paths, &task.id);
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
            return failed_to_start(&mut capture, format!("cannot start {what} in {}: {e}", task.cwd));
        }
    };
    let Some(pid) = child.id() else {
        return failed_to_start(&mut capture, "the task exited before it could be supervised".into());
    };
    if let Err(e) = store.set_pid(&task.id, pid) {
        tracing::warn!("cannot record pid: {e}");
    }
    notify::touch(paths);

    let (Some(mut stdout), Some(mut stderr), Some(stdin)) = (child.stdout.take(), child.stderr.take(), child.stdin.take())
    else {
        return failed_to_start(&mut capture, "the task's pipes are missing".into());
    };
    // Big pipes mean fewer wake-ups for chatty tasks.
    crate::sys::grow_pipe(&stdout, 1 << 20);
    crate::sys::grow_pipe(&stderr, 1 << 20);

    // Input is queued for the task without bound: a task that does not read
    // its stdin must not stall the capture of its output.
    let (stdin_tx, stdin_rx) = mpsc::unbounded_channel();
    let feeder = tokio::spawn(feed_stdin(stdin, stdin_rx));

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
            Some((id, message)) = control.recv() => match message {
                // Frames for a task this supervisor ran before: stale, dropped.
                _ if id != task.id => {}
                Message::Input(data) => drop(stdin_tx.send(Some(data))),
                Message::Eof => drop(stdin_tx.send(None)),
                Message::Cancel => start_cancel(&mut kill_at),
            },
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
    feeder.abort();

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

/// What a client can say to a running task.
#[derive(Debug)]
pub enum Message {
    Input(Vec<u8>),
    Eof,
    Cancel,
}

/// Read frames from the control FIFO for as long as the supervisor lives.
async fn read_control(mut fifo: tokio::net::unix::pipe::Receiver, to_task: mpsc::Sender<(String, Message)>) {
    let mut buf: Vec<u8> = Vec::with_capacity(2 * PIPE_BUF);
    let mut chunk = vec![0u8; 2 * PIPE_BUF];
    loop {
        let n = match fifo.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= FRAME_HEADER {
            let id_len = usize::from(buf[1]);
            let len = usize::from(u16::from_le_bytes([buf[2], buf[3]]));
            if FRAME_HEADER + id_len + len > PIPE_BUF {
                buf.clear(); // garbage: frames are never this long
                break;
            }
            if buf.len() < FRAME_HEADER + id_len + len {
                break;
            }
            let frame: Vec<u8> = buf.drain(..FRAME_HEADER + id_len + len).collect();
            let id = String::from_utf8_lossy(&frame[FRAME_HEADER..FRAME_HEADER + id_len]).into_owned();
            let message = match frame[0] {
                FRAME_INPUT => Message::Input(frame[FRAME_HEADER + id_len..].to_vec()),
                FRAME_EOF => Message::Eof,
                FRAME_CANCEL => Message::Cancel,
                _ => continue,
            };
            if to_task.send((id, message)).await.is_err() {
                return;
            }
        }
    }
}

/// Write queued input to the task's stdin, in order; None closes it.
async fn feed_stdin(stdin: tokio::process::ChildStdin, mut input: mpsc::UnboundedReceiver<Option<Vec<u8>>>) {
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

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Send a message to a running task through its supervisor's FIFO. Fails
/// with NotRunning if the task is not running or nobody listens.
pub fn send(paths: &Paths, store: &Store, id: &str, message: Message) -> Result<()> {
    let task = store.get(id)?;
    let not_running = || Error::NotRunning { id: id.to_owned(), status: task.status.to_string() };
    let worker = store.worker_of(id)?.ok_or_else(not_running)?;
    let path = ctl_path(paths, worker);
    let mut fifo = crate::sys::open_fifo_writer(&path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENXIO) | Some(libc::ENOENT) => not_running(),
        _ => Error::io(format!("cannot open {}", path.display()), e),
    })?;
    let mut write_frame = |kind: u8, payload: &[u8]| {
        let mut frame = Vec::with_capacity(FRAME_HEADER + id.len() + payload.len());
        frame.extend_from_slice(&[kind, id.len() as u8]);
        frame.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        frame.extend_from_slice(id.as_bytes());
        frame.extend_from_slice(payload);
        fifo.write_all(&frame).context(|| format!("cannot write to task {id}"))
    };
    match message {
        Message::Input(data) => {
            data.chunks(PIPE_BUF - FRAME_HEADER - id.len()).try_for_each(|c| write_frame(FRAME_INPUT, c))
        }
        Message::Eof => write_frame(FRAME_EOF, &[]),
        Message::Cancel => write_frame(FRAME_CANCEL, &[]),
    }
}
