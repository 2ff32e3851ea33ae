//! Watch mode (`errand run --watch`): real files in a temp project, the
//! real binary, its detached watch holder and real inotify.
//!
//! Waiting for something to happen is `eventually`. Showing that a change
//! did NOT cause a run cannot be waited for: those checks look again after
//! `QUIET`, five times the watch's debounce (100 ms), and each is followed
//! by a change that must run, so a watch that stopped working fails too.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Home;

const QUIET: Duration = Duration::from_millis(500);

/// A project with a .gitignore, a `src` folder and the tasks of one watch.
struct Project {
    home: Home,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let home = Home::new();
        let root = home.path().join("proj");
        std::fs::create_dir_all(root.join("src/gen")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::write(root.join("src/.gitignore"), "gen/\n").unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
        Project { home, root }
    }

    /// `errand run --watch ARGS…` from the project folder; the watch's id.
    fn watch(&self, args: &[&str]) -> String {
        let out = self.home.cmd().current_dir(&self.root).arg("run").arg("--watch").args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        stdout
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The runs so far, newest first.
    fn runs(&self) -> Vec<serde_json::Value> {
        self.home.tasks(&["--all"])
    }

    fn statuses(&self) -> Vec<String> {
        self.runs().iter().map(|t| t["status"].as_str().unwrap().to_owned()).collect()
    }

    fn wait_runs(&self, n: usize) {
        self.home.eventually(&format!("{n} runs"), || self.runs().len() >= n);
        assert_eq!(self.runs().len(), n, "one run too many");
        let ids: Vec<String> = self.runs().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
        self.home.wait(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// No run starts for a while: the changes just made did not count.
    fn still_runs(&self, n: usize) {
        std::thread::sleep(QUIET);
        assert_eq!(self.runs().len(), n, "a change that should not count started a run");
    }
}

#[test]
fn a_save_runs_once_and_ignored_changes_none() {
    let p = Project::new();
    let id = p.watch(&["src", "--ignore", "*.snap", "--", "echo run"]);
    assert_eq!(id, "w1");
    p.wait_runs(1);

    // Ignored: .gitignore at the root and in src, hidden files, backups, --ignore.
    p.write("src/debug.log", "x");
    p.write("src/gen/out.rs", "x");
    p.write("src/.main.rs.swp", "x");
    p.write("src/main.rs~", "x");
    p.write("src/a.snap", "x");
    p.write("target/x", "x");
    p.write("README", "x");
    p.still_runs(1);

    // One save.
    p.write("src/main.rs", "fn main() { 1; }\n");
    p.wait_runs(2);
    p.still_runs(2);

    // A burst of 100 saves is one run.
    for k in 0..100 {
        p.write("src/main.rs", &format!("fn main() {{ {k}; }}\n"));
    }
    p.wait_runs(3);
    p.still_runs(3);

    // A folder made after the start is watched, and a file moved in counts.
    p.write("src/new/deep/mod.rs", "x");
    p.wait_runs(4);
    std::fs::write(p.home.path().join("elsewhere.rs"), "x").unwrap();
    std::fs::rename(p.home.path().join("elsewhere.rs"), p.root.join("src/new/deep/moved.rs")).unwrap();
    p.wait_runs(5);
    assert!(p.statuses().iter().all(|s| s == "completed"), "{:?}", p.statuses());

    // Seen by ls and status; cancel ends it, with nothing left behind.
    let ls = p.home.ok(&["ls"]);
    assert!(ls.lines().next().unwrap().starts_with("w1  watching  5 runs · last "), "{ls}");
    assert_eq!(p.home.ok(&["status"]).trim(), "1 watching");
    assert_eq!(p.home.ok(&["cancel", "w1"]).trim(), "w1: watch ended");
    assert!(p.home.watchers().is_empty());
    assert_eq!(p.home.ok(&["status"]).trim(), "");
    assert!(!p.home.ok(&["ls"]).contains("w1"));
    p.write("src/main.rs", "after the end");
    p.still_runs(5);
}

#[test]
fn a_change_restarts_the_running_run_and_cancel_ends_both() {
    let p = Project::new();
    p.watch(&["src", "--", "sleep 30"]);
    p.home.eventually("the first run", || p.statuses() == ["running"]);
    let first = p.runs()[0]["id"].as_str().unwrap().to_owned();
    let pid = p.home.pid_of(&first);

    p.write("src/main.rs", "changed");
    p.home.eventually("a second run", || p.statuses() == ["running", "cancelled"]);
    assert!(!common::group_alive(pid), "the first run's processes were stopped");
    let second = p.runs()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(p.home.task(&second)["restartedFrom"], first.as_str());

    let said = p.home.ok(&["cancel", "w1"]);
    assert_eq!(said.trim(), format!("w1: watch ended; its run {second} cancelled"));
    p.home.eventually("the second run to end", || p.statuses() == ["cancelled", "cancelled"]);
    assert!(p.home.watchers().is_empty());
    p.home.eventually("no supervisor left", || p.home.supervisors().is_empty());
}

#[test]
fn the_queue_policy_lets_a_run_finish_then_runs_once_more() {
    let p = Project::new();
    let go = p.home.path().join("go");
    let cmd = format!("until [ -e '{}' ]; do sleep 0.01; done", go.display());
    p.watch(&["src", "--on-change", "queue", "--", &cmd]);
    p.home.eventually("the first run", || p.statuses() == ["running"]);
    p.write("src/main.rs", "one");
    p.home.eventually("a run queued behind it", || p.statuses() == ["queued", "running"]);
    // More changes while one is queued: it will see them; no third.
    p.write("src/main.rs", "two");
    p.still_runs(2);
    std::fs::write(&go, "").unwrap();
    p.wait_runs(2);
    assert_eq!(p.statuses(), ["completed", "completed"]);
    p.home.ok(&["cancel", "w1"]);
}

#[test]
fn a_named_file_counts_whatever_its_name_and_its_neighbours_do_not() {
    let p = Project::new();
    p.write(".env", "A=0");
    p.watch(&[".env", "--", "true"]);
    p.wait_runs(1);
    p.write("other", "x");
    p.write(".gitignore", "target/\n");
    p.still_runs(1);
    p.write(".env", "A=1");
    p.wait_runs(2);
    p.home.ok(&["cancel", "w1"]);
}

#[test]
fn a_killed_watcher_shows_as_lost_until_cancelled() {
    let p = Project::new();
    p.watch(&["src", "--", "true"]);
    p.wait_runs(1);
    let holders = p.home.watchers();
    assert_eq!(holders.len(), 1);
    // SAFETY: a plain kill of a process this test's errand started.
    unsafe { libc::kill(holders[0] as i32, libc::SIGKILL) };
    // A dying process leaves /proc in steps: ls is the judge.
    p.home.eventually("ls to show the watch lost", || {
        p.home.ok(&["ls"]).starts_with("w1  lost (its watcher died: errand cancel w1 clears it)")
    });
    assert!(p.home.watchers().is_empty());
    assert_eq!(p.home.ok(&["status"]).trim(), "");
    assert_eq!(p.home.ok(&["cancel", "w1"]).trim(), "w1: watch ended");
    assert!(!p.home.ok(&["ls"]).contains("w1"));
}

#[test]
fn bad_watch_arguments_are_clear_and_queue_nothing() {
    let p = Project::new();
    let run = |args: &[&str]| p.home.cmd().current_dir(&p.root).args(args).output().unwrap();
    let missing = run(&["run", "--watch", "nope", "--", "true"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("--watch nope: no such file or folder"), "{err}");

    let no_dashes = run(&["run", "--watch", "src"]);
    assert_ne!(no_dashes.status.code(), Some(0));
    let bad_glob = run(&["run", "--watch", "src", "--ignore", "{a", "--", "true"]);
    let err = String::from_utf8_lossy(&bad_glob.stderr);
    assert!(err.contains("--ignore '{a'"), "{err}");
    let bad_policy = run(&["run", "--watch", "src", "--on-change", "sometimes", "--", "true"]);
    assert_eq!(bad_policy.status.code(), Some(2));
    assert!(p.runs().is_empty());
    assert!(p.home.watchers().is_empty());
    assert_eq!(p.home.run(&["cancel", "w9"]).code, 3);
}

/// A workflow with `watch` is a watch when run from the CLI, its paths from
/// the project root wherever it is run from; `-w` runs it once.
#[test]
fn a_workflow_that_says_what_it_watches_is_a_watch() {
    let p = Project::new();
    p.write("errand.toml", "[check]\ncommand = 'echo checked >> runs.txt'\nwatch = ['src']\n");
    let out = p.home.cmd().current_dir(p.root.join("src")).args(["run", "#check"]).output().unwrap();
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.success() && id.starts_with('w'), "{id}{}", String::from_utf8_lossy(&out.stderr));
    p.wait_runs(1);
    assert_eq!(p.runs()[0]["workflow"], "check");
    p.write("src/main.rs", "fn main() { println!(); }\n");
    p.wait_runs(2);
    p.write("errand.toml.bak", "not watched");
    p.still_runs(2);
    p.home.ok(&["cancel", &id]);
    assert!(p.home.watchers().is_empty());

    let listed: Vec<serde_json::Value> = serde_json::from_slice(
        &p.home.cmd().current_dir(&p.root).args(["workflows", "--json"]).output().unwrap().stdout,
    )
    .unwrap();
    assert_eq!(listed[0]["watch"], serde_json::json!([p.root.join("src").display().to_string()]));
    let once = p.home.cmd().current_dir(&p.root).args(["run", "-w", "#check"]).output().unwrap();
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    assert!(p.home.watchers().is_empty(), "-w runs it once, no watch");

    p.write("errand.toml", "[check]\ncommand = 'true'\nwatch = ['nowhere']\n");
    let r = p.home.cmd().current_dir(&p.root).args(["run", "#check"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("watch ") && stderr.contains("nowhere: no such file or folder"), "{stderr}");
    p.write("errand.toml", "[check]\ncommand = 'true'\nwatch = 3\n");
    let r = p.home.cmd().current_dir(&p.root).args(["run", "#check"]).output().unwrap();
    assert!(String::from_utf8_lossy(&r.stderr).contains("workflow 'check': watch must be a path or a list of paths"));
}

#[test]
fn editors_start_list_and_end_a_watch() {
    use common::rpc::{Client, Framing};
    use serde_json::json;
    let p = Project::new();
    let mut rpc = Client::spawn(p.home.cmd(), Framing::Lines);
    rpc.call("initialize", json!({}));
    let root = p.root.to_str().unwrap();
    // No paths: the folder it runs in.
    let started = rpc.call("watch/start", json!({ "command": "echo run >> ../runs.txt", "clientCwd": root }));
    let watch = &started["watch"];
    let id = watch["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with('w'), "{started}");
    assert_eq!(watch["paths"], json!([std::fs::canonicalize(&p.root).unwrap().to_str().unwrap()]));
    assert_eq!(
        (watch["state"].as_str(), watch["runs"].as_u64(), watch["onChange"].as_str()),
        (Some("watching"), Some(1), Some("restart"))
    );
    assert_eq!(watch["lastRun"]["command"]["shell"], "echo run >> ../runs.txt", "{started}");
    p.wait_runs(1);

    p.write("src/main.rs", "fn main() { }\n");
    p.wait_runs(2);
    let listed = rpc.call("watch/list", json!({}));
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!((listed[0]["id"].as_str(), listed[0]["runs"].as_u64()), (Some(id.as_str()), Some(2)));
    assert_eq!(listed[0]["lastRun"]["status"], "completed");

    let ended = rpc.call("watch/end", json!({ "id": id }));
    assert_eq!(ended["cancelledRun"], serde_json::Value::Null, "its last run had finished");
    assert_eq!(rpc.call("watch/list", json!({})), json!([]));
    p.write("src/main.rs", "fn main() {}\n");
    p.still_runs(2);

    // Bad input: a clear error, nothing queued.
    let e = rpc.call_err("watch/end", json!({ "id": "w999" }));
    assert_eq!(
        (&e["code"], &e["message"]),
        (&json!(-32001), &json!("no watch is 'w999' (errand ls lists the open ones)"))
    );
    let r = p.home.run(&["cancel", "w999"]);
    assert_eq!((r.code, r.stderr.as_str()), (3, "errand: no watch is 'w999' (errand ls lists the open ones)\n"));
    let e = rpc.call_err("watch/start", json!({ "command": "true", "clientCwd": root, "paths": ["nope"] }));
    assert!(e["message"].as_str().unwrap().contains("paths nope: no such file or folder"), "{e}");
    let e = rpc.call_err("watch/start", json!({ "command": "true", "clientCwd": root, "onChange": "later" }));
    assert!(e["message"].as_str().unwrap().contains("onChange is restart or queue"), "{e}");
    p.still_runs(2);
}

#[test]
fn the_repositorys_exclude_file_and_the_users_global_gitignore_count_too() {
    let p = Project::new();
    std::fs::create_dir_all(p.root.join(".git/info")).unwrap();
    std::fs::write(p.root.join(".git/info/exclude"), "*.tmp\nscratch/\n").unwrap();
    std::fs::create_dir_all(p.root.join("scratch")).unwrap();
    let config = p.home.path().join("xdg");
    std::fs::create_dir_all(config.join("git")).unwrap();
    std::fs::write(config.join("git/ignore"), "*.bak\n").unwrap();
    // The watch's holder reads the global gitignore of the user who started it.
    let out = p
        .home
        .cmd()
        .current_dir(&p.root)
        .env("XDG_CONFIG_HOME", &config)
        .env("HOME", p.home.path())
        .args(["run", "--watch", ".", "--", "echo run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    p.wait_runs(1);
    p.write("src/notes.tmp", "x");
    p.write("src/main.rs.bak", "x");
    p.write("scratch/a.rs", "x");
    p.still_runs(1);
    p.write("src/main.rs", "fn main() { 2; }\n");
    p.wait_runs(2);
    p.home.ok(&["cancel", "w1"]);
}
