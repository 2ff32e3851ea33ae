//! Makefile targets, read from the file as text: explicit targets only (no
//! pattern rules, no special `.TARGETS`, none made of variables), `.PHONY`
//! ones first. Never `make -p`: that would run the Makefile's `$(shell …)`.

use std::path::Path;

use super::{Folder, Found};
use crate::error::Result;
use crate::toml_file;

/// The names GNU make looks for, in its order.
const NAMES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    let Some(file) = NAMES.iter().map(|n| folder.join(n)).find(|f| f.is_file()) else { return Ok(Vec::new()) };
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let (targets, phony) = targets(&text);
    let (mut first, rest): (Vec<_>, Vec<_>) = targets.into_iter().partition(|(t, _)| phony.contains(t));
    first.extend(rest);
    Ok(first
        .into_iter()
        .map(|(target, help)| {
            Found::argv("make", &target, &["make", &target], folder, &file).described(help.as_deref())
        })
        .collect())
}

/// Explicit targets in file order, each with its `## help` comment, and
/// the `.PHONY` ones.
fn targets(text: &str) -> (Vec<(String, Option<String>)>, Vec<String>) {
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    let mut phony = Vec::new();
    let mut in_define = false;
    let mut logical = String::new();
    for line in text.lines() {
        // Continued lines are one.
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let line = std::mem::take(&mut logical);
        let word = line.split_whitespace().next().unwrap_or("");
        if in_define {
            in_define = word != "endef";
            continue;
        }
        if matches!(word, "define" | "export" | "override") && line.contains("define") {
            in_define = word == "define" || line.split_whitespace().nth(1) == Some("define");
            continue;
        }
        // Recipe lines, comments, blank lines.
        if line.starts_with('\t') || word.is_empty() || word.starts_with('#') {
            continue;
        }
        let (rule, help) = match line.split_once('#') {
            Some((rule, comment)) => (rule, comment.strip_prefix('#').map(str::to_owned)),
            None => (line.as_str(), None),
        };
        let Some(colon) = rule.find(':') else { continue };
        let (names, after) = (&rule[..colon], &rule[colon + 1..]);
        // Assignments: `A := b`, `A ::= b`, `A :::= b`, `A = b:c`, `A ?= x`.
        if after.trim_start_matches(':').starts_with('=') || names.contains('=') {
            continue;
        }
        // `a b &: c` makes both at once (the `&` marks a grouped target).
        let names: Vec<&str> =
            names.split_whitespace().filter(|n| *n != "&").map(|n| n.trim_end_matches('&')).collect();
        if names.first() == Some(&".PHONY") {
            phony.extend(after.split_whitespace().map(str::to_owned));
            continue;
        }
        for name in names {
            let explicit = !name.starts_with('.') && !name.contains(['%', '$', '(', ')']);
            if explicit && !targets.iter().any(|(t, _)| t == name) {
                targets.push((name.to_owned(), help.clone()));
            }
        }
    }
    (targets, phony)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_targets_phony_first_with_their_help_and_nothing_else() {
        let text = "CC := gcc\nFLAGS = -O2 -DX=a:b\nall: build ## everything\n\
                    .PHONY: test clean\nbuild: main.o \\\n  util.o\n\t$(CC) -o app $^\n\
                    %.o: %.c\n\t$(CC) -c $<\n$(OUT): x\ntest:: build\n\t./app --test # not help\n\
                    define RECIPE\nfake: target\nendef\nclean:\n\trm -f app\n.DEFAULT_GOAL := all\n\
                    docs/site: ; mkdocs build\nX :::= y\nout.a out.b &: in\n";
        let (targets, phony) = targets(text);
        let names: Vec<&str> = targets.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["all", "build", "test", "clean", "docs/site", "out.a", "out.b"]);
        assert_eq!(phony, ["test", "clean"]);
        assert_eq!(targets[0].1.as_deref(), Some(" everything"));
    }
}
