//! Fault injection, inotify run dry. Instances are a per-user resource
//! (128 by default) shared with editors, file watchers and errand's own
//! waiters; when another program holds them all, errand must still run,
//! finish, follow and notify (by looking on a timer), not leave a task
//! queued for ever or a server silent.
//!
//! One test in this file on purpose: while it holds every instance, no
//! other test may run beside it (tests of one binary run in parallel).

mod common;

use std::os::fd::{FromRawFd, OwnedFd};

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::json;

/// Every inotify instance this user may still create, held until dropped.
fn take_every_inotify_instance() -> Vec<OwnedFd> {
    // The per-user instance limit must be what stops us, not our fd limit.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let mut held = Vec::new();
    loop {
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
            break;
        }
        held.push(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    assert!(
        (held.len() as u64) + 64 < limit.rlim_cur,
        "ran out of file descriptors ({}), not of inotify instances: this test cannot make its fault here",
        held.len()
    );
    held
}

#[test]
fn with_no_inotify_instance_left_tasks_run_finish_and_are_followed_and_notified() {
    let home = Home::new();
    // The store exists before the instances go (as it would for a user).
    home.ok(&["ls"]);
    let gate = home.path().join("gate");
    let held = take_every_inotify_instance();

    // The CLI: a supervisor starts and claims, run -w prints the output and
    // the exit status, wait and logs -f return when the task ends.
    let run = home.run(&["run", "-w", "--", "sh", "-c", "echo first; echo second >&2; exit 3"]);
    assert_eq!((run.code, run.stdout.as_str()), (3, "first\n"), "{}", run.stderr);
    assert!(run.stderr.contains("second"), "{}", run.stderr);
    let waiting =
        home.submit(&format!("echo before; until [ -e '{}' ]; do sleep 0.01; done; echo after", gate.display()));
    let logs = home.cmd().args(["logs", "-f", &waiting]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let wait = home.cmd().args(["wait", &waiting]).spawn().unwrap();

    // The server: notifications, counts and followed output still come.
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    let init = c.call("initialize", json!({}));
    let active = init["counts"]["running"].as_u64().unwrap() + init["counts"]["queued"].as_u64().unwrap();
    assert_eq!(active, 1, "{init}");
    c.call("task/follow", json!({ "id": waiting }));
    let mut live = String::new();
    while !live.contains("before") {
        live.push_str(c.notification("task/outputAppended", |p| p["id"] == waiting.as_str())["data"].as_str().unwrap());
    }
    let quick = c.call("task/run", json!({ "command": "echo quick" }))["id"].as_str().unwrap().to_owned();
    let finished = c.notification("task/finished", |p| p["task"]["id"] == quick.as_str());
    assert_eq!(finished["outputTail"], "quick\n", "{finished}");

    std::fs::write(&gate, "").unwrap();
    while !live.contains("after") {
        live.push_str(c.notification("task/outputAppended", |p| p["id"] == waiting.as_str())["data"].as_str().unwrap());
    }
    assert_eq!(live, "before\nafter\n");
    let finished = c.notification("task/finished", |p| p["task"]["id"] == waiting.as_str());
    assert_eq!(finished["task"]["status"], "completed", "{finished}");
    c.notification("counts/changed", |p| p["running"] == 0 && p["queued"] == 0);

    let logs = logs.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "before\nafter\n");
    assert_eq!(wait.wait_with_output().unwrap().status.code(), Some(0));
    drop(held);
    // Said in errand's log once per process (about ten here), not at every look.
    let log = home.own_log();
    let said = log.matches("inotify unavailable").count();
    assert!((1..=20).contains(&said), "said {said} times:\n{log}");
}
