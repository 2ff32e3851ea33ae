//! Completion in real shells: the script from `errand completions SHELL`
//! loaded into a real bash, zsh and fish at a real terminal (tmux), then
//! Tab pressed as a user would: task ids come from the store (running ones
//! offered first for `cancel`), workflow names from the project.

mod common;

use common::terminal::Terminal;
use common::Home;

/// A project with two workflows; one task running, one finished.
fn project() -> (Home, String, String) {
    let home = Home::new();
    std::fs::write(
        home.path().join("errand.toml"),
        "[build]\ncommand = \"true\"\ndescription = \"Build it all\"\n[bench]\ncommand = \"true\"\n",
    )
    .unwrap();
    let done = home.ok(&["run", "--name", "unit tests", "true"]).trim().to_owned();
    assert_eq!(home.wait(&[&done]), 0);
    let running = home.ok(&["run", "--name", "dev server 日本語", "sleep 60"]).trim().to_owned();
    home.pid_of(&running);
    (home, running, done)
}

fn shell(home: &Home, command: &str) -> Terminal {
    let which = command.split_whitespace().next().unwrap();
    let found = std::process::Command::new("sh").args(["-c", &format!("command -v {which}")]).output().unwrap();
    assert!(found.status.success(), "{which} is not installed (tests/run-all.sh installs bash, zsh and fish)");
    Terminal::start(home, 100, 30, command)
}

/// Type `line`, press Tab, and wait for the line to read `completed`.
fn tab_completes(t: &Terminal, line: &str, completed: &str) {
    t.type_text(line);
    t.keys(&["Tab"]);
    t.until(&format!("{line:?} completes to {completed:?}"), |s| s.contains(completed));
    t.keys(&["C-u"]);
}

#[test]
fn bash_completes_task_ids_and_workflows() {
    let (home, running, done) = project();
    let t = shell(&home, "bash --norc --noprofile");
    t.type_text("source <(errand completions bash) && echo loaded\n");
    t.until("the script loads", |s| s.contains("\nloaded"));
    tab_completes(&t, &format!("errand logs {}", &running[..3]), &format!("errand logs {running}"));
    tab_completes(&t, &format!("errand show {}", &done[..3]), &format!("errand show {done}"));
    // `#` starts a comment in bash: a workflow is escaped as it completes,
    // or kept in the user's quotes.
    tab_completes(&t, "errand run #bu", "errand run \\#build");
    tab_completes(&t, "errand run '#bu", "errand run '#build'");
    // Every candidate, the running task first for wait.
    t.type_text("errand wait ");
    t.keys(&["Tab", "Tab"]);
    let screen = t.until("both ids listed", |s| s.contains(&running) && s.contains(&done));
    let list = screen.lines().find(|l| l.contains(&running) && !l.contains("errand wait")).unwrap_or("");
    assert!(list.find(&running) < list.find(&done), "running first:\n{screen}");
    // Only what can be cancelled, for cancel; only what is finished, for rm.
    for (line, offered, not_offered) in [("errand cancel ", &running, &done), ("errand rm ", &done, &running)] {
        t.keys(&["C-u"]);
        t.type_text("clear\n");
        t.until("cleared", |s| !s.contains("errand"));
        t.type_text(line);
        t.keys(&["Tab", "Tab"]);
        let screen = t.until(&format!("{line}lists {offered}"), |s| s.contains(offered.as_str()));
        assert!(!screen.contains(not_offered.as_str()), "{line}: {screen}");
    }
    // Ids match in any case, as typed.
    t.keys(&["C-u"]);
    let upper = running[..3].to_uppercase();
    tab_completes(&t, &format!("errand show {upper}"), &format!("errand show {upper}{}", &running[3..]));
}

#[test]
fn zsh_completes_task_ids_with_their_names_and_workflows() {
    let (home, running, done) = project();
    let t = shell(&home, "zsh -f");
    t.type_text("autoload -Uz compinit && compinit -u && source <(errand completions zsh) && echo loaded\n");
    t.until("the script loads", |s| s.contains("\nloaded"));
    tab_completes(&t, &format!("errand logs {}", &running[..3]), &format!("errand logs {running}"));
    tab_completes(&t, "errand run #bu", "errand run \\#build");
    t.type_text("errand logs ");
    t.keys(&["Tab"]);
    let screen = t.until("ids listed with names", |s| s.contains("dev server 日本語") && s.contains("unit tests"));
    let at = |what: &str| screen.find(what).unwrap();
    assert!(at(&format!("{running} ")) < at(&format!("{done} ")), "running first:\n{screen}");
    assert!(screen.contains("running · dev server 日本語"), "{screen}");
    t.keys(&["C-u"]);
    let upper = running[..3].to_uppercase();
    tab_completes(&t, &format!("errand show {upper}"), &format!("errand show {upper}{}", &running[3..]));
}

#[test]
fn fish_completes_task_ids_with_their_names_and_workflows() {
    let (home, running, done) = project();
    let t = shell(&home, "fish --no-config");
    t.type_text("errand completions fish | source; and echo loaded\n");
    t.until("the script loads", |s| s.contains("\nloaded"));
    tab_completes(&t, &format!("errand send {}", &running[..3]), &format!("errand send {running}"));
    tab_completes(&t, "errand run '#bu", "errand run '#build'");
    t.type_text("errand show ");
    t.keys(&["Tab"]);
    let screen = t.until("ids listed with names", |s| s.contains(&running) && s.contains(&done));
    assert!(screen.contains("unit tests"), "{screen}");
}
