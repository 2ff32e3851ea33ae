//! Watch-mode tools (`tsc --watch`, `cargo watch`): each compile cycle's
//! messages replace the last cycle's while the task runs, in `errand
//! errors`, the task's counts and its outcome. The tool here is a shell
//! script printing tsc's own lines for a real file, so the test decides
//! when a cycle ends; tsc itself runs in the protocol tests
//! (plugin/vscode/test/protocol), where npm installed it.

mod common;

use common::{eventually, id_of, Home};

/// A fixture `tsc --watch`: a cycle with an error, then waits for `fix`
/// and compiles clean, then waits for a cancel.
const TSC_WATCH: &str = "echo 'export const a: string = 1;' > a.ts; \
    echo '[10:00:00 AM] Starting compilation in watch mode...'; \
    echo \"a.ts(1,14): error TS2322: Type 'number' is not assignable to type 'string'.\"; \
    printf '[\\033[90m10:00:01 AM\\033[0m] Found 1 error. Watching for file changes.\\n'; \
    while [ ! -e fix ]; do sleep 0.05; done; \
    echo '[10:00:05 AM] File change detected. Starting incremental compilation...'; \
    echo '[10:00:06 AM] Found 0 errors. Watching for file changes.'; \
    exec sleep 60";

#[test]
fn each_cycle_replaces_the_last_ones_messages_and_the_outcome_counts_the_last() {
    let home = Home::new();
    let id = id_of(&home.submit_json(&[TSC_WATCH]));
    eventually("the first cycle's error", || home.task(&id)["diagnostics"]["errors"] == 1);
    assert_eq!(home.status_of(&id), "running");
    let errors = home.ok(&["errors", &id]);
    assert!(errors.contains("a.ts:1:14: error: Type 'number' is not assignable"), "{errors}");

    std::fs::write(home.path().join("fix"), "").unwrap();
    eventually("the clean cycle", || home.task(&id)["diagnostics"]["errors"] == 0);
    let r = home.run(&["errors", &id]);
    assert!(r.stdout.is_empty() && r.stderr.contains("no compiler or linter messages"), "{} {}", r.stdout, r.stderr);

    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    let t = home.task(&id);
    assert_eq!(t["status"], "cancelled");
    assert_eq!(t["diagnostics"]["errors"], 0, "the outcome is the last cycle's, not every cycle's: {t}");
}

#[test]
fn a_build_that_is_no_watch_tool_keeps_all_its_messages() {
    let home = Home::new();
    // Lines with a tool's words that end no tool's cycle: taken for two
    // cycles' ends, they would leave the error out of the last "cycle".
    let id = home.submit(
        "echo 'export const a: string = 1;' > a.ts; \
         echo \"a.ts(1,14): error TS2322: Type 'number' is not assignable to type 'string'.\"; \
         sleep 0.2; echo 'the rest compiled fine'; sleep 0.2; echo 'waiting for the lock, built in 2 steps'; exit 2",
    );
    home.wait(&[&id]);
    assert_eq!(home.task(&id)["diagnostics"]["errors"], 1);
}

#[test]
fn a_build_that_ends_by_itself_keeps_the_messages_of_every_cycle_it_printed() {
    let home = Home::new();
    // Two vite builds in one (SvelteKit's client and server): each says
    // "built in"; the error came before the first. Only a watch errand
    // stopped is counted from its last cycle.
    let id = home.submit(
        "echo 'export const a: string = 1;' > a.ts; \
         echo \"a.ts(1,14): error TS2322: Type 'number' is not assignable to type 'string'.\"; \
         sleep 0.2; echo '✓ built in 1.02s'; sleep 0.3; echo '✓ built in 0.51s'; sleep 0.3; exit 2",
    );
    home.wait(&[&id]);
    assert_eq!(home.task(&id)["diagnostics"]["errors"], 1);
    let errors = home.ok(&["errors", &id]);
    assert!(errors.contains("a.ts:1:14: error"), "{errors}");
}
