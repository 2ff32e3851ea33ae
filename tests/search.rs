//! Text search (`errand ls --find`, `task/list {text}`) through the trigram
//! index the supervisors fill when their queue drains, and past its mark.

mod common;

use common::rpc::{Client, Framing};
use common::Home;
use serde_json::json;

fn found(home: &Home, text: &str) -> Vec<String> {
    home.tasks(&["--all", "--find", text]).iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn search_finds_the_same_tasks_through_the_index_and_past_it() {
    let home = Home::new();
    let ids: Vec<String> = ["echo Deploy staging", "echo 'build grün'", "true # deploy prod", "echo other"]
        .iter()
        .map(|c| home.submit(c))
        .collect();
    home.wait(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    // The last supervisor indexes the tasks as it leaves.
    home.eventually("the supervisors to leave", || home.supervisors().is_empty());
    assert!(home.own_log().contains("indexed 4 tasks for search"), "{}", home.own_log());
    assert_eq!(found(&home, "DEPLOY"), [&ids[2], &ids[0]].map(String::clone));
    assert_eq!(found(&home, "grün"), [ids[1].clone()]);
    assert!(found(&home, "GRÜN").is_empty(), "only ASCII case is ignored");
    assert_eq!(found(&home, "ec"), [&ids[3], &ids[1], &ids[0]].map(String::clone), "two letters: read directly");
    let (code, out, err) = {
        let r = home.run(&["ls", "--find", "no such text"]);
        (r.code, r.stdout, r.stderr)
    };
    assert_eq!((code, out.as_str(), err.trim()), (0, "", "No tasks match"));

    // Queued behind a paused queue: not indexed yet, found all the same,
    // newest first, before the indexed ones; through the protocol too.
    home.ok(&["pause", "--queue"]);
    let late = home.submit("deploy later");
    assert_eq!(found(&home, "deploy"), [&late, &ids[2], &ids[0]].map(String::clone));
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    c.call("initialize", json!({ "clientName": "test", "clientVersion": "1", "protocolVersion": 2 }));
    let page = c.call("task/list", json!({ "text": "Deploy", "limit": 2 }));
    let page_ids: Vec<&str> = page["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(page_ids, [late.as_str(), ids[2].as_str()]);
    let rest = c.call("task/list", json!({ "text": "Deploy", "limit": 2, "cursor": page["nextCursor"] }));
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(rest["tasks"][0]["id"], ids[0].as_str());
    assert!(rest["nextCursor"].is_null());
    home.ok(&["resume", "--queue"]);
    home.wait(&[&late]);
}
