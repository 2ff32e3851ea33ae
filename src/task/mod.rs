//! The task model: what a task is and the states it moves through. Inside
//! errand a task's state is an enum whose variants carry what only that state
//! has (a queued task has no start time, a completed one no exit code but 0),
//! so an impossible task cannot be built; clients see it flattened into
//! `protocol::Task`.

mod command;
pub mod id;
pub mod result;

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostics::DiagnosticCounts;
pub use command::{shell_quote, validate_env, CommandSpec, MAX_ARG};

/// Where a task is in its life: `queued` → `running` → `completed` | `failed`
/// | `cancelled`; `queued` → `cancelled`; `lost` when the outcome can no
/// longer be known. Final states never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a free slot (the parallel limit).
    Queued,
    /// Its process runs.
    Running,
    /// It exited with status 0.
    Completed,
    /// It exited with another status, was killed by a signal, or could not start.
    Failed,
    /// Cancelled: before it started, or stopped while it ran.
    Cancelled,
    /// Its supervisor ended without recording an outcome (killed, or the machine restarted).
    Lost,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Queued, Status::Running, Status::Completed, Status::Failed, Status::Cancelled, Status::Lost];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed run of a task that retries, kept when the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// When this run started (ms since the epoch).
    pub started_at: i64,
    /// When it ended.
    pub ended_at: i64,
    /// Its exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// Why it failed when its exit does not say (it timed out, could not start).
    pub error: Option<String>,
    /// Where its output ends in the task's (a `task/output` position of
    /// stream `both`): the next run's output starts there.
    #[serde(default)]
    pub output_end: u64,
}

impl Attempt {
    pub fn exit(&self) -> Option<Exit> {
        match (self.exit_code, self.signal) {
            (Some(code), _) => Some(Exit::Code(code)),
            (None, Some(signal)) => Some(Exit::Signal(signal)),
            (None, None) => None,
        }
    }
}

/// Why a run failed, in a few words: its error, else its exit.
pub fn why_failed(exit: Option<Exit>, error: Option<&str>) -> String {
    match (error, exit) {
        (Some(error), _) => error.to_owned(),
        (None, Some(Exit::Code(code))) => format!("exit {code}"),
        (None, Some(Exit::Signal(signal))) => format!("killed by signal {signal}"),
        (None, None) => "no exit status".to_owned(),
    }
}

/// How a process ended: its exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// The shell's way to say it: the code, or 128 + the signal.
    pub fn shell_status(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }

    pub fn code(self) -> Option<i32> {
        match self {
            Exit::Code(c) => Some(c),
            Exit::Signal(_) => None,
        }
    }

    pub fn signal(self) -> Option<i32> {
        match self {
            Exit::Code(_) => None,
            Exit::Signal(s) => Some(s),
        }
    }
}

/// What a running task said about its progress (`errand progress`).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// 0 to 100.
    pub percent: f64,
    pub message: Option<String>,
}

/// How a finished task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Exit status 0.
    Completed,
    /// Another exit status or a signal; `None` when it never started.
    Failed(Option<Exit>),
    /// Stopped by errand; `None` when it was cancelled before it started.
    Cancelled(Option<Exit>),
    /// The outcome can no longer be known.
    Lost,
}

/// A task's state with what belongs to it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Queued,
    Running {
        started_at: i64,
        /// Its process (group) once started; a supervisor claims a task a
        /// moment before it starts its process.
        pid: Option<u32>,
        progress: Option<Progress>,
    },
    Ended {
        /// None for a task cancelled before it started.
        started_at: Option<i64>,
        ended_at: i64,
        end: End,
        /// The process (group) it ran as, if it got that far.
        pid: Option<u32>,
        /// The last progress it reported.
        progress: Option<Progress>,
        /// Why it failed to start, why it was lost, or a capture error (full disk).
        error: Option<String>,
    },
}

impl State {
    pub fn status(&self) -> Status {
        match self {
            State::Queued => Status::Queued,
            State::Running { .. } => Status::Running,
            State::Ended { end, .. } => match end {
                End::Completed => Status::Completed,
                End::Failed(_) => Status::Failed,
                End::Cancelled(_) => Status::Cancelled,
                End::Lost => Status::Lost,
            },
        }
    }
}

