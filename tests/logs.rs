//! Output as it comes (`logs -f`) and progress reported from inside a task.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{until_captured, Home};

#[test]
fn logs_follow_prints_output_as_it_comes_and_ends_with_the_task() {
    let home = Home::new();
    let ack = home.path().join("ack");
    // The task waits until the follower has shown its first line.
    let id = home.submit(&format!(
        "echo line 1; until [ -e '{}' ]; do sleep 0.01; done; echo line 2; {}; echo done >&2",
        ack.display(),
        until_captured("out", "line 2")
    ));
    let mut follower = home.cmd().args(["logs", "-f", &id]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(follower.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "line 1\n", "shown while the task still runs");
    assert_eq!(home.status_of(&id), "running");
    std::fs::write(&ack, "").unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "line 2\ndone\n", "and the rest, ending with the task");
    assert!(follower.wait().unwrap().success());
    assert_eq!(home.status_of(&id), "completed");
}

#[test]
fn progress_reported_from_inside_a_task() {
    let home = Home::new();
    // errand is not on the task's PATH: ERRAND_BIN names it.
    let id = home.ok(&["run", "-e", "PATH=/usr/bin:/bin", "\"$ERRAND_BIN\" progress 40 linking && sleep 100"]);
    let id = id.trim();
    home.eventually("progress recorded", || home.task(id)["progress"].as_f64() == Some(40.0));
    let t = home.task(id);
    assert_eq!(t["progressMessage"], "linking");
    assert!(t["etaAt"].as_i64().is_some());
}

/// Delete every output file of a task.
fn delete_output(home: &Home, id: &str) {
    for ext in ["out", "err", "idx"] {
        let _ = std::fs::remove_file(home.errand_home().join(format!("logs/{id}.{ext}")));
    }
}

/// Wait for a spawned errand to exit (20 s at most): its code and stderr.
fn finished(mut child: std::process::Child) -> (i32, String) {
    let mut status = None;
    common::eventually("the follower exits", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.and_then(|s| s.code()).unwrap_or(-1), stderr)
}

#[test]
fn output_deleted_while_followed_is_reported_at_once() {
    let home = Home::new();
    let ack = home.path().join("ack");
    let id = home.submit(&format!("echo line 1; until [ -e '{}' ]; do sleep 0.01; done; echo line 2", ack.display()));
    let mut follower =
        home.cmd().args(["logs", "-f", &id]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(follower.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "line 1\n");
    delete_output(&home, &id);
    let (code, stderr) = finished(follower);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("errand: the output of {id} is gone: ")), "{stderr}");
    assert!(stderr.trim_end().ends_with("was deleted"), "{stderr}");
    assert_eq!(home.status_of(&id), "running", "said while the task still runs");
    std::fs::write(&ack, "").unwrap();
    assert_eq!(home.wait(&[&id]), 0);
}

#[test]
fn output_missing_before_reading_is_reported_not_passed_off_as_none() {
    let home = Home::new();
    let id = home.submit("echo out; echo err >&2");
    assert_eq!(home.wait(&[&id]), 0);
    delete_output(&home, &id);
    for args in [&["logs", "-f", &id][..], &["logs", &id], &["logs", "--stderr", &id], &["logs", "-n", "1", &id]] {
        let r = home.run(args);
        assert_eq!(r.code, 1, "{args:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("the output of {id} is gone: ")), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("bytes were written)"), "{args:?}: {}", r.stderr);
    }

    // Deleted while running, before anyone followed: told when it ends.
    let ack = home.path().join("ack");
    let id = home.submit(&format!("echo early; until [ -e '{}' ]; do sleep 0.01; done", ack.display()));
    home.wait_output(&id, "early");
    delete_output(&home, &id);
    let follower = home.cmd().args(["logs", "-f", &id]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::fs::write(&ack, "").unwrap();
    let (code, stderr) = finished(follower);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is missing (6 bytes were written)"), "{stderr}");

    // No output at all is not an error.
    let quiet = home.submit("true");
    assert_eq!(home.wait(&[&quiet]), 0);
    let r = home.run(&["logs", "-f", &quiet]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
}
