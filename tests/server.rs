//! `errand serve` through a real process and a spec-written client: every
//! method in both framings, pushed notifications, tasks started elsewhere,
//! stdin EOF, hostile input, and the protocol checked against schema/.

mod common;

use std::time::{Duration, Instant};

use common::rpc::{assert_valid_response, Client, Framing};
use common::Home;
use serde_json::{json, Value};

fn serve(home: &Home, framing: Framing) -> Client {
    Client::spawn(home.cmd(), framing)
}

fn schema_doc() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/errand.openrpc.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn every_method(framing: Framing) {
    let home = Home::new();
    let proj = home.path().join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(proj.join("errand.toml"), "hello = \"echo hello from $(basename $PWD)\"\n").unwrap();
    let mut c = serve(&home, framing);

    let init = c.call("initialize", json!({ "client_name": "test", "client_version": "1" }));
    assert_eq!(init["server"], "errand");
    assert_eq!(init["protocol_version"], 1);
    assert_eq!(init["limits"]["parallel"], 10);
    assert_eq!(init["unread"], json!([]));

    // task/run: shell string; the finish is pushed with the output tail.
    let t = c.call("task/run", json!({ "command": "echo out; sleep 0.1; echo err >&2; exit 3", "name": "three" }));
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["status"], "queued");
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "failed");
    assert_eq!(fin["task"]["exit_code"], 3);
    assert_eq!(fin["output_tail"], "out\nerr\n");
    c.notification("task/started", |p| p["task"]["id"] == id.as_str());
    let counts = c.notification("counts/changed", |p| p["failed"] == 1);
    assert_eq!(counts["running"], 0);

    // argv, cwd, env; workflow by name and by '#name'.
    let t = c.call("task/run", json!({ "argv": ["sh", "-c", "echo $X"], "env": { "X": "from env" }, "cwd": proj }));
    let argv_id = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == argv_id.as_str());
    for params in [json!({ "workflow": "hello", "cwd": proj }), json!({ "command": "#hello", "cwd": proj })] {
        let t = c.call("task/run", params);
        assert_eq!(t["workflow"], "hello");
        let wid = t["id"].as_str().unwrap().to_owned();
        let fin = c.notification("task/finished", |p| p["task"]["id"] == wid.as_str());
        assert_eq!(fin["output_tail"], "hello from proj\n");
    }
    let e = c.call_err("task/run", json!({ "workflow": "helo", "cwd": proj }));
    assert_eq!(e["code"], -32005);
    assert_eq!(e["data"]["suggestions"], json!(["hello"]));
    let e = c.call_err("task/run", json!({ "command": "true", "argv": ["true"] }));
    assert_eq!(e["code"], -32602);

    // task/get and task/output.
    let d = c.call("task/get", json!({ "id": &id[..3] }));
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["output_tail"], "out\nerr\n");
    let o = c.call("task/output", json!({ "id": id, "stream": "stdout" }));
    assert_eq!((o["data"].as_str(), o["offset"].as_u64(), o["next"].as_u64()), (Some("out\n"), Some(0), Some(4)));
    assert_eq!(o["finished"], true);
    let o = c.call("task/output", json!({ "id": id, "stream": "stdout", "offset": 1, "max_bytes": 2 }));
    assert_eq!((o["data"].as_str(), o["next"].as_u64(), o["more"].as_bool()), (Some("ut"), Some(3), Some(true)));
    let o = c.call("task/output", json!({ "id": id, "lines": 1 }));
    assert_eq!(o["data"], "err\n");
    let o = c.call("task/output", json!({ "id": argv_id }));
    assert_eq!(o["data"], "from env\n");

    // task/list: filters and cursor pagination.
    let all = c.call("task/list", json!({}));
    assert_eq!(all["tasks"].as_array().unwrap().len(), 4);
    assert!(all["next_cursor"].is_null());
    let failed = c.call("task/list", json!({ "status": ["failed"] }));
    assert_eq!(failed["tasks"].as_array().unwrap().len(), 1);
    let text = c.call("task/list", json!({ "text": "HELLO" }));
    assert_eq!(text["tasks"].as_array().unwrap().len(), 2);
    let page1 = c.call("task/list", json!({ "limit": 3 }));
    assert_eq!(page1["tasks"].as_array().unwrap().len(), 3);
    let page2 = c.call("task/list", json!({ "limit": 3, "cursor": page1["next_cursor"] }));
    assert_eq!(page2["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(page2["tasks"][0]["id"], id.as_str(), "newest first: the first task is last");

    // task/markRead, task/counts, and the counts notification.
    let r = c.call("task/markRead", json!({ "ids": [id] }));
    assert_eq!(r["marked"], 1);
    assert_eq!(c.call("task/counts", json!({}))["failed"], 0);
    c.notification("counts/changed", |p| p["failed"] == 0);
    c.notification("task/updated", |p| p["task"]["id"] == id.as_str() && p["task"]["read_at"].is_i64());
    assert!(c.call("task/markRead", json!({ "all": true }))["marked"].as_u64().unwrap() >= 3);

    // delete and restore.
    let t = c.call("task/delete", json!({ "id": id }));
    assert!(t["deleted_at"].is_i64());
    assert_eq!(c.call("task/list", json!({}))["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(c.call("task/list", json!({ "deleted": "only" }))["tasks"].as_array().unwrap().len(), 1);
    let t = c.call("task/restore", json!({ "id": id }));
    assert!(t["deleted_at"].is_null());

    // restart.
    let t = c.call("task/restart", json!({ "id": id }));
    assert_eq!(t["restarted_from"], id.as_str());
    assert_eq!(t["name"], "three");
    let rid = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == rid.as_str());

    // A running task: follow its output, send it input, cancel it.
    let t = c.call("task/run", json!({ "command": "echo ready; while read l; do echo got $l; done; echo closed; sleep 100" }));
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
    assert_eq!(c.call("task/unfollow", json!({ "id": live }))["ok"], true);
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
    let wfs = c.call("workflow/list", json!({ "cwd": proj }));
    assert_eq!(wfs[0]["name"], "hello");
    assert!(wfs[0]["source"].as_str().unwrap().ends_with("errand.toml"));

    // shutdown: answered, then the process exits 0.
    assert_eq!(c.call("shutdown", json!({}))["ok"], true);
    assert_eq!(c.wait_exit(Duration::from_secs(5)), Some(0));
    assert_eq!(c.stderr(), "", "stderr stays silent");
    validate_traffic(&c);
}

#[test]
fn every_method_with_content_length_framing() {
    every_method(Framing::ContentLength);
}

#[test]
fn every_method_with_json_lines() {
    every_method(Framing::Lines);
}

/// Check each captured response and notification against schema/.
fn validate_traffic(c: &Client) {
    let doc = schema_doc();
    let components = doc["components"].clone();
    let with_components = |schema: &Value| {
        let mut s = schema.clone();
        if let Some(obj) = s.as_object_mut() {
            obj.insert("components".into(), components.clone());
        }
        s
    };
    let method = |name: &str| doc["methods"].as_array().unwrap().iter().find(|m| m["name"] == name).cloned();
    let mut checked = 0;
    for msg in &c.traffic {
        if let Some(name) = msg.get("method").and_then(Value::as_str) {
            let m = method(name).unwrap_or_else(|| panic!("notification {name} is not in the schema"));
            assert_eq!(m["x-notification"], true, "{name} is documented as a notification");
            // The params object against its content descriptors.
            let mut props = serde_json::Map::new();
            let mut required = Vec::new();
            for p in m["params"].as_array().unwrap() {
                props.insert(p["name"].as_str().unwrap().to_owned(), p["schema"].clone());
                if p["required"] == true {
                    required.push(p["name"].clone());
                }
            }
            let schema = with_components(&json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false }));
            let v = jsonschema::validator_for(&schema).unwrap();
            if let Err(e) = v.validate(&msg["params"]) {
                panic!("{name} params do not match the schema: {e}\n{msg}");
            }
        } else if msg.get("result").is_some() {
            let name = &c.methods_by_id[&msg["id"].to_string()];
            let m = method(name).unwrap_or_else(|| panic!("method {name} is not in the schema"));
            let schema = with_components(&m["result"]["schema"]);
            let v = jsonschema::validator_for(&schema).unwrap();
            if let Err(e) = v.validate(&msg["result"]) {
                panic!("{name} result does not match the schema: {e}\n{msg}");
            }
        } else {
            assert_valid_response(msg);
            let code = msg["error"]["code"].as_i64().unwrap();
            let documented = doc["components"]["errors"].as_object().unwrap().values().any(|e| e["code"] == code);
            assert!(documented, "error code {code} is documented");
        }
        checked += 1;
    }
    assert!(checked > 40, "validated {checked} messages");
}

