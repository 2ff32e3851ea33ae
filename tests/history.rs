//! History: restart, soft delete and restore, and pruning by count.

mod common;

use common::Home;
use serde_json::Value;

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
    assert_eq!(t["restartedFrom"], first.as_str());
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
    let ids =
        || -> Vec<String> { home.tasks(&["--all"]).iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect() };
    home.eventually("automatic prune", || ids() == vec![third.clone(), again.clone()]);
    assert!(!home.errand_home().join(format!("logs/{first}.out")).exists(), "and its output files");
    // `errand prune` applies a tighter limit at once.
    home.config("[history]\nkeep_count = 1\n");
    assert_eq!(home.ok(&["prune"]), "1 pruned\n");
    assert_eq!(ids(), vec![third.clone()]);
    assert_eq!(home.run(&["show", &first]).code, 3);
}

/// A queued or running task is cancelled first, not deleted from under its
/// supervisor: exit 4, like other "not in that state" refusals.
#[test]
fn an_active_task_is_not_deleted() {
    let home = Home::new();
    let long = home.submit("sleep 300");
    let refused = home.run(&["rm", &long]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("cancel it first"), "{}", refused.stderr);
    assert_eq!(home.tasks(&[]).len(), 1);
    home.ok(&["cancel", &long]);
    home.wait(&[&long]);
    home.ok(&["rm", &long]);
    assert_eq!(home.tasks(&["--deleted"]).len(), 1);
}

/// A prune of thousands of tasks, by count and by age, in batches: the
/// newest stay, the store answers every command afterwards, and an
/// environment only pruned tasks used goes with them.
#[test]
fn a_large_prune_keeps_the_newest_and_the_store_answers() {
    let home = Home::new();
    home.config("[history]\nkeep_count = 100000\n");
    let lines: String = (0..5000).map(|i| format!("echo {i}\n")).collect();
    let mut child = home
        .cmd()
        .args(["run", "--batch", "-e", "BATCH=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), lines.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let ids: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 5000);
    assert_eq!(home.run(&["wait", "--all"]).code, 0);
    // One more, from another environment, ended "long ago".
    let other = home.cmd().args(["run", "echo old"]).env("OTHER_ENV", "1").output().unwrap();
    let old = String::from_utf8(other.stdout).unwrap().trim().to_owned();
    assert_eq!(home.wait(&[&old]), 0);
    let db = rusqlite::Connection::open(home.errand_home().join("errand.db")).unwrap();
    db.execute("UPDATE tasks SET ended_at = 1000 WHERE id = ?1", [&old]).unwrap();
    let envs =
        |db: &rusqlite::Connection| -> i64 { db.query_row("SELECT count(*) FROM envs", [], |r| r.get(0)).unwrap() };
    assert_eq!(envs(&db), 2);

    home.config("[history]\nkeep_count = 300\nkeep_days = 1\n");
    home.ok(&["prune"]);
    let left: Vec<String> = home.tasks(&["--all"]).iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
    // The 300 newest finished: the old one (newest by order, gone by age) and 299 of the batch.
    let mut newest: Vec<String> = ids[ids.len() - 299..].to_vec();
    newest.reverse();
    assert_eq!(left, newest, "the newest stay; the old one went by age");
    assert_eq!(envs(&db), 1, "the environment only the pruned task used went with it");
    assert!(!home.errand_home().join(format!("logs/{}.out", ids[0])).exists(), "output files go too");
    assert_eq!(home.ok(&["logs", &ids[4999]]), "4999\n");
    home.ok(&["status", "--json"]);
    assert_eq!(home.submit_json(&["true"])["status"], "queued");
}
