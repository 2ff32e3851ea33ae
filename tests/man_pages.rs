//! The manual pages: generated from the command line's definitions, one per
//! command, rendered by the real `man` without a warning.

mod common;

use std::process::Command;

use common::Home;

#[test]
fn every_command_has_a_page_that_man_renders_cleanly() {
    let home = Home::new();
    let dir = home.path().join("man1");
    home.ok(&["man", "--dir", dir.to_str().unwrap()]);
    let help = home.ok(&["--help"]);
    // Every command `--help` lists has its page; the hidden roles none.
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"run") && commands.contains(&"completions"), "{help}");
    for page in std::iter::once("errand".to_owned()).chain(commands.iter().map(|c| format!("errand-{c}"))) {
        let file = dir.join(format!("{page}.1"));
        assert!(file.exists(), "{page}.1 is written");
        let shown = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&file)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .env("PAGER", "cat")
            .output()
            .expect("man is installed (tests/run-all.sh installs it)");
        let stderr = String::from_utf8_lossy(&shown.stderr);
        assert!(shown.status.success() && stderr.trim().is_empty(), "{page}: {stderr}");
        assert!(!shown.stdout.is_empty());
    }
    assert!(!dir.join("errand-__worker.1").exists(), "errand's own roles are not documented");
    // The page of `run` carries the options' own help.
    let run = std::fs::read_to_string(dir.join("errand-run.1")).unwrap();
    assert!(run.contains("Working directory"), "{run}");
    // Without --dir, errand.1 goes to stdout.
    assert!(home.ok(&["man"]).starts_with(".ie"));
}
