//! Fault injection, the supervisor, step by step: SIGKILL exactly at the
//! steps of a task's life that only last an instant (started but not yet
//! claiming, right after the claim, right after spawning, right after
//! recording the outcome; idle), where tests/faults_supervisor.rs freezes
//! supervisors at many delays and takes whatever step it lands on. The
//! invariant is the same: the task ends `lost` or with its true outcome,
//! never `running` or `queued` for ever, and no process of it is left
//! (found by its ERRAND_TASK_ID marker).
//!
//! No hook in errand: the steps are held from outside by a turnstile.
//! `run/changed` is made a FIFO, so every errand process that signals a
//! change waits in open(2) until the test lets it through. A supervisor
//! signals on starting to watch, right after each claim, right after
//! recording a task's pid and right after recording an outcome: it can be
//! held, and killed, at exactly those points. SIGSTOP keeps a lingering
//! supervisor from claiming; killing supervisors at random moments over
//! many tasks reaches what is in between.

mod common;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::rpc::{Client, Framing};
use common::{eventually, processes_of, Home};
use serde_json::{json, Value};

/// `run/changed` as a FIFO: whoever opens it to write waits in open(2)
/// for a reader. To let exactly the waiting opener through, a fresh FIFO
/// takes the name first (whoever opens next waits on it) and only then is
/// the old one opened for reading, under a second name: no window in which
/// a reader is there for anyone else. Dropping it lets every waiting opener
/// through and puts a plain file back (the next signal creates it).
///
/// One signal of a change is two opens: `changed_file` creates the file if
/// missing (O_APPEND), then `signal` opens it to write.
struct Turnstile {
    fifo: PathBuf,
    passed: std::cell::Cell<usize>,
}

/// Which open of a signal a process waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `changed_file`: the first of a signal (or a watcher being set up).
    Create,
    /// `signal`'s own: the second.
    Write,
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Open a FIFO to read without waiting: whoever waits to write is let through.
fn release(fifo: &Path) {
    let _ = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(fifo);
}

impl Turnstile {
    fn install(home: &Home) -> Turnstile {
        let fifo = home.errand_home().join("run/changed");
        match std::fs::remove_file(&fifo) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{}: {e}", fifo.display()),
            _ => {}
        }
        mkfifo(&fifo);
        Turnstile { fifo, passed: std::cell::Cell::new(0) }
    }

    /// Let whoever waits at the turnstile now through, and nobody after.
    fn pass_one(&self) {
        let n = self.passed.get();
        self.passed.set(n + 1);
        let old = self.fifo.with_file_name(format!("turnstile-{n}"));
        let fresh = self.fifo.with_file_name("turnstile-fresh");
        std::fs::hard_link(&self.fifo, &old).unwrap();
        mkfifo(&fresh);
        std::fs::rename(&fresh, &self.fifo).unwrap();
        release(&old);
        std::fs::remove_file(&old).unwrap();
    }

    /// Let `pid`, waiting at the turnstile, through the signal it is in
    /// (both opens), and no further.
    fn pass_signal(&self, pid: i64) {
        let first = wait_at_turnstile(pid, &self.fifo);
        self.pass_one();
        if first == Open::Create {
            assert_eq!(wait_at_turnstile(pid, &self.fifo), Open::Write, "the second open of a signal");
            self.pass_one();
        }
    }
}

impl Drop for Turnstile {
    fn drop(&mut self) {
        let waiting = self.fifo.with_file_name("turnstile-last");
        if std::fs::rename(&self.fifo, &waiting).is_ok() {
            release(&waiting);
            let _ = std::fs::remove_file(&waiting);
        }
    }
}

/// What the kernel says a process waits in (/proc/PID/wchan).
fn wchan(pid: i64) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default()
}

/// The system call a process is in and its arguments (/proc/PID/syscall).
fn syscall(pid: i64) -> Option<Vec<i64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut fields = text.split_whitespace();
    let nr = fields.next()?.parse().ok()?;
    let args = fields.map(|a| i64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(-1));
    Some(std::iter::once(nr).chain(args).collect())
}

#[cfg(target_arch = "x86_64")]
const OPENAT: i64 = 257;
#[cfg(target_arch = "aarch64")]
const OPENAT: i64 = 56;

/// Which open of the turnstile this process waits in, if it waits in one.
fn waits_at_turnstile(pid: i64) -> Option<Open> {
    if wchan(pid) != "wait_for_partner" {
        return None;
    }
    // openat(dirfd, path, flags, mode)
    let call = syscall(pid)?;
    (call[0] == OPENAT).then(|| if call[3] & libc::O_APPEND as i64 != 0 { Open::Create } else { Open::Write })
}

