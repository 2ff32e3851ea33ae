//! Following a fast writer through the real `errand serve`: a follow far
//! behind skips to the newest output from a line's start and says how much
//! it left out, so the events still chain and account for every byte;
//! `task/output` still reads all of it; the end arrives with the task's.

mod common;

use common::rpc::{Client, Framing};
use common::{eventually, Home};
use serde_json::{json, Value};

const LAST: u64 = 4_000_000;

/// A task that writes about 29 MB of numbered lines, pauses, then ends.
fn fast_writer(c: &mut Client) -> String {
    let t = c.call("task/run", json!({ "command": format!("seq 1 {LAST}; sleep 1; echo done") }));
    let id = t["id"].as_str().unwrap().to_owned();
    // Far behind for certain: the follow starts once the numbers are written.
    eventually("the numbers are written", || {
        let tail = c.call("task/output", json!({ "id": id, "stream": "stdout", "lines": 1 }));
        tail["data"] == format!("{LAST}\n") || tail["data"] == "done\n"
    });
    id
}

/// The follow's events until the one that reaches the end of the output.
fn events_to_the_end(c: &mut Client, id: &str, stream: &str) -> Vec<Value> {
    c.notification("task/finished", |p| p["task"]["id"] == id);
    let end = c.call("task/output", json!({ "id": id, "stream": stream, "lines": 1 }))["next"].clone();
    let mut events: Vec<Value> = Vec::new();
    while events.last().is_none_or(|e| e["next"] != end) {
        events.push(c.notification("task/outputAppended", |p| p["id"] == id));
    }
    events
}

/// The numbers in `text` follow one another, from where it starts.
fn assert_counts_on(text: &str, what: &str) {
    let numbers: Vec<u64> =
        text.lines().map(|l| l.parse().unwrap_or_else(|_| panic!("{what}: a cut line {l:?}"))).collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{what}: lines lost or repeated");
}

#[test]
fn a_follow_far_behind_skips_ahead_and_accounts_for_every_byte() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    let id = fast_writer(&mut c);
    assert_eq!(c.call("task/follow", json!({ "id": id, "stream": "stdout" }))["from"], 0);
    let events = events_to_the_end(&mut c, &id, "stdout");

    let first = &events[0];
    assert_eq!(first["from"], 0);
    let skipped = first["skipped"].as_u64().unwrap();
    assert!(skipped > 20 << 20, "it skipped most of the ~29 MB: {skipped}");
    let mut at = 0;
    for e in &events {
        assert_eq!(e["from"], at, "events chain");
        let data = e["data"].as_str().unwrap();
        // One stream: what was left out and what was sent add up exactly.
        assert_eq!(e["skipped"].as_u64().unwrap() + data.len() as u64, e["next"].as_u64().unwrap() - at);
        at = e["next"].as_u64().unwrap();
    }
    // From a line's start, then whole lines to the end.
    let shown: String = events.iter().map(|e| e["data"].as_str().unwrap()).collect();
    let numbers = shown.strip_suffix("done\n").expect("the end is shown");
    assert_counts_on(numbers, "after the skip");
    assert!(numbers.ends_with(&format!("\n{LAST}\n")), "{}", &numbers[numbers.len().saturating_sub(40)..]);
    assert!(events.len() < 40, "a few events, not one per 256 KiB: {}", events.len());

    // The files kept all of it.
    let whole = c.call("task/output", json!({ "id": id, "stream": "stdout", "offset": 0, "maxBytes": 4 << 20 }));
    assert!(whole["data"].as_str().unwrap().starts_with("1\n2\n3\n"));
    assert_eq!(whole["more"], true);
}

#[test]
fn a_merged_follow_far_behind_skips_ahead_and_ends_with_the_task() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    let id = fast_writer(&mut c);
    c.call("task/follow", json!({ "id": id }));
    let events = events_to_the_end(&mut c, &id, "both");
    assert!(events[0]["skipped"].as_u64().unwrap() > 20 << 20, "{}", events[0]["skipped"]);
    let mut at = json!(0);
    for e in &events {
        assert_eq!(e["from"], at, "events chain");
        at = e["next"].clone();
    }
    let shown: String = events.iter().map(|e| e["data"].as_str().unwrap()).collect();
    assert_counts_on(shown.strip_suffix("done\n").expect("the end is shown"), "merged, after the skip");
}

#[test]
fn a_follow_that_keeps_up_gets_every_byte_in_order() {
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::ContentLength);
    // Slower than the follow: nothing is skipped.
    let t = c.call(
        "task/run",
        json!({ "command": "for i in $(seq 1 200); do seq $((i*100-99)) $((i*100)); sleep 0.005; done" }),
    );
    let id = t["id"].as_str().unwrap().to_owned();
    c.call("task/follow", json!({ "id": id }));
    let events = events_to_the_end(&mut c, &id, "both");
    assert!(events.iter().all(|e| e["skipped"] == 0), "nothing skipped");
    let shown: String = events.iter().map(|e| e["data"].as_str().unwrap()).collect();
    assert_counts_on(&shown, "kept up");
    assert!(shown.starts_with("1\n") && shown.ends_with("\n20000\n"));
}
