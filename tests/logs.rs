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
    let exe = env!("CARGO_BIN_EXE_errand");
    let id = home.submit(&format!("'{exe}' progress 40 linking && sleep 100"));
    home.eventually("progress recorded", || home.task(&id)["progress"].as_f64() == Some(40.0));
    let t = home.task(&id);
    assert_eq!(t["progressMessage"], "linking");
    assert!(t["etaAt"].as_i64().is_some());
}
