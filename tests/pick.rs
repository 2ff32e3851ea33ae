//! A command given no id at a terminal offers the tasks to pick from
//! (running first for cancel and logs); without a terminal it is a usage
//! error, never a question a script would hang on.

mod common;

use common::terminal::Terminal;
use common::Home;

#[test]
fn cancel_without_an_id_at_a_terminal_offers_running_tasks_first() {
    let home = Home::new();
    let done = home.ok(&["run", "--name", "finished one", "true"]).trim().to_owned();
    home.wait(&[&done]);
    let running = home.ok(&["run", "--name", "the server", "sleep 100"]).trim().to_owned();
    home.pid_of(&running);
    let t = Terminal::start(&home, 100, 30, "bash --norc --noprofile");
    t.type_text("errand cancel; echo code=$?\n");
    let screen = t.until("the list", |s| s.contains("Number [1]"));
    let first = screen.lines().find(|l| l.trim_start().starts_with("1  ")).unwrap_or_else(|| panic!("{screen}"));
    assert!(first.contains(&running) && first.contains("the server"), "running first:\n{screen}");
    assert!(!screen.contains(&done), "a finished task cannot be cancelled: not offered\n{screen}");
    t.type_text("\n"); // Enter: the first
    t.until("cancelled", |s| s.contains(&format!("{running}: cancelling")));
    home.wait(&[&running]);
    assert_eq!(home.status_of(&running), "cancelled");

    // A wrong answer asks again; Ctrl-D chooses nothing.
    t.type_text("clear; errand show; echo code=$?\n");
    t.until("the list again", |s| s.contains("Number [1]") && !s.contains("cancelling"));
    t.type_text("9\n");
    t.until("asked again", |s| s.contains("is not a number from 1 to 2") && s.matches("Number [1]").count() == 2);
    t.keys(&["C-d"]);
    t.until("nothing chosen", |s| s.contains("no task chosen") && s.lines().any(|l| l == "code=2"));
    assert_eq!(home.status_of(&done), "completed");
}

#[test]
fn without_a_terminal_a_missing_id_is_a_usage_error() {
    let home = Home::new();
    home.submit("true");
    for command in ["cancel", "logs", "show"] {
        let r = home.run(&[command]);
        assert_eq!(r.code, 2, "{command}: {}", r.stderr);
        assert!(r.stderr.contains("needs a task id"), "{command}: {}", r.stderr);
    }
}
