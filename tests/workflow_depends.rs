//! Workflows that run others first: `depends = [...]` (at once) and `steps =
//! [...]` (one after another), each once per run (a run already in progress
//! is waited for, not started again); a failure cancels what waits for it;
//! a cycle is refused, named, before anything starts; `.vscode/tasks.json`
//! `dependsOn` / `dependsOrder` map onto the same.

mod common;

use common::Home;
use serde_json::Value;

fn project(home: &Home, toml: &str) -> std::path::PathBuf {
    let dir = home.path().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("errand.toml"), toml).unwrap();
    dir
}

/// `errand run ARGS` in `dir`: (exit code, stdout trimmed, stderr).
fn run_in(home: &Home, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = home.cmd().current_dir(dir).arg("run").args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn workflow_of(home: &Home, id: &Value) -> String {
    home.task(id.as_str().unwrap())["workflow"].as_str().unwrap().to_owned()
}

#[test]
fn depends_run_first_at_once_and_steps_one_after_another() {
    let home = Home::new();
    let dir = project(
        &home,
        "[build]\ncommand = 'sleep 0.3; echo built >> order'\n\
         [lint]\ncommand = 'echo linted >> order'\n\
         [ci]\ncommand = 'echo ci >> order'\ndepends = ['build', '#lint']\n\
         [release]\nsteps = ['build', 'lint']\n",
    );
    let (code, ci, err) = run_in(&home, &dir, &["#ci"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.wait(&[&ci]), 0);
    let order = std::fs::read_to_string(dir.join("order")).unwrap();
    assert_eq!(order, "linted\nbuilt\nci\n", "both at once (lint is quicker), then ci");
    let task = home.task(&ci);
    let deps: Vec<String> = task["dependsOn"].as_array().unwrap().iter().map(|d| workflow_of(&home, d)).collect();
    assert_eq!(deps, ["build", "lint"]);

    std::fs::remove_file(dir.join("order")).unwrap();
    let (code, release, err) = run_in(&home, &dir, &["#release"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.wait(&[&release]), 0, "a workflow of only steps ends once they did");
    assert_eq!(std::fs::read_to_string(dir.join("order")).unwrap(), "built\nlinted\n", "in order");
}

#[test]
fn a_failed_dependency_cancels_the_run_and_a_cycle_starts_nothing() {
    let home = Home::new();
    let dir = project(
        &home,
        "[broken]\ncommand = 'exit 3'\n[after-broken]\ncommand = 'echo never'\ndepends = ['broken']\n\
         [a]\ncommand = 'true'\ndepends = ['b']\n[b]\ncommand = 'true'\nsteps = ['c', 'a']\n[c]\ncommand = 'true'\n",
    );
    let (_, id, _) = run_in(&home, &dir, &["#after-broken"]);
    home.wait(&[&id]);
    let t = home.task(&id);
    assert_eq!(t["status"], "cancelled");
    assert!(t["error"].as_str().unwrap().ends_with(" failed"), "{t}");

    let before = home.tasks(&["--all"]).len();
    let (code, _, err) = run_in(&home, &dir, &["#a"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("workflows depend on each other: #a → #b → #a"), "{err}");
    assert_eq!(home.tasks(&["--all"]).len(), before, "nothing started");
}

#[test]
fn a_dependency_already_running_is_waited_for_not_run_twice() {
    let home = Home::new();
    let dir = project(
        &home,
        "[gen]\ncommand = 'sleep 0.5; echo generated >> order'\n[use]\ncommand = 'echo used >> order'\ndepends = ['gen']\n",
    );
    let (_, gen, _) = run_in(&home, &dir, &["#gen"]);
    let (code, used, err) = run_in(&home, &dir, &["#use"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.task(&used)["dependsOn"], serde_json::json!([gen]));
    assert_eq!(home.wait(&[&used]), 0);
    assert_eq!(std::fs::read_to_string(dir.join("order")).unwrap(), "generated\nused\n");
}

#[test]
fn vscode_tasks_depends_on_runs_the_tasks_it_names() {
    let home = Home::new();
    let dir = home.path().join("ws");
    std::fs::create_dir_all(dir.join(".vscode")).unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join(".vscode/tasks.json"),
        r#"{ "version": "2.0.0", "tasks": [
            // Slow first: in sequence, it still comes first.
            { "label": "Build", "type": "shell", "command": "sleep 0.3; echo build >> order" },
            { "label": "Test", "type": "shell", "command": "echo test >> order" },
            { "label": "All", "dependsOn": ["Build", "Test"], "dependsOrder": "sequence" },
            { "label": "Odd", "dependsOn": "npm: build" },
        ] }"#,
    )
    .unwrap();
    let out = home.cmd().current_dir(&dir).args(["workflows", "--json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = listed.as_array().unwrap().iter().find(|w| w["name"] == "vscode:All").unwrap().clone();
    assert_eq!(
        (&all["depends"], &all["dependsInSequence"]),
        (&serde_json::json!(["vscode:Build", "vscode:Test"]), &Value::Bool(true)),
        "{all}"
    );
    assert_eq!(all["refused"], Value::Null, "{all}");
    let odd = listed.as_array().unwrap().iter().find(|w| w["name"] == "vscode:Odd").unwrap();
    assert!(odd["refused"].as_str().unwrap().contains("dependsOn names npm: build"), "{odd}");
    let (code, all, err) = run_in(&home, &dir, &["#vscode:All"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.wait(&[&all]), 0);
    assert_eq!(std::fs::read_to_string(dir.join("order")).unwrap(), "build\ntest\n");
}

#[test]
fn a_step_waits_for_the_steps_before_it_even_if_it_already_runs() {
    let home = Home::new();
    let dir = project(
        &home,
        "[build]\ncommand = 'sleep 0.3; echo built >> order'\n\
         [test]\ncommand = 'echo tested >> order; sleep 0.2'\n\
         [release]\nsteps = ['build', 'test']\n",
    );
    let (_, early, _) = run_in(&home, &dir, &["#test"]);
    let (code, release, err) = run_in(&home, &dir, &["#release"]);
    assert_eq!(code, 0, "{err}");
    let deps = home.task(&release)["dependsOn"].as_array().unwrap().clone();
    let (build, test) = (deps[0].as_str().unwrap(), deps[1].as_str().unwrap());
    assert_ne!(test, early, "a new test run, after the build");
    assert_eq!(home.task(test)["dependsOn"], serde_json::json!([build]));
    assert_eq!(home.task(test)["after"], early.as_str(), "and, single, for the run in progress");
    assert_eq!(home.wait(&[&release, &early]), 0);
    assert_eq!(std::fs::read_to_string(dir.join("order")).unwrap(), "tested\nbuilt\ntested\n");

    // A bad --after is refused before any dependency starts.
    let before = home.tasks(&["--all"]).len();
    let (code, _, err) = run_in(&home, &dir, &["--after", "zzzz", "#release"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(home.tasks(&["--all"]).len(), before, "nothing started");
}
