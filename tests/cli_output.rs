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

/// Does `text` hold a control character other than the newlines that end its lines?
fn raw_controls(text: &str) -> Vec<char> {
    text.chars().filter(|&c| c.is_control() && c != '\n').collect()
}

#[test]
fn control_characters_from_tasks_and_projects_never_reach_the_terminal_raw() {
    let home = Home::new();
    // A project as a cloned repository could ship it: a folder, a workflow
    // name and a description that would retitle the terminal and clear it.
    let proj = home.path().join("proj\x1b[2J");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(
        proj.join("errand.toml"),
        "[evil]\ncommand = \"true\"\ndescription = \"Build\\u001b]0;owned\\u0007\\nnext\\u009b1m\"\n",
    )
    .unwrap();
    let id = home
        .cmd()
        .current_dir(&proj)
        .args(["run", "--name", "a\nb\x1b[1m", "--", "printf", "%s\\n", "x\x7fy"])
        .output()
        .map(common::Run::from)
        .unwrap()
        .stdout
        .trim()
        .to_owned();
    assert_eq!(home.wait(&[&id]), 0);

    let ls = home.ok(&["ls"]);
    assert_eq!(raw_controls(&ls), [], "{ls:?}");
    assert_eq!(ls.lines().count(), 2, "one row for the task: {ls:?}");
    assert!(ls.lines().nth(1).unwrap().ends_with("a^Jb^[[1m"), "{ls:?}");

    let show = home.ok(&["show", &id]);
    let facts = show.split("──").next().unwrap();
    assert_eq!(raw_controls(facts), [], "{show:?}");
    assert!(facts.contains("a^Jb^[[1m") && facts.contains("x^?y") && facts.contains("proj^[[2J"), "{show:?}");

    let r: common::Run = home.cmd().current_dir(&proj).args(["workflows"]).output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(raw_controls(&r.stdout), [], "{:?}", r.stdout);
    assert_eq!(r.stdout, "#evil   Build^[]0;owned^G^JnextM-^[1m\n");

    // JSON stays exact.
    let t = home.task(&id);
    assert_eq!(t["name"], "a\nb\x1b[1m");
    assert_eq!(t["command"]["argv"][2], "x\x7fy");
    let r: common::Run = home.cmd().current_dir(&proj).args(["workflows", "--json"]).output().unwrap().into();
    let workflows: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(workflows[0]["description"], "Build\x1b]0;owned\x07\nnext\u{9b}1m");

    // An error that quotes the project's text quotes it visibly, in one line.
    std::fs::write(proj.join("errand.toml"), "[\"evil\\u001b[31m\\nx\"]\ncommand = \"true\"\n").unwrap();
    let r: common::Run = home.cmd().current_dir(&proj).args(["workflows"]).output().unwrap().into();
    assert_eq!(r.code, 2);
    assert_eq!(raw_controls(&r.stderr), [], "{:?}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{:?}", r.stderr);
    assert!(r.stderr.contains("'evil^[[31m^Jx'"), "{:?}", r.stderr);
}
