//! Detected tasks, through the real binary on fixture projects
//! (`tests/fixtures/projects`, copied to a temp folder so nothing around
//! them is found): exact names, commands and folders; the nearest package
//! first in a monorepo; nothing run while listing a hostile project; a
//! malformed file as one warning; and detected tasks that run or are refused.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::Home;
use serde_json::{json, Value};

/// Copy fixture `name` into the test's folder; returns the copy.
fn project(home: &Home, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects").join(name);
    let to = home.path().join(name);
    copy_dir(&from, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `errand workflows --json` from `dir`: each workflow by name, and stderr.
fn listed(home: &Home, dir: &Path) -> (BTreeMap<String, Value>, String) {
    let out =
        home.cmd().current_dir(dir).env("ERRAND_FIXTURE_MODE", "fast").args(["workflows", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by_name = all.into_iter().map(|w| (w["name"].as_str().unwrap().to_owned(), w)).collect();
    (by_name, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn argv(words: &[&str]) -> Value {
    json!({ "argv": words })
}

#[test]
fn every_source_is_listed_with_its_command_folder_and_tool() {
    let home = Home::new();
    let dir = project(&home, "every");
    let (all, warnings) = listed(&home, &dir);
    assert_eq!(warnings, "", "no warnings");
    let names: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "cargo:build",
            "cargo:check",
            "cargo:clippy",
            "cargo:run",
            "cargo:run:every",
            "cargo:run:extra",
            "cargo:run:tool",
            "cargo:test",
            "deno:check",
            "deno:dev",
            "go:build",
            "go:test",
            "go:vet",
            "just:build",
            "just:deploy",
            "make:all",
            "make:app",
            "make:clean",
            "make:hello",
            "make:test",
            "npm:build",
            "npm:lint:fix",
            "npm:test",
            "pdm:serve",
            "poe:cov",
            "poe:fmt",
            "vscode:Build",
            "vscode:Lint this file",
            "vscode:Serve",
        ]
    );
    let d = dir.display().to_string();
    let expect = |name: &str, command: Value, cwd: &str, tool: &str| {
        let w = &all[name];
        assert_eq!(w["command"], command, "{name}: {w}");
        assert_eq!(w["cwd"], cwd, "{name}: {w}");
        assert_eq!(w["detected"], tool, "{name}: {w}");
        assert_eq!(w["refused"], Value::Null, "{name}: {w}");
    };
    // The lockfile names the package manager.
    expect("npm:build", argv(&["pnpm", "run", "build"]), &d, "npm");
    assert_eq!(all["npm:build"]["description"], "tsc -p .");
    expect("npm:lint:fix", argv(&["pnpm", "run", "lint:fix"]), &d, "npm");
    // errand.toml's own workflow of the same name wins.
    assert_eq!(all["npm:test"]["command"], json!({ "shell": "echo errand.toml wins" }));
    assert_eq!(all["npm:test"]["detected"], Value::Null);
    expect("make:all", argv(&["make", "all"]), &d, "make");
    assert_eq!(all["make:all"]["description"], "build everything");
    assert_eq!(all["make:all"]["source"], format!("{d}/Makefile"));
    expect("cargo:test", argv(&["cargo", "test"]), &d, "cargo");
    expect("cargo:run:tool", argv(&["cargo", "run", "--bin", "tool"]), &d, "cargo");
    expect("just:deploy", argv(&["just", "deploy"]), &d, "just");
    assert_eq!(all["just:build"]["description"], "Build the site");
    expect("go:vet", argv(&["go", "vet", "./..."]), &d, "go");
    expect("deno:dev", argv(&["deno", "task", "dev"]), &d, "deno");
    assert_eq!(all["deno:check"]["description"], "Type-check");
    expect("poe:cov", argv(&["poe", "cov"]), &d, "poe");
    assert_eq!(all["poe:cov"]["description"], "Tests with coverage");
    expect("pdm:serve", argv(&["pdm", "run", "serve"]), &d, "pdm");
    // tasks.json: variables resolved, args quoted for the shell, cwd and env.
    expect("vscode:Build", json!({ "shell": "make all NAME=every" }), &format!("{d}/src"), "vscode");
    assert_eq!(all["vscode:Build"]["env"], json!({ "MODE": "fast" }));
    expect("vscode:Serve", argv(&["python3", "-m", "http.server", "8000"]), &d, "vscode");
    let lint = &all["vscode:Lint this file"];
    assert_eq!(lint["refused"], "it uses ${file}, which only the editor knows", "{lint}");

    // The human listing: errand's own first, and why one cannot run.
    let text = String::from_utf8(home.cmd().current_dir(&dir).arg("workflows").output().unwrap().stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("#npm:test "), "{text}");
    assert!(text.contains("(cannot run: it uses ${file}, which only the editor knows)"), "{text}");
}

#[test]
fn a_package_in_a_monorepo_sees_its_own_scripts_first() {
    let home = Home::new();
    let root = project(&home, "mono");
    let app = root.join("packages/app");
    let (all, _) = listed(&home, &app);
    let names: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(names, ["npm:release", "npm:start", "npm:test"]);
    // The package's own test, run with the workspace's yarn, in the package.
    assert_eq!(all["npm:test"]["description"], "echo app test");
    assert_eq!(all["npm:test"]["command"], argv(&["yarn", "run", "test"]));
    assert_eq!(all["npm:test"]["cwd"], app.display().to_string());
    assert_eq!(all["npm:release"]["cwd"], root.display().to_string());
    // From the root, only the root's.
    let (all, _) = listed(&home, &root);
    assert_eq!(all.keys().map(String::as_str).collect::<Vec<_>>(), ["npm:release", "npm:test"]);
    assert_eq!(all["npm:test"]["description"], "echo root test");
}

#[test]
fn listing_a_hostile_project_runs_nothing_from_it() {
    let home = Home::new();
    let dir = project(&home, "hostile");
    let (all, warnings) = listed(&home, &dir);
    assert_eq!(warnings, "");
    assert!(all.contains_key("make:all") && all.contains_key("npm:prepare") && all.contains_key("just:build"));
    assert!(all.contains_key("vscode:Pwn"));
    // Completion reads the same files.
    home.cmd().current_dir(&dir).env("COMPLETE", "bash").args(["--", "errand", "run", "#"]).output().unwrap();
    let pwned: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("PWNED"))
        .collect();
    assert!(pwned.is_empty(), "listing ran the project's code: {pwned:?}");
}

#[test]
fn a_malformed_file_is_one_warning_with_its_line_and_hides_nothing_else() {
    let home = Home::new();
    let dir = project(&home, "broken");
    let (all, warnings) = listed(&home, &dir);
    assert_eq!(all.keys().map(String::as_str).collect::<Vec<_>>(), ["make:ok"]);
    let lines: Vec<&str> = warnings.lines().collect();
    assert_eq!(lines.len(), 2, "{warnings}");
    assert!(lines[0].starts_with(&format!("errand: warning: {}/package.json:4: ", dir.display())), "{warnings}");
    assert!(lines[1].starts_with(&format!("errand: warning: {}/Cargo.toml:2: ", dir.display())), "{warnings}");
}

#[test]
fn a_detected_task_runs_where_it_was_found_and_one_errand_cannot_resolve_is_refused() {
    let home = Home::new();
    let dir = project(&home, "every");
    let out = home.cmd().current_dir(dir.join("src")).args(["run", "--json", "#make:hello"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]).trim(), "hello from make");
    assert_eq!(home.task(&id)["cwd"], dir.display().to_string(), "in the Makefile's folder");
    assert_eq!(home.task(&id)["workflow"], "make:hello");

    let refused = home.cmd().current_dir(&dir).args(["run", "#vscode:Lint this file"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("#vscode:Lint this file cannot run here: it uses ${file}"), "{err}");
    assert_eq!(home.tasks(&[]).len(), 1, "no task for the refused one");
}