fn at_turnstile(pid: i64) -> bool {
    waits_at_turnstile(pid).is_some()
}

/// Wait until `pid` waits at the turnstile; which open it waits in.
fn wait_at_turnstile(pid: i64, fifo: &Path) -> Open {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(open) = waits_at_turnstile(pid) {
            return open;
        }
        assert!(
            Instant::now() < deadline,
            "supervisor {pid} does not come to the turnstile: alive {}, in {:?}, syscall {:?}, log {}",
            alive(pid),
            wchan(pid),
            std::fs::read_to_string(format!("/proc/{pid}/syscall")),
            std::fs::read_dir(fifo.parent().unwrap().parent().unwrap().join("log")).map_or(String::new(), |d| d
                .flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect())
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Alive and not a zombie.
fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rfind(')').is_some_and(|i| !s[i + 2..].starts_with('Z')))
}

fn kill(pid: i64, signal: i32) {
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0, "kill {pid}");
}

fn sigkill_and_wait_gone(pid: i64) {
    kill(pid, libc::SIGKILL);
    eventually("the supervisor is gone", || !alive(pid));
}

/// The supervisors of this home: `errand __worker` processes with its ERRAND_HOME.
fn supervisors(home: &Home) -> Vec<i64> {
    supervisors_with(&format!("ERRAND_HOME={}", home.errand_home().display()))
}

/// A supervisor leads its own session; a process it forks keeps its
/// command line until exec, but not the session.
fn session_leader(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')').and_then(|i| s[i + 2..].split(' ').nth(3).map(|sid| sid == pid.to_string())) == Some(true)
    })
}

/// `errand __worker` processes whose environment holds `marker`: the
/// supervisors themselves, not the task processes they fork.
fn supervisors_with(marker: &str) -> Vec<i64> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).nth(1) == Some(b"__worker"))
                && session_leader(*pid)
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
                && alive(*pid)
        })
        .collect()
}

/// The store, read directly: a CLI command would wait at the turnstile too,
/// and may start a supervisor of its own.
struct Db(rusqlite::Connection);

#[derive(Debug, PartialEq)]
struct Row {
    status: String,
    pid: Option<i64>,
    worker: Option<i64>,
}

impl Db {
    fn open(home: &Home) -> Db {
        let conn = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(20)).unwrap();
        Db(conn)
    }

    fn row(&self, id: &str) -> Row {
        self.0
            .query_row("SELECT status, pid, worker_pid FROM tasks WHERE id = ?1", [id], |r| {
                Ok(Row { status: r.get(0)?, pid: r.get(1)?, worker: r.get(2)? })
            })
            .unwrap()
    }
}

/// Shell: wait for a file, then go on.
fn after(file: &Path, then: &str) -> String {
    format!("until [ -e '{}' ]; do sleep 0.01; done; {then}", file.display())
}

/// The task once it is final (every CLI command marks lost tasks and starts
/// supervisors for queued ones); fails after 20 s.
fn settled(home: &Home, id: &str) -> Value {
    let mut task = Value::Null;
    eventually(&format!("task {id} ends"), || {
        task = home.task(id);
        !["queued", "running"].contains(&task["status"].as_str().unwrap())
    });
    eventually(&format!("nothing of task {id} is left"), || processes_of(id).is_empty());
    task
}

fn assert_lost(task: &Value) {
    assert_eq!(task["status"], "lost", "{task}");
    assert!(task["error"].as_str().unwrap().contains("supervisor"), "the reason is given: {task}");
}

/// Two tasks, one slot: the first runs (until `release` appears), the
/// second waits for its slot. Its supervisor will claim the second in the
/// transaction that records the first's outcome. It is the only
/// supervisor: the test watches the store itself, since every CLI command
/// may start another while the first task is not yet claimed.
fn one_running_one_queued(home: &Home, second: &str) -> (Db, String, String, PathBuf, i64) {
    home.config("parallel = 1\n");
    let release = home.path().join("release");
    let first = home.submit(&after(&release, "echo first"));
    let db = Db::open(home);
    eventually("the first task runs", || db.row(&first).pid.is_some());
    let second = home.submit(second);
    let supervisor = db.row(&first).worker.unwrap();
    assert_eq!(db.row(&second), Row { status: "queued".into(), pid: None, worker: None });
    assert_eq!(supervisors(home), vec![supervisor], "one supervisor");
    (db, first, second, release, supervisor)
}

