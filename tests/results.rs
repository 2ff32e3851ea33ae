//! Structured results: a task writes one JSON value to `$ERRAND_RESULT`;
//! errand validates it (one value, at most 1 MiB, a regular file), keeps it
//! with the outcome and gives it back through `errand result`, `show`,
//! `task/get` and `task/finished`. Anything else is refused with the reason,
//! and never changes the task's own status.

mod common;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::{json, Value};

/// Submit `shell`, wait for it; its id.
fn finished(home: &Home, shell: &str) -> String {
    let id = home.submit(shell);
    home.wait(&[&id]);
    id
}

#[test]
fn a_json_result_round_trips_as_written() {
    let home = Home::new();
    let written = r#"{"version": "1.4.2", "count": 3, "name": "café ✓", "big": 12345678901234567890}"#;
    let id = finished(&home, &format!("echo building; printf '%s\\n' '{written}' > \"$ERRAND_RESULT\""));
    assert_eq!(home.status_of(&id), "completed");
    // Exactly as the task wrote it (trimmed), big numbers and all: jq-ready.
    assert_eq!(home.ok(&["result", &id]), format!("{written}\n"));
    let t = home.task(&id);
    assert_eq!(t["resultBytes"].as_u64(), Some(written.len() as u64), "{t}");
    assert_eq!(t["resultError"], Value::Null);
    let shown = home.ok(&["show", &id]);
    assert!(shown.contains("── result ──\n{\n  \"version\": \"1.4.2\",\n"), "indented: {shown}");
    assert!(shown.contains("\"name\": \"café ✓\""), "{shown}");
    assert!(shown.contains(&format!("bytes of JSON (errand result {id})")), "{shown}");
    // The file is the task's only while it runs.
    assert!(!home.errand_home().join(format!("logs/{id}.result")).exists());
    // A scalar is a value too; so is a failed task's result.
    let failed = finished(&home, "echo 42 > \"$ERRAND_RESULT\"; exit 3");
    assert_eq!(home.status_of(&failed), "failed");
    assert_eq!(home.ok(&["result", &failed]), "42\n");
}

#[test]
fn no_result_or_an_unfinished_task_has_its_own_exit_code() {
    let home = Home::new();
    let none = finished(&home, "echo no result here");
    let r = home.run(&["result", &none]);
    assert_eq!((r.code, r.stdout.as_str()), (5, ""), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("task {none} left no result")), "{}", r.stderr);
    // Whitespace only is no result, not an error.
    let blank = finished(&home, "printf '  \\n' > \"$ERRAND_RESULT\"");
    assert_eq!(home.run(&["result", &blank]).code, 5);
    assert_eq!(home.task(&blank)["resultError"], Value::Null);

    let running = home.submit("sleep 30");
    let r = home.run(&["result", &running]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("has not finished"), "{}", r.stderr);
    home.ok(&["cancel", &running]);
    assert_eq!(home.run(&["result", "zzzz"]).code, 3, "no such task");
}

