//! Diagnostics through the real binary: what real tools printed for broken
//! fixture sources (`tests/fixtures/diagnostics`, captured by its
//! `capture.sh`; Go's by hand, as no Go runs here) is replayed as a task's
//! output, and `errand errors` must find exactly the expected messages; a
//! real failing `cargo build` end to end; and `task/diagnostics` over the
//! protocol.

mod common;

use std::path::{Path, PathBuf};

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::{json, Value};

/// Copy fixture folder `tool` into the test's folder, with `@DIR@` in its
/// captures replaced by the copy's path (the folder the tool ran in).
fn fixture(home: &Home, tool: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diagnostics").join(tool);
    let to = home.path().join(tool);
    copy_dir(&from, &to, &to.display().to_string());
    to
}

fn copy_dir(from: &Path, to: &Path, dir: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, dir);
        } else {
            let text = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8(text).unwrap().replace("@DIR@", dir);
            std::fs::write(&target, text).unwrap();
        }
    }
}

/// Run `command` as a task in `dir`; its id once it ended.
fn run_in(home: &Home, dir: &Path, command: &str) -> String {
    let out = home.cmd().current_dir(dir).args(["run", "--json", command]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"].as_str().unwrap().to_owned();
    home.wait(&[&id]);
    id
}

/// `errand errors ID` from `dir`: its lines.
fn errors(home: &Home, dir: &Path, id: &str) -> Vec<String> {
    let out = home.cmd().current_dir(dir).args(["errors", id]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn each_tools_real_output_gives_exactly_its_messages() {
    let home = Home::new();
    let cases: &[(&str, &str, &[&str])] = &[
        ("rust", "cargo.out", &["src/main.rs:3:22: error: mismatched types [E0308]"]),
        ("rust", "cargo-short.out", &["src/main.rs:3:22: error: mismatched types: expected `i32`, found `&str` [E0308]"]),
        (
            "c",
            "make.out",
            &[
                "main.c:5:20: error: ‘missing’ undeclared (first use in this function)",
                "main.c:5:20: info: each undeclared identifier is reported only once for each function it appears in",
                "main.c:4:9: warning: unused variable ‘unused’ [-Wunused-variable]",
            ],
        ),
        (
            "ts",
            "tsc.out",
            &[
                "app.ts:1:7: error: Type 'string' is not assignable to type 'number'. [TS2322]",
                "app.ts:3:15: error: Property 'lenght' does not exist on type 'string'. Did you mean 'length'? [TS2551]",
            ],
        ),
        (
            "ts",
            "tsc-pretty.out",
            &[
                "app.ts:1:7: error: Type 'string' is not assignable to type 'number'. [TS2322]",
                "app.ts:3:15: error: Property 'lenght' does not exist on type 'string'. Did you mean 'length'? [TS2551]",
            ],
        ),
        (
            "eslint",
            "eslint.out",
            &[
                "app.js:1:7: error: 'unused' is assigned a value but never used [no-unused-vars]",
                "app.js:2:5: error: 'x' is not defined [no-undef]",
                "app.js:2:7: warning: Expected '===' and instead saw '==' [eqeqeq]",
                "app.js:3:3: error: 'console' is not defined [no-undef]",
            ],
        ),
        (
            "python",
            "traceback.out",
            // The innermost frame of the project's own, not the json library's.
            &["app.py:5: error: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1) [json.decoder.JSONDecodeError]"],
        ),
        ("python", "pytest.out", &["test_app.py:3: error: AssertionError"]),
        (
            "python",
            "mypy.out",
            &["app.py:9: error: Incompatible types in assignment (expression has type \"str\", variable has type \"int\") [assignment]"],
        ),
        ("go", "go.out", &["main.go:6:18: error: cannot use \"three\" (untyped string constant) as int value in variable declaration"]),
        ("go", "vet.out", &["main.go:6:18: error: cannot use \"three\" (untyped string constant) as int value in variable declaration"]),
    ];
    for (tool, capture, expected) in cases {
        let dir = fixture(&home, tool);
        let id = run_in(&home, &dir, &format!("cat {capture}"));
        assert_eq!(errors(&home, &dir, &id), *expected, "{tool}/{capture}");
    }
}

#[test]
fn a_path_that_does_not_exist_is_dropped_and_colours_are_no_obstacle() {
    let home = Home::new();
    let dir = fixture(&home, "c");
    let printed = r"printf '\033[01m\033[Kmain.c:4:9:\033[m\033[K \033[01;35m\033[Kwarning: \033[m\033[Kunused\n'; \
                    printf 'gone.c:1:1: error: not here\n'; exit 1";
    let id = run_in(&home, &dir, printed);
    assert_eq!(errors(&home, &dir, &id), ["main.c:4:9: warning: unused"]);
}

#[test]
fn a_real_failing_cargo_build_then_errand_errors_and_task_diagnostics() {
    let home = Home::new();
    let dir = fixture(&home, "rust");
    let target = home.path().join("target");
    let build = format!("CARGO_TARGET_DIR='{}' cargo build --color never", target.display());
    let id = run_in(&home, &dir, &build);
    assert_eq!(home.task(&id)["status"], "failed");
    // Without an id: the newest task that failed.
    let out = home.cmd().current_dir(&dir).arg("errors").output().unwrap();
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        lines,
        "src/main.rs:3:22: error: mismatched types [E0308]\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let found = server.call("task/diagnostics", json!({ "id": id }));
    assert_eq!(found["task"]["id"], id.as_str());
    assert_eq!(found["truncated"], false);
    assert_eq!(
        found["diagnostics"],
        json!([{
            "file": dir.join("src/main.rs").display().to_string(),
            "line": 3,
            "column": 22,
            "severity": "error",
            "message": "mismatched types",
            "code": "E0308",
            "source": "rustc",
        }])
    );
    assert_eq!(server.call("task/diagnostics", json!({}))["task"]["id"], id.as_str(), "the newest failed");
    let none = server.call_err("task/diagnostics", json!({ "id": "zzzz" }));
    assert!(none["message"].as_str().unwrap().contains("zzzz"), "{none}");
}

#[test]
fn task_finished_carries_the_counts_and_runs_and_workflows_choose_their_matchers() {
    let home = Home::new();
    let dir = fixture(&home, "c");
    // A message only the generic matcher reads (no severity word, not a C file).
    std::fs::write(dir.join("app.yml"), "a: b\n").unwrap();
    std::fs::write(
        dir.join("errand.toml"),
        "[lint]\ncommand = \"echo 'app.yml:1:4: mapping values are not allowed here'; cat make.out\"\n\
         matcher = \"generic\"\n\
         [quiet]\ncommand = \"cat make.out\"\nmatcher = false\n",
    )
    .unwrap();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let cwd = dir.display().to_string();
    let finished = |server: &mut Client, id: &Value| {
        server.notification("task/finished", |p| p["task"]["id"] == *id)["task"].clone()
    };

    let built_in = server.call("task/run", json!({ "command": "cat make.out; exit 2", "clientCwd": cwd }));
    let task = finished(&mut server, &built_in["id"]);
    assert_eq!(task["diagnostics"], json!({ "errors": 1, "warnings": 1, "infos": 1 }), "{task}");
    assert_eq!(task["matcher"], Value::Null);
    let id = task["id"].as_str().unwrap();
    let show = home.ok(&["show", id]);
    assert!(show.contains("1 error, 1 warning, 1 note (errand errors"), "{show}");

    let lint = server.call("task/run", json!({ "workflow": "lint", "clientCwd": cwd }));
    let task = finished(&mut server, &lint["id"]);
    assert_eq!(task["matcher"], "generic");
    let found = server.call("task/diagnostics", json!({ "id": task["id"] }))["diagnostics"].clone();
    assert_eq!(found[0]["file"], dir.join("app.yml").display().to_string());
    assert_eq!(found[0]["message"], "mapping values are not allowed here");
    assert_eq!(found[0]["source"], "generic");
    let counts = &task["diagnostics"];
    assert_eq!(counts, &json!({ "errors": 2, "warnings": 1, "infos": 1 }), "{found}");

    // The run's own choice wins over the workflow's; false turns matching off.
    let only_gcc = server.call("task/run", json!({ "workflow": "lint", "clientCwd": cwd, "matcher": "clang" }));
    let task = finished(&mut server, &only_gcc["id"]);
    assert_eq!((task["matcher"].as_str(), task["diagnostics"]["errors"].as_u64()), (Some("gcc"), Some(1)));
    let quiet = server.call("task/run", json!({ "workflow": "quiet", "clientCwd": cwd }));
    let task = finished(&mut server, &quiet["id"]);
    assert_eq!((task["matcher"].as_str(), &task["diagnostics"]), (Some("none"), &Value::Null));
    let none = server.call("task/diagnostics", json!({ "id": task["id"] }));
    assert_eq!(none["diagnostics"], json!([]));

    // Without an id: a later failure with no messages does not hide the build's.
    let plain = server.call("task/run", json!({ "command": "echo no messages; exit 1", "clientCwd": cwd }));
    finished(&mut server, &plain["id"]);
    assert_eq!(server.call("task/diagnostics", json!({}))["task"]["id"], built_in["id"]);
    let out = home.cmd().current_dir(&dir).arg("errors").output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("main.c:5:20: error:"));

    let bad = server.call_err("task/run", json!({ "command": "true", "matcher": "javac" }));
    assert!(bad["message"].as_str().unwrap().contains("unknown matcher 'javac'"), "{bad}");
    // A restart keeps the choice.
    let again = home.ok(&["restart", task["id"].as_str().unwrap()]);
    let again = again.split_whitespace().next().unwrap();
    home.wait(&[again]);
    assert_eq!(home.task(again)["matcher"], "none");
}
