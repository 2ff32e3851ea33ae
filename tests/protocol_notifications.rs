//! Notifications reach the editor whoever changed the store, and nothing
//! is lost between servers: tasks keep running when the editor goes, and
//! the next server offers what finished meanwhile as unread.

mod common;

use std::time::Duration;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::json;

#[test]
fn a_task_started_by_the_cli_is_pushed_to_the_server() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    c.call("initialize", json!({}));
    let release = home.path().join("release");
    let id = home.submit(&format!("until [ -e '{}' ]; do sleep 0.01; done; echo from the shell", release.display()));
    let started = c.notification("task/started", |p| p["task"]["id"] == id.as_str());
    assert_eq!(started["task"]["status"], "running");
    std::fs::write(&release, "").unwrap();
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "completed");
    assert_eq!(fin["outputTail"], "from the shell\n");
    // Progress reported from inside a task, through the CLI.
    let exe = env!("CARGO_BIN_EXE_errand");
    let id = home.submit(&format!("'{exe}' progress 50 halfway; sleep 100"));
    let p = c.notification("task/progress", |p| p["id"] == id.as_str());
    assert_eq!(p["progress"], 50.0);
    assert_eq!(p["progressMessage"], "halfway");
    assert!(p["etaAt"].is_i64());
    home.ok(&["cancel", &id]);
    c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
}

#[test]
fn a_task_that_finished_long_ago_is_news_only_once() {
    let home = Home::new();
    let id = home.submit("exit 3");
    home.wait(&[&id]);
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    c.call("initialize", json!({}));
    home.ok(&["show", &id]); // marks it read
    let updated = c.notification("task/updated", |p| p["task"]["id"] == id.as_str());
    assert!(updated["task"]["readAt"].is_i64());
    assert!(!c.notifications.iter().any(|n| n["method"] == "task/finished"), "no second finish: {:?}", c.notifications);
}

#[test]
fn stdin_eof_leaves_tasks_running_and_a_new_server_reports_them_unread() {
    let home = Home::new();
    let release = home.path().join("release");
    let wait_release = format!("until [ -e '{}' ]; do sleep 0.01; done", release.display());
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    c.call("initialize", json!({}));
    let a = c.call("task/run", json!({ "command": format!("{wait_release}; echo a done") }))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b =
        c.call("task/run", json!({ "command": format!("{wait_release}; exit 4") }))["id"].as_str().unwrap().to_owned();
    c.close_stdin();
    assert_eq!(c.wait_exit(Duration::from_secs(10)), Some(0), "exit 0 on stdin EOF");
    assert_eq!(c.stderr(), "");
    for id in [&a, &b] {
        assert!(
            ["queued", "running"].contains(&home.status_of(id).as_str()),
            "the server left without waiting for {id}"
        );
    }
    std::fs::write(&release, "").unwrap();
    assert_eq!(home.wait(&[&a, &b]), 4);

    let mut c2 = Client::spawn(home.cmd(), Framing::ContentLength);
    let init = c2.call("initialize", json!({}));
    let unread: Vec<&str> = init["unread"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(unread, vec![b.as_str(), a.as_str()], "newest first");
    assert_eq!(init["counts"]["failed"], 1);
    c2.call("task/markRead", json!({ "all": true }));
    assert_eq!(c2.call("initialize", json!({}))["unread"], json!([]));
}

#[test]
fn each_finish_is_summarised_once_and_never_after_a_task_finished() {
    let home = Home::new();
    // 60 ended while no server ran, 7 of them failures.
    for i in 0..60 {
        home.submit(if i < 7 { "false" } else { "true" });
    }
    home.run(&["wait", "--all"]);
    let mut first = Client::spawn(home.cmd(), Framing::Lines);
    let init = first.call("initialize", json!({}));
    assert_eq!(init["unread"].as_array().unwrap().len(), 50, "the newest 50");
    assert_eq!(init["unreadTotal"], 60, "counted in full");
    assert_eq!(init["unreadFailed"], 7, "failures beyond the newest 50 too");
    // A task that ends while this client is there reaches it as task/finished...
    let t = first.call("task/run", json!({ "command": "exit 3" }));
    let id = t["id"].as_str().unwrap().to_owned();
    first.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    // ...so no later client summarises it, nor the 60 given already.
    let mut second = Client::spawn(home.cmd(), Framing::Lines);
    let init = second.call("initialize", json!({}));
    assert_eq!((init["unread"].clone(), init["unreadTotal"].clone()), (json!([]), json!(0)), "{init}");
    assert_eq!(init["unreadFailed"], 0);
    // Nor does a task a user read at the shell (`run -w` shows its output).
    drop(first);
    drop(second);
    assert_eq!(home.run(&["run", "-w", "true"]).code, 0);
    let mut third = Client::spawn(home.cmd(), Framing::Lines);
    assert_eq!(third.call("initialize", json!({}))["unreadTotal"], 0);
}

#[test]
fn the_tail_of_a_task_that_never_ends_a_line_is_its_last_16_kib() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    c.call("initialize", json!({}));
    // 8 MiB on one line, ending with a marker: ten "lines" are all of it.
    let t = c.call("task/run", json!({ "command": "head -c 8000000 /dev/zero | tr '\\0' x; printf END" }));
    let id = t["id"].as_str().unwrap().to_owned();
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    let tail = fin["outputTail"].as_str().unwrap();
    assert_eq!(tail.len(), 16 << 10, "a summary, not megabytes");
    assert!(tail.ends_with("xxxEND"), "the end of the output");
    let shown = home.ok(&["show", &id]);
    assert!(shown.len() < 20 << 10 && shown.contains("xxxEND"), "errand show too: {} bytes", shown.len());
}
