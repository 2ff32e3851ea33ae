//! One task, from start to outcome: start its processes, capture their
//! output, feed them input, stop them when asked, wait for the end, and run
//! it again when a run failed and it retries.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::signal::unix::Signal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::fifo::Message;
use super::process::{Spec, Stop, TaskProcesses};
use crate::config::Config;
use crate::diagnostics::DiagnosticCounts;
use crate::output::{cycle, progress, ready, Capture, LogFiles, Stream};
use crate::paths::Paths;
use crate::store::{Outcome, Store};
use crate::task::{now_ms, result, Attempt, Cycle, Exit, Task};

/// What a supervisor hands to the task it runs.
pub struct Supervision<'a> {
    pub paths: &'a Paths,
    /// To start a supervisor for the tasks a ready task lets start.
    pub config: &'a Config,
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

pub async fn run<P: TaskProcesses>(task: &Task, mut s: Supervision<'_>) -> Outcome {
    let mut capture = Capture::new(s.paths, &task.id);
    let base_env = s.store.base_env(&task.id).unwrap_or_default();
    let mut failed_runs = task.attempts.len() as u32;
    // Where the current run's output starts: its messages are the ones counted.
    let mut run_from = 0;
    // A client closed the task's input: a rerun's input is closed from the start.
    let mut input_closed = false;
    loop {
        if s.store.cancel_requested(&task.id).unwrap_or(false) {
            let output_bytes = (failed_runs > 0).then(|| capture.bytes());
            return Outcome { cancelled: true, ended_at: now_ms(), output_bytes, ..Outcome::default() };
        }
        let (ran, back) = run_once::<P>(task, &mut s, capture, &base_env, input_closed).await;
        capture = back;
        input_closed |= ran.input_closed;
        // A long-running task that ends by itself failed, whatever its exit.
        let failed =
            !ran.cancelled && (ran.timed_out || ran.exit != Some(Exit::Code(0)) || task.ready_pattern.is_some());
        let rerun = failed
            && failed_runs < task.retries
            && !*s.stopping
            && !s.store.cancel_requested(&task.id).unwrap_or(false);
        if !rerun {
            return outcome(s.paths, s.store, task, ran, &capture, run_from);
        }
        failed_runs += 1;
        let attempt = Attempt {
            started_at: ran.started_at,
            ended_at: ran.ended_at,
            exit_code: ran.exit.and_then(Exit::code),
            signal: ran.exit.and_then(Exit::signal),
            error: ran.error.clone().or_else(|| ran.ended_itself.clone()),
            output_end: capture.position(),
        };
        if let Err(e) = s.store.record_attempt(&task.id, &attempt) {
            tracing::warn!(task = %task.id, "cannot record the failed run: {e}");
        }
        let delay = Duration::from_millis(task.retry_delay_ms.unwrap_or(0));
        let when = if delay.is_zero() {
            String::new()
        } else {
            format!(" in {}", crate::duration::show(delay.as_millis() as u64))
        };
        let note = format!(
            "errand: run {failed_runs} of {} failed ({}); run {} starts{when}\n",
            task.retries + 1,
            crate::task::why_failed(ran.exit, ran.error.as_deref().or(ran.ended_itself.as_deref())),
            failed_runs + 1,
        );
        capture.write(Stream::Stderr, note.as_bytes());
        crate::wakeup::signal(s.paths);
        if !pause_before_rerun(&task.id, delay, &mut s).await {
            // Cancelled while it waited: the outcome is the run that failed last.
            return Outcome { cancelled: true, ..outcome(s.paths, s.store, task, ran, &capture, run_from) };
        }
        run_from = capture.position();
    }
}

/// The outcome of a task whose last run was `ran`, its output from `run_from`,
/// with the result that run left (kept in the store now).
fn outcome(paths: &Paths, store: &Store, task: &Task, ran: Ran, capture: &Capture, run_from: u64) -> Outcome {
    let output_bytes = capture.bytes();
    let result_file = LogFiles::of(paths, &task.id).result;
    let mut result = result::read(&result_file);
    result::clear(&result_file);
    if let result::Left::Value(json) = &result {
        if let Err(e) = store.keep_result(&task.id, json) {
            tracing::warn!(task = %task.id, "cannot store the result: {e}");
            result = result::Left::Refused(format!("cannot store the result: {e}"));
        }
    }
    let long_running_end = ran.ended_itself.clone().filter(|_| !store.cancel_requested(&task.id).unwrap_or(false));
    let cycle = counted_cycle(&ran);
    Outcome {
        exit: ran.exit,
        ended_by_itself: long_running_end.is_some(),
        error: ran.error.or(long_running_end),
        ended_at: ran.ended_at,
        cancelled: ran.cancelled,
        output_bytes: Some(output_bytes),
        diagnostics: count_diagnostics(paths, task, output_bytes, cycle.map_or(run_from, |c| c.from), None),
        counted_cycle: cycle.is_some(),
        timed_out: ran.timed_out,
        result,
    }
}

