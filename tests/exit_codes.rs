//! Exit codes and messages as README's table says: `wait --all` exits with
//! a failure's status, command-line mistakes and a damaged store are one line.

mod common;

use common::Home;

/// One line on stderr, starting `errand: `, and no panic.
fn assert_one_line(r: &common::Run, what: &str) {
    assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
    assert!(r.stderr.starts_with("errand: "), "{what}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
}

#[test]
fn wait_all_exits_with_the_oldest_failure_among_the_tasks_it_waited_for() {
    let home = Home::new();
    let gate = home.path().join("gate");
    let until_gate = format!("until [ -e '{}' ]; do sleep 0.01; done", gate.display());
    let ok = home.submit(&format!("{until_gate}; true"));
    let mut waiter = home.cmd().args(["wait", "--all"]).spawn().expect("spawn wait");
    // Its inotify descriptor exists once it has taken its starting point.
    let fds = format!("/proc/{}/fd", waiter.id());
    home.eventually("wait --all is waiting", || {
        std::fs::read_dir(&fds).is_ok_and(|d| {
            d.flatten().any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("inotify")))
        })
    });
    // Queued while it waits: waited for too; the older failure decides,
    // whichever ends first.
    let first = home.submit(&format!("{until_gate}; exit 3"));
    let second = home.submit(&format!("{until_gate}; exit 5"));
    std::fs::write(&gate, "").unwrap();
    assert_eq!(waiter.wait().expect("wait --all").code(), Some(3), "the oldest failure's code");
    // `wait ID...` takes them in the order given.
    assert_eq!(home.wait(&[&ok, &second, &first]), 5);
    assert_eq!(home.wait(&[&ok]), 0);
    // Nothing left to wait for: failures that ended before do not count.
    assert_eq!(home.wait(&["--all"]), 0);
}

#[test]
fn command_line_mistakes_are_one_line_and_exit_2_but_help_is_help() {
    let home = Home::new();
    for args in [&["--bogus"][..], &[], &["run"], &["ls", "--limit", "many"], &["wait", "--all", "k3vq"], &["nope"]] {
        let r = home.run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_one_line(&r, &format!("{args:?}"));
        assert_eq!(r.stdout, "", "{args:?}");
    }
    for args in [&["--help"][..], &["run", "--help"], &["help"], &["--version"]] {
        let r = home.run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
        assert!(!r.stdout.is_empty(), "{args:?} prints to stdout");
    }
    assert!(home.ok(&["--help"]).contains("Usage: errand <COMMAND>"));
    assert!(home.ok(&["--version"]).starts_with("errand "));
}

#[test]
fn a_damaged_store_is_one_line_naming_its_file_and_exit_1() {
    let home = Home::new();
    // Enough of a store to span many pages: a long name goes to overflow pages.
    let long = "n".repeat(64 << 10);
    let id = home.ok(&["run", "--name", &long, "true"]).trim().to_owned();
    assert_eq!(home.wait(&[&id]), 0);
    // The supervisor still writes after the task ends (its prune, its WAL
    // trim): into the damaged file it could mend what the test broke.
    home.eventually("the supervisor exits", || home.supervisors().is_empty());
    let db = home.errand_home().join("errand.db");
    let good = {
        // Fold the WAL in, so the file alone holds the store.
        let conn = rusqlite::Connection::open(&db).expect("open the store");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
        drop(conn);
        std::fs::read(&db).unwrap()
    };
    assert!(good.len() > 32 << 10, "{} bytes", good.len());
    let mut garbage = vec![0u8; 16 << 10];
    let mut x: u32 = 2_463_534_242;
    for b in &mut garbage {
        // xorshift: bytes no SQLite would take for a database
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    for (what, bytes) in [("truncated", &good[..good.len() / 2]), ("garbage", &garbage[..])] {
        for f in ["errand.db-wal", "errand.db-shm"] {
            let _ = std::fs::remove_file(home.errand_home().join(f));
        }
        std::fs::write(&db, bytes).unwrap();
        for args in [&["ls"][..], &["status"], &["show", &id], &["run", "true"]] {
            let r = home.run(args);
            assert_eq!(r.code, 1, "{what} {args:?}: {}", r.stderr);
            assert_one_line(&r, &format!("{what} {args:?}"));
            assert!(r.stderr.contains(&db.display().to_string()), "{what} {args:?} names the file: {}", r.stderr);
        }
    }
}
