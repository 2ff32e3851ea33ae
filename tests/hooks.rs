//! Finish hooks (`[hooks]` in config.toml): the user's commands run when a
//! task ends, with its facts in ERRAND_* variables, in its folder;
//! `on_failure` only for a failure; a hook that hangs is killed after
//! `timeout_secs` and the queue goes on.

mod common;

use common::{eventually, Home};

#[test]
fn hooks_run_when_tasks_end_with_the_task_in_their_environment() {
    let home = Home::new();
    let finished = home.path().join("finished.log");
    let failures = home.path().join("failures.log");
    home.config(&format!(
        "[hooks]\non_finish = 'echo \"$ERRAND_ID $ERRAND_STATUS [$ERRAND_EXIT_CODE] $ERRAND_NAME $(pwd)\" >> {}'\n\
         on_failure = 'echo \"$ERRAND_ID $ERRAND_HOOK $ERRAND_ERROR\" >> {}'\n",
        finished.display(),
        failures.display()
    ));
    let ok = home.submit("echo fine");
    let bad = home.submit("exit 3");
    home.wait(&[&ok, &bad]);
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    eventually("both ends hooked", || read(&finished).lines().count() == 2);
    let cwd = home.path().canonicalize().unwrap().display().to_string();
    let lines = read(&finished);
    assert!(lines.contains(&format!("{ok} completed [0] echo fine {cwd}\n")), "{lines}");
    assert!(lines.contains(&format!("{bad} failed [3] exit 3 {cwd}\n")), "{lines}");
    eventually("the failure hooked", || !read(&failures).is_empty());
    assert_eq!(read(&failures), format!("{bad} on_failure \n"), "only the failure");
}

#[test]
fn a_hook_that_hangs_is_killed_and_the_queue_goes_on() {
    let home = Home::new();
    home.config("parallel = 1\n[hooks]\non_finish = 'sleep 30.25 & sleep 30.25'\ntimeout_secs = 0.3\n");
    let first = home.submit("true");
    let second = home.submit("echo second");
    assert_eq!(home.wait(&[&first, &second]), 0, "the next task ran");
    let hooks_left = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c.windows(5).any(|w| w == b"30.25")))
            .count()
    };
    eventually("nothing of the hooks left", || hooks_left() == 0);

    home.config("[hooks]\ntimeout_secs = -1\n");
    let bad = home.run(&["run", "true"]);
    assert_eq!(bad.code, 2, "a broken config stops what would act on it");
    assert!(bad.stderr.contains("hooks.timeout_secs must be a positive number"), "{}", bad.stderr);
}

#[test]
fn the_next_task_does_not_wait_for_a_hook() {
    let home = Home::new();
    let (started, done) = (home.path().join("hook-started"), home.path().join("hook-done"));
    home.config(&format!(
        "parallel = 1\n[hooks]\non_finish = '[ -e {0} ] || {{ touch {0}; sleep 5; touch {1}; }}'\ntimeout_secs = 20\n",
        started.display(),
        done.display()
    ));
    let first = home.submit("true");
    let second = home.submit("echo second");
    eventually("the first hook runs", || started.exists());
    assert_eq!(home.status_of(&first), "completed", "recorded before its hook");
    assert_eq!(home.wait(&[&second]), 0);
    assert!(!done.exists(), "the next task ran while the hook still ran: its slot was free");
    eventually("the hook ends", || done.exists());
}

/// A workflow's own `on_finish` / `on_failure` run after the user's, for
/// its tasks only (a restart too); a task a hook queued runs no hooks, so a
/// hook that runs `errand run` cannot start an endless chain.
#[test]
fn a_workflows_own_hooks_run_after_the_users_and_a_hook_cannot_recurse() {
    let home = Home::new();
    let log = home.path().join("hooks.log");
    home.config(&format!("[hooks]\non_finish = 'echo \"user $ERRAND_NAME\" >> {}'\n", log.display()));
    let toml = format!(
        "[deploy]\ncommand = 'exit 4'\non_finish = 'echo \"own $ERRAND_NAME $ERRAND_STATUS\" >> {0}'\n\
         on_failure = 'echo \"own-failure $ERRAND_EXIT_CODE\" >> {0}; \"$ERRAND_BIN_FOR_TEST\" run --name from-hook true'\n\
         [plain]\ncommand = 'true'\n",
        log.display()
    );
    std::fs::write(home.path().join("errand.toml"), toml).unwrap();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let run = |args: &[&str]| -> String {
        let out = home.cmd().env("ERRAND_BIN_FOR_TEST", env!("CARGO_BIN_EXE_errand")).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let deploy = run(&["run", "#deploy"]);
    home.wait(&[&deploy]);
    eventually("the hook's own task ran", || {
        home.tasks(&["--all"]).iter().any(|t| t["name"] == "from-hook" && t["status"] == "completed")
    });
    eventually("every hook ran", || read().lines().count() == 3);
    assert_eq!(read(), "user deploy\nown deploy failed\nown-failure 4\n", "in order; none for the hook's task");

    std::fs::write(&log, "").unwrap();
    let plain = run(&["run", "#plain"]);
    home.wait(&[&plain]);
    eventually("the user's hook", || !read().is_empty());
    let again = run(&["restart", &deploy]);
    home.wait(&[&again]);
    eventually("a restart keeps the workflow's hooks", || read().lines().count() == 4);
    assert_eq!(read(), "user plain\nuser deploy\nown deploy failed\nown-failure 4\n");

    std::fs::write(home.path().join("errand.toml"), "[x]\ncommand = 'true'\non_finish = 3\n").unwrap();
    let bad = home.run(&["run", "#x"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("workflow 'x': on_finish must be a shell command"), "{}", bad.stderr);
}

/// `on_failure = 'errand restart $ERRAND_ID'` retries once, not for ever:
/// the restart a hook makes runs no hooks; one the user makes does.
#[test]
fn a_restart_from_a_hook_runs_no_hooks_but_a_users_restart_does() {
    let home = Home::new();
    home.config("[hooks]\non_failure = '\"$ERRAND_BIN_FOR_TEST\" restart \"$ERRAND_ID\" > /dev/null'\n");
    let submit = |args: &[&str]| -> String {
        let out = home.cmd().env("ERRAND_BIN_FOR_TEST", env!("CARGO_BIN_EXE_errand")).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let failing = || home.tasks(&["--all"]).into_iter().filter(|t| t["name"] == "flaky").collect::<Vec<_>>();
    let first = submit(&["run", "--name", "flaky", "exit 1"]);
    home.wait(&[&first]);
    eventually("the hook's restart ended", || {
        failing().len() == 2 && failing().iter().all(|t| t["status"] == "failed")
    });
    let again = failing().iter().find(|t| t["restartedFrom"] == first.as_str()).map(|t| t["id"].to_string());
    assert!(again.is_some(), "restarted by the hook: {:?}", failing());
    // No hook ran for the hook's restart: nothing queues a third (a hook
    // runs within milliseconds of the outcome).
    std::thread::sleep(std::time::Duration::from_millis(500));
    home.run(&["wait", "--all"]);
    assert_eq!(failing().len(), 2, "{:?}", failing());

    let hooked = failing().into_iter().find(|t| t["restartedFrom"] == first.as_str()).unwrap();
    let mine = submit(&["restart", hooked["id"].as_str().unwrap()]);
    home.wait(&[&mine]);
    eventually("my restart's hook restarted it", || failing().len() == 4);
    home.run(&["wait", "--all"]);
    assert_eq!(failing().len(), 4);
}
