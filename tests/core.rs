//! The core through the real binary: store, queue, supervision, CLI.
//! Real processes, real signals, an ERRAND_HOME of its own per test.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use common::{group_alive, parent_of, Home};
use serde_json::Value;

#[test]
fn a_task_completes_or_fails_with_its_exit_code_and_output_kept_apart() {
    let home = Home::new();
    let ok = home.submit("true");
    let bad = home.submit("echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; exit 7");
    assert_eq!(home.wait(&[&ok]), 0);
    assert_eq!(home.wait(&[&bad]), 7, "wait exits with the task's code");

    let t = home.task(&ok);
    assert_eq!(t["status"], "completed");
    assert_eq!(t["exit_code"], 0);
    let t = home.task(&bad);
    assert_eq!(t["status"], "failed");
    assert_eq!(t["exit_code"], 7);
    assert!(t["ended_at"].as_i64() >= t["started_at"].as_i64());

    assert_eq!(home.ok(&["logs", &bad]), "out1\nerr1\nout2\n", "merged in the order written");
    assert_eq!(home.ok(&["logs", "--stdout", &bad]), "out1\nout2\n");
    assert_eq!(home.ok(&["logs", "--stderr", &bad]), "err1\n");
    assert_eq!(home.ok(&["logs", "-n", "2", &bad]), "err1\nout2\n");
    assert_eq!(home.ok(&["logs", "-n", "1", "--stdout", &bad]), "out2\n");
    let shown = home.ok(&["show", &bad]);
    assert!(shown.contains("failed") && shown.contains("out2"), "{shown}");
}

#[test]
fn argv_runs_without_a_shell_and_env_comes_from_the_client_with_overrides() {
    let home = Home::new();
    let id = home.ok(&["run", "--", "printf", "%s|", "a b", "$HOME"]).trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]), "a b|$HOME|", "no shell expanded or split anything");

    let r = home
        .cmd()
        .env("ERRAND_TEST_CLIENT", "from-client")
        .args(["run", "--env", "ERRAND_TEST_OVR=override", "echo $ERRAND_TEST_CLIENT $ERRAND_TEST_OVR $ERRAND_TASK_ID"])
        .output()
        .unwrap();
    let id = String::from_utf8(r.stdout).unwrap().trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]), format!("from-client override {id}\n"));

    let sub = home.path().join("sub dir");
    std::fs::create_dir(&sub).unwrap();
    let id = home.ok(&["run", "--cwd", "sub dir", "pwd"]).trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]).trim(), sub.to_str().unwrap());
}

