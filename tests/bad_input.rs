//! Bad input gets one line on stderr and a documented exit code.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Home;

#[test]
fn bad_input_gets_one_line_and_a_nonzero_exit() {
    let home = Home::new();
    let r = home.run(&["run"]);
    assert_eq!(r.code, 2, "missing command is a usage error");
    let r = home.run(&["run", "   "]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "errand: the command is empty\n");
    let r = home.run(&["run", "--env", "NOEQUALS", "true"]);
    assert_eq!(r.code, 2);
    let r = home.run(&["run", "--cwd", "/does/not/exist", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a directory"));
    let r = home.run(&["logs", "nope"]);
    assert_eq!(r.code, 3);

    // A malformed config stops `run` (tests/config_broken.rs: what goes on).
    home.config("parallel = \"many\"\n");
    let r = home.run(&["run", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("config.toml:1:"), "{}", r.stderr);
    home.config("paralel = 3\n");
    let r = home.run(&["run", "true"]);
    assert!(r.code == 2 && r.stderr.contains("paralel"), "{}", r.stderr);

    // An unwritable data directory.
    let ro = home.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    let r: common::Run = home.cmd().env("ERRAND_HOME", ro.join("x")).args(["run", "true"]).output().unwrap().into();
    if unsafe { libc::geteuid() } != 0 {
        assert_eq!(r.code, 1);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let r: common::Run = home.cmd().env("ERRAND_HOME", "/proc/errand").args(["run", "true"]).output().unwrap().into();
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("errand: cannot create /proc/errand"), "{}", r.stderr);
}
