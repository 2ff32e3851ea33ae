//! Dependencies (`run --after`, `after` in `task/run`): a task starts only
//! once every dependency completed; a dependency that fails, is cancelled or
//! is lost cancels it, with the reason, and its own dependents follow; a
//! dependency that already ended decides at once.

mod common;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::{json, Value};

fn id(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_chain_runs_in_order_and_a_failure_cancels_everything_after_it() {
    let home = Home::new();
    let gate = home.path().join("go");
    let marker = home.path().join("ran");
    // `first` waits for the test: its dependents must wait as long.
    let first = id(&home.submit_json(&[&format!("until [ -e '{}' ]; do sleep 0.01; done", gate.display())]));
    let second = home.submit_json(&["--after", &first, "echo second"]);
    assert_eq!(second["dependsOn"], json!([first]));
    let failing = id(&home.submit_json(&["--after", &first, "exit 3"]));
    let touch = format!("touch '{}'", marker.display());
    let never = id(&home.submit_json(&["--after", &format!("{},{}", id(&second), failing), &touch]));
    let after_never = id(&home.submit_json(&["--after", &never, &touch]));
    home.pid_of(&first);
    assert_eq!(home.status_of(&id(&second)), "queued", "waits while its dependency runs");
    std::fs::File::create(&gate).unwrap();
    home.wait(&[&first, &id(&second), &failing, &never, &after_never]);

    let (a, b) = (home.task(&first), home.task(&id(&second)));
    assert_eq!(b["status"], "completed");
    assert!(b["startedAt"].as_i64() >= a["endedAt"].as_i64(), "started after its dependency ended: {a} {b}");
    assert_eq!(home.status_of(&failing), "failed");
    let n = home.task(&never);
    assert_eq!(
        (n["status"].as_str(), n["error"].as_str()),
        (Some("cancelled"), Some(&*format!("dependency {failing} failed")))
    );
    assert!(n["startedAt"].is_null());
    assert_eq!(
        home.task(&after_never)["error"],
        format!("dependency {never} cancelled"),
        "the cancel goes down the chain"
    );
    assert!(!marker.exists(), "neither ran");
}

#[test]
fn a_dependency_that_already_ended_decides_at_once() {
    let home = Home::new();
    let ok = id(&home.submit_json(&["true"]));
    let bad = id(&home.submit_json(&["false"]));
    home.wait(&[&ok, &bad]);
    let runs = id(&home.submit_json(&["--after", &ok[..3], "echo ran"]));
    assert_eq!(home.wait(&[&runs]), 0);
    assert_eq!(home.task(&runs)["dependsOn"], json!([ok]), "a prefix is stored as the full id");
    let ends = home.submit_json(&["--after", &bad, "echo never"]);
    assert_eq!(ends["status"], "cancelled", "ended when it was queued, never waiting: {ends}");
    let unknown = home.run(&["run", "--after", "zzzz", "true"]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("zzzz"), "{}", unknown.stderr);
}

#[test]
fn cancelling_or_losing_a_dependency_cancels_its_dependents_and_editors_are_told() {
    let home = Home::new();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let dep = server.call("task/run", json!({ "command": "sleep 100" }));
    let waiting = server.call("task/run", json!({ "command": "echo never", "after": [dep["id"]] }));
    server.notification("task/started", |p| p["task"]["id"] == dep["id"]);
    server.call("task/cancel", json!({ "id": dep["id"] }));
    let ended = server.notification("task/finished", |p| p["task"]["id"] == waiting["id"]);
    assert_eq!(ended["task"]["status"], "cancelled");
    assert_eq!(ended["task"]["error"], format!("dependency {} cancelled", dep["id"].as_str().unwrap()));

    // A dependency whose supervisor dies is lost: its dependents end too.
    let dep = server.call("task/run", json!({ "command": "sleep 100" }));
    let waiting = server.call("task/run", json!({ "command": "echo never", "after": [dep["id"]] }));
    server.notification("task/started", |p| p["task"]["id"] == dep["id"]);
    for pid in home.supervisors() {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    let ended = server.notification("task/finished", |p| p["task"]["id"] == waiting["id"]);
    assert_eq!(ended["task"]["error"], format!("dependency {} lost", dep["id"].as_str().unwrap()));

    let bad = server.call_err("task/run", json!({ "command": "true", "after": ["nope"] }));
    assert!(bad["message"].as_str().unwrap().contains("nope"), "{bad}");
}

#[test]
fn restarting_a_waiting_task_keeps_what_it_waits_for() {
    let home = Home::new();
    let gate = home.path().join("go");
    let first = id(&home.submit_json(&[&format!("until [ -e '{}' ]; do sleep 0.01; done", gate.display())]));
    let waiting = id(&home.submit_json(&["--after", &first, "echo waited"]));
    let out = home.cmd().args(["restart", &waiting]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy = String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned();
    let t = home.task(&copy);
    assert_eq!((t["status"].as_str(), &t["dependsOn"]), (Some("queued"), &json!([first])), "{t}");
    std::fs::File::create(&gate).unwrap();
    assert_eq!(home.wait(&[&copy]), 0);
    assert!(home.task(&copy)["startedAt"].as_i64() >= home.task(&first)["endedAt"].as_i64());
}
