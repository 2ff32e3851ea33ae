//! The prompt recipes of README.md, as written there, in real shells at a
//! real terminal: the segment shows what runs and failed, and nothing at
//! all when idle.

mod common;

use common::terminal::Terminal;
use common::Home;

/// The line after `# prompt recipe: SHELL` in README.md.
fn recipe(shell: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = format!("# prompt recipe: {shell} ");
    let mut lines = readme.lines().skip_while(|l| !l.starts_with(&marker));
    lines.nth(1).unwrap_or_else(|| panic!("README.md has no {shell} recipe")).to_owned()
}

/// Start the shell with the recipe, then check its prompt idle, with a
/// running task and a failure, and idle again.
fn check(shell: &str, command: &str, setup: &str) {
    let home = Home::new();
    let t = Terminal::start(&home, 100, 30, command);
    t.type_text(&format!("{setup}{}\n", recipe(shell)));
    t.type_text("clear\n");
    // The screen cleared: only the prompt is left.
    let cleared = |s: &str| !s.trim().is_empty() && !s.contains("clear") && !s.contains("--format");
    let idle = t.until("a prompt", cleared);
    assert!(!idle.contains('▶') && !idle.contains('✗'), "{shell}: idle shows nothing:\n{idle}");
    let failed = home.submit("exit 1");
    home.wait(&[&failed]);
    let running = home.submit("sleep 100");
    home.pid_of(&running);
    t.type_text("clear\n");
    t.until(&format!("{shell}: the segment shows"), |s| cleared(s) && s.contains("1▶") && s.contains("1✗"));
    home.ok(&["cancel", &running]);
    home.wait(&[&running]);
    home.ok(&["clear"]);
    t.type_text("clear\n");
    t.until(&format!("{shell}: idle again"), |s| cleared(s) && !s.contains('▶') && !s.contains('✗'));
}

#[test]
fn the_bash_prompt_recipe() {
    check("bash", "bash --norc --noprofile", "PS1='$ '; ");
}

#[test]
fn the_zsh_prompt_recipe() {
    check("zsh", "zsh -f", "");
}

#[test]
fn the_fish_prompt_recipe() {
    check("fish", "fish --no-config", "");
}

/// The tmux recipe: a tmux started with README's lines as its config, inside
/// the test's terminal, so its status line is on the screen.
#[test]
fn the_tmux_status_bar_recipe() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let config: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("# tmux (~/.tmux.conf)"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(config.iter().any(|l| l.contains("status-right")), "README.md has the tmux recipe");
    let home = Home::new();
    let conf = home.path().join("tmux.conf");
    std::fs::write(&conf, config.join("\n").replace("status-interval 5", "status-interval 1")).unwrap();
    let inner = home.path().join("inner.sock");
    let t = Terminal::start(
        &home,
        100,
        10,
        &format!("tmux -S '{}' -f '{}' new-session bash --norc --noprofile", inner.display(), conf.display()),
    );
    let status_line = |s: &str| s.lines().last().unwrap_or("").to_owned();
    let idle = t.until("the status line", |s| status_line(s).contains(':'));
    assert!(!idle.contains('▶'), "idle shows nothing:\n{idle}");
    let running = home.submit("sleep 100");
    home.pid_of(&running);
    t.until("the segment in the status bar", |s| status_line(s).contains("1▶"));
    home.ok(&["cancel", &running]);
    home.wait(&[&running]);
    t.until("idle again", |s| !status_line(s).contains('▶'));
    let _ = std::process::Command::new("tmux").arg("-S").arg(&inner).arg("kill-server").status();
}
