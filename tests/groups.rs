//! Groups with a limit of their own: `[groups.NAME] parallel = N` in
//! config.toml holds that group's tasks to N at once, beside the global
//! limit; `status GROUP` and `task/counts {group}` count one group.

mod common;

use std::time::Duration;

use common::rpc::{Client, Framing};
use common::{eventually, Home};
use serde_json::json;

#[test]
fn a_group_limit_of_one_runs_its_tasks_one_at_a_time_beside_the_others() {
    let home = Home::new();
    home.config("parallel = 4\n[groups.deploy]\nparallel = 1\n");
    let exists = |f: &str| home.path().join(f).exists();
    let gated = |name: &str| format!("touch started-{name}; until [ -e go-{name} ]; do sleep 0.02; done");
    let deploys: Vec<String> = (0..3)
        .map(|i| home.submit_json(&["--group", "deploy", &gated(&i.to_string())])["id"].as_str().unwrap().to_owned())
        .collect();
    let build = home.submit_json(&["--group", "build", &gated("build")])["id"].as_str().unwrap().to_owned();
    eventually("a deploy and the build run", || exists("started-0") && exists("started-build"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!exists("started-1") && !exists("started-2"), "one deploy at a time");
    assert_eq!(home.status_of(&deploys[1]), "queued");
    assert_eq!(home.ok(&["status", "deploy"]), "1/1 running · 2 queued\n", "the group's limit shows");
    assert_eq!(home.ok(&["status", "build"]), "1 running\n", "a group without a limit of its own");
    let json: serde_json::Value = serde_json::from_str(&home.ok(&["status", "--json", "deploy"])).unwrap();
    assert_eq!(json["limit"], 1, "{json}");

    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let counts = server.call("task/counts", json!({ "group": "deploy" }));
    assert_eq!((counts["running"].as_u64(), counts["queued"].as_u64()), (Some(1), Some(2)), "{counts}");
    assert_eq!(counts["limit"], 1, "{counts}");
    let all = server.call("task/counts", json!({}));
    assert_eq!((all["running"].as_u64(), all["queued"].as_u64()), (Some(2), Some(2)), "{all}");
    assert_eq!(all["limit"], serde_json::Value::Null, "no limit of its own but the global one: {all}");

    std::fs::write(home.path().join("go-0"), "").unwrap();
    eventually("the next deploy starts", || exists("started-1"));
    std::thread::sleep(Duration::from_millis(200));
    assert!(!exists("started-2"), "still one at a time");
    for name in ["1", "2", "build"] {
        std::fs::write(home.path().join(format!("go-{name}")), "").unwrap();
    }
    let ids: Vec<&str> = deploys.iter().map(String::as_str).chain([build.as_str()]).collect();
    assert_eq!(home.wait(&ids), 0);

    home.config("[groups.x]\nparallel = 0\n");
    let bad = home.run(&["run", "true"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("groups.x.parallel must be at least 1"), "{}", bad.stderr);
}
