//! Human output at a real terminal (tmux panes of 40, 80 and 200 columns):
//! rows never wrap, names are cut by display width (CJK and emoji take two
//! columns), and a script gets whole names.

mod common;

use common::terminal::Terminal;
use common::Home;
use unicode_width::UnicodeWidthStr;

const NAMES: [&str; 3] = [
    "build the whole workspace with every feature and then the documentation too",
    "日本語のタスク名がとても長い場合のテストです、幅を確認します",
    "deploy 🚀🚀🚀 to staging and production, then notify the team 🎉",
];

fn tasks(home: &Home) -> Vec<String> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let id = home.ok(&["run", "--name", name, &format!("exit {i}")]).trim().to_owned();
            home.wait(&[&id]);
            id
        })
        .collect()
}

#[test]
fn ls_fits_the_terminal_at_40_80_and_200_columns() {
    let home = Home::new();
    let ids = tasks(&home);
    for width in [40u16, 80, 200] {
        let t = Terminal::start(&home, width, 20, "bash --norc --noprofile");
        t.type_text("errand ls; echo done\n");
        let screen = t.until("ls printed", |s| s.contains("\ndone"));
        let rows: Vec<&str> = screen.lines().collect();
        for (id, name) in ids.iter().zip(NAMES) {
            // One screen row per task: its status and (part of) its name
            // share the row of its id, and the row fits the width.
            let row = rows.iter().find(|r| r.starts_with(id.as_str())).unwrap_or_else(|| panic!("{screen}"));
            assert!(row.contains("completed") || row.contains("failed"), "width {width}:\n{screen}");
            assert!(row.width() <= width as usize, "width {width}: {row:?} is {} wide", row.width());
            let shown = row.rsplit("  ").next().unwrap();
            if name.width() + 40 < width as usize {
                assert_eq!(shown, name, "width {width}: room for the whole name");
            } else {
                assert!(
                    shown.ends_with('…') && name.starts_with(shown.trim_end_matches('…')),
                    "width {width}: {shown:?}"
                );
            }
        }
        if width == 40 {
            assert!(!screen.contains("TOOK"), "a narrow terminal drops the least telling columns:\n{screen}");
        } else {
            assert!(screen.contains("WHEN") && screen.contains("EXIT"), "width {width}:\n{screen}");
        }
    }
    // Not a terminal: whole names, for scripts.
    let piped = home.ok(&["ls"]);
    for name in NAMES {
        assert!(piped.contains(name), "{piped}");
    }
}

#[test]
fn an_empty_list_says_how_to_start_and_run_hints_what_next_on_a_terminal() {
    let home = Home::new();
    let empty = home.run(&["ls"]);
    assert_eq!((empty.code, empty.stdout.as_str()), (0, ""));
    assert!(empty.stderr.contains("No tasks yet") && empty.stderr.contains("errand run"), "{}", empty.stderr);
    let t = Terminal::start(&home, 80, 20, "bash --norc --noprofile");
    t.type_text("errand run true\n");
    let screen = t.until("the hint", |s| s.contains("errand logs -f"));
    let lines: Vec<&str> = screen.lines().collect();
    let hint_at = lines.iter().position(|l| l.contains("errand logs -f")).unwrap();
    let id = lines[hint_at - 1].trim().to_owned();
    assert!(screen.contains(&format!("errand logs -f {id} · errand cancel {id}")), "{screen}");
    // Piped: the bare id, nothing else.
    let piped = home.run(&["run", "true"]);
    assert_eq!(piped.stdout.trim().len(), piped.stdout.len() - 1);
    assert!(piped.stderr.is_empty(), "{}", piped.stderr);
}