#[test]
fn killed_after_starting_before_claiming_the_task_runs_on_another_supervisor() {
    let home = Home::new();
    home.ok(&["status"]);
    let ran = home.path().join("ran");
    let gate = Turnstile::install(&home);
    // The client stops at its signal (the task is recorded), then starts a
    // supervisor, which stops at its first look at the change file, before
    // any claim.
    let client =
        home.cmd().args(["run", &format!("touch '{}'; exit 7", ran.display())]).stdout(Stdio::piped()).spawn().unwrap();
    let client_pid = client.id() as i64;
    let mut supervisor = None;
    eventually("a supervisor waits at the turnstile, before its claim", || {
        if alive(client_pid) && at_turnstile(client_pid) {
            gate.pass_one();
        }
        supervisor = supervisors(&home).into_iter().find(|&s| at_turnstile(s));
        supervisor.is_some()
    });
    let out = client.wait_with_output().unwrap();
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let db = Db::open(&home);
    assert_eq!(db.row(&id), Row { status: "queued".into(), pid: None, worker: None });
    sigkill_and_wait_gone(supervisor.unwrap());
    drop(gate);
    let t = settled(&home, &id);
    assert_eq!((t["status"].as_str(), t["exitCode"].as_i64()), (Some("failed"), Some(7)), "its true outcome: {t}");
    assert!(ran.exists());
}

#[test]
fn killed_right_after_its_claim_the_task_is_lost_and_never_runs() {
    let home = Home::new();
    let ran = home.path().join("ran");
    let (db, first, second, release, supervisor) =
        one_running_one_queued(&home, &format!("touch '{}'; sleep 300", ran.display()));
    let gate = Turnstile::install(&home);
    std::fs::write(&release, "").unwrap();
    // The first one's outcome and the claim of the second: one transaction,
    // then the supervisor signals, and waits at the turnstile.
    eventually("the second task is claimed", || db.row(&second).status == "running");
    eventually("its supervisor waits at the turnstile", || at_turnstile(supervisor));
    assert_eq!(db.row(&second), Row { status: "running".into(), pid: None, worker: Some(supervisor) });
    sigkill_and_wait_gone(supervisor);
    drop(gate);
    assert_lost(&settled(&home, &second));
    assert!(!ran.exists(), "the claimed task never ran");
    assert_eq!(settled(&home, &first)["status"], "completed", "the outcome recorded with the claim stays");
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0, "the slot is free again");
}

#[test]
fn killed_right_after_spawning_the_task_is_lost_and_its_processes_stopped() {
    let home = Home::new();
    let ran = home.path().join("ran");
    // Children of every kind, started before the supervisor reads a byte.
    let (db, _, second, release, supervisor) = one_running_one_queued(
        &home,
        &format!(
            "sleep 300 & setsid sleep 301 & nohup sleep 302 >/dev/null 2>&1 & echo spawned; touch '{}'; wait",
            ran.display()
        ),
    );
    let gate = Turnstile::install(&home);
    std::fs::write(&release, "").unwrap();
    eventually("the second task is claimed", || db.row(&second).status == "running");
    // Let it through the signal after the claim: it spawns the task, records
    // its pid, and is held at the next signal.
    gate.pass_signal(supervisor);
    eventually("the task's pid is recorded", || db.row(&second).pid.is_some());
    eventually("its supervisor waits at the turnstile", || at_turnstile(supervisor));
    eventually("the task started its children", || ran.exists() && processes_of(&second).len() >= 4);
    sigkill_and_wait_gone(supervisor);
    drop(gate);
    assert_lost(&settled(&home, &second));
}

#[test]
fn killed_right_after_recording_the_outcome_the_task_keeps_it() {
    let home = Home::new();
    let (db, _, second, release, supervisor) = one_running_one_queued(&home, "echo second; exit 3");
    let gate = Turnstile::install(&home);
    std::fs::write(&release, "").unwrap();
    eventually("the second task is claimed", || db.row(&second).status == "running");
    gate.pass_signal(supervisor); // after the claim
    eventually("the task's pid is recorded", || db.row(&second).pid.is_some());
    gate.pass_signal(supervisor); // after recording its pid
    eventually("its outcome is recorded", || db.row(&second).status == "failed");
    eventually("its supervisor waits at the turnstile", || at_turnstile(supervisor));
    sigkill_and_wait_gone(supervisor);
    drop(gate);
    let t = settled(&home, &second);
    assert_eq!((t["status"].as_str(), t["exitCode"].as_i64()), (Some("failed"), Some(3)), "{t}");
    assert_eq!(home.ok(&["logs", &second]), "second\n");
    // It had registered as idle: a dead idle supervisor must not hold the queue.
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
}