/// One task, as the store records it. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub name: String,
    pub command: CommandSpec,
    pub cwd: String,
    /// Environment overrides (the base environment is the submitter's).
    pub env: BTreeMap<String, String>,
    pub group: Option<String>,
    pub workflow: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub restarted_from: Option<String>,
    /// It may leave processes behind when it ends (a daemon it started).
    pub keep_children: bool,
    /// The file mode mask of the client that submitted it.
    pub umask: Option<u32>,
    /// A task it waits for: it starts once that one has ended.
    pub after: Option<String>,
    /// Which matchers read its output (`diagnostics::choice`); None: the built-in ones.
    pub matcher: Option<String>,
    /// What they found when it ended.
    pub diagnostics: Option<DiagnosticCounts>,
    /// Stopped and failed once it ran this long.
    pub timeout_ms: Option<u64>,
    /// Tasks that must complete before it starts (it is cancelled if one does not).
    pub depends_on: Vec<String>,
    /// How many times a failed run is run again (0: never).
    pub retries: u32,
    /// The pause before each rerun.
    pub retry_delay_ms: Option<u64>,
    /// Its failed runs so far, oldest first (the current or last run is the task's own).
    pub attempts: Vec<Attempt>,
    /// The size of the JSON result it left (`$ERRAND_RESULT`), if it left one.
    pub result_bytes: Option<u64>,
    /// Why what it left as a result was not kept.
    pub result_error: Option<String>,
    /// Its workflow's own finish hooks.
    pub hooks: TaskHooks,
    /// When it was paused (SIGSTOP), while it is: it stays `running` and
    /// holds its slot.
    pub paused_at: Option<i64>,
    /// A finish hook queued it (or restarted it): it runs no hooks.
    pub from_hook: bool,
    /// Progress is read from its output (`output::progress`).
    pub progress_from_output: bool,
    /// How long it should take: the median of the last 10 completed runs of
    /// the same command in the same folder, taken when it started.
    pub expected_ms: Option<i64>,
    /// A long-running task (a dev server): it is `ready` once a line of
    /// its output matches this regex; tasks that depend on it start then.
    pub ready_pattern: Option<String>,
    /// When its output matched `ready_pattern`, while it runs.
    pub ready_at: Option<i64>,
    /// The last compile cycle a watch-mode tool (`tsc --watch`, `cargo
    /// watch`) finished in this run's output: its diagnostics are the task's.
    pub cycle: Option<Cycle>,
    pub state: State,
}

/// Where in a task's merged output (`output::Which::Both` positions) a
/// watch-mode tool's compile cycle began and ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    pub from: u64,
    pub to: u64,
}

/// A workflow's own finish hooks (`on_finish`, `on_failure` in its table),
/// carried by each of its tasks: run after the user's `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskHooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_finish: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
}

impl TaskHooks {
    pub fn is_empty(&self) -> bool {
        self.on_finish.is_none() && self.on_failure.is_none()
    }
}

impl Task {
    /// About how many bytes it takes as JSON: enough to bound memory.
    pub fn approx_size(&self) -> usize {
        let command = match &self.command {
            CommandSpec::Shell(s) => s.len(),
            CommandSpec::Argv(a) => a.iter().map(|x| x.len() + 4).sum(),
        };
        let env: usize = self.env.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
        let texts = [Some(&self.name), Some(&self.cwd), self.group.as_ref(), self.workflow.as_ref()];
        // Text may double when escaped (quotes, backslashes, control characters more).
        2 * (command + env + texts.iter().flatten().map(|s| s.len()).sum::<usize>()) + 1024
    }

    pub fn status(&self) -> Status {
        self.state.status()
    }

    pub fn is_final(&self) -> bool {
        matches!(self.state, State::Ended { .. })
    }

    pub fn started_at(&self) -> Option<i64> {
        match &self.state {
            State::Queued => None,
            State::Running { started_at, .. } => Some(*started_at),
            State::Ended { started_at, .. } => *started_at,
        }
    }