#[test]
fn a_malformed_oversized_or_special_result_is_refused_with_the_reason() {
    let home = Home::new();
    let cases = [
        ("echo '[1, 2,]' > \"$ERRAND_RESULT\"", "the result is not one JSON value: expected value at line 1 column 7"),
        ("echo '1 2' > \"$ERRAND_RESULT\"", "the result is not one JSON value"),
        ("printf '\\377' > \"$ERRAND_RESULT\"", "not UTF-8"),
        // 1 MiB and one byte: a JSON string just over the limit.
        (
            "{ printf '\"'; head -c 1048575 /dev/zero | tr '\\0' a; printf '\"'; } > \"$ERRAND_RESULT\"",
            "the result is 1048577 bytes, over the limit of 1048576 (1 MiB)",
        ),
        // Neither a flood nor a hang: a link to /dev/zero, a FIFO no one writes.
        ("ln -s /dev/zero \"$ERRAND_RESULT\"", "the result file is a symbolic link"),
        ("mkfifo \"$ERRAND_RESULT\"", "the result file is not a regular file"),
        ("mkdir \"$ERRAND_RESULT\"; touch \"$ERRAND_RESULT/x\"", "the result file is not a regular file"),
        // Deeper than clients and the store take.
        (
            "printf '%0513d' 0 | tr 0 '[' > \"$ERRAND_RESULT\"; printf '%0513d' 0 | tr 0 ']' >> \"$ERRAND_RESULT\"",
            "nested deeper than 512 levels",
        ),
    ];
    for (shell, why) in cases {
        let id = finished(&home, shell);
        let t = home.task(&id);
        assert_eq!(t["status"], "completed", "the task's own status stands: {t}");
        assert_eq!(t["resultBytes"], Value::Null);
        assert!(t["resultError"].as_str().is_some_and(|e| e.contains(why)), "{shell}: {t}");
        let r = home.run(&["result", &id]);
        assert_eq!(r.code, 5);
        assert!(r.stderr.contains(why), "the reason is given: {}", r.stderr);
        let shown = home.ok(&["show", &id]);
        assert!(shown.contains("none kept: "), "{shown}");
        assert!(!home.errand_home().join(format!("logs/{id}.result")).exists(), "nothing is left behind");
    }
    // Exactly 1 MiB is kept, the newline echo adds aside.
    let id =
        finished(&home, "{ printf '\"'; head -c 1048574 /dev/zero | tr '\\0' a; echo '\"'; } > \"$ERRAND_RESULT\"");
    assert_eq!(home.task(&id)["resultBytes"], 1 << 20);
    assert_eq!(home.ok(&["result", &id]).len(), (1 << 20) + 1);
    // 512 levels are kept, byte for byte.
    let deep = "printf '%0512d' 0 | tr 0 '[' > \"$ERRAND_RESULT\"; printf '%0512d' 0 | tr 0 ']' >> \"$ERRAND_RESULT\"";
    let id = finished(&home, deep);
    assert_eq!(home.ok(&["result", &id]), format!("{}{}\n", "[".repeat(512), "]".repeat(512)));
}

#[test]
fn with_retries_only_the_last_run_counts() {
    let home = Home::new();
    let counting = "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs";
    let id = home.submit_json(&[
        "--retry",
        "2",
        &format!("{counting}; echo \"{{\\\"run\\\": $n}}\" > \"$ERRAND_RESULT\"; [ $n -ge 2 ]"),
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["result", &id]), "{\"run\": 2}\n");

    // A failed run's result is not the task's: the last run left none.
    std::fs::remove_file(home.path().join("runs")).unwrap();
    let id = home.submit_json(&[
        "--retry",
        "1",
        &format!("{counting}; [ $n -ge 2 ] || {{ echo 1 > \"$ERRAND_RESULT\"; exit 1; }}"),
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.run(&["result", &id]).code, 5);
}

#[test]
fn clients_get_the_result_in_task_finished_and_task_get() {
    let home = Home::new();
    let mut server = Client::spawn(home.cmd(), Framing::Lines);
    server.call("initialize", json!({}));
    let task = server.call(
        "task/run",
        json!({ "command": "echo '{\"url\": \"https://example.test/1\", \"ok\": true}' > \"$ERRAND_RESULT\"" }),
    );
    let id = task["id"].as_str().unwrap().to_owned();
    let done = server.notification("task/finished", |p| p["task"]["id"] == id.as_str());
    let expected = json!({ "url": "https://example.test/1", "ok": true });
    assert_eq!(done["result"], expected, "{done}");
    assert!(done["task"]["resultBytes"].as_u64().is_some_and(|n| n > 0), "{done}");
    let detail = server.call("task/get", json!({ "id": id }));
    assert_eq!(detail["result"], expected, "{detail}");
    // No result: null, and the reason for a refused one.
    let bad = server.call("task/run", json!({ "command": "echo nope > \"$ERRAND_RESULT\"" }));
    let done = server.notification("task/finished", |p| p["task"]["id"] == bad["id"]);
    assert_eq!(done["result"], Value::Null);
    assert!(done["task"]["resultError"].as_str().is_some_and(|e| e.contains("not one JSON value")), "{done}");
    common::schema::validate_traffic(&server);
}
