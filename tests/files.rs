//! errand's files are private to the user.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Home;

#[test]
fn files_are_private_to_the_user() {
    let home = Home::new();
    let id = home.submit("echo x");
    home.wait(&[&id]);
    // Every file and folder errand made, whatever it is.
    let mut seen = Vec::new();
    let mut todo = vec![home.errand_home()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                todo.push(entry.path());
            }
            seen.push(entry.path());
            let mode = meta.permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", entry.path().display());
        }
    }
    for rel in ["errand.db", "errand.write-lock", "logs", &format!("logs/{id}.out"), "run"] {
        assert!(seen.contains(&home.errand_home().join(rel)), "{rel} was made and checked");
    }
}

#[test]
fn errands_own_log_is_private_whatever_the_umask() {
    use std::os::unix::process::CommandExt;
    let home = Home::new();
    let mut cmd = home.cmd();
    cmd.env("ERRAND_LOG", "debug").args(["ls"]);
    // SAFETY: umask is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    assert!(cmd.status().unwrap().success());
    let log = home.errand_home().join("log");
    let dir_mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700, "log folder is {dir_mode:o}");
    let files: Vec<_> = std::fs::read_dir(&log).unwrap().flatten().collect();
    assert!(!files.is_empty(), "ERRAND_LOG=debug writes the log");
    for f in files {
        let mode = f.metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{} is {mode:o}", f.path().display());
    }
}
