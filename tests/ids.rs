//! Task ids: short, unique, and any unique prefix in any case.

mod common;

use common::Home;

#[test]
fn ids_are_short_and_a_unique_prefix_works() {
    let home = Home::new();
    // 33 ids over a 32-letter alphabet: two share a first letter.
    let ids: Vec<String> = (0..33).map(|_| home.submit("true")).collect();
    assert!(ids.iter().all(|id| id.len() == 4 && id.chars().all(|c| c.is_ascii_alphanumeric())), "{ids:?}");
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    home.wait(&refs);
    let first_letters: Vec<char> = ids.iter().map(|id| id.chars().next().unwrap()).collect();
    let shared = first_letters.iter().find(|c| first_letters.iter().filter(|d| d == c).count() > 1).unwrap();
    let r = home.run(&["show", &shared.to_string()]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("ambiguous"), "{}", r.stderr);

    let unique = ids
        .iter()
        .find_map(|id| {
            let p = &id[..3];
            (ids.iter().filter(|o| o.starts_with(p)).count() == 1).then(|| (p.to_owned(), id.clone()))
        })
        .unwrap();
    assert_eq!(home.task(&unique.0)["id"], unique.1.as_str());
    assert_eq!(home.task(&unique.1.to_uppercase())["id"], unique.1.as_str(), "case does not matter");

    let r = home.run(&["show", "zzzzzz"]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stderr, "errand: no task matches 'zzzzzz'\n");
}
