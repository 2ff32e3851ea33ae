//! Retries: a failed run is run again in the same task, up to `--retry N`
//! times, after `--retry-delay`; each failed run is kept (exit, error,
//! times) and shown; clients hear `task/updated` per failed run and one
//! `task/finished`; a cancel is never retried, and one during the pause
//! ends the task at once; workflows carry `retry` and `retry_delay`.

mod common;

use std::time::{Duration, Instant};

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::{json, Value};

/// A command that fails until its third run, counting runs in `runs`.
const FLAKY: &str =
    "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs; echo \"run $n\"; [ $n -ge 3 ] || exit 7";

fn id_of(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_failed_run_is_run_again_in_the_same_task_and_each_failure_is_kept() {
    let home = Home::new();
    let id = id_of(&home.submit_json(&["--retry", "3", FLAKY]));
    assert_eq!(home.wait(&[&id]), 0, "the third run passed");
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["retries"].as_u64()), (Some("completed"), Some(3)), "{t}");
    let attempts = t["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "two failed runs kept: {t}");
    for a in attempts {
        assert_eq!(a["exitCode"], 7);
        assert!(a["endedAt"].as_i64() >= a["startedAt"].as_i64());
    }
    let logs = home.ok(&["logs", &id]);
    for n in 1..=3 {
        assert!(logs.contains(&format!("run {n}\n")), "every run's output, in one log: {logs}");
    }
    assert!(logs.contains("errand: run 1 of 4 failed (exit 7); run 2 starts"), "{logs}");
    let shown = home.ok(&["show", &id]);
    assert!(shown.contains("failed run  1: exit 7 after"), "{shown}");
    assert!(shown.contains("retries  3"), "{shown}");
}

#[test]
fn when_retries_run_out_the_task_fails_with_its_last_exit() {
    let home = Home::new();
    let id = id_of(&home.submit_json(&["--retry", "2", "echo again >> runs; exit 3"]));
    assert_eq!(home.wait(&[&id]), 3);
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["exitCode"].as_i64()), (Some("failed"), Some(3)));
    assert_eq!(t["attempts"].as_array().unwrap().len(), 2);
    let runs = std::fs::read_to_string(home.path().join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 3, "one run and two reruns");

    // A timed-out run is a failed one: retried, its error kept.
    let slow = id_of(&home.submit_json(&["--timeout", "200ms", "--retry", "1", "sleep 30"]));
    home.wait(&[&slow]);
    let t = home.task(&slow);
    assert_eq!(t["status"], "failed");
    assert_eq!(t["attempts"][0]["error"], "timed out after 200ms", "{t}");
    assert_eq!(t["error"], "timed out after 200ms");

    let bad = home.run(&["run", "--retry", "101", "true"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("at most 100"), "{}", bad.stderr);
}

#[test]
fn a_cancel_in_the_pause_before_a_rerun_ends_the_task_at_once() {
    let home = Home::new();
    let id = id_of(&home.submit_json(&["--retry", "5", "--retry-delay", "1h", "echo ran >> runs; exit 1"]));
    home.eventually("the first run failed", || home.task(&id)["attempts"].as_array().is_some_and(|a| a.len() == 1));
    let asked = Instant::now();
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    assert!(asked.elapsed() < Duration::from_secs(10), "not the hour's pause");
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["exitCode"].as_i64()), (Some("cancelled"), Some(1)), "{t}");
    let runs = std::fs::read_to_string(home.path().join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "no rerun after the cancel");
}

#[test]
fn clients_hear_each_failed_run_and_one_end_and_workflows_carry_retries() {
    let home = Home::new();
    let dir = home.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    // Runs 300 ms apart: a watcher under load looks at least that often, so each failed run is its own task/updated.
    let toml = format!("[flaky]\ncommand = '''{FLAKY}'''\nretry = 2\nretry_delay = \"300ms\"\n");
    std::fs::write(dir.join("errand.toml"), toml).unwrap();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let cwd = dir.display().to_string();
    let workflows = server.call("workflow/list", json!({ "clientCwd": cwd }));
    assert_eq!((workflows[0]["retry"].as_u64(), workflows[0]["retryDelayMs"].as_u64()), (Some(2), Some(300)));

    let task = server.call("task/run", json!({ "workflow": "flaky", "clientCwd": cwd }));
    let id = id_of(&task);
    for failed in 1..=2 {
        let updated = server.notification("task/updated", |p| {
            p["task"]["id"] == id.as_str() && p["task"]["attempts"].as_array().is_some_and(|a| a.len() == failed)
        });
        assert_eq!(updated["task"]["status"], "running", "still one task, running: {updated}");
    }
    let finished = server.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(finished["task"]["status"], "completed");
    // Flush: anything sent before this answer has arrived.
    server.call("task/counts", json!({}));
    assert!(
        !server.notifications.iter().any(|n| n["method"] == "task/finished"),
        "one task/finished: {:?}",
        server.notifications
    );

    // A run's own count wins over the workflow's; a restart keeps it.
    std::fs::remove_file(dir.join("runs")).unwrap();
    let own = server.call("task/run", json!({ "workflow": "flaky", "clientCwd": cwd, "retry": 0 }));
    let done = server.notification("task/finished", |p| p["task"]["id"] == own["id"]);
    assert_eq!((done["task"]["status"].as_str(), done["task"]["retries"].as_u64()), (Some("failed"), Some(0)));
    let again = server.call("task/restart", json!({ "id": id }));
    assert_eq!((again["retries"].as_u64(), again["retryDelayMs"].as_u64()), (Some(2), Some(300)));

    std::fs::write(dir.join("errand.toml"), "[flaky]\ncommand = 'false'\nretry = -1\n").unwrap();
    let refused = server.call_err("task/run", json!({ "workflow": "flaky", "clientCwd": cwd }));
    assert!(refused.to_string().contains("retry must be a number from 0 to 100"), "{refused}");
}

#[test]
fn only_the_last_run_is_read_for_messages_and_closed_input_stays_closed() {
    let home = Home::new();
    std::fs::write(home.path().join("main.c"), "int main(void) {\n  return x;\n}\n").unwrap();
    // The first run's message is gone once the second run prints its own.
    let script = "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs; \
                  if [ $n = 1 ]; then echo 'main.c:1:1: error: only in the first run'; \
                  else echo 'main.c:2:10: error: in the last run'; fi; exit 1";
    let id = id_of(&home.submit_json(&["--retry", "1", "--matcher", "gcc", script]));
    assert_eq!(home.wait(&[&id]), 1);
    let t = home.task(&id);
    assert_eq!(t["diagnostics"]["errors"], 1, "{t}");
    assert!(t["attempts"][0]["outputEnd"].as_u64().unwrap() > 0, "{t}");
    let errors = home.ok(&["errors", &id]);
    assert!(errors.contains("in the last run") && !errors.contains("first run"), "{errors}");

    // Input closed by a client during the first run is closed for the rerun
    // too: the rerun does not wait for ever for an end of input.
    let reader = id_of(&home.submit_json(&["--retry", "1", "cat > /dev/null; echo input ended; exit 2"]));
    home.pid_of(&reader);
    home.ok(&["send", "--eof", &reader]);
    assert_eq!(home.wait(&[&reader]), 2);
    assert_eq!(home.ok(&["logs", &reader]).matches("input ended").count(), 2, "both runs saw the end");
}