/// The compile cycle the outcome's messages start at: a watch-mode tool
/// errand stopped (a cancel, a timeout) has those of its last cycle and
/// what followed. A run that ended by itself has all of its messages: a
/// plain build may print a tool's end-of-cycle line more than once
/// (SvelteKit's two vite builds), and a crashed watcher's cycles all led
/// to its end.
fn counted_cycle(ran: &Ran) -> Option<Cycle> {
    ran.last_cycle.filter(|_| ran.cancelled || ran.timed_out)
}

/// Why a run of a long-running task (one with a ready pattern) that ended
/// by itself failed; None for any other task, or a run errand stopped.
fn ended_by_itself(task: &Task, ran: &Ran) -> Option<String> {
    if task.ready_pattern.is_none() || ran.cancelled || ran.timed_out {
        return None;
    }
    let how = match ran.exit {
        Some(Exit::Code(0)) => "with exit status 0".to_owned(),
        _ => crate::task::why_failed(ran.exit, None),
    };
    Some(match ran.was_ready {
        true => format!("it stopped after it was ready ({how})"),
        false => format!("it ended before it was ready ({how})"),
    })
}

/// How one run of a task ended.
struct Ran {
    exit: Option<Exit>,
    error: Option<String>,
    started_at: i64,
    ended_at: i64,
    cancelled: bool,
    timed_out: bool,
    /// A client closed its input.
    input_closed: bool,
    /// Its output said it was ready (a long-running task).
    was_ready: bool,
    /// The last compile cycle its output finished (a watch-mode tool).
    last_cycle: Option<Cycle>,
    /// Why a long-running task's run that ended by itself failed (see `ended_by_itself`).
    ended_itself: Option<String>,
}

/// One run of the task's command, its output appended to `capture`.
async fn run_once<P: TaskProcesses>(
    task: &Task,
    s: &mut Supervision<'_>,
    mut capture: Capture,
    base_env: &std::collections::BTreeMap<String, String>,
    input_closed: bool,
) -> (Ran, Capture) {
    let started_at = now_ms();
    // Each run starts without a result: a failed run's is not the task's.
    let result_file = LogFiles::of(s.paths, &task.id).result;
    result::clear(&result_file);
    let spec = Spec {
        task_id: &task.id,
        command: &task.command,
        cwd: &task.cwd,
        base_env,
        env: &task.env,
        umask: task.umask,
        result_file: &result_file,
    };
    let (processes, pipes) = match P::start(&spec) {
        Ok(started) => started,
        Err(message) => {
            capture.write(Stream::Stderr, format!("errand: {message}\n").as_bytes());
            let ran = Ran {
                exit: None,
                error: Some(message),
                started_at,
                ended_at: now_ms(),
                cancelled: false,
                timed_out: false,
                input_closed,
                was_ready: false,
                last_cycle: None,
                ended_itself: None,
            };
            return (ran, capture);
        }
    };
    if let Err(e) = s.store.set_pid(&task.id, processes.pid()) {
        tracing::warn!("cannot record pid: {e}");
    }
    crate::wakeup::signal(s.paths);
    // Input is queued for the task without bound: a task that does not read
    // its stdin must not stall the capture of its output.
    let (stdin_tx, stdin_rx) = mpsc::unbounded_channel();
    if input_closed {
        let _ = stdin_tx.send(None);
    }
    let feeder = tokio::spawn(feed_stdin(pipes.stdin, stdin_rx));
    let capture_start = capture.position();
    let mut running = Running {
        processes,
        stdout: Some(pipes.stdout),
        stderr: Some(pipes.stderr),
        capture,
        out_buf: vec![0u8; 64 << 10],
        err_buf: vec![0u8; 64 << 10],
        stdin: stdin_tx,
        kill_at: None,
        cancelled: false,
        timeout_at: task.timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
        timed_out: false,
        input_closed,
        grace: s.grace,
        paused: false,
        timeout_left: None,
        progress: task.progress_from_output.then(progress::Scanner::default),
        progress_seen: None,
        progress_recorded: None,
        ready: task.ready_pattern.as_deref().and_then(|p| ready::Pattern::new(p).ok()).map(ready::Scanner::new),
        ready_seen: false,
        cycles: (!crate::diagnostics::choice::is_off(task.matcher.as_deref())).then(cycle::Scanner::default),
        cycle_end_seen: false,
        cycle_from: capture_start,
        last_cycle: None,
        cycle_unrecorded: false,
        cycle_recorded_at: None,
    };
    let exit = running.until_exit(task, (s.store, s.paths, s.config), s.control, s.sigterm, s.stopping).await;
    let ended_at = now_ms();
    running.finish(task.keep_children).await;
    // The last cycle, as the outcome counts it (finish still reads output).
    running.end_cycle_seen();
    running.record_cycle(task, s.store, s.paths);
    feeder.abort();
    let mut error = running.capture.error().map(str::to_owned);
    if running.timed_out {
        let after = crate::duration::show(task.timeout_ms.unwrap_or_default());
        error = Some(format!("timed out after {after}"));
    }
    let exit = exit.map_err(|e| error.get_or_insert(format!("cannot wait for the task: {e}"))).ok();
    let ran = Ran {
        exit,
        error,
        started_at,
        ended_at,
        cancelled: running.cancelled,
        timed_out: running.timed_out,
        input_closed: running.input_closed,
        was_ready: running.ready_seen,
        last_cycle: running.last_cycle,
        ended_itself: None,
    };
    let ended_itself = ended_by_itself(task, &ran);
    (Ran { ended_itself, ..ran }, running.capture)
}

