//! Timeouts: a task that runs past its timeout is stopped as a cancel stops
//! it (TERM to everything it started, KILL after the grace period) and ends
//! `failed` with "timed out after …"; a task that ends in time is not
//! touched; workflows carry a timeout, a run's own wins, a restart keeps it.

mod common;

use common::rpc::{Client, Framing};
use common::{group_alive, processes_of, Home};
use serde_json::{json, Value};

#[test]
fn a_task_past_its_timeout_is_stopped_whole_and_fails() {
    let home = Home::new();
    let id =
        home.submit_json(&["--timeout", "300ms", "sleep 100 & sleep 100; wait"])["id"].as_str().unwrap().to_owned();
    let pid = home.pid_of(&id);
    assert_eq!(home.wait(&[&id]), 128 + libc::SIGTERM);
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["error"].as_str()), (Some("failed"), Some("timed out after 300ms")), "{t}");
    assert_eq!(t["timeoutMs"], 300);
    assert!(!group_alive(pid) && processes_of(&id).is_empty(), "nothing of it runs on");
    assert!(home.ok(&["show", &id]).contains("timeout  300ms"));

    // Ended in time: untouched.
    let quick = home.submit_json(&["--timeout", "1m", "echo done"])["id"].as_str().unwrap().to_owned();
    assert_eq!(home.wait(&[&quick]), 0);
    assert_eq!(home.task(&quick)["error"], Value::Null);

    let bad = home.run(&["run", "--timeout", "soon", "true"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("'soon' is not a duration"), "{}", bad.stderr);
}

#[test]
fn a_task_that_ignores_term_is_killed_after_the_grace_period_and_still_fails() {
    let home = Home::new();
    home.config("cancel_grace_secs = 0.3\n");
    let script = "trap '' TERM; echo traps set; while :; do sleep 0.05; done";
    let id = home.submit_json(&["--timeout", "500ms", script])["id"].as_str().unwrap().to_owned();
    home.wait(&[&id]);
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), t["signal"].as_i64()), (Some("failed"), Some(libc::SIGKILL as i64)), "{t}");
    assert_eq!(t["error"], "timed out after 500ms");
    assert!(processes_of(&id).is_empty());
}

#[test]
fn workflows_carry_a_timeout_a_run_overrides_it_and_a_restart_keeps_it() {
    let home = Home::new();
    let dir = home.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("errand.toml"), "[slow]\ncommand = \"sleep 100\"\ntimeout = \"200ms\"\n").unwrap();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let cwd = dir.display().to_string();
    let workflows = server.call("workflow/list", json!({ "clientCwd": cwd }));
    assert_eq!(workflows[0]["timeoutMs"], 200, "{workflows}");

    let run = server.call("task/run", json!({ "workflow": "slow", "clientCwd": cwd }));
    let ended = server.notification("task/finished", |p| p["task"]["id"] == run["id"]);
    assert_eq!(ended["task"]["status"], "failed");
    assert_eq!(ended["task"]["error"], "timed out after 200ms");

    let longer = server.call("task/run", json!({ "workflow": "slow", "clientCwd": cwd, "timeoutMs": 400 }));
    assert_eq!(longer["timeoutMs"], 400);
    let ended = server.notification("task/finished", |p| p["task"]["id"] == longer["id"]);
    assert_eq!(ended["task"]["error"], "timed out after 400ms");

    let again = server.call("task/restart", json!({ "id": longer["id"] }));
    assert_eq!(again["timeoutMs"], 400);
    server.notification("task/finished", |p| p["task"]["id"] == again["id"] && p["task"]["status"] == "failed");

    let zero = server.call_err("task/run", json!({ "command": "true", "timeoutMs": 0 }));
    assert!(zero["message"].as_str().unwrap().contains("more than 0"), "{zero}");
}
