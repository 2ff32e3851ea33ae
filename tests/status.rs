//! `errand status`: running, queued and unread recent failures.

mod common;

use common::Home;
use serde_json::Value;

#[test]
fn status_short_counts_running_and_unread_recent_failures() {
    let home = Home::new();
    assert_eq!(home.ok(&["status", "--short"]), "", "empty when idle");
    let fail = home.submit("exit 1");
    home.wait(&[&fail]);
    let run = home.submit("sleep 100");
    home.eventually("running", || home.status_of(&run) == "running");
    assert_eq!(home.ok(&["status", "--short"]), "1 running · 1 failed\n");
    let counts: Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!(counts["running"], 1);
    assert_eq!(counts["failed"], 1);
    home.ok(&["clear"]);
    assert_eq!(home.ok(&["status", "--short"]), "1 running\n", "a read failure stops counting");
    home.ok(&["cancel", &run]);
    home.wait(&[&run]);
    assert_eq!(home.ok(&["status", "--short"]), "");
    assert_eq!(home.status_of(&fail), "failed", "it stays in history");

    // An unread failure older than an hour stops counting too.
    let old = home.submit("exit 2");
    home.wait(&[&old]);
    assert_eq!(home.ok(&["status", "--short"]), "1 failed\n");
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute("UPDATE tasks SET ended_at = ended_at - 3700000 WHERE id = ?1", [&old]).unwrap();
    assert_eq!(home.ok(&["status", "--short"]), "");
    assert_eq!(home.tasks(&["--status", "failed"]).len(), 2);
}
