//! The global queue: the parallel limit holds, tasks start in FIFO order,
//! and concurrent clients submit without lock errors.

mod common;

use std::collections::HashSet;
use std::process::Stdio;

use common::Home;

#[test]
fn the_parallel_limit_holds_and_tasks_start_in_fifo_order() {
    let home = Home::new();
    home.config("parallel = 2\n");
    let d = home.path().join("obs");
    std::fs::create_dir(&d).unwrap();
    // Each task registers itself, records how many are registered, waits for
    // the test's go-ahead, and leaves. The first two must overlap.
    let script = format!(
        "touch {d}/r.$ERRAND_TASK_ID; ls {d} | grep -c '^r\\.' >> {d}/counts; \
         until [ -e {d}/go ]; do sleep 0.01; done; rm {d}/r.$ERRAND_TASK_ID",
        d = d.display()
    );
    let ids: Vec<String> = (0..6).map(|_| home.submit(&script)).collect();
    home.eventually("two tasks hold both slots", || {
        std::fs::read_to_string(d.join("counts")).is_ok_and(|c| c.lines().count() == 2)
    });
    assert_eq!(home.tasks(&["-s", "queued"]).len(), 4, "the others wait");
    std::fs::write(d.join("go"), "").unwrap();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(home.wait(&refs), 0);

    let counts: Vec<u32> =
        std::fs::read_to_string(d.join("counts")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(counts.len(), 6);
    assert!(counts.iter().all(|&c| c <= 2), "never more than 2 at once: {counts:?}");
    assert!(counts.contains(&2), "the limit is used, not just respected: {counts:?}");

    let started: Vec<i64> = ids.iter().map(|id| home.task(id)["startedAt"].as_i64().unwrap()).collect();
    assert!(started.windows(2).all(|w| w[0] <= w[1]), "FIFO: {started:?}");
    assert!(ids.iter().all(|id| home.status_of(id) == "completed"));
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
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
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
