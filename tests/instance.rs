//! A workflow's `instance` policy, for a run while another run of it is
//! queued or running in the same folder: `single` (the default) refuses it
//! naming the run in progress, `parallel` runs both, `restart` cancels the
//! one in progress first, `queue` starts the new one once it ended.

mod common;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::json;

fn project(home: &Home, toml: &str) -> std::path::PathBuf {
    let dir = home.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("errand.toml"), toml).unwrap();
    dir
}

fn run_in(home: &Home, dir: &std::path::Path, args: &[&str]) -> common::Run {
    let mut cmd = home.cmd();
    cmd.current_dir(dir).arg("run").args(args);
    let out = cmd.output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_single_workflow_refuses_a_second_run_naming_the_first() {
    let home = Home::new();
    let dir = project(&home, "[slow]\ncommand = 'sleep 30'\n[other]\ncommand = 'sleep 30'\ninstance = 'parallel'\n");
    let first = run_in(&home, &dir, &["#slow"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let id = first.stdout.trim().to_owned();
    let second = run_in(&home, &dir, &["#slow"]);
    assert_eq!(second.code, 4, "{}", second.stderr);
    assert!(second.stderr.contains("#slow is already"), "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("here as {id} (instance = \"single\"): errand restart {id}")),
        "{}",
        second.stderr
    );
    // A command is not a workflow: no policy.
    assert_eq!(run_in(&home, &dir, &["sleep 30"]).code, 0);
    // Elsewhere is another project's run.
    let elsewhere = run_in(&home, &dir, &["--cwd", "..", "#slow"]);
    assert_eq!(elsewhere.code, 0, "{}", elsewhere.stderr);

    // Over the protocol: error -32009 with the run in progress.
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let cwd = dir.display().to_string();
    let err = server.call_err("task/run", json!({ "workflow": "slow", "clientCwd": cwd }));
    assert_eq!((err["code"].as_i64(), err["data"]["id"].as_str()), (Some(-32009), Some(id.as_str())), "{err}");
    assert_eq!(err["data"]["workflow"], "slow");
    let listed = server.call("workflow/list", json!({ "clientCwd": cwd }));
    let instance =
        |name: &str| listed.as_array().unwrap().iter().find(|w| w["name"] == name).unwrap()["instance"].clone();
    assert_eq!((instance("slow"), instance("other")), (json!("single"), json!("parallel")));

    // Parallel: both run.
    let a = run_in(&home, &dir, &["#other"]).stdout.trim().to_owned();
    let b = run_in(&home, &dir, &["#other"]).stdout.trim().to_owned();
    home.pid_of(&a);
    home.pid_of(&b);

    // Once the first ended, a new run goes.
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    assert_eq!(run_in(&home, &dir, &["#slow"]).code, 0);
}

#[test]
fn restart_cancels_the_run_in_progress_and_queue_waits_for_it() {
    let home = Home::new();
    let dir = project(
        &home,
        "[again]\ncommand = 'sleep 30'\ninstance = 'restart'\n\
         [inturn]\ncommand = 'echo start >> order; sleep 0.3; echo end >> order'\ninstance = 'queue'\n",
    );
    let first = run_in(&home, &dir, &["#again"]).stdout.trim().to_owned();
    home.pid_of(&first);
    let second = run_in(&home, &dir, &["#again"]).stdout.trim().to_owned();
    home.pid_of(&second);
    let old = home.task(&first);
    assert_eq!(old["status"], "cancelled", "{old}");
    assert_eq!(home.task(&second)["after"], first.as_str(), "it started once the first ended");

    let one = run_in(&home, &dir, &["#inturn"]).stdout.trim().to_owned();
    let two = run_in(&home, &dir, &["#inturn"]).stdout.trim().to_owned();
    assert_eq!(home.wait(&[&one, &two]), 0);
    let order = std::fs::read_to_string(dir.join("order")).unwrap();
    assert_eq!(order, "start\nend\nstart\nend\n", "one after the other");

    std::fs::write(dir.join("errand.toml"), "[x]\ncommand = 'true'\ninstance = 'many'\n").unwrap();
    let bad = run_in(&home, &dir, &["#x"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("instance must be \"single\", \"parallel\", \"restart\" or \"queue\""),
        "{}",
        bad.stderr
    );
}
