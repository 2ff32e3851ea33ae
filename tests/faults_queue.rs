//! Fault injection, the queue: a task recorded by a client that died before
//! starting a supervisor still runs, and a restart never runs two copies.

mod common;

use common::rpc::{Client, Framing};
use common::{processes_of, Home};
use serde_json::json;

/// What a client killed right after recording a task leaves behind: the
/// row, queued, and no supervisor for it.
fn orphan_task(home: &Home, id: &str) {
    home.ok(&["status"]); // the store exists
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute(
        "INSERT INTO tasks (id, name, command, cwd, status, created_at) VALUES (?1, 'orphan', '{\"shell\":\"echo ran\"}', '/', 'queued', 0)",
        [id],
    )
    .unwrap();
    // The client's last act: wake the watchers.
    std::fs::write(home.errand_home().join("run/changed"), "x").unwrap();
}

#[test]
fn any_command_starts_a_queued_task_nobody_started() {
    let home = Home::new();
    orphan_task(&home, "zz01");
    home.ok(&["ls"]);
    assert_eq!(home.wait(&["zz01"]), 0);
    assert_eq!(home.ok(&["logs", "zz01"]), "ran\n");
}

#[test]
fn a_running_server_starts_a_queued_task_nobody_started() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    c.call("initialize", json!({}));
    orphan_task(&home, "zz02");
    let fin = c.notification("task/finished", |p| p["task"]["id"] == "zz02");
    assert_eq!(fin["task"]["status"], "completed");
}

#[test]
fn restart_of_a_running_task_stops_it_first() {
    let home = Home::new();
    let marks = home.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    // Each copy registers itself while it runs; two at once would show. The
    // trap comes first: once the mark exists, a cancel removes it.
    let script = format!(
        "trap 'rm {m}/$ERRAND_TASK_ID; exit 1' TERM; touch {m}/$ERRAND_TASK_ID; ls {m} | grep -vc seen > {m}/seen.$ERRAND_TASK_ID; \
         while :; do sleep 0.01; done",
        m = marks.display()
    );
    let old = home.submit(&script);
    home.eventually("the first copy runs", || marks.join(&old).exists());
    let new = home.ok(&["restart", &old]).trim().to_owned();
    let seen_by_new = marks.join(format!("seen.{new}"));
    home.eventually("the second copy counted", || {
        std::fs::read_to_string(&seen_by_new).is_ok_and(|s| s.ends_with('\n'))
    });
    assert_eq!(home.status_of(&old), "cancelled");
    let t = home.task(&new);
    assert_eq!((t["restartedFrom"].as_str(), t["after"].as_str()), (Some(old.as_str()), Some(old.as_str())));
    let seen = std::fs::read_to_string(&seen_by_new).unwrap();
    assert_eq!(seen.trim(), "1", "the old copy was gone when the new one started");
    assert!(processes_of(&old).is_empty());
    // From the protocol too.
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    let third = c.call("task/restart", json!({ "id": new }))["id"].as_str().unwrap().to_owned();
    home.eventually("the third copy runs", || marks.join(&third).exists());
    assert_eq!(home.status_of(&new), "cancelled");
    home.ok(&["cancel", &third]);
}
