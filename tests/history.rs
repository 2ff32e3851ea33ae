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
