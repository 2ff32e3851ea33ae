//! Cancel: the whole process group goes, SIGKILL follows SIGTERM after the
//! grace period, and a queued task never runs.

mod common;

use common::{group_alive, Home};

fn pgid_of(entry: &std::fs::DirEntry) -> Option<i64> {
    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(2)?.parse().ok()
}

fn group_size(pgid: i64) -> usize {
    std::fs::read_dir("/proc").unwrap().flatten().filter(|e| pgid_of(e) == Some(pgid)).count()
}

#[test]
fn cancel_kills_the_whole_process_group() {
    let home = Home::new();
    let id = home.submit("sleep 100 & sleep 100; wait");
    let pid = home.pid_of(&id);
    // Both sleeps have started: the group has three members.
    home.eventually("the group is complete", || group_size(pid) >= 3);
    assert!(home.ok(&["cancel", &id]).contains("cancelling"));
    assert_eq!(home.wait(&[&id]), 128 + libc::SIGTERM);
    assert_eq!(home.status_of(&id), "cancelled");
    assert!(!group_alive(pid), "no process of the group survives");
}

#[test]
fn cancel_escalates_to_sigkill_after_the_grace_period() {
    let home = Home::new();
    home.config("cancel_grace_secs = 0.5\n");
    let id = home.submit("trap '' TERM; sleep 100 & trap '' TERM; echo traps set; while :; do sleep 0.05; done");
    let pid = home.pid_of(&id);
    home.wait_output(&id, "traps set");
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    let t = home.task(&id);
    assert_eq!(t["status"], "cancelled");
    assert_eq!(t["signal"], libc::SIGKILL);
    assert!(!group_alive(pid), "SIGKILL reached every process of the group");
}

#[test]
fn a_queued_task_is_cancelled_without_ever_running() {
    let home = Home::new();
    home.config("parallel = 1\n");
    let blocker = home.submit("sleep 100");
    let marker = home.path().join("ran");
    let queued = home.submit(&format!("touch {}", marker.display()));
    assert_eq!(home.status_of(&queued), "queued");
    assert!(home.ok(&["cancel", &queued]).contains("had not started"));
    home.ok(&["cancel", &blocker]);
    home.wait(&[&blocker, &queued]);
    let t = home.task(&queued);
    assert_eq!(t["status"], "cancelled");
    assert!(t["startedAt"].is_null());
    assert!(!marker.exists(), "it never ran");
    let r = home.run(&["cancel", &queued]);
    assert_eq!(r.code, 4, "cancelling a finished task is an error: {}", r.stderr);
}