/// Wait out the pause before a rerun, and a user's pause (the next run
/// waits for a resume). False if the task was cancelled (or the supervisor
/// told to stop) meanwhile: then there is no rerun.
async fn pause_before_rerun(id: &str, delay: Duration, s: &mut Supervision<'_>) -> bool {
    let until = tokio::time::sleep(delay);
    tokio::pin!(until);
    let (mut waited, mut paused) = (false, false);
    loop {
        if waited && !paused {
            return !s.store.cancel_requested(id).unwrap_or(false);
        }
        tokio::select! {
            () = &mut until, if !waited => waited = true,
            Some((frame_id, message)) = s.control.recv() => match message {
                _ if frame_id != id => {}
                Message::Cancel => return false,
                Message::Pause | Message::Resume => {
                    paused = message == Message::Pause;
                    record_pause(s.store, s.paths, id, paused);
                }
                // Input meant for a run that ended is dropped, as stale frames are.
                Message::Input(_) | Message::Eof => {}
            },
            _ = s.sigterm.recv(), if !*s.stopping => {
                *s.stopping = true;
                return false;
            }
        }
    }
}

/// Say in the store that the task is ready, for watchers, and start what
/// waited for it: a queued task that depends on it is startable now, and
/// this supervisor is busy with this one.
fn record_ready(store: &Store, paths: &Paths, config: &Config, id: &str) {
    tracing::info!(task = id, "ready");
    if let Err(e) = store.set_ready(id, Some(now_ms())) {
        tracing::warn!(task = id, "cannot record that it is ready: {e}");
    }
    crate::wakeup::signal(paths);
    let queue = crate::launch::Queue { store, paths, config, spawner: crate::launch::Spawner::Detached };
    if let Err(e) = queue.kick() {
        tracing::warn!("cannot start a supervisor for the tasks waiting on {id}: {e}");
    }
}

/// Say in the store that the task is paused (or no longer), for watchers.
fn record_pause(store: &Store, paths: &Paths, id: &str, paused: bool) {
    if let Err(e) = store.set_paused(id, paused.then(now_ms)) {
        tracing::warn!(task = id, "cannot record the pause: {e}");
    }
    crate::wakeup::signal(paths);
}

/// The diagnostics in a task's output, counted before its outcome is
/// recorded, so that `task/finished` carries them: at most 16 MiB is read,
/// about 0.1 s at the very worst, nothing for a task that printed nothing.
fn count_diagnostics(
    paths: &Paths,
    task: &Task,
    output_bytes: (u64, u64),
    from: u64,
    until: Option<u64>,
) -> Option<DiagnosticCounts> {
    if crate::diagnostics::choice::is_off(task.matcher.as_deref()) {
        return None;
    }
    if output_bytes == (0, 0) {
        return Some(DiagnosticCounts::default());
    }
    match crate::diagnostics::of_task_between(paths, task, from, until) {
        Ok((found, _)) => Some(DiagnosticCounts::of(&found)),
        Err(e) => {
            tracing::warn!(task = %task.id, "cannot match the output: {e}");
            None
        }
    }
}

