//! errand's writers take turns on a lock file, asleep in the kernel's queue,
//! before they ask SQLite for its write lock; readers never wait for it.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use common::Home;

#[test]
fn writers_wait_their_turn_on_the_write_lock_and_readers_do_not() {
    let home = Home::new();
    let first = home.submit("true");
    home.wait(&[&first]);
    let lock = std::fs::OpenOptions::new().write(true).open(home.errand_home().join("errand.write-lock")).unwrap();
    // SAFETY: a valid fd of a file this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);

    let mut writer = home.cmd().args(["run", "echo second"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    // A read goes on while the turn is taken.
    let listed = home.ok(&["ls", "--json"]);
    assert!(listed.contains(&first), "{listed}");
    // The writer is still waiting: an errand that ignored the lock would
    // have recorded its task long before.
    std::thread::sleep(Duration::from_millis(300));
    assert!(writer.try_wait().unwrap().is_none(), "the writer waits for its turn");
    assert!(!home.ok(&["ls", "--json"]).contains("echo second"), "and has written nothing");

    drop(lock);
    let done = writer.wait_with_output().unwrap();
    assert!(done.status.success());
    let second = String::from_utf8(done.stdout).unwrap().trim().to_owned();
    assert_eq!(home.wait(&[&second]), 0, "its turn came when the lock was released");
}
