//! Progress read from a task's output: a task that prints `[3/10]` or a
//! redrawn `45%|###` bar shows it (and an ETA) with no `errand progress`;
//! a task that reports its own is never overwritten; `progress = false`
//! in a workflow turns the reading off.

mod common;

use std::time::Duration;

use common::{eventually, Home};
use serde_json::Value;

fn gated(home: &Home, gate: &str, before: &str) -> String {
    home.submit(&format!("{before}; until [ -e {gate} ]; do sleep 0.02; done"))
}

#[test]
fn progress_is_read_from_output_unless_the_task_reports_its_own() {
    let home = Home::new();
    let counted = gated(&home, "go", "printf '[3/10] compiling\\n'");
    eventually("progress from a count", || home.task(&counted)["progress"].as_f64() == Some(30.0));
    let t = home.task(&counted);
    assert_eq!(t["progressMessage"], "[3/10] compiling");
    assert!(t["etaAt"].is_i64(), "an ETA follows: {t}");
    assert!(home.ok(&["ls"]).contains("30%"), "{}", home.ok(&["ls"]));

    // A bar redrawn with \r, never ending its line.
    let bar = gated(&home, "go", "for i in 10 20 40; do printf '\\r %d%%|###   |' $i; sleep 0.3; done");
    eventually("the newest value of the bar", || home.task(&bar)["progress"].as_f64() == Some(40.0));

    // The task's own report wins over what its output says.
    let own =
        gated(&home, "go", "\"$ERRAND_BIN\" progress 5 mine; echo '[9/10] noise'; sleep 0.6; echo '[10/10] more'");
    eventually("its own report", || home.task(&own)["progress"].as_f64() == Some(5.0));
    std::thread::sleep(Duration::from_millis(1200));
    let t = home.task(&own);
    assert_eq!((t["progress"].as_f64(), t["progressMessage"].as_str()), (Some(5.0), Some("mine")), "{t}");

    std::fs::write(
        home.path().join("errand.toml"),
        "[quiet]\ncommand = \"echo '[9/10] x'; sleep 30\"\nprogress = false\n",
    )
    .unwrap();
    let quiet = home.ok(&["run", "#quiet"]).trim().to_owned();
    home.wait_output(&quiet, "[9/10] x");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(home.task(&quiet)["progress"], Value::Null, "not read");
    home.ok(&["cancel", &quiet]);
    std::fs::write(home.path().join("go"), "").unwrap();
    assert_eq!(home.wait(&[&counted, &bar, &own]), 0);

    std::fs::write(home.path().join("errand.toml"), "[x]\ncommand = 'true'\nprogress = 'yes'\n").unwrap();
    let bad = home.run(&["run", "#x"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("progress must be true or false"), "{}", bad.stderr);
}

/// With no progress to go by, the ETA is the median of how long the same
/// command took in the same folder (the last 10 completed runs): a history
/// made by real runs, their durations then set in the store.
#[test]
fn the_eta_of_a_task_that_ran_before_comes_from_its_history() {
    let home = Home::new();
    let command = "until [ -e gate ]; do sleep 0.02; done";
    std::fs::write(home.path().join("gate"), "").unwrap();
    let before: Vec<String> = (0..3).map(|_| home.submit(command)).collect();
    let ids: Vec<&str> = before.iter().map(String::as_str).collect();
    assert_eq!(home.wait(&ids), 0);
    let store = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    for (id, took) in before.iter().zip([60_000, 120_000, 90_000]) {
        store
            .execute("UPDATE tasks SET started_at = ended_at - ?2 WHERE id = ?1", rusqlite::params![id, took])
            .unwrap();
    }
    drop(store);
    std::fs::remove_file(home.path().join("gate")).unwrap();
    let now = home.submit(command);
    eventually("it runs", || home.status_of(&now) == "running");
    let t = home.task(&now);
    assert_eq!(t["etaAt"].as_i64().zip(t["startedAt"].as_i64()).map(|(eta, s)| eta - s), Some(90_000), "{t}");
    let long = home.ok(&["status", "--long"]);
    assert!(long.contains("1m") || long.contains("m "), "the ETA shows: {long}");
    let status: Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    let eta = status["etaMs"].as_i64().unwrap_or(0);
    assert!(eta > 80_000 && eta <= 90_000, "status --json carries the ETA: {status}");
    // Another command, or the same one elsewhere, has no history.
    let other = home.submit("sleep 30");
    eventually("it runs", || home.status_of(&other) == "running");
    assert_eq!(home.task(&other)["etaAt"], Value::Null);
    std::fs::write(home.path().join("gate"), "").unwrap();
    home.ok(&["cancel", &other]);
    assert_eq!(home.wait(&[&now]), 0);
}