/// A task whose processes run.
struct Running<P> {
    processes: P,
    /// The output pipes while they are open.
    stdout: Option<Box<dyn AsyncRead + Unpin + Send>>,
    stderr: Option<Box<dyn AsyncRead + Unpin + Send>>,
    capture: Capture,
    out_buf: Vec<u8>,
    err_buf: Vec<u8>,
    /// To the stdin feeder: data, or None to close it.
    stdin: mpsc::UnboundedSender<Option<Vec<u8>>>,
    /// Set once stopping started: when SIGKILL follows.
    kill_at: Option<Instant>,
    /// Stopped by a cancel (or the supervisor's own SIGTERM).
    cancelled: bool,
    /// When its timeout stops it, if it has one and was not stopped yet.
    timeout_at: Option<Instant>,
    /// Stopped by its timeout.
    timed_out: bool,
    /// A client closed its input (then a rerun's is closed too).
    input_closed: bool,
    grace: Duration,
    /// Its processes are stopped (SIGSTOP) by a pause.
    paused: bool,
    /// While paused: what was left of its timeout (it counts run time only).
    timeout_left: Option<Duration>,
    /// Reads progress from its output (None: off, or the task reports its own).
    progress: Option<progress::Scanner>,
    /// Progress seen and not recorded yet.
    progress_seen: Option<progress::Seen>,
    /// When progress was last recorded, and what (to tell `errand progress` apart).
    progress_recorded: Option<(Instant, f64, String)>,
    /// Watches its output for its ready pattern, until it matched.
    ready: Option<ready::Scanner>,
    /// Its output matched its ready pattern in this run.
    ready_seen: bool,
    /// Finds where a watch-mode tool's compile cycles end (None: its
    /// output is not matched).
    cycles: Option<cycle::Scanner>,
    /// A line of its output ended a cycle; the cycle ends once what the
    /// tool wrote before it on the other stream is in.
    cycle_end_seen: bool,
    /// Where the cycle being written began.
    cycle_from: u64,
    /// The last cycle that ended, and whether the store has it yet.
    last_cycle: Option<Cycle>,
    cycle_unrecorded: bool,
    /// When a cycle was last recorded (a store write and a match each).
    cycle_recorded_at: Option<Instant>,
}

/// How often progress read from output is recorded (a store write each).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How often a compile cycle is recorded at most: output that ends cycles
/// faster is a flood, not edits being saved.
const CYCLE_EVERY: Duration = Duration::from_millis(200);
/// After a cycle's end line: how long a read of what the tool wrote before
/// it waits, and how many such reads there are at most.
const CYCLE_TAIL_WAIT: Duration = Duration::from_millis(5);
const MAX_CYCLE_TAIL_READS: usize = 16;

impl<P: TaskProcesses> Running<P> {
    /// Capture output and obey control frames until the main process exits.
    async fn until_exit(
        &mut self,
        task: &Task,
        (store, paths, config): (&Store, &Paths, &Config),
        control: &mut mpsc::Receiver<(String, Message)>,
        sigterm: &mut Signal,
        stopping: &mut bool,
    ) -> std::io::Result<Exit> {
        let id = task.id.as_str();
        loop {
            if self.cycle_end_seen {
                self.take_in_the_rest_of_a_cycle().await;
            }
            if self.ready_seen && self.ready.is_some() {
                self.ready = None;
                record_ready(store, paths, config, id);
            }
            let progress_due = self.progress_due();
            let cycle_due = self.cycle_due();
            tokio::select! {
                r = read_some(&mut self.stdout, &mut self.out_buf) => self.captured(Stream::Stdout, r),
                r = read_some(&mut self.stderr, &mut self.err_buf) => self.captured(Stream::Stderr, r),
                exit = self.processes.wait() => return exit,
                Some((frame_id, message)) = control.recv() => match message {
                    // Frames for a task this supervisor ran before: stale, dropped.
                    _ if frame_id != id => {}
                    Message::Input(data) => drop(self.stdin.send(Some(data))),
                    Message::Eof => {
                        self.input_closed = true;
                        drop(self.stdin.send(None));
                    }
                    Message::Cancel => self.cancel(),
                    Message::Pause => self.pause(id, true, store, paths),
                    Message::Resume => self.pause(id, false, store, paths),
                },
                _ = sigterm.recv(), if !*stopping => {
                    *stopping = true;
                    // Already being stopped (a cancel, a timeout): that goes on.
                    if self.kill_at.is_none() {
                        self.cancel();
                    }
                }
                () = sleep_until(self.timeout_at) => {
                    self.timeout_at = None;
                    // Ended at the deadline (both ready at once): it ended in time.
                    if self.kill_at.is_none() && !self.processes.exited() {
                        self.timed_out = true;
                        self.stop();
                    }
                }
                () = sleep_until(progress_due) => self.record_progress(id, store, paths),
                () = sleep_until(cycle_due) => self.record_cycle(task, store, paths),
                () = sleep_until(self.kill_at) => {
                    self.processes.stop(Stop::Kill);
                    self.kill_at = Some(Instant::now() + Duration::from_secs(3600));
                }
            }
        }
    }