#[test]
fn the_parallel_limit_holds_and_tasks_start_in_fifo_order() {
    let home = Home::new();
    home.config("parallel = 2\n");
    let d = home.path().join("obs");
    std::fs::create_dir(&d).unwrap();
    // Each task registers itself, records how many are registered, and leaves.
    let script = format!(
        "touch {d}/r.$ERRAND_TASK_ID; ls {d} | grep -c '^r\\.' >> {d}/counts; sleep 0.3; rm {d}/r.$ERRAND_TASK_ID",
        d = d.display()
    );
    let ids: Vec<String> = (0..6).map(|_| home.submit(&script)).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(home.wait(&refs), 0);

    let counts: Vec<u32> =
        std::fs::read_to_string(d.join("counts")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(counts.len(), 6);
    assert!(counts.iter().all(|&c| c <= 2), "never more than 2 at once: {counts:?}");
    assert!(counts.contains(&2), "the limit is used, not just respected: {counts:?}");

    let started: Vec<i64> = ids.iter().map(|id| home.task(id)["started_at"].as_i64().unwrap()).collect();
    assert!(started.windows(2).all(|w| w[0] <= w[1]), "FIFO: {started:?}");
    assert!(ids.iter().all(|id| home.status_of(id) == "completed"));
}

#[test]
fn cancel_kills_the_whole_process_group() {
    let home = Home::new();
    let id = home.submit("sleep 100 & sleep 100; wait");
    let mut pid = 0;
    home.eventually("the task runs", || {
        pid = home.task(&id)["pid"].as_i64().unwrap_or(0);
        // Both sleeps have started: the group has three members.
        pid > 0 && std::fs::read_dir("/proc").unwrap().flatten().filter(|e| pgid_of(e) == Some(pid)).count() >= 3
    });
    assert!(group_alive(pid));
    assert!(home.ok(&["cancel", &id]).contains("cancelling"));
    assert_eq!(home.wait(&[&id]), 128 + libc::SIGTERM);
    assert_eq!(home.status_of(&id), "cancelled");
    assert!(!group_alive(pid), "no process of the group survives");
}

#[test]
fn cancel_escalates_to_sigkill_after_the_grace_period() {
    let home = Home::new();
    home.config("cancel_grace_secs = 0.5\n");
    let id = home.submit("trap '' TERM; sleep 100 & trap '' TERM; while :; do sleep 0.05; done");
    let mut pid = 0;
    home.eventually("the task runs", || {
        pid = home.task(&id)["pid"].as_i64().unwrap_or(0);
        pid > 0
    });
    std::thread::sleep(Duration::from_millis(200)); // let the traps be set
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
    assert!(t["started_at"].is_null());
    assert!(!marker.exists(), "it never ran");
    let r = home.run(&["cancel", &queued]);
    assert_eq!(r.code, 4, "cancelling a finished task is an error: {}", r.stderr);
}

#[test]
fn a_task_outlives_the_client_that_started_it() {
    let home = Home::new();
    let mut client = home.cmd().args(["run", "--wait", "sleep 0.5; echo survived"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    client.kill().unwrap(); // SIGKILL
    client.wait().unwrap();
    let tasks = home.tasks(&[]);
    assert_eq!(tasks.len(), 1);
    let id = tasks[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.status_of(&id), "completed");
    assert_eq!(home.ok(&["logs", &id]), "survived\n");
}

#[test]
fn a_task_whose_supervisor_is_killed_becomes_lost() {
    let home = Home::new();
    let id = home.submit("sleep 100");
    let mut pid = 0;
    home.eventually("the task runs", || {
        pid = home.task(&id)["pid"].as_i64().unwrap_or(0);
        pid > 0
    });
    let supervisor = parent_of(pid).unwrap();
    unsafe { libc::kill(supervisor as i32, libc::SIGKILL) };
    home.eventually("the supervisor is gone", || !std::path::Path::new(&format!("/proc/{supervisor}")).exists() || parent_of(supervisor).is_none());
    let t = home.task(&id);
    assert_eq!(t["status"], "lost", "{t}");
    assert!(t["error"].as_str().unwrap().contains("supervisor"), "{t}");
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
    // Its slot is free again: the next task runs.
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
}

#[test]
fn two_concurrent_clients_submit_400_tasks_without_a_lock_error() {
    let home = Home::new();
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let script = format!(
                "for i in $(seq 200); do ERRAND_HOME='{}' '{}' run true >/dev/null || echo FAIL; done",
                home.errand_home().display(),
                env!("CARGO_BIN_EXE_errand")
            );
            std::process::Command::new("sh").arg("-c").arg(script).stderr(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for l in loops {
        let out = l.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(!text.contains("locked") && !text.contains("FAIL"), "{text}");
    }
    assert_eq!(home.run(&["wait", "--all"]).code, 0);
    let tasks = home.tasks(&["--all"]);
    assert_eq!(tasks.len(), 400);
    assert!(tasks.iter().all(|t| t["status"] == "completed"));
    let ids: HashSet<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 400, "ids are unique");
}

#[test]
fn restart_delete_restore_and_prune() {
    let home = Home::new();
    home.config("[history]\nkeep_count = 2\n");
    let first = home.ok(&["run", "--name", "greeting", "--env", "WHO=you", "echo hello $WHO"]).trim().to_owned();
    home.wait(&[&first]);
    let again = home.ok(&["restart", &first]).trim().to_owned();
    assert_ne!(again, first);
    home.wait(&[&again]);
    let t = home.task(&again);
    assert_eq!(t["restarted_from"], first.as_str());
    assert_eq!(t["name"], "greeting");
    assert_eq!(t["env"]["WHO"], "you");
    assert_eq!(t["cwd"], home.task(&first)["cwd"]);
    assert_eq!(home.ok(&["logs", &again]), "hello you\n");

    home.ok(&["rm", &first]);
    let visible: Vec<Value> = home.tasks(&[]);
    assert!(visible.iter().all(|t| t["id"] != first.as_str()));
    assert_eq!(home.tasks(&["--deleted"]).len(), 1);
    home.ok(&["restore", &first]);
    assert_eq!(home.tasks(&[]).len(), 2);

    let third = home.submit("echo three");
    home.wait(&[&third]);
    // The supervisor prunes when its queue drains: the oldest finished task goes.
    let ids = || -> Vec<String> { home.tasks(&["--all"]).iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect() };
    home.eventually("automatic prune", || ids() == vec![third.clone(), again.clone()]);
    assert!(!home.errand_home().join(format!("logs/{first}.out")).exists(), "and its output files");
    // `errand prune` applies a tighter limit at once.
    home.config("[history]\nkeep_count = 1\n");
    assert_eq!(home.ok(&["prune"]), "1 pruned\n");
    assert_eq!(ids(), vec![third.clone()]);
    assert_eq!(home.run(&["show", &first]).code, 3);
}

#[test]
fn workflows_from_the_project_and_the_user_config() {
    let home = Home::new();
    home.config("[workflows]\nuser-hello = \"echo from user config\"\nshared = \"echo user\"\n");
    let proj = home.path().join("proj");
    std::fs::create_dir_all(proj.join("src/deep")).unwrap();
    std::fs::write(
        proj.join("errand.toml"),
        "build = \"echo building in $(basename $PWD)\"\nshared = \"echo project\"\n\
         [greet]\nargv = [\"sh\", \"-c\", \"echo $GREETING\"]\nenv = { GREETING = \"hi there\" }\ndescription = \"Say hi\"\n",
    )
    .unwrap();
    let deep = proj.join("src/deep");
    let run = |args: &[&str]| -> common::Run { home.cmd().current_dir(&deep).args(args).output().unwrap().into() };

    let r = run(&["run", "#build"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.stdout.trim().to_owned();
    home.wait(&[&id]);
    assert_eq!(home.ok(&["logs", &id]), "building in proj\n", "runs at the project root");
    let t = home.task(&id);
    assert_eq!(t["workflow"], "build");
    assert_eq!(t["name"], "build");
    assert_eq!(t["group"], "proj");

    for (wf, expect) in [("#greet", "hi there\n"), ("#user-hello", "from user config\n"), ("#shared", "project\n")] {
        let id = run(&["run", wf]).stdout.trim().to_owned();
        home.wait(&[&id]);
        assert_eq!(home.ok(&["logs", &id]), expect, "{wf}");
    }

    let r = run(&["workflows", "--json"]);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "greet", "shared", "user-hello"]);

    let r = run(&["run", "#biuld"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("no workflow named 'biuld'") && r.stderr.contains("build"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1);

    std::fs::write(proj.join("errand.toml"), "build = \"ok\"\n\n[broken\n").unwrap();
    let r = run(&["run", "#build"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("errand.toml:3:"), "names file and line: {}", r.stderr);
    std::fs::write(proj.join("errand.toml"), "build = 42\n").unwrap();
    let r = run(&["workflows"]);
    assert!(r.code == 2 && r.stderr.contains("errand.toml:1:"), "{}", r.stderr);
}

#[test]
fn opening_or_listing_a_project_never_runs_anything() {
    let home = Home::new();
    let marker = home.path().join("ran");
    std::fs::write(home.path().join("errand.toml"), format!("touch = \"touch {}\"\n", marker.display())).unwrap();
    home.ok(&["workflows"]);
    home.ok(&["ls"]);
    home.ok(&["status"]);
    assert!(!marker.exists());
    assert!(home.tasks(&["--all"]).is_empty());
}

#[test]
fn ids_are_short_and_a_unique_prefix_works() {
    let home = Home::new();
    // 33 ids over a 32-letter alphabet: two share a first letter.
    let ids: Vec<String> = (0..33).map(|_| home.submit("true")).collect();
    assert!(ids.iter().all(|id| id.len() == 4 && id.chars().all(|c| c.is_ascii_alphanumeric())), "{ids:?}");
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    home.wait(&refs);
    let first_letters: Vec<char> = ids.iter().map(|id| id.chars().next().unwrap()).collect();
    let shared = first_letters.iter().find(|c| first_letters.iter().filter(|d| d == c).count() > 1).unwrap();
    let r = home.run(&["show", &shared.to_string()]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("ambiguous"), "{}", r.stderr);

    let unique = ids
        .iter()
        .find_map(|id| {
            let p = &id[..3];
            (ids.iter().filter(|o| o.starts_with(p)).count() == 1).then(|| (p.to_owned(), id.clone()))
        })
        .unwrap();
    assert_eq!(home.task(&unique.0)["id"], unique.1.as_str());
    assert_eq!(home.task(&unique.1.to_uppercase())["id"], unique.1.as_str(), "case does not matter");

    let r = home.run(&["show", "zzzzzz"]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stderr, "errand: no task matches 'zzzzzz'\n");
}

#[test]
fn status_short_counts_running_and_unread_recent_failures() {
    let home = Home::new();
    assert_eq!(home.ok(&["status", "--short"]), "", "empty when idle");
    let fail = home.submit("exit 1");
    home.wait(&[&fail]);
    let run = home.submit("sleep 100");
    home.eventually("running", || home.status_of(&run) == "running");
    assert_eq!(home.ok(&["status", "--short"]), "1 running · 1 failed\n");
    let counts: Value = serde_json::from_str(&home.ok(&["status", "--json"])).unwrap();
    assert_eq!(counts["running"], 1);
    assert_eq!(counts["failed"], 1);
    home.ok(&["clear"]);
    assert_eq!(home.ok(&["status", "--short"]), "1 running\n", "a read failure stops counting");
    home.ok(&["cancel", &run]);
    home.wait(&[&run]);
    assert_eq!(home.ok(&["status", "--short"]), "");
    assert_eq!(home.status_of(&fail), "failed", "it stays in history");

    // An unread failure older than an hour stops counting too.
    let old = home.submit("exit 2");
    home.wait(&[&old]);
    assert_eq!(home.ok(&["status", "--short"]), "1 failed\n");
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute("UPDATE tasks SET ended_at = ended_at - 3700000 WHERE id = ?1", [&old]).unwrap();
    assert_eq!(home.ok(&["status", "--short"]), "");
    assert_eq!(home.tasks(&["--status", "failed"]).len(), 2);
}

#[test]
fn stdin_can_be_written_and_closed_by_any_client() {
    let home = Home::new();
    let id = home.submit("read a; echo got $a; cat; echo end");
    home.eventually("running", || home.status_of(&id) == "running");
    home.ok(&["send", &id, "first"]);
    home.ok(&["send", "--raw", &id, "more\n"]);
    home.ok(&["send", "--eof", &id]);
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]), "got first\nmore\nend\n");
    let r = home.run(&["send", &id, "late"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("not running"));
}

#[test]
fn logs_follow_prints_output_as_it_comes_and_ends_with_the_task() {
    let home = Home::new();
    let id = home.submit("for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2");
    let out = home.cmd().args(["logs", "-f", &id]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "line 1\nline 2\nline 3\ndone\n");
    assert_eq!(home.status_of(&id), "completed");
}

#[test]
fn progress_reported_from_inside_a_task() {
    let home = Home::new();
    let exe = env!("CARGO_BIN_EXE_errand");
    let id = home.submit(&format!("'{exe}' progress 40 linking && sleep 100"));
    home.eventually("progress recorded", || home.task(&id)["progress"].as_f64() == Some(40.0));
    let t = home.task(&id);
    assert_eq!(t["progress_message"], "linking");
    assert!(t["eta_at"].as_i64().is_some());
}

#[test]
fn bad_input_gets_one_line_and_a_nonzero_exit() {
    let home = Home::new();
    let r = home.run(&["run"]);
    assert_eq!(r.code, 2, "missing command is a usage error");
    let r = home.run(&["run", "   "]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "errand: the command is empty\n");
    let r = home.run(&["run", "--env", "NOEQUALS", "true"]);
    assert_eq!(r.code, 2);
    let r = home.run(&["run", "--cwd", "/does/not/exist", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a directory"));
    let r = home.run(&["logs", "nope"]);
    assert_eq!(r.code, 3);

    home.config("parallel = \"many\"\n");
    let r = home.run(&["ls"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("config.toml:1:"), "{}", r.stderr);
    home.config("paralel = 3\n");
    let r = home.run(&["ls"]);
    assert!(r.code == 2 && r.stderr.contains("paralel"), "{}", r.stderr);

    // An unwritable data directory.
    let ro = home.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    let r: common::Run = home.cmd().env("ERRAND_HOME", ro.join("x")).args(["run", "true"]).output().unwrap().into();
    if unsafe { libc::geteuid() } != 0 {
        assert_eq!(r.code, 1);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let r: common::Run = home.cmd().env("ERRAND_HOME", "/proc/errand").args(["run", "true"]).output().unwrap().into();
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("errand: cannot create /proc/errand"), "{}", r.stderr);
}

#[test]
fn a_command_that_cannot_start_fails_with_a_reason() {
    let home = Home::new();
    let id = home.ok(&["run", "--", "/no/such/program", "x"]).trim().to_owned();
    assert_ne!(home.wait(&[&id]), 0);
    let t = home.task(&id);
    assert_eq!(t["status"], "failed");
    assert!(t["error"].as_str().unwrap().contains("/no/such/program"), "{t}");
    assert!(home.ok(&["logs", &id]).contains("cannot start"));
}

#[test]
fn files_are_private_to_the_user() {
    let home = Home::new();
    let id = home.submit("echo x");
    home.wait(&[&id]);
    for rel in ["", "errand.db", "logs", &format!("logs/{id}.out"), "run"] {
        let mode = std::fs::metadata(home.errand_home().join(rel)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{rel} is {mode:o}");
    }
}

#[test]
fn ls_human_output_is_aligned_and_plain_when_piped() {
    let home = Home::new();
    let id = home.submit("echo hi");
    home.wait(&[&id]);
    let out = home.ok(&["ls"]);
    assert!(!out.contains('\x1b'), "no colour into a pipe");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ID"));
    assert!(lines[1].starts_with(&id) && lines[1].contains("completed") && lines[1].ends_with("echo hi"));
    assert_eq!(lines[0].find("NAME"), lines[1].find("echo hi"), "columns line up");
}

fn pgid_of(entry: &std::fs::DirEntry) -> Option<i64> {
    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(2)?.parse().ok()
}

#[test]
fn a_full_disk_stops_output_capture_but_loses_nothing_recorded() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let home = Home::new();
    let logs = home.errand_home().join("logs");
    home.ok(&["status"]); // create the store and its folders
    // The supervisor (started inside this mount namespace) sees a 64 KiB
    // output folder; the task writes 1 MB.
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs '{logs}' && '{exe}' run 'head -c 1000000 /dev/zero; echo still-ran'",
        logs = logs.display(),
        exe = env!("CARGO_BIN_EXE_errand")
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("ERRAND_HOME", home.errand_home())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0, "the task itself succeeded");
    let t = home.task(&id);
    assert_eq!(t["status"], "completed");
    assert!(t["error"].as_str().unwrap().contains("No space left on device"), "{t}");
    // The store is intact and keeps working. (The next task may run on the
    // same, still lingering supervisor inside the small mount, so only its
    // outcome is checked.)
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
    assert_eq!(home.status_of(&next), "completed");
    assert_eq!(home.tasks(&["--all"]).len(), 2);
}
