//! Fault injection, the supervisor: SIGKILL of `errand __worker` at each
//! step of a task's life — claimed, spawned, running, writing output,
//! recording the outcome. Whatever the moment, the task ends `lost` or with
//! its true outcome (never `running` or `queued` for ever), and nothing of
//! it is left running.
//!
//! No test hooks in errand: the steps are reached from outside. A task
//! waiting on a release file is running; a chatty one is writing output;
//! the test holding the store's write lock keeps a supervisor from
//! recording an outcome; and for the short windows (claimed, spawned,
//! recording) a loop freezes the supervisor with SIGSTOP at many delays,
//! reads what the store says at that instant, then kills it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{eventually, parent_of, processes_of, Home};

/// The store, opened as another program would (the test's own connection).
fn db(home: &Home) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(20)).unwrap();
    conn
}

/// (status, pid) of a task, straight from the store. A reader of a WAL store
/// whose writers are being SIGKILLed can meet SQLITE_PROTOCOL ("locking
/// protocol"), which the busy timeout does not cover: it reads again.
fn row(conn: &rusqlite::Connection, id: &str) -> (String, Option<i64>) {
    let read = || conn.query_row("SELECT status, pid FROM tasks WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)));
    for _ in 0..50 {
        match read() {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::FileLockingProtocolFailed => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
    read().unwrap()
}

/// Every `errand __worker` of this home (not zombies).
fn supervisors(home: &Home) -> Vec<i32> {
    let marker = format!("ERRAND_HOME={}", home.errand_home().display());
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.split(|&b| b == 0).any(|a| a == b"__worker"))
                && alive(*pid as i64)
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
        })
        .collect()
}

/// Exists and is not a zombie.
fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rfind(')').is_some_and(|i| !s[i + 2..].starts_with('Z')))
}

fn kill(pid: i64, signal: i32) {
    unsafe { libc::kill(pid as i32, signal) };
}

/// The invariant after a supervisor died: the task settles (`errand wait`
/// returns; every command notices a dead supervisor), as `lost` or as
/// `expected`, and no process of it is left. Returns the final status.
fn settles(home: &Home, id: &str, expected: &[&str]) -> String {
    let code = home.wait(&[id]);
    let status = home.status_of(id);
    assert!(status == "lost" || expected.contains(&status.as_str()), "task {id} ended {status} (wait {code})");
    if status == "lost" {
        assert_eq!(code, 125, "a lost task's wait status");
    }
    eventually(&format!("nothing of {id} is left"), || processes_of(id).is_empty());
    status
}

fn release(path: &Path) -> String {
    format!("until [ -e '{}' ]; do sleep 0.01; done", path.display())
}

#[test]
fn killed_while_running_the_task_is_lost_and_its_processes_stopped_another_task_runs_on() {
    let home = Home::new();
    let go = home.path().join("go");
    // Children of every kind, then a wait on the release file.
    let victim = home.submit(&format!(
        "sleep 300 & setsid sleep 301 & (setsid sh -c 'sleep 302' &); echo up; {}; echo released",
        release(&go)
    ));
    let bystander = home.submit(&format!("echo up; {}; echo bystander done", release(&go)));
    home.wait_output(&victim, "up");
    home.wait_output(&bystander, "up");
    eventually("every child runs", || processes_of(&victim).len() >= 5);
    let supervisor = parent_of(home.pid_of(&victim)).unwrap();
    assert_ne!(supervisor, parent_of(home.pid_of(&bystander)).unwrap(), "one supervisor per running task");
    kill(supervisor, libc::SIGKILL);
    assert_eq!(settles(&home, &victim, &[]), "lost");
    assert!(home.task(&victim)["error"].as_str().unwrap().contains("supervisor"), "{}", home.task(&victim));
    // Released after the fact: nothing of the victim is there to notice.
    std::fs::write(&go, "").unwrap();
    assert_eq!(home.wait(&[&bystander]), 0, "the other task ran on");
    assert_eq!(home.status_of(&bystander), "completed");
    assert_eq!(home.status_of(&victim), "lost", "still lost");
    assert!(!home.ok(&["logs", &victim]).contains("released"));
}