#[test]
fn the_schema_file_matches_the_code() {
    let out = Home::new().cmd().arg("__schema").output().unwrap();
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        generated == schema_doc(),
        "schema/errand.openrpc.json is stale: regenerate with `cargo run -q -- __schema > schema/errand.openrpc.json`"
    );
    // Every documented request method exists on the server, and nothing else does.
    let home = Home::new();
    let mut c = serve(&home, Framing::Lines);
    for m in generated["methods"].as_array().unwrap() {
        if m["x-notification"] == true || m["name"] == "shutdown" {
            continue;
        }
        let r = c.call_raw(m["name"].as_str().unwrap(), json!({ "no_such_param": 1 }));
        assert_ne!(r["error"]["code"], -32601, "{} is documented but not served", m["name"]);
        assert_eq!(r["error"]["code"], -32602, "{} rejects unknown params: {r}", m["name"]);
        assert!(r["error"]["data"].as_str().unwrap().contains("no_such_param"), "{r}");
    }
    assert_eq!(c.call_err("task/nothing", json!({}))["code"], -32601);
}

#[test]
fn invalid_params_name_the_field() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    let e = c.call_err("task/get", json!({ "id": "x", "tail_lines": "ten" }));
    assert_eq!(e["code"], -32602);
    assert!(e["data"].as_str().unwrap().starts_with("tail_lines: invalid type"), "{e}");
    let e = c.call_err("task/list", json!({ "status": ["running", "sleeping"] }));
    assert!(e["data"].as_str().unwrap().starts_with("status[1]: unknown variant `sleeping`"), "{e}");
    let e = c.call_err("task/get", json!({}));
    assert!(e["data"].as_str().unwrap().contains("missing field `id`"), "{e}");
    let e = c.call_err("task/get", json!(["positional"]));
    assert_eq!(e["code"], -32602);
}