    /// What a read from `stream`'s pipe brought: bytes, or its end.
    fn captured(&mut self, stream: Stream, read: Option<usize>) {
        let (pipe, buf) = match stream {
            Stream::Stdout => (&mut self.stdout, &self.out_buf),
            Stream::Stderr => (&mut self.stderr, &self.err_buf),
        };
        match read {
            Some(n) => {
                self.capture.write(stream, &buf[..n]);
                let which = if stream == Stream::Stdout { 0 } else { 1 };
                self.ready_seen |= self.ready.as_mut().is_some_and(|r| !self.ready_seen && r.feed(which, &buf[..n]));
                if let Some(seen) = self.progress.as_mut().and_then(|p| p.feed(&buf[..n])) {
                    self.progress_seen = Some(seen);
                }
                self.cycle_end_seen |= self.cycles.as_mut().is_some_and(|c| c.feed(which, &buf[..n]));
            }
            None => *pipe = None,
        }
    }

    /// When progress seen in the output is due to be recorded.
    fn progress_due(&self) -> Option<Instant> {
        self.progress_seen.as_ref()?;
        Some(self.progress_recorded.as_ref().map_or_else(Instant::now, |(at, ..)| *at + PROGRESS_EVERY))
    }

    /// When a compile cycle that ended is due to be recorded.
    fn cycle_due(&self) -> Option<Instant> {
        self.cycle_unrecorded.then(|| self.cycle_recorded_at.map_or_else(Instant::now, |at| at + CYCLE_EVERY))
    }

    /// A line ended a cycle: first take in what the tool's other stream
    /// holds already, written before that line (cargo's errors go to
    /// stderr, cargo watch's end line to stdout, and either pipe may be
    /// read first), at most a few reads, each waited for a moment.
    async fn take_in_the_rest_of_a_cycle(&mut self) {
        for _ in 0..MAX_CYCLE_TAIL_READS {
            let read = tokio::time::timeout(CYCLE_TAIL_WAIT, async {
                tokio::select! {
                    r = read_some(&mut self.stdout, &mut self.out_buf) => (Stream::Stdout, r),
                    r = read_some(&mut self.stderr, &mut self.err_buf) => (Stream::Stderr, r),
                }
            });
            match read.await {
                Ok((stream, r)) => self.captured(stream, r),
                Err(_) => break,
            }
        }
        self.end_cycle_seen();
    }

    /// The cycle whose end was seen ends here, at what is captured now.
    fn end_cycle_seen(&mut self) {
        if !std::mem::take(&mut self.cycle_end_seen) {
            return;
        }
        let to = self.capture.position();
        self.last_cycle = Some(Cycle { from: self.cycle_from, to });
        self.cycle_from = to;
        self.cycle_unrecorded = true;
    }

    /// Record the last compile cycle that ended and the diagnostics in it,
    /// for watchers: the editors' problems follow each cycle.
    fn record_cycle(&mut self, task: &Task, store: &Store, paths: &Paths) {
        let Some(cycle) = self.last_cycle.filter(|_| self.cycle_unrecorded) else { return };
        self.cycle_unrecorded = false;
        self.cycle_recorded_at = Some(Instant::now());
        // None: the output could not be read (said in the log).
        let Some(found) = count_diagnostics(paths, task, self.capture.bytes(), cycle.from, Some(cycle.to)) else {
            return;
        };
        match store.set_cycle(&task.id, cycle, found) {
            Ok(()) => crate::wakeup::signal(paths),
            Err(e) => tracing::warn!(task = %task.id, "cannot record a compile cycle: {e}"),
        }
    }

