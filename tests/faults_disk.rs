//! Fault injection, the disk: a full disk stops output capture, never the
//! outcome. Each test mounts a small tmpfs in a private mount namespace
//! (needs root; skipped otherwise), so the supervisor errand starts there
//! sees the same small disk.

mod common;

use common::Home;
use serde_json::Value;

fn root() -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: mounting a tmpfs needs root");
    }
    root
}

/// Run `script` in a private mount namespace where ERRAND_HOME is a tmpfs
/// of `size`; returns its stdout (it must succeed).
fn on_small_disk(home: &Home, size: &str, script: &str) -> String {
    let dir = home.errand_home();
    std::fs::create_dir_all(&dir).unwrap();
    let full = format!("mount -t tmpfs -o size={size} tmpfs '{}' && {script}", dir.display());
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &full])
        .env("ERRAND_HOME", &dir)
        .env("E", env!("CARGO_BIN_EXE_errand"))
        .env("STARTED", home.path().join("started"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The whole store on a 2 MiB disk; the task writes 5 MB. The task ends
/// completed with the capture error, and every command keeps working,
/// cancelling a running task too (once its command runs: before, there is
/// no signal to report).
#[test]
fn a_full_disk_loses_no_outcome_and_commands_keep_working() {
    if !root() {
        return;
    }
    let home = Home::new();
    let out = on_small_disk(
        &home,
        "2m",
        r#"id=$("$E" run 'head -c 5000000 /dev/zero; echo still-ran >&2') &&
           "$E" wait $id; echo "wait=$?" &&
           "$E" show --json $id > /tmp/errand-full-show.$$ && echo "show=$?" && cat /tmp/errand-full-show.$$ && rm /tmp/errand-full-show.$$ &&
           "$E" ls >/dev/null && echo ls=ok &&
           "$E" status --json && echo status=ok &&
           long=$("$E" run "touch '$STARTED'; sleep 300") && until [ -e "$STARTED" ]; do :; done &&
           "$E" cancel $long >/dev/null && "$E" wait $long; echo "cancel=$?" &&
           "$E" ls --json --all | grep -c '"id"'"#,
    );
    assert!(out.contains("wait=0"), "the task succeeded: {out}");
    assert!(out.contains("show=0") && out.contains("ls=ok") && out.contains("status=ok"), "{out}");
    assert!(out.contains(&format!("cancel={}", 128 + libc::SIGTERM)), "cancel works on a full disk: {out}");
    let json_start = out.find('{').unwrap();
    let task: Value = serde_json::Deserializer::from_str(&out[json_start..]).into_iter().next().unwrap().unwrap();
    assert_eq!(task["status"], "completed", "{task}");
    assert!(task["error"].as_str().unwrap().contains("No space left on device"), "{task}");
    assert_eq!(out.trim().lines().last(), Some("2"), "both tasks are in the store");
}

/// Only the output folder is small (64 KiB): capture stops, the task goes on.
#[test]
fn a_full_output_folder_stops_capture_but_not_the_task() {
    if !root() {
        return;
    }
    let home = Home::new();
    home.ok(&["status"]); // the store lives outside the small mount
    let logs = home.errand_home().join("logs");
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs '{logs}' && '{exe}' run 'head -c 1000000 /dev/zero; echo still-ran'",
        logs = logs.display(),
        exe = env!("CARGO_BIN_EXE_errand")
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("ERRAND_HOME", home.errand_home())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0, "the task itself succeeded");
    let t = home.task(&id);
    assert_eq!(t["status"], "completed");
    assert!(t["error"].as_str().unwrap().contains("No space left on device"), "{t}");
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
}

/// A result of 1 MiB on a disk the task itself filled: not kept, the
/// reason recorded with the outcome, which it never costs (the reserve
/// beside the store is for outcomes, not results).
#[test]
fn a_result_on_a_full_disk_is_refused_and_the_outcome_kept() {
    if !root() {
        return;
    }
    let home = Home::new();
    let out = on_small_disk(
        &home,
        "4m",
        r#"id=$("$E" run '{ printf "\""; head -c 1048000 /dev/zero | tr "\0" a; printf "\""; } > "$ERRAND_RESULT"; head -c 20000000 /dev/zero > "$ERRAND_HOME/filler"; echo filled') &&
           "$E" wait $id; echo "wait=$?";
           "$E" result $id 2>&1 | cut -c 1-200; echo "result=$?";
           next=$("$E" run true) && "$E" wait $next && echo next=ok"#,
    );
    assert!(out.contains("wait=0"), "the task completed: {out}");
    assert!(out.contains("left no result: cannot store the result: "), "{out}");
    assert!(out.contains("full"), "the reason names the full disk: {out}");
    assert!(out.contains("next=ok"), "the queue goes on: {out}");
}
