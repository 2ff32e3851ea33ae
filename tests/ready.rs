//! Long-running tasks: a dev server run with `--ready REGEX` (or a
//! workflow's `ready`) is `ready` once a line of its output matches; what
//! was queued `--after` it starts then, not when it ends; its ending by
//! itself is a failure, a cancel is not. The server here is a real shell
//! script that waits for a file before it says "Listening on", so the test
//! decides when it becomes ready.

mod common;

use common::rpc::{Client, Framing};
use common::{eventually, id_of, Home};
use serde_json::{json, Value};

/// A fixture dev server: says it starts, waits for `go`, then prints a
/// coloured "Listening on" line (as vite and express do) and serves on.
const SERVER: &str = "echo 'starting…'; while [ ! -e go ]; do sleep 0.05; done; \
                      printf '  \\033[32mListening\\033[0m on http://localhost:5173/\\n'; exec sleep 60";

#[test]
fn a_dependent_starts_once_the_server_is_ready_and_outlives_its_cancel() {
    let home = Home::new();
    let server = id_of(&home.submit_json(&["--ready", "Listening on http://", SERVER]));
    let client = id_of(&home.submit_json(&["--after", &server, "touch client-started; sleep 1; touch client-done"]));
    home.wait_output(&server, "starting");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(home.status_of(&client), "queued", "not before the server is ready");
    let shown = home.ok(&["show", &server]);
    assert!(shown.contains("not yet (waiting for /Listening on http:///)"), "{shown}");

    std::fs::write(home.path().join("go"), "").unwrap();
    eventually("the client starts", || home.path().join("client-started").exists());
    let t = home.task(&server);
    assert_eq!((t["status"].as_str(), t["readyAt"].is_i64()), (Some("running"), true), "{t}");
    assert!(home.ok(&["ls"]).contains(&format!("{server}  ready")), "{}", home.ok(&["ls"]));

    // Stopping the server does not stop the client: it is no process of the server's.
    home.ok(&["cancel", &server]);
    assert_eq!(home.wait(&[&client]), 0, "the client runs to its end");
    assert!(home.path().join("client-done").exists());
    let t = home.task(&server);
    assert_eq!((t["status"].as_str(), &t["readyAt"], &t["error"]), (Some("cancelled"), &Value::Null, &Value::Null));
}

#[test]
fn a_long_running_task_that_ends_by_itself_failed() {
    let home = Home::new();
    // Never ready: its dependents never start.
    let early = id_of(&home.submit_json(&["--ready", "Listening", "echo compiling; exit 0"]));
    let dependent = id_of(&home.submit_json(&["--after", &early, "touch must-not-run"]));
    home.wait(&[&early, &dependent]);
    let t = home.task(&early);
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["exitCode"], 0, "{t}");
    assert_eq!(t["error"], "it ended before it was ready (with exit status 0)");
    let d = home.task(&dependent);
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("cancelled"), Some(&*format!("dependency {early} failed")))
    );
    assert!(!home.path().join("must-not-run").exists());

    // Ready, then it crashed.
    let crashed = id_of(&home.submit_json(&["--ready", "^ready$", "echo ready; sleep 0.3; exit 3"]));
    home.wait(&[&crashed]);
    let t = home.task(&crashed);
    assert_eq!((t["status"].as_str(), t["exitCode"].as_i64()), (Some("failed"), Some(3)), "{t}");
    assert_eq!(t["error"], "it stopped after it was ready (exit 3)");
}

#[test]
fn a_retried_server_is_unready_until_its_new_run_says_so() {
    let home = Home::new();
    // The first run is ready and dies; the second waits for `go` before it is ready.
    let id = id_of(&home.submit_json(&[
        "--ready",
        "Listening",
        "--retry",
        "1",
        "if [ -e ran ]; then while [ ! -e go ]; do sleep 0.05; done; echo Listening again; exec sleep 60; fi; \
         touch ran; echo Listening; sleep 0.3; exit 1",
    ]));
    eventually("the second run starts", || home.task(&id)["attempts"].as_array().is_some_and(|a| a.len() == 1));
    let t = home.task(&id);
    assert_eq!((t["status"].as_str(), &t["readyAt"]), (Some("running"), &Value::Null), "{t}");
    assert_eq!(t["attempts"][0]["error"], "it stopped after it was ready (exit 1)", "{t}");
    std::fs::write(home.path().join("go"), "").unwrap();
    eventually("it is ready again", || home.task(&id)["readyAt"].is_i64());
    home.ok(&["cancel", &id]);
    home.wait(&[&id]);
    assert_eq!(home.status_of(&id), "cancelled");
}