#[test]
fn a_task_started_by_the_cli_is_pushed_to_the_server() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    c.call("initialize", json!({}));
    let id = home.submit("sleep 0.2; echo from the shell");
    let started = c.notification("task/started", |p| p["task"]["id"] == id.as_str());
    assert_eq!(started["task"]["status"], "running");
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "completed");
    assert_eq!(fin["output_tail"], "from the shell\n");
    // Progress reported from inside a task, through the CLI.
    let exe = env!("CARGO_BIN_EXE_errand");
    let id = home.submit(&format!("sleep 0.2; '{exe}' progress 50 halfway; sleep 100"));
    let p = c.notification("task/progress", |p| p["id"] == id.as_str());
    assert_eq!(p["progress"], 50.0);
    assert_eq!(p["progress_message"], "halfway");
    home.ok(&["cancel", &id]);
    c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
}

#[test]
fn a_killed_supervisor_is_reported_lost_without_polling() {
    let home = Home::new();
    let mut c = serve(&home, Framing::Lines);
    c.call("initialize", json!({}));
    let t = c.call("task/run", json!({ "command": "sleep 100" }));
    let id = t["id"].as_str().unwrap().to_owned();
    c.notification("task/started", |p| p["task"]["id"] == id.as_str());
    let mut pid = 0;
    home.eventually("pid recorded", || {
        pid = home.task(&id)["pid"].as_i64().unwrap_or(0);
        pid > 0
    });
    let supervisor = common::parent_of(pid).unwrap();
    unsafe { libc::kill(supervisor as i32, libc::SIGKILL) };
    let fin = c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    assert_eq!(fin["task"]["status"], "lost");
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}

