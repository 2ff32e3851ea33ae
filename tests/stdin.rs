//! A running task's stdin, written and closed by any client.

mod common;

use common::Home;

#[test]
fn stdin_can_be_written_and_closed_by_any_client() {
    let home = Home::new();
    let id = home.submit("read a; echo got $a; cat; echo end");
    home.eventually("running", || home.status_of(&id) == "running");
    home.ok(&["send", &id, "first"]);
    home.ok(&["send", "--raw", &id, "more\n"]);
    home.ok(&["send", "--eof", &id]);
    assert_eq!(home.wait(&[&id]), 0);
    assert_eq!(home.ok(&["logs", &id]), "got first\nmore\nend\n");
    let r = home.run(&["send", &id, "late"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("not running"));
}
