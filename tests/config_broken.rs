//! A malformed config.toml: commands that look at or stop tasks warn in one
//! line and go on with the defaults; commands that start or remove work with
//! those settings refuse (exit 2, or -32006 from `serve`); `serve` and
//! supervisors log it and go on.

mod common;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::json;

/// Line 3 is the broken one.
const BROKEN: &str = "parallel = 2\n\n[history\nkeep_days = 1\n";

fn warning_prefix(home: &Home) -> String {
    format!("errand: warning: {}:3: ", home.errand_home().join("config.toml").display())
}

#[test]
fn reading_and_cancelling_go_on_with_the_defaults_after_one_warning() {
    let home = Home::new();
    let done = home.submit("echo hi");
    assert_eq!(home.wait(&[&done]), 0);
    let running = home.submit("sleep 300");
    home.pid_of(&running);
    home.config(BROKEN);
    let warning = warning_prefix(&home);
    // (arguments, exit code)
    let commands: [(&[&str], i32); 12] = [
        (&["ls"], 0),
        (&["show", &done], 0),
        (&["logs", &done], 0),
        (&["status"], 0),
        (&["workflows"], 0),
        (&["rm", &done], 0),
        (&["restore", &done], 0),
        (&["clear"], 0),
        (&["wait", &done], 0),
        (&["cancel", &running], 0),
        (&["wait", &running], 143), // 128 + SIGTERM
        (&["wait", "--all"], 0),
    ];
    for (args, code) in commands {
        let r = home.run(args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: one line: {}", r.stderr);
        assert!(r.stderr.starts_with(&warning), "{args:?}: {}", r.stderr);
        assert!(r.stderr.ends_with("; using defaults\n"), "{args:?}: {}", r.stderr);
    }
    assert!(home.run(&["logs", &done]).stdout.contains("hi"));
    assert_eq!(home.status_of(&running), "cancelled");
}

#[test]
fn starting_or_pruning_refuses_with_the_file_and_line() {
    let home = Home::new();
    let id = home.submit("true");
    assert_eq!(home.wait(&[&id]), 0);
    home.config(BROKEN);
    let error = format!("errand: {}:3: ", home.errand_home().join("config.toml").display());
    for args in [&["run", "echo no"][..], &["run", "-w", "echo no"], &["restart", &id], &["prune"]] {
        let r = home.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with(&error), "{args:?}: {}", r.stderr);
    }
    assert_eq!(home.tasks(&["--all"]).len(), 1, "nothing was queued, nothing pruned");
}

#[test]
fn a_bad_value_names_its_own_line() {
    let home = Home::new();
    home.config("# settings\ncancel_grace_secs = 2.0\nparallel = 0\n");
    let r = home.run(&["run", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("config.toml:3: parallel must be at least 1"), "{}", r.stderr);
}

#[test]
fn serve_logs_it_answers_reads_and_refuses_new_work_as_the_cli_does() {
    let home = Home::new();
    let done = home.submit("echo before");
    assert_eq!(home.wait(&[&done]), 0);
    home.config(BROKEN);
    let mut client = Client::spawn(home.cmd(), Framing::Lines);
    client.call("initialize", json!({}));
    assert_eq!(client.call("task/list", json!({}))["tasks"].as_array().map(Vec::len), Some(1), "reads go on");
    for (method, params) in [("task/run", json!({ "command": "echo served" })), ("task/restart", json!({ "id": done }))]
    {
        let e = client.call_err(method, params);
        assert_eq!(e["code"], -32006, "{method}: {e}");
        assert!(e["message"].as_str().unwrap().contains("config.toml:3:"), "{method} names file and line: {e}");
    }
    assert_eq!(home.tasks(&["--all"]).len(), 1, "nothing new was queued");
    client.close_stdin();
    assert_eq!(client.wait_exit(std::time::Duration::from_secs(20)), Some(0));
    assert_eq!(client.stderr(), "", "serve's stderr stays silent");
    // Every frame on stdout was JSON (the client fails the test otherwise);
    // the warning is in errand's own log.
    let log = home.own_log();
    assert!(
        log.lines().any(|l| l.contains("config.toml:3:") && l.contains("using defaults")),
        "serve logged it: {log}"
    );
}

#[test]
fn a_supervisor_started_after_the_file_broke_logs_it_and_runs_the_queue() {
    let home = Home::new();
    home.config("parallel = 1\n");
    let first = home.submit("sleep 300");
    let pid = home.pid_of(&first);
    let queued = home.submit("echo ran anyway");
    assert_eq!(home.status_of(&queued), "queued", "parallel = 1 holds it");
    let supervisor = common::parent_of(pid).expect("the task's supervisor");
    // A supervisor started before the file broke read the good file: wait
    // until the busy one is the only one left (an idle one lingers 2 s at
    // most), so the supervisor that runs the queued task is a new one.
    home.eventually("only the busy supervisor is left", || home.supervisors() == vec![supervisor]);
    home.config(BROKEN);
    // Its supervisor dies: whoever looks next starts a new one, which reads
    // the broken file.
    // SAFETY: a plain kill of a process this test's errand started.
    unsafe { libc::kill(supervisor as i32, libc::SIGKILL) };
    assert_eq!(home.wait(&[&queued]), 0, "the queue goes on with the defaults");
    assert!(home.ok(&["logs", &queued]).contains("ran anyway"));
    assert_eq!(home.status_of(&first), "lost");
    let log = home.own_log();
    assert!(
        log.lines().any(|l| l.contains("config.toml:3:") && l.contains("using defaults")),
        "the new supervisor logged it: {log}"
    );
}

#[test]
fn a_bad_user_workflow_is_a_malformed_file_like_any_other() {
    let home = Home::new();
    home.config("[workflows]\nnotes = \"git log\"\nbroken = 3\n");
    std::fs::write(home.path().join("errand.toml"), "build = \"true\"\n").unwrap();
    let warning = format!("errand: warning: {}:3: ", home.errand_home().join("config.toml").display());
    // It used to fail `workflows` (exit 2) while `run` went on with it.
    let r = home.run(&["workflows"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with(&warning), "{}", r.stderr);
    assert!(r.stdout.contains("#build"), "the project's workflows are still listed: {}", r.stdout);
    assert!(!r.stdout.contains("#notes"), "the broken file's are not: {}", r.stdout);
    let r = home.run(&["run", "true"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("config.toml:3: workflow 'broken' must be a command string or a table"), "{}", r.stderr);
}