/// A lingering supervisor is one the queue counts on: a client that finds
/// it idle starts no other. Killed between that look and its claim, the
/// task must still start soon, not at the next change someone makes.
#[test]
fn killed_while_idle_after_a_client_counted_on_it_the_queued_task_still_starts() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    c.call("initialize", json!({}));
    let db = Db::open(&home);
    // A supervisor that ran a task lingers (2 s), registered as idle: frozen
    // there, it is alive to every client, and none starts another. (Both
    // the CLI and the server may have started one for the same task.)
    let mut idle = Vec::new();
    for _ in 0..10 {
        let warm = home.submit("true");
        assert_eq!(home.wait(&[&warm]), 0);
        idle = supervisors(&home);
        idle.iter().for_each(|&s| kill(s, libc::SIGSTOP));
        let registered = |s: i64| -> i64 {
            db.0.query_row("SELECT count(*) FROM idle_workers WHERE pid = ?1", [s], |r| r.get(0)).unwrap()
        };
        if !idle.is_empty() && idle.iter().all(|&s| registered(s) == 1) {
            break;
        }
        idle.iter().for_each(|&s| kill(s, libc::SIGCONT)); // one was leaving: try again
        idle.clear();
    }
    assert!(!idle.is_empty(), "supervisors frozen while registered idle");
    let id = c.call("task/run", json!({ "command": "echo ran" }))["id"].as_str().unwrap().to_owned();
    let mut waiter = Reaped(home.cmd().args(["wait", &id]).spawn().unwrap());
    c.notification("task/queued", |p| p["task"]["id"] == id.as_str());
    let waiter_pid = waiter.0.id() as i64;
    eventually("errand wait sleeps", || wchan(waiter_pid).contains("poll"));
    let killed_at = Instant::now();
    idle.iter().for_each(|&s| sigkill_and_wait_gone(s));
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "completed", "{fin}");
    assert!(killed_at.elapsed() < Duration::from_secs(5), "task/finished took {:?}", killed_at.elapsed());
    eventually("errand wait returns", || waiter.0.try_wait().unwrap().is_some());
    assert!(killed_at.elapsed() < Duration::from_secs(5), "errand wait took {:?}", killed_at.elapsed());
}

/// A child process killed (and reaped) with the test, whatever happens.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A lingering supervisor that leaves when its linger time is up must not
/// leave behind a task a client queued for it (the client saw it idle and
/// started no other). Here it sleeps through the task's arrival (its watch
/// is on a change file replaced meanwhile), as it does when the task comes
/// between its last look and its leaving.
#[test]
fn a_supervisor_leaving_after_its_linger_takes_a_task_left_to_it() {
    let home = Home::new();
    let changed = home.errand_home().join("run/changed");
    let registered = |db: &Db, pid: i64| -> bool {
        db.0.query_row("SELECT count(*) FROM idle_workers WHERE pid = ?1", [pid], |r| r.get::<_, i64>(0)).unwrap() == 1
    };
    let (db, id, queued_at, mut waiter) = loop {
        let warm = home.submit("true");
        assert_eq!(home.wait(&[&warm]), 0);
        let db = Db::open(&home);
        // Two may linger (`errand wait` starts one if it looks before the
        // first claims) and leave together: then warm up again.
        let mut idle = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(idle.len() == 1 && registered(&db, idle[0])) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
            idle = supervisors(&home);
        }
        if !(idle.len() == 1 && registered(&db, idle[0])) {
            continue;
        }
        // Its watch is on the old file from now on.
        std::fs::write(home.path().join("changed"), "").unwrap();
        std::fs::rename(home.path().join("changed"), &changed).unwrap();
        let id = home.submit("echo ran");
        let queued_at = Instant::now();
        // A waiter too, asleep before the supervisor leaves (it looked once,
        // saw the supervisor idle, and waits for a change).
        let mut waiter = Reaped(home.cmd().args(["wait", &id]).spawn().unwrap());
        let waiter_pid = waiter.0.id() as i64;
        // (Or it is already done: the supervisor took the task meanwhile.)
        eventually("errand wait sleeps", || {
            wchan(waiter_pid).contains("poll") || waiter.0.try_wait().unwrap().is_some()
        });
        if supervisors(&home) == idle && registered(&db, idle[0]) {
            eventually("the lingering supervisor leaves", || !alive(idle[0]));
            break (db, id, queued_at, waiter);
        }
        // It left before the clients looked: they started another. Again.
        assert_eq!(home.wait(&[&id]), 0);
    };
    let mut status = String::new();
    while status != "completed" && queued_at.elapsed() < Duration::from_secs(10) {
        status = db.row(&id).status;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(status, "completed", "the task left to the leaving supervisor is still {status} after 10 s");
    eventually("errand wait returns", || waiter.0.try_wait().unwrap().is_some());
    assert!(queued_at.elapsed() < Duration::from_secs(10), "errand wait took {:?}", queued_at.elapsed());
}

