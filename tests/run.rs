//! Running a task: exit codes, output kept apart and merged in order, argv
//! without a shell, the client's environment and directory, a command that
//! cannot start, and a task that outlives its client.

mod common;

use std::process::Stdio;

use common::rpc::{Client, Framing};
use common::{until_captured, Home};
use serde_json::json;

#[test]
fn a_task_completes_or_fails_with_its_exit_code_and_output_kept_apart() {
    let home = Home::new();
    let ok = home.submit("true");
    let script = format!(
        "echo out1; {}; echo err1 >&2; {}; echo out2; exit 7",
        until_captured("out", "out1"),
        until_captured("err", "err1")
    );
    let bad = home.submit(&script);
    assert_eq!(home.wait(&[&ok]), 0);
    assert_eq!(home.wait(&[&bad]), 7, "wait exits with the task's code");

    let t = home.task(&ok);
    assert_eq!(t["status"], "completed");
    assert_eq!(t["exitCode"], 0);
    let t = home.task(&bad);
    assert_eq!(t["status"], "failed");
    assert_eq!(t["exitCode"], 7);
    assert!(t["endedAt"].as_i64() >= t["startedAt"].as_i64());

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
fn a_task_outlives_the_client_that_started_it() {
    let home = Home::new();
    let release = home.path().join("release");
    let script = format!("until [ -e '{}' ]; do sleep 0.01; done; echo survived", release.display());
    let mut client = home.cmd().args(["run", "--wait", &script]).stdout(Stdio::piped()).spawn().unwrap();
    home.eventually("the task runs", || home.tasks(&[]).first().is_some_and(|t| t["status"] == "running"));
    client.kill().unwrap(); // SIGKILL, while the task waits
    client.wait().unwrap();
    let id = home.tasks(&[])[0]["id"].as_str().unwrap().to_owned();
    std::fs::write(&release, "").unwrap();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.status_of(&id), "completed");
    assert_eq!(home.ok(&["logs", &id]), "survived\n");
}

/// The CLI and the server build a task in one place: `--cwd` (CLI) and
/// `cwd` (protocol) both replace a workflow's own folder, and both look the
/// workflow up from the client's directory.
#[test]
fn cwd_means_the_same_from_the_cli_and_the_server() {
    let home = Home::new();
    let proj = home.path().join("proj");
    std::fs::create_dir_all(proj.join("pkg/a")).unwrap();
    std::fs::write(proj.join("errand.toml"), "where = \"pwd\"\n").unwrap();
    let deep = proj.join("pkg");

    let via_cli = |cwd: Option<&str>| {
        let mut args = vec!["run"];
        if let Some(cwd) = cwd {
            args.extend(["--cwd", cwd]);
        }
        args.push("#where");
        let out = home.cmd().current_dir(&deep).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        home.wait(&[&id]);
        home.ok(&["logs", &id]).trim().to_owned()
    };
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    let mut via_server = |cwd: Option<&str>| {
        let mut params = json!({ "workflow": "where", "clientCwd": deep });
        if let Some(cwd) = cwd {
            params["cwd"] = json!(cwd);
        }
        let id = server.call("task/run", params)["id"].as_str().unwrap().to_owned();
        server.notification("task/finished", |p| p["task"]["id"] == id.as_str())["outputTail"]
            .as_str()
            .unwrap()
            .trim()
            .to_owned()
    };
    let root = proj.to_str().unwrap().to_owned();
    let a = proj.join("pkg/a").to_str().unwrap().to_owned();
    assert_eq!((via_cli(None), via_server(None)), (root.clone(), root), "a workflow runs at its project root");
    assert_eq!(
        (via_cli(Some("a")), via_server(Some("a"))),
        (a.clone(), a),
        "cwd replaces it, from the client's directory"
    );
}
