//! Foreground mode at a real terminal (tmux): `run -w` and `wait --follow`
//! stream the output in order, stdout and stderr apart, and exit with the
//! task's status; Ctrl-C (a real SIGINT from the terminal) once detaches and
//! the task goes on, twice within a second cancels it.

mod common;

use common::terminal::Terminal;
use common::Home;

/// The status bash printed after the command (`echo code=$?`), once it did.
fn code(screen: &str) -> Option<&str> {
    screen.lines().rev().find_map(|l| l.strip_prefix("code="))
}

/// Type `command` (a `run -w`), wait until its task prints "started"; its id.
fn started(t: &Terminal, home: &Home, command: &str) -> String {
    t.type_text(&format!("{command}; echo code=$?\n"));
    t.until("it runs", |s| s.lines().any(|l| l == "started"));
    home.tasks(&[])[0]["id"].as_str().unwrap().to_owned()
}

fn bash(home: &Home) -> Terminal {
    let t = Terminal::start(home, 100, 30, "bash --norc --noprofile");
    t.type_text("PS1='$ '\n");
    t
}

#[test]
fn run_w_streams_the_output_and_exits_with_the_status() {
    let home = Home::new();
    // Each line waits for the previous one to be captured: the order is the task's.
    let script = "for i in 1 2 3; do echo line $i; sleep 0.05; done; echo oops >&2; exit 3";
    let run = home.run(&["run", "-w", script]);
    assert_eq!(run.code, 3);
    assert_eq!(run.stdout, "line 1\nline 2\nline 3\n", "stdout is the task's stdout, nothing else");
    assert_eq!(run.stderr, "oops\n");
    // At a terminal, the lines appear while it runs.
    let t = bash(&home);
    let release = home.path().join("release");
    t.type_text(&format!(
        "errand run -w 'echo first; until [ -e {} ]; do sleep 0.01; done; echo second'; echo code=$?\n",
        release.display()
    ));
    t.until("the first line, while the task runs", |s| s.lines().any(|l| l == "first"));
    assert!(!t.screen().lines().any(|l| l == "second"));
    std::fs::write(&release, "").unwrap();
    let screen = t.until("the rest, and the status", |s| code(s).is_some());
    assert!(screen.lines().any(|l| l == "second") && code(&screen) == Some("0"), "{screen}");
}

#[test]
fn ctrl_c_once_detaches_and_the_task_goes_on() {
    let home = Home::new();
    let t = bash(&home);
    let id = started(&t, &home, "errand run -w --name long 'echo started; sleep 100'");
    t.keys(&["C-c"]);
    let screen = t.until("detached", |s| code(s).is_some());
    assert_eq!(code(&screen), Some("130"), "{screen}");
    assert!(screen.contains(&format!("{id} goes on in the background")), "{screen}");
    assert_eq!(home.status_of(&id), "running", "the task goes on");
    // wait --follow picks it up again.
    t.type_text(&format!("errand wait --follow {id}; echo code=$?\n"));
    t.until("it follows", |s| s.matches("Ctrl-C detaches").count() == 2);
    // Two presses a moment apart (two at the same instant are one signal).
    t.keys(&["C-c"]);
    t.until("the first press is acknowledged", |s| s.matches("within a second").count() == 2);
    t.keys(&["C-c"]);
    let screen =
        t.until("cancelled by the second Ctrl-C", |s| s.lines().filter(|l| l.starts_with("code=")).count() == 2);
    assert!(screen.contains(&format!("cancelling {id}")), "{screen}");
    assert_eq!(home.status_of(&id), "cancelled");
}

#[test]
fn ctrl_c_twice_within_a_second_cancels_and_shows_the_end() {
    let home = Home::new();
    let t = bash(&home);
    let id = started(&t, &home, "errand run -w \"trap 'echo got TERM; exit 7' TERM; echo started; sleep 100 & wait\"");
    t.keys(&["C-c"]);
    t.until("the first press is acknowledged", |s| s.contains("within a second"));
    t.keys(&["C-c"]);
    let screen = t.until("its end is shown", |s| code(s).is_some());
    assert!(screen.lines().any(|l| l == "got TERM"), "{screen}");
    assert!(screen.contains(&format!("cancelling {id}")), "{screen}");
    assert_eq!(home.status_of(&id), "cancelled");
    assert_eq!(code(&screen), Some("7"), "its own exit status: {screen}");
}

#[test]
fn run_w_gives_the_task_its_stdin() {
    let home = Home::new();
    // A pipe, to its end.
    let mut piped = home
        .cmd()
        .args(["run", "-w", "tr a-z A-Z; echo done"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = piped.stdin.take().unwrap();
        stdin.write_all(b"hello\nworld\n").unwrap();
    } // closed: the task sees EOF
    let out = piped.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "HELLO\nWORLD\ndone\n");
    // Lines typed at the terminal, Ctrl-D ending them.
    let t = bash(&home);
    t.type_text("errand run -w 'while read -r x; do echo got:$x; done; echo bye'; echo code=$?\n");
    t.until("it runs", |s| s.contains("Ctrl-C detaches"));
    t.type_text("one\n");
    t.until("the line reached the task", |s| s.lines().any(|l| l == "got:one"));
    t.keys(&["C-d"]);
    let screen = t.until("EOF ended it", |s| code(s).is_some());
    assert!(screen.lines().any(|l| l == "bye") && code(&screen) == Some("0"), "{screen}");
}