/// A supervisor with nothing it may claim (a task is queued, but every slot
/// is taken) waits for a change; it does not try again and again.
#[test]
fn an_idle_supervisor_does_not_spin_while_a_task_waits_for_a_slot() {
    let home = Home::new();
    let (db, _, second, _release, _) = one_running_one_queued(&home, "true");
    // A second supervisor (as two clients starting one each at once make).
    let extra = Reaped(home.cmd().arg("__worker").spawn().unwrap());
    let pid = extra.0.id() as i32;
    eventually("it registers as idle", || {
        db.0.query_row("SELECT count(*) FROM idle_workers WHERE pid = ?1", [pid], |r| r.get::<_, i64>(0)).unwrap() == 1
    });
    // It leaves when its linger time is up: what did it cost?
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    std::mem::forget(extra); // reaped here
    let cpu = Duration::from_secs((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) as u64)
        + Duration::from_micros((usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) as u64);
    assert_eq!(db.row(&second).status, "queued", "the slot is still taken");
    assert!(cpu < Duration::from_millis(200), "an idle supervisor used {cpu:?} of CPU in its 2 s linger");
}

/// Random moments over many tasks: what no hook reaches (inside a
/// transaction, between two steps) is hit by chance, and every task must
/// still end lost or with its true outcome.
#[test]
fn supervisors_killed_at_random_moments_lose_no_task_and_leave_nothing_running() {
    const TASKS: usize = 150;
    let home = Home::new();
    home.config("parallel = 4\n");
    home.ok(&["status"]);
    let stop = Arc::new(AtomicBool::new(false));
    let marker = format!("ERRAND_HOME={}", home.errand_home().display());
    let killer = {
        let stop = stop.clone();
        std::thread::spawn(move || killer(&marker, &stop))
    };
    let mut ids = Vec::new();
    for i in 0..TASKS {
        // Outcomes 0, 1, 2; some output; some run long enough to be killed while running.
        let id = home.submit(&format!("echo task {i}; sleep 0.00{}; exit {}", i % 7, i % 3));
        ids.push((id, i % 3));
    }
    stop.store(true, Ordering::SeqCst);
    let kills = killer.join().unwrap();
    let mut tally: HashMap<&str, usize> = HashMap::new();
    for (id, code) in &ids {
        let t = settled(&home, id);
        let status = t["status"].as_str().unwrap();
        match status {
            "lost" => {}
            "completed" | "failed" => {
                let true_status = if *code == 0 { "completed" } else { "failed" };
                assert_eq!((status, t["exitCode"].as_i64()), (true_status, Some(*code as i64)), "{t}");
                assert_eq!(home.ok(&["logs", id]).lines().count(), 1, "{t}");
            }
            other => panic!("task {id} ended {other}: {t}"),
        }
        *tally.entry(if status == "lost" { "lost" } else { "true outcome" }).or_default() += 1;
    }
    let counts: Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!((counts["running"].as_i64(), counts["queued"].as_i64()), (Some(0), Some(0)), "{counts}");
    eprintln!("{kills} supervisors killed; {tally:?}");
    assert!(kills > 0 && tally.contains_key("lost"), "the kills reached tasks: {kills} kills, {tally:?}");
    assert!(tally.contains_key("true outcome"), "{tally:?}");
}

/// Kill each supervisor of the home after a random lifetime (0 to 30 ms
/// from when it is first seen), until told to stop; how many it killed.
fn killer(marker: &str, stop: &AtomicBool) -> usize {
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut deadlines: HashMap<i64, Instant> = HashMap::new();
    let mut kills = 0;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        for pid in supervisors_with(marker) {
            let at = *deadlines.entry(pid).or_insert_with(|| now + Duration::from_micros(random() % 30_000));
            if now >= at && unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0 {
                kills += 1;
                deadlines.insert(pid, now + Duration::from_secs(3600));
            }
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    kills
}
