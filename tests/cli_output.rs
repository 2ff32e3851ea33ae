//! Human output of the CLI.

mod common;

use common::Home;

#[test]
fn ls_human_output_is_aligned_and_plain_when_piped() {
    let home = Home::new();
    let id = home.submit("echo hi");
    home.wait(&[&id]);
    let out = home.ok(&["ls"]);
    assert!(!out.contains('\x1b'), "no colour into a pipe");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ID"));
    assert!(lines[1].starts_with(&id) && lines[1].contains("completed") && lines[1].ends_with("echo hi"));
    assert_eq!(lines[0].find("NAME"), lines[1].find("echo hi"), "columns line up");
}