    /// Record the progress seen in the output, unless the task reports its
    /// own (`errand progress`): then its output is not read for it again.
    fn record_progress(&mut self, id: &str, store: &Store, paths: &Paths) {
        let Some(seen) = self.progress_seen.take() else { return };
        let stored = store.get(id).ok().and_then(|t| t.progress().map(|p| (p.percent, p.message.clone())));
        let ours = self.progress_recorded.as_ref().map(|(_, percent, message)| (*percent, Some(message.clone())));
        if stored.is_some() && stored != ours {
            self.progress = None;
            return;
        }
        if let Err(e) = store.set_progress(id, seen.percent, Some(&seen.message)) {
            tracing::debug!(task = id, "cannot record progress: {e}");
        }
        crate::wakeup::signal(paths);
        self.progress_recorded = Some((Instant::now(), seen.percent, seen.message));
    }

    /// Stop (SIGSTOP) or continue (SIGCONT) every process of the task, and
    /// say so in the store. A task being stopped is neither.
    fn pause(&mut self, id: &str, paused: bool, store: &Store, paths: &Paths) {
        if paused == self.paused || self.kill_at.is_some() {
            return;
        }
        self.processes.suspend(paused);
        self.paused = paused;
        // Its timeout counts the time it runs, not the time it waits paused.
        if paused {
            self.timeout_left = self.timeout_at.take().map(|at| at.saturating_duration_since(Instant::now()));
        } else {
            self.timeout_at = self.timeout_left.take().map(|left| Instant::now() + left);
        }
        record_pause(store, paths, id, paused);
    }

    /// SIGTERM now, SIGKILL after the grace period.
    fn cancel(&mut self) {
        self.cancelled = true;
        self.stop();
    }

    /// SIGTERM to every process of the task, once; SIGKILL is due at the
    /// end of the grace period.
    fn stop(&mut self) -> Instant {
        *self.kill_at.get_or_insert_with(|| {
            self.processes.stop(Stop::Term);
            // A stopped process takes SIGTERM only once it goes on.
            if self.paused {
                self.processes.suspend(false);
            }
            Instant::now() + self.grace
        })
    }

    /// After the leader's exit nothing of the task may run on (unless it
    /// asked to keep its children): what is left gets SIGTERM (if a cancel
    /// did not send it already) and SIGKILL at the end of the grace period,
    /// while its output is still captured. Then the pipes are read to their
    /// end; a silence ends that early only when something may legitimately
    /// hold them open (kept children).
    async fn finish(&mut self, keep_children: bool) {
        // What it keeps goes on: a paused task's children are never left stopped.
        if keep_children && self.paused {
            self.processes.suspend(false);
            self.paused = false;
        }
        if !keep_children && self.processes.any_left() {
            let deadline = self.stop();
            while self.processes.any_left() && Instant::now() < deadline {
                tokio::select! {
                    r = read_some(&mut self.stdout, &mut self.out_buf) => self.captured(Stream::Stdout, r),
                    r = read_some(&mut self.stderr, &mut self.err_buf) => self.captured(Stream::Stderr, r),
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            // A process that forks while dying is caught on the next round.
            for _ in 0..100 {
                self.processes.stop(Stop::Kill);
                if !self.processes.any_left() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let silence = if keep_children { Duration::from_millis(20) } else { Duration::from_secs(2) };
        if let Some(mut pipe) = self.stdout.take() {
            drain(&mut pipe, &mut self.out_buf, &mut self.capture, Stream::Stdout, silence).await;
        }
        if let Some(mut pipe) = self.stderr.take() {
            drain(&mut pipe, &mut self.err_buf, &mut self.capture, Stream::Stderr, silence).await;
        }
    }
}

/// Read from a pipe while it is open: Some(bytes read), None at its end (or
/// on an error); never ready once closed.
async fn read_some(pipe: &mut Option<Box<dyn AsyncRead + Unpin + Send>>, buf: &mut [u8]) -> Option<usize> {
    match pipe {
        Some(p) => match p.read(buf).await {
            Ok(n) if n > 0 => Some(n),
            _ => None,
        },
        None => std::future::pending().await,
    }
}

/// Read a pipe to its end; give up after `silence` (a process outside the
/// task's tree may hold it open forever).
async fn drain(
    pipe: &mut (impl AsyncRead + Unpin),
    buf: &mut [u8],
    capture: &mut Capture,
    stream: Stream,
    silence: Duration,
) {
    while let Ok(Ok(n)) = tokio::time::timeout(silence, pipe.read(buf)).await {
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
