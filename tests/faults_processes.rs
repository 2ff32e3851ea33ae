//! Fault injection, processes: nothing of a task outlives it. Cancelled,
//! completed or lost, every process it started is gone, `setsid` and
//! `nohup` ones included, unless it asked to keep its children; and whoever
//! waits hears of a dead supervisor at once.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{eventually, parent_of, processes_of, Home};

/// A task that starts children of every kind, then waits: a background
/// child, a `nohup` one, a `setsid` one (its own session), a double-forked
/// daemon, and a grandchild.
const SPAWNER: &str = "sleep 300 & nohup sleep 301 >/dev/null 2>&1 & setsid sleep 302 & \
    (setsid sh -c 'sleep 303 & sleep 304' &) ; sh -c 'sleep 305 & wait' & echo started; wait";

fn started(home: &Home, id: &str) {
    home.wait_output(id, "started");
    eventually("every child runs", || processes_of(id).len() >= 8);
}

#[test]
fn cancel_stops_every_process_of_the_task_setsid_ones_included() {
    let home = Home::new();
    home.config("cancel_grace_secs = 1\n");
    let id = home.submit(SPAWNER);
    started(&home, &id);
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    assert_eq!(home.status_of(&id), "cancelled");
    assert_eq!(processes_of(&id), Vec::<i64>::new(), "nothing of the task is left");
}

#[test]
fn a_completed_task_leaves_nothing_running_and_its_late_output_is_kept() {
    let home = Home::new();
    // A background child that outlives the leader and says goodbye on SIGTERM.
    let ready = home.path().join("ready");
    let id = home.submit(&format!(
        "setsid sh -c 'trap \"echo late words; exit 0\" TERM; touch {r}; while :; do sleep 0.01; done' & \
         until [ -e {r} ]; do sleep 0.01; done; echo main done",
        r = ready.display()
    ));
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.status_of(&id), "completed");
    assert_eq!(processes_of(&id), Vec::<i64>::new(), "the background child was stopped");
    let out = home.ok(&["logs", &id]);
    assert!(out.contains("main done") && out.contains("late words"), "its output while stopping is kept: {out}");
    let counts: serde_json::Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!(counts["running"], 0, "and nothing counts as running");
}

#[test]
fn a_task_may_keep_its_children() {
    let home = Home::new();
    let id = home.ok(&["run", "--keep-children", "setsid sleep 300 & echo left a daemon"]).trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    let kept = processes_of(&id);
    assert_eq!(kept.len(), 1, "the daemon lives on: {kept:?}");
    assert_eq!(home.task(&id)["keepChildren"], true);
    common::kill_processes_of(&id);
}

#[test]
fn a_lost_task_leaves_nothing_running_and_waiters_hear_at_once() {
    let home = Home::new();
    let id = home.submit(SPAWNER);
    started(&home, &id);
    let leader = home.pid_of(&id);
    // Followers and waiters, started before the supervisor dies.
    let mut follower = home.cmd().args(["logs", "-f", &id]).stdout(Stdio::piped()).spawn().unwrap();
    let mut waiter = home.cmd().args(["wait", &id]).spawn().unwrap();
    let supervisor = parent_of(leader).unwrap();
    let killed_at = Instant::now();
    unsafe { libc::kill(supervisor as i32, libc::SIGKILL) };
    let status = waiter.wait().unwrap();
    assert!(killed_at.elapsed() < Duration::from_secs(5), "wait took {:?}", killed_at.elapsed());
    assert_eq!(status.code(), Some(125), "a lost task's wait status");
    assert!(follower.wait().unwrap().success(), "logs -f ends with the task");
    let mut out = String::new();
    follower.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(out.contains("started"), "{out}");
    assert!(killed_at.elapsed() < Duration::from_secs(5), "logs -f took {:?}", killed_at.elapsed());
    let t = home.task(&id);
    assert_eq!(t["status"], "lost");
    eventually("nothing of the lost task is left", || processes_of(&id).is_empty());
}

/// In a PID namespace whose init reaps nothing (as in many containers), a
/// cancelled task whose processes leave zombies still ends at once.
#[test]
fn zombies_do_not_hold_a_cancelled_task() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: a PID namespace needs root");
        return;
    }
    let home = Home::new();
    home.config("cancel_grace_secs = 0.5\n");
    home.ok(&["status"]);
    let exe = env!("CARGO_BIN_EXE_errand");
    // pid 1 is a shell that waits only for its own commands. The task's
    // leader ignores SIGTERM and never reaps its child, which ends at once.
    let script = format!(
        "id=$('{exe}' run \"sh -c 'trap \\\"\\\" TERM; sleep 0.1 & exec sleep 300'\"); \
         until '{exe}' logs $id >/dev/null && [ \"$('{exe}' show --json $id | grep -c '\"pid\": [0-9]')\" = 1 ]; do sleep 0.05; done; \
         sleep 0.3; start=$(date +%s%N); '{exe}' cancel $id >/dev/null; '{exe}' wait $id; \
         echo $id $(( ($(date +%s%N) - start) / 1000000 ))"
    );
    let out = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "sh", "-c", &script])
        .env("ERRAND_HOME", home.errand_home())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let (id, ms): (String, u64) = (words.next().unwrap().to_owned(), words.next().unwrap().parse().unwrap());
    assert_eq!(home.status_of(&id), "cancelled", "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(ms < 5_000, "cancel took {ms} ms");
}