#[test]
fn editors_hear_when_a_task_is_ready() {
    let home = Home::new();
    let mut rpc = Client::spawn(home.cmd(), Framing::Lines);
    rpc.call("initialize", json!({}));
    let task = rpc.call("task/run", json!({ "command": SERVER, "ready": "Listening on" }));
    assert_eq!((task["readyPattern"].as_str(), &task["readyAt"]), (Some("Listening on"), &Value::Null), "{task}");
    let id = id_of(&task);
    rpc.notification("task/started", |p| p["task"]["id"] == id.as_str());
    std::fs::write(home.path().join("go"), "").unwrap();
    let ready = rpc.notification("task/ready", |p| p["task"]["id"] == id.as_str());
    assert_eq!(ready["task"]["status"], "running");
    assert!(ready["task"]["readyAt"].is_i64(), "{ready}");

    let refused = rpc.call_err("task/run", json!({ "command": "true", "ready": "Listening (on" }));
    assert_eq!(refused["code"], -32602, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.starts_with("the ready pattern is not a regex:") && !message.contains('\n'), "{message}");

    rpc.call("task/cancel", json!({ "id": id }));
    let finished = rpc.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(finished["task"]["status"], "cancelled");
    common::schema::validate_traffic(&rpc);
}

#[test]
fn a_workflow_says_when_it_is_ready() {
    let home = Home::new();
    std::fs::write(
        home.path().join("errand.toml"),
        format!(
            "[dev]\ncommand = \"{}\"\nready = 'Listening on'\n\n[e2e]\ncommand = 'touch e2e-ran'\ndepends = ['dev']\n",
            SERVER.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    )
    .unwrap();
    let listed: Vec<Value> = serde_json::from_str(&home.ok(&["workflows", "--json"])).unwrap();
    let dev = listed.iter().find(|w| w["name"] == "dev").expect("dev is listed");
    assert_eq!(dev["ready"], "Listening on");

    let e2e = id_of(&home.submit_json(&["#e2e"]));
    let dev_id = home.task(&e2e)["dependsOn"][0].as_str().unwrap().to_owned();
    assert_eq!(home.task(&dev_id)["readyPattern"], "Listening on");
    std::fs::write(home.path().join("go"), "").unwrap();
    assert_eq!(home.wait(&[&e2e]), 0);
    assert!(home.path().join("e2e-ran").exists());
    assert_eq!(home.status_of(&dev_id), "running", "the server serves on");
    home.ok(&["cancel", &dev_id]);
    home.wait(&[&dev_id]);

    std::fs::write(home.path().join("errand.toml"), "[dev]\ncommand = 'x'\nready = '(['\n").unwrap();
    let r = home.run(&["run", "#dev"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("workflow 'dev': the ready pattern is not a regex"), "{}", r.stderr);
    let r = home.run(&["run", "--ready", "", "true"]);
    assert_eq!((r.code, r.stderr.as_str()), (2, "errand: the ready pattern is empty\n"));
}

#[test]
fn a_tasks_json_background_task_is_ready_at_its_ends_pattern() {
    let home = Home::new();
    let dir = home.path().join("proj");
    std::fs::create_dir_all(dir.join(".vscode")).unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let tasks = serde_json::json!({ "version": "2.0.0", "tasks": [
        { "label": "Serve", "type": "shell", "command": SERVER, "isBackground": true,
          "problemMatcher": { "pattern": { "regexp": "^x$" },
                              "background": { "beginsPattern": "starting", "endsPattern": "Listening on" } } },
        { "label": "Watch", "type": "shell", "command": "tsc -w", "isBackground": true, "problemMatcher": "$tsc-watch" },
        { "label": "E2E", "type": "shell", "command": "touch ../e2e-ran", "dependsOn": "Serve" },
    ] });
    std::fs::write(dir.join(".vscode/tasks.json"), tasks.to_string()).unwrap();
    let out = home.cmd().current_dir(&dir).args(["workflows", "--json"]).output().unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ready = |name: &str| listed.iter().find(|w| w["name"] == name).map(|w| w["ready"].clone());
    assert_eq!(ready("vscode:Serve"), Some(json!("Listening on")));
    assert!(ready("vscode:Watch").unwrap().as_str().unwrap().contains("Watching for file changes"));
    assert_eq!(ready("vscode:E2E"), Some(Value::Null));

    let out = home.cmd().current_dir(&dir).args(["run", "--json", "#vscode:E2E"]).output().unwrap();
    let e2e = id_of(&serde_json::from_slice(&out.stdout).unwrap());
    let serve = home.task(&e2e)["dependsOn"][0].as_str().unwrap().to_owned();
    eventually("the server starts", || home.status_of(&serve) == "running");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(home.status_of(&e2e), "queued", "not before the server says it listens");
    std::fs::write(dir.join("go"), "").unwrap();
    assert_eq!(home.wait(&[&e2e]), 0, "it starts once the server is ready, while the server runs");
    assert!(home.path().join("e2e-ran").exists());
    assert_eq!(home.status_of(&serve), "running");
    home.ok(&["cancel", &serve]);
    home.wait(&[&serve]);
}
