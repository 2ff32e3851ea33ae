//! Workflows from the project's errand.toml and the user's config; listing
//! them never runs anything.

mod common;

use common::Home;
use serde_json::Value;

#[test]
fn workflows_from_the_project_and_the_user_config() {
    let home = Home::new();
    home.config("[workflows]\nuser-hello = \"echo from user config\"\nshared = \"echo user\"\n");
    let proj = home.path().join("proj");
    std::fs::create_dir_all(proj.join("src/deep")).unwrap();
    std::fs::write(
        proj.join("errand.toml"),
        "build = \"echo building in $(basename $PWD)\"\nshared = \"echo project\"\n\
         [greet]\nargv = [\"sh\", \"-c\", \"echo $GREETING\"]\nenv = { GREETING = \"hi there\" }\ndescription = \"Say hi\"\n",
    )
    .unwrap();
    let deep = proj.join("src/deep");
    let run = |args: &[&str]| -> common::Run { home.cmd().current_dir(&deep).args(args).output().unwrap().into() };

    let r = run(&["run", "#build"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.stdout.trim().to_owned();
    home.wait(&[&id]);
    assert_eq!(home.ok(&["logs", &id]), "building in proj\n", "runs at the project root");
    let t = home.task(&id);
    assert_eq!(t["workflow"], "build");
    assert_eq!(t["name"], "build");
    assert_eq!(t["group"], "proj");

    for (wf, expect) in [("#greet", "hi there\n"), ("#user-hello", "from user config\n"), ("#shared", "project\n")] {
        let id = run(&["run", wf]).stdout.trim().to_owned();
        home.wait(&[&id]);
        assert_eq!(home.ok(&["logs", &id]), expect, "{wf}");
    }

    let r = run(&["workflows", "--json"]);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "greet", "shared", "user-hello"]);

    let r = run(&["run", "#biuld"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("no workflow named 'biuld'") && r.stderr.contains("build"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1);

    std::fs::write(proj.join("errand.toml"), "build = \"ok\"\n\n[broken\n").unwrap();
    let r = run(&["run", "#build"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("errand.toml:3:"), "names file and line: {}", r.stderr);
    std::fs::write(proj.join("errand.toml"), "build = 42\n").unwrap();
    let r = run(&["workflows"]);
    assert!(r.code == 2 && r.stderr.contains("errand.toml:1:"), "{}", r.stderr);
}

#[test]
fn opening_or_listing_a_project_never_runs_anything() {
    let home = Home::new();
    let marker = home.path().join("ran");
    std::fs::write(home.path().join("errand.toml"), format!("touch = \"touch {}\"\n", marker.display())).unwrap();
    home.ok(&["workflows"]);
    home.ok(&["ls"]);
    home.ok(&["status"]);
    assert!(!marker.exists());
    assert!(home.tasks(&["--all"]).is_empty());
}
