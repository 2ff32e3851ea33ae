//! Fault injection, `errand serve`: a server killed with tasks it started
//! loses none of them, and servers following a heavy burst of submissions
//! from many clients hear of every task exactly once, with no busy store.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::rpc::{Client, Framing};
use common::{eventually, processes_of, Home};
use serde_json::{json, Value};

#[test]
fn a_killed_server_loses_none_of_its_tasks_and_the_next_one_reports_them() {
    let home = Home::new();
    let mut first = Client::spawn(home.cmd(), Framing::ContentLength);
    first.call("initialize", json!({}));
    let mut ids = Vec::new();
    for i in 0..5 {
        let go = home.path().join(format!("go{i}"));
        let command = format!("echo up {i}; until [ -e '{}' ]; do sleep 0.01; done; echo done {i}", go.display());
        ids.push(first.call("task/run", json!({ "command": command }))["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        first.notification("task/started", |p| p["task"]["id"] == id.as_str());
    }
    for (i, id) in ids.iter().enumerate() {
        home.wait_output(id, &format!("up {i}"));
    }
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    drop(first);
    for id in &ids {
        assert!(!processes_of(id).is_empty(), "{id} runs on without its server");
    }
    // Three end with no server at all...
    for i in 0..3 {
        std::fs::write(home.path().join(format!("go{i}")), "").unwrap();
    }
    assert_eq!(home.wait(&[&ids[0], &ids[1], &ids[2]]), 0);
    // ...two while a new server runs.
    let mut second = Client::spawn(home.cmd(), Framing::Lines);
    let init = second.call("initialize", json!({}));
    let unread: HashSet<&str> = init["unread"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in &ids[..3] {
        assert!(unread.contains(id.as_str()), "{id} finished while no server ran: unread {unread:?}");
    }
    assert_eq!(init["counts"]["running"], 2, "{init}");
    for i in 3..5 {
        std::fs::write(home.path().join(format!("go{i}")), "").unwrap();
    }
    for (i, id) in ids.iter().enumerate().skip(3) {
        let fin = second.notification("task/finished", |p| p["task"]["id"] == id.as_str());
        assert_eq!(fin["task"]["status"], "completed", "{fin}");
        assert!(fin["outputTail"].as_str().unwrap().contains(&format!("done {i}")), "{fin}");
    }
    let list = second.call("task/list", json!({}));
    let listed: HashMap<&str, &Value> =
        list["tasks"].as_array().unwrap().iter().map(|t| (t["id"].as_str().unwrap(), t)).collect();
    for (i, id) in ids.iter().enumerate() {
        let t = listed[id.as_str()];
        assert_eq!(t["status"], "completed", "{t}");
        assert_eq!(t["exitCode"], 0, "{t}");
        assert!(home.ok(&["logs", id]).contains(&format!("done {i}")));
    }
    // No second task/finished for any: the three were in `unread`.
    let answer = second.send_request("task/counts", json!({}));
    second.wait_response(&answer);
    let finished: Vec<&Value> =
        second.traffic.iter().filter(|m| m["method"] == "task/finished").map(|m| &m["params"]["task"]["id"]).collect();
    assert_eq!(finished.len(), 2, "{finished:?}");
}

/// Another program (a sqlite3 shell, a backup, an errand process
/// descheduled on a loaded machine) holding the store's write lock must not
/// hold up what only reads: the first answer, lists, notifications.
#[test]
fn a_held_write_lock_holds_up_no_first_answer_and_its_unread_tasks_are_marked_once_free() {
    let home = Home::new();
    let ok = home.submit("true");
    let failed = home.submit("exit 3");
    home.wait(&[&ok, &failed]);
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    // Answered within the client's 20 s, while the lock is held (a writer
    // waits up to 2 minutes for it).
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    let init = server.call("initialize", json!({}));
    assert_eq!(init["unreadTotal"], 2, "{init}");
    assert_eq!(init["unreadFailed"], 1, "{init}");
    let listed = server.call("task/list", json!({}));
    assert_eq!(listed["tasks"].as_array().unwrap().len(), 2, "{listed}");
    let unannounced = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM tasks WHERE announced_at IS NULL", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(unannounced(&db), 2, "nothing could be marked while the lock was held");
    db.execute_batch("COMMIT").unwrap();
    // Once free, the server marks them told: no other editor repeats them.
    eventually("the first answer's tasks are marked told", || unannounced(&db) == 0);
    let mut other = Client::spawn(home.cmd(), Framing::Lines);
    assert_eq!(other.call("initialize", json!({}))["unreadTotal"], 0);
    // And the server goes on telling.
    let next = server.call("task/run", json!({ "command": "true" }))["id"].as_str().unwrap().to_owned();
    server.notification("task/finished", |p| p["task"]["id"] == next.as_str());
}

/// A supervisor killed, then the write lock held: the first answer comes
/// at once (it used to mark the dead supervisor's task lost first, waiting
/// for the lock), and the task is reported lost once the lock is free.
#[test]
fn a_dead_supervisor_and_a_held_write_lock_hold_up_no_first_answer() {
    let home = Home::new();
    let id = home.submit("sleep 100");
    home.pid_of(&id);
    // Every supervisor of this home (an idle one may linger beside the
    // busy one, and would mark the task lost). No errand command from here
    // until the lock is held: each one would too.
    for pid in home.supervisors() {
        assert!(Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap().success());
    }
    eventually("the supervisor is gone", || home.supervisors().is_empty());
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    let init = server.call("initialize", json!({}));
    assert_eq!(init["counts"]["running"], 1, "not marked lost yet: {init}");
    db.execute_batch("COMMIT").unwrap();
    let finished = server.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(finished["task"]["status"], "lost", "{finished}");
    eventually("the task's process is gone with it", || processes_of(&id).is_empty());
}

const CLIENTS: usize = 4;
const EACH: usize = 500;

/// Everything a server sent, read until every task was reported finished.
fn finished_ids(server: &mut Client, total: usize, deadline: Instant) -> HashMap<String, usize> {
    let mut finished: HashMap<String, usize> = HashMap::new();
    while finished.len() < total {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = server
            .next_message(left)
            .unwrap_or_else(|| panic!("{} of {total} task/finished by the deadline", finished.len()));
        if msg["method"] == "task/finished" {
            *finished.entry(msg["params"]["task"]["id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    // Whatever the server had sent before answering this is in too.
    let id = server.send_request("task/counts", json!({}));
    loop {
        let msg = server.next_message(deadline.saturating_duration_since(Instant::now())).expect("answer");
        if msg["id"] == id {
            break;
        }
        if msg["method"] == "task/finished" {
            *finished.entry(msg["params"]["task"]["id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    finished
}

#[test]
fn two_thousand_submissions_from_four_clients_two_servers_hear_each_once_and_nothing_is_busy() {
    let home = Home::new();
    home.ok(&["status"]);
    let mut servers: Vec<Client> = (0..2)
        .map(|i| {
            let framing = if i == 0 { Framing::ContentLength } else { Framing::Lines };
            let mut c = Client::spawn(home.cmd(), framing);
            c.call("initialize", json!({}));
            c
        })
        .collect();
    let started = Instant::now();
    let exe = env!("CARGO_BIN_EXE_errand");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let script = format!(
                "i=0; while [ $i -lt {EACH} ]; do i=$((i+1)); '{exe}' run true || echo \"errand run failed: $?\" >&2; done"
            );
            Command::new("sh")
                .args(["-c", &script])
                .env("ERRAND_HOME", home.errand_home())
                .env_remove("ERRAND_TASK_ID")
                .current_dir(home.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (outs, errs): (Vec<String>, Vec<String>) = clients
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success());
            (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
        })
        .unzip();
    let submitted_in = started.elapsed();
    let ids: HashSet<String> = outs.iter().flat_map(|o| o.lines().map(str::to_owned)).collect();
    let stderr = errs.concat();
    assert_eq!(stderr, "", "the clients' stderr");
    assert_eq!(ids.len(), CLIENTS * EACH, "every submission got its own id");

    let deadline = Instant::now() + Duration::from_secs(60);
    for (n, server) in servers.iter_mut().enumerate() {
        let finished = finished_ids(server, ids.len(), deadline);
        let twice: Vec<_> = finished.iter().filter(|(_, &n)| n != 1).collect();
        assert!(twice.is_empty(), "server {n}: task/finished more than once: {twice:?}");
        let unknown: Vec<_> = finished.keys().filter(|id| !ids.contains(*id)).collect();
        assert!(unknown.is_empty(), "server {n}: unknown tasks {unknown:?}");
    }
    let all_done = started.elapsed();

    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    let completed: i64 = db
        .query_row("SELECT count(*) FROM tasks WHERE status = 'completed' AND exit_code = 0", [], |r| r.get(0))
        .unwrap();
    assert_eq!(completed as usize, ids.len(), "every task recorded completed");
    for mut server in servers {
        server.close_stdin();
        assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
        assert_eq!(server.stderr(), "", "a server's stderr");
    }
    eventually("the supervisors are gone", || supervisors_left(&home) == 0);
    let log = home.own_log();
    let busy: Vec<&str> = log
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("locked") || l.contains("busy")
        })
        .collect();
    assert!(busy.is_empty(), "errand's own log: {busy:?}");
    eprintln!("{} submissions in {submitted_in:?}; all reported to both servers after {all_done:?}", ids.len());
}

fn supervisors_left(home: &Home) -> usize {
    let marker = format!("ERRAND_HOME={}", home.errand_home().display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let p = e.path();
            std::fs::read(p.join("cmdline")).is_ok_and(|c| c.split(|&b| b == 0).any(|a| a == b"__worker"))
                && std::fs::read(p.join("environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
                && std::fs::read_to_string(p.join("stat"))
                    .is_ok_and(|s| s.rfind(')').is_some_and(|i| !s[i + 2..].starts_with('Z')))
        })
        .count()
}
