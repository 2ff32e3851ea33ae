//! Pause and resume: every process of a task (a `setsid` grandchild too)
//! stops where it is and goes on; a paused task keeps its slot and stays
//! `running` with `pausedAt`; a cancel or its timeout still ends it at
//! once; the queue can be paused so that nothing new starts.

mod common;

use std::time::{Duration, Instant};

use common::rpc::{Client, Framing};
use common::{eventually, Home};
use serde_json::{json, Value};

/// A task whose shell and a grandchild in a session of its own each count
/// in a file, 20 times a second.
const TICKING: &str = "setsid sh -c 'j=0; while :; do j=$((j+1)); echo $j > tick2; sleep 0.05; done' & \
                       i=0; while :; do i=$((i+1)); echo $i > tick; sleep 0.05; done";

fn tick(home: &Home, file: &str) -> u64 {
    std::fs::read_to_string(home.path().join(file)).unwrap_or_default().trim().parse().unwrap_or(0)
}

#[test]
fn a_paused_task_stops_where_it_is_and_goes_on_when_resumed() {
    let home = Home::new();
    let id = home.submit(TICKING);
    eventually("it ticks", || tick(&home, "tick") > 2 && tick(&home, "tick2") > 2);
    assert_eq!(home.ok(&["pause", &id]), format!("{id}: paused\n"));
    let t = home.task(&id);
    assert_eq!(t["status"], "running", "it keeps its slot: {t}");
    assert!(t["pausedAt"].is_i64(), "{t}");
    // A write under way when the signal came may still land; then nothing.
    std::thread::sleep(Duration::from_millis(150));
    let (a, b) = (tick(&home, "tick"), tick(&home, "tick2"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!((tick(&home, "tick"), tick(&home, "tick2")), (a, b), "nothing of it runs while paused");
    assert!(home.ok(&["ls"]).contains(&format!("{id}  paused")), "{}", home.ok(&["ls"]));
    assert!(home.ok(&["show", &id]).contains(&format!("(errand resume {id})")));
    assert_eq!(home.ok(&["status"]), "1 running (1 paused)\n");
    assert_eq!(home.ok(&["pause", &id]), format!("{id}: paused\n"), "pausing twice is no error");

    assert_eq!(home.ok(&["resume", &id]), format!("{id}: resumed\n"));
    eventually("both tick again", || tick(&home, "tick") > a + 2 && tick(&home, "tick2") > b + 2);
    assert_eq!(home.task(&id)["pausedAt"], Value::Null);

    // A cancel reaches a paused task at once, not after the grace period.
    home.ok(&["pause", &id]);
    let asked = Instant::now();
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    assert!(asked.elapsed() < Duration::from_secs(4), "took {:?}", asked.elapsed());
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["pausedAt"].as_i64()), (Some("cancelled"), None), "{t}");
    let r = home.run(&["pause", &id]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("is not running (it is cancelled)"), "{}", r.stderr);
}

#[test]
fn a_timeout_counts_the_time_a_task_runs_not_the_time_it_is_paused() {
    let home = Home::new();
    let id = home.submit_json(&["--timeout", "1500ms", "touch started; sleep 1; echo done"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("it runs", || home.path().join("started").exists());
    home.ok(&["pause", &id]);
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(home.status_of(&id), "running", "not timed out while paused");
    home.ok(&["resume", &id]);
    assert_eq!(home.wait(&[&id]), 0, "{}", home.task(&id));
    assert_eq!(home.ok(&["logs", &id]), "done\n");
}

#[test]
fn a_paused_queue_starts_nothing_new_until_resumed() {
    let home = Home::new();
    let running = home.submit("until [ -e go ]; do sleep 0.02; done");
    eventually("it runs", || home.status_of(&running) == "running");
    assert!(home.ok(&["pause", "--queue"]).starts_with("queue paused"));
    let queued = home.run(&["run", "echo later"]);
    assert!(queued.stderr.contains("the queue is paused"), "said at once: {}", queued.stderr);
    let waiting = queued.stdout.trim().to_owned();
    std::fs::write(home.path().join("go"), "").unwrap();
    assert_eq!(home.wait(&[&running]), 0, "what ran goes on");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(home.status_of(&waiting), "queued", "nothing new starts");
    assert_eq!(home.ok(&["status"]), "1 queued · queue paused\n");
    let counts: Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!(counts["queuePaused"], true, "{counts}");
    assert_eq!(home.ok(&["resume", "--queue"]), "queue resumed\n");
    assert_eq!(home.wait(&[&waiting]), 0);
}

#[test]
fn editors_pause_and_resume_and_hear_of_it() {
    let home = Home::new();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let task = server.call("task/run", json!({ "command": "touch started; sleep 30" }));
    let id = task["id"].as_str().unwrap().to_owned();
    eventually("it runs", || home.path().join("started").exists());
    let paused = server.call("task/pause", json!({ "id": id }));
    assert!(paused["pausedAt"].is_i64(), "{paused}");
    let updated =
        server.notification("task/updated", |p| p["task"]["id"] == id.as_str() && p["task"]["pausedAt"].is_i64());
    assert_eq!(updated["task"]["status"], "running");
    server.notification("counts/changed", |c| c["paused"] == 1);
    let resumed = server.call("task/resume", json!({ "id": id }));
    assert_eq!(resumed["pausedAt"], Value::Null);
    server.notification("task/updated", |p| p["task"]["id"] == id.as_str() && p["task"]["pausedAt"].is_null());
    let counts = server.call("queue/pause", json!({}));
    assert_eq!(counts["queuePaused"], true);
    let counts = server.call("queue/resume", json!({}));
    assert_eq!(counts["queuePaused"], false);
    server.call("task/cancel", json!({ "id": id }));
    server.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    let refused = server.call_err("task/pause", json!({ "id": id }));
    assert!(refused.to_string().contains("not running"), "{refused}");
    common::schema::validate_traffic(&server);
}

/// With retries: a paused run that dies (killed from outside) is a failed
/// run, and the next one starts unpaused and says so; a pause during the
/// delay before a rerun holds that rerun until the resume.
#[test]
fn pauses_and_retries() {
    let home = Home::new();
    let id = home.submit_json(&[
        "--retry",
        "1",
        "echo run >> runs; i=0; while :; do i=$((i+1)); echo $i > tick; sleep 0.05; done",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("it ticks", || tick(&home, "tick") > 2);
    home.ok(&["pause", &id]);
    let leader = home.pid_of(&id);
    unsafe { libc::kill(leader as i32, libc::SIGKILL) };
    eventually("the second run ticks", || {
        std::fs::read_to_string(home.path().join("runs")).unwrap_or_default().lines().count() == 2
    });
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), &t["pausedAt"]), (Some("running"), &Value::Null), "{t}");
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);

    let delayed = home.submit_json(&["--retry", "1", "--retry-delay", "2s", "echo run >> delayed; exit 1"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the first run failed", || home.task(&delayed)["attempts"].as_array().is_some_and(|a| a.len() == 1));
    assert_eq!(home.ok(&["pause", &delayed]), format!("{delayed}: paused\n"));
    std::thread::sleep(Duration::from_millis(2500));
    let runs = || std::fs::read_to_string(home.path().join("delayed")).unwrap_or_default().lines().count();
    assert_eq!(runs(), 1, "the rerun waits for the resume");
    home.ok(&["resume", &delayed]);
    assert_eq!(home.wait(&[&delayed]), 1);
    assert_eq!(runs(), 2);
}