#[test]
fn killed_while_writing_output_the_task_is_lost_and_its_output_so_far_is_readable() {
    let home = Home::new();
    let id = home.submit("i=0; while :; do i=$((i+1)); echo \"line $i\"; echo \"err $i\" >&2; done");
    let supervisor = parent_of(home.pid_of(&id)).unwrap();
    let out = home.errand_home().join(format!("logs/{id}.out"));
    let size = || std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eventually("output flows", || size() > 100_000);
    let before = size();
    eventually("output still flows", || size() > before);
    kill(supervisor, libc::SIGKILL);
    assert_eq!(settles(&home, &id, &[]), "lost");
    // What was captured is readable, in order, whole lines but the last.
    let r = home.run(&["logs", "--stdout", &id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.len() > 1000, "{} lines", lines.len());
    for (i, line) in lines[..lines.len() - 1].iter().enumerate() {
        assert_eq!(*line, format!("line {}", i + 1));
    }
    let merged = home.run(&["logs", &id]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
}

/// The test holds the store's write lock: the task ends, its supervisor
/// logs that it ended and then waits for the lock to record the outcome.
#[test]
fn killed_while_recording_the_outcome_the_task_is_lost() {
    let home = Home::new();
    let go = home.path().join("go");
    let id = home.submit(&format!("sleep 300 & {}; exit 7", release(&go)));
    eventually("the task runs", || processes_of(&id).len() >= 2);
    let supervisor = parent_of(home.pid_of(&id)).unwrap();
    let conn = db(&home);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::fs::write(&go, "").unwrap();
    // The leader exits, the supervisor stops the left-over sleep, drains the
    // pipes and logs "ended": it is now at the outcome, held by the lock.
    let ended = format!("task={id}");
    eventually("the supervisor saw the end", || {
        home.own_log().lines().any(|l| l.contains(&ended) && l.contains("ended"))
    });
    assert!(processes_of(&id).is_empty(), "the task's processes are gone before the outcome is recorded");
    assert_eq!(row(&conn, &id).0, "running", "not recorded yet");
    kill(supervisor, libc::SIGKILL);
    eventually("the supervisor is gone", || !alive(supervisor));
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(settles(&home, &id, &[]), "lost");
}

/// Where a supervisor was when it was frozen, as the store and /proc say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Not claimed yet (or no supervisor yet).
    Queued,
    /// Claimed: running, no process of the task.
    Claimed,
    /// A process of the task exists, its pid not recorded yet.
    Spawned,
    /// The pid is recorded and the leader runs.
    Running,
    /// The leader exited; left-overs are stopped, the pipes drained, the
    /// outcome about to be recorded (or being recorded).
    Recording,
    /// The outcome is in the store.
    Recorded,
}

/// Many short tasks, each leaving a background child a supervisor must
/// stop; each supervisor frozen (SIGSTOP) after a delay that grows through
/// the loop, its step read from the store, then killed. For every task: a
/// task killed before its claim runs later to its true outcome (failed, exit
/// 3); one killed while the store said `running` is `lost`; one whose
/// outcome was in the store keeps it; and nothing is left running.
#[test]
fn killed_at_every_step_of_short_tasks_every_task_settles_and_nothing_is_left() {
    let home = Home::new();
    let conn = {
        home.ok(&["status"]);
        db(&home)
    };
    let mut seen: BTreeMap<Step, usize> = BTreeMap::new();
    let mut lost = 0;
    const ROUNDS: u64 = 150;
    for round in 0..ROUNDS {
        let id = home.submit("sleep 30 & exit 3");
        // From 0 to 14 ms after `errand run` returned (the supervisor it
        // started is already there), densest early, twice over.
        std::thread::sleep(Duration::from_micros((round % 75).pow(2) * 5 / 2));
        let workers = supervisors(&home);
        for &w in &workers {
            kill(w as i64, libc::SIGSTOP);
        }
        let (status, pid) = row(&conn, &id);
        let step = match (status.as_str(), pid) {
            ("queued", _) => Step::Queued,
            ("running", None) if processes_of(&id).is_empty() => Step::Claimed,
            ("running", None) => Step::Spawned,
            ("running", Some(pid)) if alive(pid) => Step::Running,
            ("running", Some(_)) => Step::Recording,
            _ => Step::Recorded,
        };
        for &w in &workers {
            kill(w as i64, libc::SIGKILL);
        }
        for &w in &workers {
            eventually("the supervisor is gone", || !alive(w as i64));
        }
        *seen.entry(step).or_default() += 1;
        let status = settles(&home, &id, &["failed"]);
        match step {
            Step::Queued | Step::Recorded => assert_eq!(status, "failed", "{id} at {step:?}"),
            _ => assert_eq!(status, "lost", "{id} at {step:?}: the store said running when its supervisor died"),
        }
        if status == "failed" {
            assert_eq!(home.task(&id)["exitCode"], 3, "the true outcome, {id} at {step:?}");
        }
        lost += usize::from(status == "lost");
    }
    eprintln!("steps at which supervisors died: {seen:?}; lost: {lost}/{ROUNDS}");
    assert!(seen.len() >= 3, "the delays reach several steps: {seen:?}");
    let counts: serde_json::Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!((counts["running"].as_u64(), counts["queued"].as_u64()), (Some(0), Some(0)), "{counts}");
}