#[test]
fn stdin_eof_leaves_tasks_running_and_a_new_server_reports_them_unread() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    c.call("initialize", json!({}));
    let a = c.call("task/run", json!({ "command": "sleep 0.5; echo a done" }))["id"].as_str().unwrap().to_owned();
    let b = c.call("task/run", json!({ "command": "sleep 0.5; exit 4" }))["id"].as_str().unwrap().to_owned();
    let before = Instant::now();
    c.close_stdin();
    assert_eq!(c.wait_exit(Duration::from_secs(5)), Some(0), "exit 0 on stdin EOF");
    assert!(before.elapsed() < Duration::from_millis(450), "exits at once, not when the tasks end: {:?}", before.elapsed());
    assert_eq!(c.stderr(), "");
    assert_eq!(home.wait(&[&a, &b]), 4);

    let mut c2 = serve(&home, Framing::ContentLength);
    let init = c2.call("initialize", json!({}));
    let unread: Vec<&str> = init["unread"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(unread, vec![b.as_str(), a.as_str()], "newest first");
    assert_eq!(init["counts"]["failed"], 1);
    c2.call("task/markRead", json!({ "all": true }));
    assert_eq!(c2.call("initialize", json!({}))["unread"], json!([]));
}

#[test]
fn a_slow_request_does_not_hold_up_others() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    let t = c.call("task/run", json!({ "command": "head -c 16000000 /dev/zero | tr '\\0' 'x'" }));
    let id = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    let big = c.send_request("task/output", json!({ "id": id, "stream": "stdout", "max_bytes": 16000000 }));
    let small = c.send_request("task/counts", json!({}));
    // The first answer to arrive is the small one.
    let first = loop {
        let msg = c.next_message(Duration::from_secs(20)).expect("answers");
        if msg.get("id").is_some() {
            break msg;
        }
    };
    assert_eq!(first["id"], small, "task/counts was not held up by a 16 MB read");
    let r = c.wait_response(&big);
    assert_eq!(r["result"]["data"].as_str().unwrap().len(), 16_000_000);
}

