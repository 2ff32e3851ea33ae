//! The bulk path: `errand run --batch` (one command per line of stdin, or
//! per NUL with -0) and `task/runMany`: every task recorded once, in order;
//! a bad line or item queues nothing of its chunk and says which; ids
//! printed are stored (a client killed mid-batch loses none of them).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use common::rpc::{Client, Framing};
use common::{eventually, Home};
use serde_json::{json, Value};

/// `errand run --batch ARGS` fed `input`; (exit code, stdout, stderr).
fn batch(home: &Home, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = home
        .cmd()
        .args([&["run", "--batch"], args].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every stored task, oldest first.
fn stored(home: &Home) -> Vec<Value> {
    let mut all = home.tasks(&["--all"]);
    all.reverse();
    all
}

#[test]
fn a_batch_queues_every_line_once_in_order_and_runs_them() {
    let home = Home::new();
    // More lines than one transaction takes, with blank lines, CRLF and non-ASCII.
    let mut input = String::new();
    for i in 0..2300 {
        input.push_str(&format!("echo {i} ü >> out.txt\n"));
        if i % 500 == 0 {
            input.push_str("\n  \r\n");
        }
    }
    input.push_str("echo last\r\n");
    let (code, stdout, stderr) = batch(&home, &["--group", "bulk"], input.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<&str> = stdout.lines().collect();
    assert_eq!(ids.len(), 2301, "an id per command, none for blank lines");
    let tasks = stored(&home);
    let stored_ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(stored_ids, ids, "stored once each, in the order given, as printed");
    assert_eq!(tasks[7]["command"]["shell"], "echo 7 ü >> out.txt");
    assert_eq!(tasks[2300]["command"]["shell"], "echo last", "the CR of a CRLF line is not part of it");
    assert!(tasks.iter().all(|t| t["group"] == "bulk"), "the options apply to each");
    assert_eq!(home.run(&["wait", "--all"]).code, 0);
    let out = std::fs::read_to_string(home.path().join("out.txt")).unwrap();
    assert_eq!(out.lines().count(), 2300, "each ran once");
}

#[test]
fn nul_separated_commands_may_hold_newlines_and_json_gives_a_task_per_line() {
    let home = Home::new();
    let (code, stdout, stderr) = batch(&home, &["-0", "--json"], b"printf 'a\\n'\necho b\0echo c\0");
    assert_eq!(code, 0, "{stderr}");
    let tasks: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["command"]["shell"], "printf 'a\\n'\necho b");
    assert_eq!(tasks[1]["command"]["shell"], "echo c");
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(home.wait(&ids), 0);
    assert_eq!(home.ok(&["logs", ids[0]]), "a\nb\n");
    // Without --batch, -0 is a mistake said as one, not a flag dropped.
    let r = home.run(&["run", "-0", "true"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--batch"), "{}", r.stderr);
    assert_eq!(stored(&home).len(), 2, "nothing queued");
}

#[test]
fn a_bad_line_queues_nothing_of_its_chunk_and_names_the_line() {
    let home = Home::new();
    for (input, why) in [
        (&b"true\n#build\ntrue\n"[..], "line 2 of stdin: '#build' names a workflow"),
        (&b"true\n\xff\n"[..], "line 2 of stdin is not UTF-8"),
        (&b"true\nfalse\x00x\n"[..], "line 2 of stdin"),
    ] {
        let (code, stdout, stderr) = batch(&home, &[], input);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(why) && stderr.contains("nothing was queued"), "{stderr}");
        assert_eq!(stdout, "");
    }
    assert!(stored(&home).is_empty(), "nothing queued");
    let bad = batch(&home, &["--after", "nope"], b"true\n");
    assert_eq!(bad.0, 3, "an unknown dependency: {}", bad.2);
    assert!(stored(&home).is_empty());
    let both = home.run(&["run", "--batch", "echo", "x"]);
    assert_eq!(both.code, 2, "a command and --batch: {}", both.stderr);
}

#[test]
fn a_client_killed_mid_batch_loses_no_task_it_printed() {
    let home = Home::new();
    let mut child = home
        .cmd()
        .args(["run", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut ids = BufReader::new(child.stdout.take().unwrap()).lines();
    // A slow producer: what it wrote so far is queued without waiting for more.
    let mut printed = Vec::new();
    for round in 0..3 {
        for i in 0..100 {
            writeln!(stdin, "echo {round}-{i}").unwrap();
        }
        stdin.flush().unwrap();
        while printed.len() < (round + 1) * 100 {
            printed.push(ids.next().unwrap().unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL, with stdin still open
    child.wait().unwrap();
    let tasks = stored(&home);
    let stored_ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(stored_ids, printed, "every printed id stored, once, in order");
    assert_eq!(home.run(&["wait", "--all"]).code, 0);
}

#[test]
fn run_many_queues_all_in_order_or_none_naming_the_bad_one() {
    let home = Home::new();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let items: Vec<Value> = (0..300)
        .map(|i| match i % 2 {
            0 => json!({ "command": format!("echo {i}"), "clientCwd": home.path() }),
            _ => json!({ "argv": ["echo", i.to_string()], "name": format!("argv {i}"), "clientCwd": home.path() }),
        })
        .collect();
    let result = server.call("task/runMany", json!({ "tasks": items }));
    let ids: Vec<&str> = result["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 300);
    assert_eq!(result["tasks"][1]["name"], "argv 1");
    let tasks = stored(&home);
    assert_eq!(tasks.iter().map(|t| t["id"].as_str().unwrap()).collect::<Vec<_>>(), ids, "in order");
    let last = ids[299].to_owned();
    server.notification("task/finished", |n| n["task"]["id"] == last.as_str());
    eventually("all finished", || home.tasks(&["--all", "-s", "completed"]).len() == 300);

    for (bad, why) in [
        (json!([{ "command": "true" }, { "workflow": "build" }]), "tasks[1]: a workflow is run with task/run"),
        (json!([{ "command": "true" }, { "command": " " }]), "tasks[1]: the command is empty"),
        (json!([{ "command": "true", "env": { "A=B": "x" } }]), "tasks[0]:"),
        (json!([{ "command": "true" }, { "command": "true", "after": ["nope"] }]), "no task"),
    ] {
        let err = server.call_err("task/runMany", json!({ "tasks": bad }));
        let message = err["message"].as_str().unwrap_or_default().to_lowercase();
        assert!(message.contains(&why.to_lowercase()), "{why}: {err}");
    }
    let too_many: Vec<Value> = (0..10_001).map(|_| json!({ "command": "true" })).collect();
    let err = server.call_err("task/runMany", json!({ "tasks": too_many }));
    assert!(err["message"].as_str().unwrap().contains("at most 10000"), "{err}");
    assert_eq!(stored(&home).len(), 300, "none of the refused batches queued anything");
}

/// SQLite rebuilds its WAL index from the whole WAL in every process that
/// opens the store alone (each CLI command): a burst of submissions must
/// not leave a long WAL behind for the next command to read.
#[test]
fn a_burst_of_submissions_leaves_the_wal_short() {
    let home = Home::new();
    home.ok(&["pause", "--queue"]);
    for _ in 0..200 {
        home.ok(&["run", "true"]);
    }
    let wal = std::fs::metadata(home.errand_home().join("errand.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert!(wal < 1 << 20, "the WAL is {wal} bytes after 200 submissions");
    assert_eq!(home.tasks(&["--all"]).len(), 200);
    home.ok(&["resume", "--queue"]);
    assert_eq!(home.run(&["wait", "--all"]).code, 0);
}