    pub fn ended_at(&self) -> Option<i64> {
        match &self.state {
            State::Ended { ended_at, .. } => Some(*ended_at),
            _ => None,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match &self.state {
            State::Queued => None,
            State::Running { pid, .. } | State::Ended { pid, .. } => *pid,
        }
    }

    pub fn progress(&self) -> Option<&Progress> {
        match &self.state {
            State::Queued => None,
            State::Running { progress, .. } | State::Ended { progress, .. } => progress.as_ref(),
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.state {
            State::Ended { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// How the process ended, if it ran and ended.
    pub fn exit(&self) -> Option<Exit> {
        match &self.state {
            State::Ended { end: End::Completed, .. } => Some(Exit::Code(0)),
            State::Ended { end: End::Failed(exit) | End::Cancelled(exit), .. } => *exit,
            _ => None,
        }
    }

    /// Run time so far (running) or in all (finished).
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at()?;
        Some(self.ended_at().unwrap_or(now) - start)
    }

    /// When a running task should end: from the progress it reported, or
    /// else from how long the same command took in the same folder before
    /// (None once it ran past that: it is late, and when it ends is unknown).
    pub fn eta_at(&self, now: i64) -> Option<i64> {
        match &self.state {
            State::Running { started_at, progress: Some(p), .. } => eta(*started_at, p.percent, now),
            State::Running { started_at, progress: None, .. } => {
                self.expected_ms.map(|ms| started_at + ms).filter(|at| *at > now)
            }
            _ => None,
        }
    }

    /// `errand wait`'s exit status for this task: 0 when completed, else its
    /// own status, or 125 for a cancelled or lost task that has none.
    pub fn wait_status(&self) -> i32 {
        match &self.state {
            State::Ended { end: End::Completed, .. } => 0,
            _ => self.exit().map(Exit::shell_status).filter(|&c| c != 0).unwrap_or(125),
        }
    }
}

/// The end a task should reach if progress keeps its pace so far. None
/// before any progress, or at 100% (it is about to end).
pub fn eta(started_at: i64, percent: f64, now: i64) -> Option<i64> {
    if !(percent > 0.0 && percent < 100.0) {
        return None;
    }
    let elapsed = (now - started_at).max(0) as f64;
    Some(started_at + (elapsed * 100.0 / percent) as i64)
}

/// How many tasks run, wait, and failed recently: what a statusline shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Tasks running now.
    pub running: u32,
    /// Tasks waiting for a slot.
    pub queued: u32,
    /// Failed or lost tasks nobody has marked read, ended within the last hour.
    pub failed: u32,
    /// Of the running tasks, those paused (`errand pause`).
    #[serde(default)]
    pub paused: u32,
    /// The queue starts nothing new (`errand pause --queue`).
    #[serde(default)]
    pub queue_paused: bool,
    /// Counts for one group that has a limit of its own (`[groups.NAME]
    /// parallel = N` in config.toml): that limit. Null otherwise.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Watches rerunning a command when files change (`errand run
    /// --watch`), counted for every task only, not for a group.
    #[serde(default)]
    pub watching: u32,
    /// The store's change number these counts were read at. Of two counts, a
    /// client keeps the one with the higher `seq` (equal: the later one).
    pub seq: i64,
}

impl Counts {
    /// The same numbers, whatever change they were read at.
    pub fn same_numbers(&self, other: &Counts) -> bool {
        (self.running, self.queued, self.failed, self.paused, self.queue_paused, self.watching)
            == (other.running, other.queued, other.failed, other.paused, other.queue_paused, other.watching)
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testing {
    //! A task for unit tests: only its id, name (its shell command too) and state matter.
    use super::*;

    pub fn task(id: &str, name: &str, state: State) -> Task {
        Task {
            id: id.into(),
            name: name.into(),
            command: CommandSpec::Shell(name.into()),
            cwd: "/".into(),
            env: BTreeMap::new(),
            group: None,
            workflow: None,
            created_at: 0,
            read_at: None,
            deleted_at: None,
            restarted_from: None,
            keep_children: false,
            umask: None,
            after: None,
            matcher: None,
            diagnostics: None,
            timeout_ms: None,
            depends_on: Vec::new(),
            retries: 0,
            retry_delay_ms: None,
            attempts: Vec::new(),
            result_bytes: None,
            result_error: None,
            hooks: TaskHooks::default(),
            paused_at: None,
            from_hook: false,
            progress_from_output: true,
            expected_ms: None,
            ready_pattern: None,
            ready_at: None,
            cycle: None,
            state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_extrapolates_the_pace_so_far() {
        // 25% after 10 s: 40 s in all.
        assert_eq!(eta(1_000, 25.0, 11_000), Some(41_000));
        assert_eq!(eta(1_000, 50.0, 1_000), Some(1_000), "no time passed yet");
        assert_eq!(eta(1_000, 0.0, 5_000), None, "no progress, no estimate");
        assert_eq!(eta(1_000, 100.0, 5_000), None, "done: nothing to estimate");
        assert_eq!(eta(1_000, f64::NAN, 5_000), None);
        assert_eq!(eta(10_000, 50.0, 5_000), Some(10_000), "a clock step back counts as no time");
    }

    fn task(state: State) -> Task {
        testing::task("k3vq", "make", state)
    }

    fn ended(end: End) -> State {
        State::Ended { started_at: Some(10), ended_at: 30, end, pid: Some(7), progress: None, error: None }
    }

    #[test]
    fn the_state_decides_status_exit_and_wait_status() {
        let t = task(ended(End::Completed));
        assert_eq!((t.status(), t.exit(), t.wait_status()), (Status::Completed, Some(Exit::Code(0)), 0));
        let t = task(ended(End::Failed(Some(Exit::Code(3)))));
        assert_eq!((t.status(), t.wait_status()), (Status::Failed, 3));
        let t = task(ended(End::Cancelled(Some(Exit::Signal(15)))));
        assert_eq!((t.status(), t.wait_status()), (Status::Cancelled, 143));
        let t = task(ended(End::Cancelled(None)));
        assert_eq!(t.wait_status(), 125, "cancelled before it ran");
        let t = task(ended(End::Lost));
        assert_eq!((t.status(), t.wait_status()), (Status::Lost, 125));
        let t = task(ended(End::Failed(None)));
        assert_eq!(t.wait_status(), 125, "could not start");
        assert_eq!(task(ended(End::Completed)).duration_ms(1_000), Some(20), "a finished task's duration is fixed");
    }

    #[test]
    fn only_a_running_task_has_an_eta() {
        let progress = Some(Progress { percent: 50.0, message: None });
        let running = task(State::Running { started_at: 0, pid: None, progress: progress.clone() });
        assert_eq!(running.eta_at(10), Some(20));
        assert_eq!(running.duration_ms(10), Some(10));
        let done = task(State::Ended {
            started_at: Some(0),
            ended_at: 10,
            end: End::Completed,
            pid: None,
            progress,
            error: None,
        });
        assert_eq!(done.eta_at(10), None);
        assert_eq!(task(State::Queued).duration_ms(10), None);
    }
}
