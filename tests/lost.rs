//! A task whose supervisor dies is `lost`, never "running" for ever: the
//! CLI sees it at once, and a connected editor is told without polling.

mod common;

use common::rpc::{Client, Framing};
use common::{parent_of, Home};
use serde_json::json;

fn kill_supervisor_of(pid: i64) -> i64 {
    let supervisor = parent_of(pid).unwrap();
    unsafe { libc::kill(supervisor as i32, libc::SIGKILL) };
    supervisor
}

#[test]
fn a_task_whose_supervisor_is_killed_becomes_lost() {
    let home = Home::new();
    let id = home.submit("sleep 100");
    let pid = home.pid_of(&id);
    let supervisor = kill_supervisor_of(pid);
    home.eventually("the supervisor is gone", || {
        !std::path::Path::new(&format!("/proc/{supervisor}")).exists() || parent_of(supervisor).is_none()
    });
    let t = home.task(&id);
    assert_eq!(t["status"], "lost", "{t}");
    assert!(t["error"].as_str().unwrap().contains("supervisor"), "{t}");
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
    // Its slot is free again: the next task runs.
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
}

#[test]
fn a_killed_supervisor_is_pushed_to_the_editor_as_lost() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    c.call("initialize", json!({}));
    let id = c.call("task/run", json!({ "command": "sleep 100" }))["id"].as_str().unwrap().to_owned();
    c.notification("task/started", |p| p["task"]["id"] == id.as_str());
    let pid = home.pid_of(&id);
    kill_supervisor_of(pid);
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "lost");
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}