#[test]
fn batches_and_client_notifications_follow_the_spec() {
    let home = Home::new();
    for framing in [Framing::ContentLength, Framing::Lines] {
        let mut c = serve(&home, framing);
        c.send_body(br#"[{"jsonrpc":"2.0","id":1,"method":"task/counts"},{"jsonrpc":"2.0","method":"task/counts"},{"jsonrpc":"2.0","id":2,"method":"nope"},{"foo":1}]"#);
        let batch = c.next_message(Duration::from_secs(10)).unwrap();
        let replies = batch.as_array().expect("a batch gets an array");
        assert_eq!(replies.len(), 3, "no reply to the notification: {batch}");
        assert!(replies.iter().any(|r| r["id"] == 1 && r["result"]["running"] == 0));
        assert!(replies.iter().any(|r| r["id"] == 2 && r["error"]["code"] == -32601));
        assert!(replies.iter().any(|r| r["id"].is_null() && r["error"]["code"] == -32600));
        // A batch of notifications only: no reply at all.
        c.send_body(br#"[{"jsonrpc":"2.0","method":"task/counts"}]"#);
        c.send_body(br#"{"jsonrpc":"2.0","method":"initialize"}"#);
        let r = c.call_raw("task/counts", json!({}));
        assert!(r["result"].is_object(), "the next reply is to the next request: {r}");
        // A string id comes back as it was.
        c.send_body(br#"{"jsonrpc":"2.0","id":"abc","method":"task/counts"}"#);
        assert_eq!(c.next_message(Duration::from_secs(10)).unwrap()["id"], "abc");
    }
}

#[test]
fn an_oversized_frame_is_refused_with_its_id_and_the_connection_stays_up() {
    let home = Home::new();
    for framing in [Framing::ContentLength, Framing::Lines] {
        let mut c = serve(&home, framing);
        let mut body = br#"{"jsonrpc":"2.0","id":77,"method":"task/run","params":{"command":""#.to_vec();
        body.resize(17 << 20, b'x');
        body.extend_from_slice(br#""}}"#);
        c.send_body(&body);
        let r = c.next_message(Duration::from_secs(20)).unwrap();
        assert_valid_response(&r);
        assert_eq!(r["id"], 77);
        assert_eq!(r["error"]["code"], -32008);
        assert_eq!(c.call("task/counts", json!({}))["queued"], 0);
        assert_eq!(home.tasks(&["--all"]).len(), 0, "nothing was run");
    }
}

/// A tiny deterministic PRNG (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutated_frame(rng: &mut Rng, id: u64) -> Vec<u8> {
    let valid = [
        json!({ "jsonrpc": "2.0", "id": id, "method": "task/counts" }),
        json!({ "jsonrpc": "2.0", "id": id, "method": "task/get", "params": { "id": "abcd" } }),
        json!({ "jsonrpc": "2.0", "id": id, "method": "task/list", "params": { "limit": 2, "status": ["failed"] } }),
        json!({ "jsonrpc": "2.0", "id": id, "method": "task/output", "params": { "id": "x", "offset": 3 } }),
        json!({ "jsonrpc": "2.0", "id": id, "method": "workflow/list", "params": {} }),
        json!({ "jsonrpc": "2.0", "id": id, "method": "task/markRead", "params": { "ids": ["q"] } }),
    ];
    let mut v = valid[rng.below(valid.len())].clone();
    match rng.below(12) {
        0 => return (0..rng.below(200)).map(|_| rng.next() as u8).collect(), // binary junk
        1 => {
            let s = v.to_string().into_bytes();
            let cut = rng.below(s.len());
            return s[..cut].to_vec(); // truncated
        }
        2 => v["params"] = json!(rng.next()),                 // params of the wrong type
        3 => v["id"] = json!([1, 2]),                          // bad id
        4 => v["jsonrpc"] = json!("1.0"),                      // wrong version
        5 => v["method"] = json!(42),                          // method not a string
        6 => v["params"] = json!({ "id": { "deep": [1, { "x": null }] }, "limit": -5, "offset": 1e308 }),
        7 => {
            let mut s = v.to_string().into_bytes();
            let at = rng.below(s.len());
            s.insert(at, 0xff); // invalid UTF-8
            return s;
        }
        8 => return json!([v, 1, "two", null, {}]).to_string().into_bytes(), // mixed batch
        9 => {
            let mut s = v.to_string().into_bytes();
            for _ in 0..3 {
                let at = rng.below(s.len());
                let noise = b"{}[]\":,\\x0 ";
                s[at] = noise[rng.below(noise.len())];
            }
            return s;
        }
        10 => v["params"] = json!({ "id": "x".repeat(rng.below(100_000)) }),
        _ => {}
    }
    v.to_string().into_bytes()
}

#[test]
fn thousands_of_hostile_frames_leave_the_server_up_and_every_reply_valid() {
    let home = Home::new();
    home.submit("echo survivor");
    for (framing, seed) in [(Framing::ContentLength, 0x9e37_79b9_7f4a_7c15u64), (Framing::Lines, 0x2545_f491_4f6c_dd1d)] {
        let mut c = serve(&home, framing);
        let mut rng = Rng(seed);
        // The first frame sets the framing (detected from its first byte).
        c.call("task/counts", json!({}));
        let n = 2500;
        for i in 0..n {
            let mut frame = mutated_frame(&mut rng, i);
            if framing == Framing::Lines {
                frame.retain(|&b| b != b'\n');
            }
            c.send_body(&frame);
        }
        if framing == Framing::ContentLength {
            // Header-level damage: the server reports it and resynchronises.
            c.send_raw(b"Content-Length: abc\r\n\r\n");
            c.send_raw(b"X-Nonsense\r\n\r\n");
            c.send_raw(b"Content-Type: text/plain\r\n\r\n");
        }
        // The server still answers; collect replies until it falls quiet.
        let ping = c.send_request("task/counts", json!({}));
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut replies, mut ping_answered) = (0, false);
        while let Some(msg) = c.next_message(Duration::from_secs(2)) {
            assert!(Instant::now() < deadline, "the server keeps talking");
            if msg.get("method").is_some() && msg.get("id").is_none() {
                continue; // a notification
            }
            match msg.as_array() {
                Some(batch) => batch.iter().for_each(assert_valid_response),
                None => assert_valid_response(&msg),
            }
            replies += 1;
            ping_answered |= msg["id"] == ping && msg["result"].is_object();
        }
        assert!(ping_answered, "a valid request after the junk is answered");
        assert!(replies > n as usize / 2, "most frames were answered: {replies}");
        assert!(c.child.try_wait().unwrap().is_none(), "still running");
        c.close_stdin();
        assert_eq!(c.wait_exit(Duration::from_secs(10)), Some(0));
        assert_eq!(c.stderr(), "");
    }
    // The store is intact.
    assert_eq!(home.tasks(&["--all"]).len(), 1);
}
