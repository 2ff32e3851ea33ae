//! Robustness of `errand serve`: a slow request does not hold up others,
//! batches and client notifications follow the spec, oversized frames are
//! refused with their id, and thousands of hostile frames leave it up.

mod common;

use std::time::{Duration, Instant};

use common::rpc::{assert_valid_response, Client, Framing};
use common::Home;
use serde_json::json;

fn serve(home: &Home, framing: Framing) -> Client {
    Client::spawn(home.cmd(), framing)
}

#[test]
fn a_slow_request_does_not_hold_up_others() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    c.call("task/counts", json!({}));
    // Slow for certain: the test holds the store's write turn, so a
    // submission waits for it while a read must still be answered.
    let gate = std::fs::File::open(home.errand_home().join("errand.write-lock")).expect("the write lock file");
    // SAFETY: a valid fd for the life of `gate`.
    assert_eq!(unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&gate), libc::LOCK_EX) }, 0);
    let slow = c.send_request("task/run", json!({ "command": "true" }));
    let small = c.send_request("task/counts", json!({}));
    let first = loop {
        let msg = c.next_message(Duration::from_secs(20)).expect("answers");
        if msg.get("id").is_some() {
            break msg;
        }
    };
    assert_eq!(first["id"], small, "task/counts was held up by a waiting write: {first}");
    drop(gate);
    let r = c.wait_response(&slow);
    assert!(r["result"]["id"].is_string(), "the write goes through once its turn comes: {r}");
}

#[test]
fn one_output_read_is_at_most_4_mib() {
    let home = Home::new();
    let mut c = serve(&home, Framing::ContentLength);
    let t = c.call("task/run", json!({ "command": "head -c 16000000 /dev/zero | tr '\\0' 'x'" }));
    let id = t["id"].as_str().unwrap().to_owned();
    c.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    let r = c.call_raw("task/output", json!({ "id": id, "stream": "stdout", "maxBytes": 16000000 }));
    assert_eq!(r["result"]["data"].as_str().unwrap().len(), 4 << 20, "one read is at most 4 MiB");
    assert_eq!(r["result"]["more"], true);
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
        2 => v["params"] = json!(rng.next()), // params of the wrong type
        3 => v["id"] = json!([1, 2]),         // bad id
        4 => v["jsonrpc"] = json!("1.0"),     // wrong version
        5 => v["method"] = json!(42),         // method not a string
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
    for (framing, seed) in [(Framing::ContentLength, 0x9e37_79b9_7f4a_7c15u64), (Framing::Lines, 0x2545_f491_4f6c_dd1d)]
    {
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
