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

#[test]
fn status_per_group_with_a_format_and_the_long_view() {
    let home = Home::new();
    let server = home.ok(&["run", "--group", "web", "--name", "dev server", "sleep 100"]).trim().to_owned();
    let broken = home.ok(&["run", "--group", "api", "exit 3"]).trim().to_owned();
    home.wait(&[&broken]);
    home.pid_of(&server);
    assert_eq!(home.ok(&["status", "web"]), "1 running\n");
    assert_eq!(home.ok(&["status", "api", "--short"]), "1 failed\n");
    assert_eq!(home.ok(&["status", "elsewhere"]), "", "a group with nothing going on is idle");
    let format = "[{running}▶ ][{failed}✗ ]{unread}";
    assert_eq!(home.ok(&["status", "--format", format]), "1▶ 1✗ 1\n");
    assert_eq!(home.ok(&["status", "web", "--format", format]), "1▶ \n");
    assert_eq!(home.ok(&["status", "web", "--format", "[{failed}✗]"]), "", "nothing to show: nothing printed");
    let bad = home.run(&["status", "--format", "{runing}"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown field {runing}"), "{}", bad.stderr);

    home.ok(&["progress", "--id", &server, "50", "linking"]);
    let long = home.ok(&["status", "--long"]);
    let row = long.lines().find(|l| l.starts_with(&server)).unwrap_or_else(|| panic!("{long}"));
    assert!(row.contains("50%") && row.contains("dev server · linking"), "{long}");
    assert!(home.ok(&["status", "--format", "{eta}"]).trim().ends_with('s'), "an ETA from the progress");
    home.ok(&["cancel", &server]);
    home.wait(&[&server]);
    assert_eq!(home.ok(&["status", "--long"]), "No running tasks\n");
}
