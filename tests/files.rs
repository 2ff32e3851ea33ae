//! errand's files: private to the user, and a full disk loses no outcome.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Home;

#[test]
fn files_are_private_to_the_user() {
    let home = Home::new();
    let id = home.submit("echo x");
    home.wait(&[&id]);
    for rel in ["", "errand.db", "logs", &format!("logs/{id}.out"), "run"] {
        let mode = std::fs::metadata(home.errand_home().join(rel)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{rel} is {mode:o}");
    }
}

#[test]
fn a_full_disk_stops_output_capture_but_loses_nothing_recorded() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let home = Home::new();
    let logs = home.errand_home().join("logs");
    home.ok(&["status"]); // create the store and its folders
                          // The supervisor (started inside this mount namespace) sees a 64 KiB
                          // output folder; the task writes 1 MB.
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
    // The store is intact and keeps working. (The next task may run on the
    // same, still lingering supervisor inside the small mount, so only its
    // outcome is checked.)
    let next = home.submit("true");
    assert_eq!(home.wait(&[&next]), 0);
    assert_eq!(home.status_of(&next), "completed");
    assert_eq!(home.tasks(&["--all"]).len(), 2);
}
