//! Shared helpers for the integration tests: each test gets its own
//! ERRAND_HOME in a temp dir and drives the real `errand` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Home {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Home {
    pub fn new() -> Home {
        Home { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn errand_home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// errand's own log, every file of it ("" before anything was logged).
    pub fn own_log(&self) -> String {
        let Ok(dir) = std::fs::read_dir(self.errand_home().join("log")) else { return String::new() };
        dir.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect()
    }

    pub fn config(&self, text: &str) {
        std::fs::create_dir_all(self.errand_home()).unwrap();
        std::fs::write(self.errand_home().join("config.toml"), text).unwrap();
    }

    /// The real binary, isolated in this test's ERRAND_HOME, run from the temp dir.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_errand"));
        c.env("ERRAND_HOME", self.errand_home()).env_remove("ERRAND_TASK_ID").current_dir(self.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().expect("spawn errand").into()
    }

    /// Run and insist on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "errand {args:?} failed: {}{}", r.stdout, r.stderr);
        r.stdout
    }

    /// Submit a shell command; returns its id.
    pub fn submit(&self, shell: &str) -> String {
        self.ok(&["run", shell]).trim().to_owned()
    }

    /// `errand run --json ARGS…` (options, then the command); the new task.
    pub fn submit_json(&self, args: &[&str]) -> Value {
        let out = self.ok(&[&["run", "--json"], args].concat());
        serde_json::from_str(&out).expect("run --json is JSON")
    }

    pub fn task(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["show", "--json", id])).expect("show --json is JSON")
    }

    pub fn tasks(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["ls", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("ls --json is JSON")
    }

    pub fn wait(&self, ids: &[&str]) -> i32 {
        let mut args = vec!["wait"];
        args.extend_from_slice(ids);
        self.run(&args).code
    }

    /// Wait for a condition that the system reaches on its own (a process
    /// starting); fails the test after 20 s.
    pub fn eventually(&self, what: &str, f: impl FnMut() -> bool) {
        eventually(what, f)
    }

    pub fn status_of(&self, id: &str) -> String {
        self.task(id)["status"].as_str().unwrap().to_owned()
    }

    /// The pid of a task once it runs.
    pub fn pid_of(&self, id: &str) -> i64 {
        let mut pid = 0;
        self.eventually("the task runs", || {
            pid = self.task(id)["pid"].as_i64().unwrap_or(0);
            pid > 0
        });
        pid
    }

    /// The supervisors (`errand __worker`) of this home alive now, busy or idle.
    pub fn supervisors(&self) -> Vec<i64> {
        let var = format!("ERRAND_HOME={}", self.errand_home().display());
        live_processes_with(&var, |c| c.split(|&b| b == 0).any(|a| a == b"__worker"))
    }

    /// The watch holders (`errand __watch`) of this home alive now.
    pub fn watchers(&self) -> Vec<i64> {
        let var = format!("ERRAND_HOME={}", self.errand_home().display());
        live_processes_with(&var, |c| c.split(|&b| b == 0).any(|a| a == b"__watch"))
    }

    /// For a failure message: every errand process of this home, its state
    /// and what it sleeps in, and who holds or waits for the store's write lock.
    pub fn processes_report(&self) -> String {
        use std::os::unix::fs::MetadataExt;
        let var = format!("ERRAND_HOME={}", self.errand_home().display());
        let inode = std::fs::metadata(self.errand_home().join("errand.write-lock")).map(|m| m.ino()).unwrap_or(0);
        let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
        let mut report = String::new();
        for pid in live_processes_with(&var, |_| true) {
            let read = |what: &str| std::fs::read_to_string(format!("/proc/{pid}/{what}")).unwrap_or_default();
            let stat = read("stat");
            let state = stat.rfind(')').map_or("?", |i| &stat[i + 2..i + 3]);
            let cmdline = read("cmdline").replace('\0', " ");
            let lock = locks
                .lines()
                .filter(|l| l.contains(&format!(" {pid} ")) && l.contains(&format!(":{inode} ")))
                .map(|l| if l.contains("->") { "waits for the write lock" } else { "HOLDS the write lock" })
                .collect::<Vec<_>>()
                .join(", ");
            report.push_str(&format!("{pid} {state} wchan={} {lock} {cmdline}\n", read("wchan")));
        }
        report
    }

    /// Wait until a task's output holds `text`.
    pub fn wait_output(&self, id: &str, text: &str) {
        self.eventually(&format!("output {text:?}"), || self.ok(&["logs", id]).contains(text));
    }
}

/// A task's id, from its JSON.
pub fn id_of(task: &Value) -> String {
    task["id"].as_str().expect("a task has an id").to_owned()
}

/// Wait for a condition with a deadline (20 s): the one way tests wait.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Shell, for use inside a task: wait until the task's own `stream`
/// ("out" or "err") was captured with `text` in it. Makes the order of
/// output on two pipes certain without sleeping.
pub fn until_captured(stream: &str, text: &str) -> String {
    format!("until grep -qF '{text}' \"$ERRAND_HOME/logs/$ERRAND_TASK_ID.{stream}\" 2>/dev/null; do sleep 0.01; done")
}

impl Drop for Home {
    /// Leave no process behind: cancel whatever still runs.
    fn drop(&mut self) {
        if let Ok(out) = self.cmd().args(["ls", "--json", "--all", "-s", "running,queued"]).output() {
            if let Ok(tasks) = serde_json::from_slice::<Vec<Value>>(&out.stdout) {
                // Kill first: a cancel alone waits out the grace period.
                for t in tasks {
                    if let Some(pid) = t["pid"].as_i64() {
                        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                    }
                    let _ = self.cmd().args(["cancel", t["id"].as_str().unwrap_or("-")]).output();
                }
            }
        }
    }
}

/// Processes (not zombies) that carry a task's marker, ERRAND_TASK_ID=id,
/// wherever they are in the process tree.
pub fn processes_of(id: &str) -> Vec<i64> {
    let marker = format!("ERRAND_TASK_ID={id}");
    live_processes_with(&marker, |_| true)
}

/// Live processes (not zombies) whose environment holds `var` (NAME=value)
/// and whose command line passes `cmdline`.
fn live_processes_with(var: &str, cmdline: impl Fn(&[u8]) -> bool) -> Vec<i64> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
        .filter(|pid| {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.rfind(')').is_some_and(|i| s[i + 2..].starts_with('Z')));
            !zombie
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == var.as_bytes()))
                && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| cmdline(&c))
        })
        .collect()
}

/// Kill whatever carries a task's marker (a test's own clean-up).
pub fn kill_processes_of(id: &str) {
    for pid in processes_of(id) {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

/// Does any process of this group still exist?
/// A process of the group still runs. A zombie (dead, not yet reaped by
/// the supervisor that adopted it) runs nothing and does not count.
pub fn group_alive(pgid: i64) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else { return false };
    procs.flatten().any(|p| {
        let Ok(stat) = std::fs::read_to_string(p.path().join("stat")) else { return false };
        // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(") ") else { return false };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[0] != "X" && fields[2] == pgid.to_string()
    })
}

pub fn parent_of(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}
pub mod rpc;
pub mod schema;
pub mod terminal;
