//! Every method of `errand serve` through a real process and a client
//! written from the spec, in both framings, with the traffic checked
//! against schema/; and how params are read.

mod common;

use std::time::Duration;

use common::rpc::{Client, Framing};
use common::schema::validate_traffic;
use common::{until_captured, Home};
use serde_json::json;

fn every_method(framing: Framing) {
    let home = Home::new();
    let proj = home.path().join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(proj.join("errand.toml"), "hello = \"echo hello from $(basename $PWD)\"\n").unwrap();
    let mut c = Client::spawn(home.cmd(), framing);

    let init = c.call("initialize", json!({ "clientName": "test", "clientVersion": "1", "protocolVersion": 2 }));
    assert_eq!(init["server"], "errand");
    assert_eq!(init["protocolVersion"], 2);
    assert_eq!(init["limits"]["parallel"], 10);
    assert_eq!(init["unread"], json!([]));

    // task/run: shell string; the finish is pushed with the output tail.
    let script = format!("echo out; {}; echo err >&2; exit 3", until_captured("out", "out"));
    let t = c.call("task/run", json!({ "command": script, "name": "three" }));
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["status"], "queued");
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "failed");
    assert_eq!(fin["task"]["exitCode"], 3);
    assert_eq!(fin["outputTail"], "out\nerr\n");
    // (task/started may not come for a task this short: see "What a client sees".)
    let counts = c.notification("counts/changed", |p| p["failed"] == 1);
    assert_eq!(counts["running"], 0);

    // argv, cwd, env; workflow by name and by '#name', looked up from the client's directory.
    let t = c.call("task/run", json!({ "argv": ["sh", "-c", "echo $X"], "env": { "X": "from env" }, "cwd": proj }));
    let argv_id = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == argv_id.as_str());
    for params in [json!({ "workflow": "hello", "clientCwd": proj }), json!({ "command": "#hello", "clientCwd": proj })]
    {
        let t = c.call("task/run", params);
        assert_eq!(t["workflow"], "hello");
        let wid = t["id"].as_str().unwrap().to_owned();
        let fin = c.notification("task/finished", |p| p["task"]["id"] == wid.as_str());
        assert_eq!(fin["outputTail"], "hello from proj\n");
    }
    let e = c.call_err("task/run", json!({ "workflow": "helo", "clientCwd": proj }));
    assert_eq!(e["code"], -32005);
    assert_eq!(e["data"]["suggestions"], json!(["hello"]));
    let e = c.call_err("task/run", json!({ "command": "true", "argv": ["true"] }));
    assert_eq!(e["code"], -32602);

    // task/get and task/output.
    let d = c.call("task/get", json!({ "id": &id[..3] }));
    assert_eq!(d["task"]["id"], id.as_str());
    assert_eq!(d["outputTail"], "out\nerr\n");
    let o = c.call("task/output", json!({ "id": id, "stream": "stdout" }));
    assert_eq!((o["data"].as_str(), o["offset"].as_u64(), o["next"].as_u64()), (Some("out\n"), Some(0), Some(4)));
    assert_eq!(o["finished"], true);
    let o = c.call("task/output", json!({ "id": id, "stream": "stdout", "offset": 1, "maxBytes": 2 }));
    assert_eq!((o["data"].as_str(), o["next"].as_u64(), o["more"].as_bool()), (Some("ut"), Some(3), Some(true)));
    let o = c.call("task/output", json!({ "id": id, "lines": 1 }));
    assert_eq!(o["data"], "err\n");
    let o = c.call("task/output", json!({ "id": argv_id }));
    assert_eq!(o["data"], "from env\n");

    // task/list: filters and cursor pagination.
    let all = c.call("task/list", json!({}));
    assert_eq!(all["tasks"].as_array().unwrap().len(), 4);
    assert!(all["nextCursor"].is_null());
    let failed = c.call("task/list", json!({ "status": ["failed"] }));
    assert_eq!(failed["tasks"].as_array().unwrap().len(), 1);
    let text = c.call("task/list", json!({ "text": "HELLO" }));
    assert_eq!(text["tasks"].as_array().unwrap().len(), 2);
    let page1 = c.call("task/list", json!({ "limit": 3 }));
    assert_eq!(page1["tasks"].as_array().unwrap().len(), 3);
    let page2 = c.call("task/list", json!({ "limit": 3, "cursor": page1["nextCursor"] }));
    assert_eq!(page2["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(page2["tasks"][0]["id"], id.as_str(), "newest first: the first task is last");

    // task/markRead, task/counts, and the counts notification.
    let r = c.call("task/markRead", json!({ "ids": [id] }));
    assert_eq!(r["marked"], 1);
    assert_eq!(c.call("task/counts", json!({}))["failed"], 0);
    c.notification("counts/changed", |p| p["failed"] == 0);
    c.notification("task/updated", |p| p["task"]["id"] == id.as_str() && p["task"]["readAt"].is_i64());
    assert!(c.call("task/markRead", json!({ "all": true }))["marked"].as_u64().unwrap() >= 3);
    assert_eq!(c.call_err("task/markRead", json!({}))["code"], -32602, "ids or all");

    // delete and restore.
    let t = c.call("task/delete", json!({ "id": id }));
    assert!(t["deletedAt"].is_i64());
    assert_eq!(c.call("task/list", json!({}))["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(c.call("task/list", json!({ "deleted": "only" }))["tasks"].as_array().unwrap().len(), 1);
    let t = c.call("task/restore", json!({ "id": id }));
    assert!(t["deletedAt"].is_null());

    // restart.
    let t = c.call("task/restart", json!({ "id": id }));
    assert_eq!(t["restartedFrom"], id.as_str());
    assert_eq!(t["name"], "three");
    let rid = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == rid.as_str());

    // A running task: follow its output, send it input, cancel it.
    let t = c.call(
        "task/run",
        json!({ "command": "echo ready; while read l; do echo got $l; done; echo closed; sleep 100" }),
    );
    let live = t["id"].as_str().unwrap().to_owned();
    let f = c.call("task/follow", json!({ "id": live }));
    assert_eq!(f["from"], 0);
    let first = c.notification("task/outputAppended", |p| p["id"] == live.as_str());
    assert_eq!(first["from"], 0);
    assert_eq!(first["data"], "ready\n");
    c.call("task/sendInput", json!({ "id": live, "text": "one\n" }));
    let second = c.notification("task/outputAppended", |p| p["id"] == live.as_str());
    assert_eq!(second["from"], first["next"], "contiguous: nothing lost or repeated");
    assert_eq!(second["data"], "got one\n");
    c.call("task/sendInput", json!({ "id": live, "eof": true }));
    let third = c.notification("task/outputAppended", |p| p["id"] == live.as_str());
    assert_eq!((third["from"].clone(), third["data"].clone()), (second["next"].clone(), json!("closed\n")));
    assert_eq!(c.call("task/unfollow", json!({ "id": live }))["wasFollowing"], true);
    assert_eq!(c.call("task/unfollow", json!({ "id": live }))["wasFollowing"], false);
    let e = c.call_err("task/cancel", json!({ "id": "zzzz" }));
    assert_eq!(e["code"], -32001);
    let r = c.call("task/cancel", json!({ "id": live }));
    assert_eq!(r["action"], "signalled");
    let fin = c.notification("task/finished", |p| p["task"]["id"] == live.as_str());
    assert_eq!(fin["task"]["status"], "cancelled");
    let e = c.call_err("task/cancel", json!({ "id": live }));
    assert_eq!(e["code"], -32004);
    let e = c.call_err("task/sendInput", json!({ "id": live, "text": "late" }));
    assert_eq!(e["code"], -32003);

    // workflow/list.
    let wfs = c.call("workflow/list", json!({ "clientCwd": proj }));
    assert_eq!(wfs[0]["name"], "hello");
    assert!(wfs[0]["source"].as_str().unwrap().ends_with("errand.toml"));

    // shutdown: answered, then the process exits 0.
    assert_eq!(c.call("shutdown", json!({}))["ok"], true);
    assert_eq!(c.wait_exit(Duration::from_secs(5)), Some(0));
    assert_eq!(c.stderr(), "", "stderr stays silent");
    assert!(validate_traffic(&c) > 40);
}

#[test]
fn every_method_with_content_length_framing() {
    every_method(Framing::ContentLength);
}

#[test]
fn every_method_with_json_lines() {
    every_method(Framing::Lines);
}

#[test]
fn invalid_params_name_the_field_and_unknown_fields_are_ignored() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    let e = c.call_err("task/get", json!({ "id": "x", "tailLines": "ten" }));
    assert_eq!(e["code"], -32602);
    assert!(e["data"].as_str().unwrap().starts_with("tailLines: invalid type"), "{e}");
    let e = c.call_err("task/list", json!({ "status": ["running", "sleeping"] }));
    assert!(e["data"].as_str().unwrap().starts_with("status[1]: unknown variant `sleeping`"), "{e}");
    let e = c.call_err("task/get", json!({}));
    assert!(e["data"].as_str().unwrap().contains("missing field `id`"), "{e}");
    let e = c.call_err("task/get", json!(["positional"]));
    assert_eq!(e["code"], -32602);
    // An LSP-style client's extra fields, and a newer client's, are ignored.
    let init = c.call("initialize", json!({ "processId": 42, "capabilities": { "x": [1] }, "rootUri": null }));
    assert_eq!(init["server"], "errand");
    let t = c.call("task/run", json!({ "command": "true", "priority": "high", "future": { "field": 1 } }));
    assert_eq!(t["status"], "queued");
    // snake_case is not an alias: a misspelt field is ignored, not guessed.
    let list = c.call("task/list", json!({ "next_cursor": "zz" }));
    assert_eq!(list["tasks"].as_array().unwrap().len(), 1);
}

#[test]
fn client_env_replaces_the_servers_environment_as_the_base() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    let path = std::env::var("PATH").unwrap();
    let client_env = json!({ "PATH": path, "FROM_EDITOR": "yes", "ERRAND_TASK_ID": "zzzz" });
    let script = "echo \"$FROM_EDITOR ${ERRAND_HOME:-no-home} $ERRAND_TASK_ID $OVERRIDE\"";
    let t = c.call("task/run", json!({ "command": script, "clientEnv": client_env, "env": { "OVERRIDE": "over" } }));
    let id = t["id"].as_str().unwrap().to_owned();
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    // The server's own ERRAND_HOME is not there: the client's environment is the whole base.
    // ERRAND_TASK_ID is the task's own, never the client's.
    assert_eq!(fin["outputTail"], format!("yes no-home {id} over\n"), "{fin}");
    let e = c.call_err("task/run", json!({ "command": "true", "clientEnv": { "A=B": "1" } }));
    assert_eq!(e["code"], -32602, "{e}");
    assert!(e["message"].as_str().unwrap().contains("A=B") || e["data"].to_string().contains("A=B"), "{e}");
}
