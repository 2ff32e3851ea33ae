//! justfile recipes with their doc comments, read as text (never `just
//! --dump`). Private recipes (`_name`, `[private]`) are left out.

use std::path::Path;

use super::{Folder, Found};
use crate::error::Result;
use crate::toml_file;

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    // just accepts any capitalisation of `justfile`, and `.justfile`.
    let Ok(entries) = std::fs::read_dir(folder) else { return Ok(Vec::new()) };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.eq_ignore_ascii_case("justfile") || n.eq_ignore_ascii_case(".justfile"))
        .collect();
    names.sort();
    let Some(file) = names.first().map(|n| folder.join(n)).filter(|f| f.is_file()) else { return Ok(Vec::new()) };
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    Ok(recipes(&text)
        .into_iter()
        .map(|(name, doc)| Found::argv("just", &name, &["just", &name], folder, &file).described(doc.as_deref()))
        .collect())
}

/// Public recipes in file order, each with the comment line above it (or its `[doc("…")]`).
fn recipes(text: &str) -> Vec<(String, Option<String>)> {
    let mut recipes = Vec::new();
    let mut doc: Option<String> = None;
    let mut private = false;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue; // a recipe's body
        }
        let line = line.trim_end();
        if let Some(comment) = line.strip_prefix('#') {
            doc = (!comment.starts_with('!')).then(|| comment.trim().to_owned());
            continue;
        }
        if let Some(attributes) = line.strip_prefix('[') {
            private |= attributes.contains("private");
            if let Some(text) = attributes.split_once("doc(").and_then(|(_, rest)| rest.split(['"', '\'']).nth(1)) {
                doc = Some(text.to_owned());
            }
            continue;
        }
        let header = line.strip_prefix('@').unwrap_or(line);
        let name: String = header.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
        let rest = &header[name.len()..];
        // `name params…: deps`, not `name := value`, `set x`, `alias a := b`, `import 'f'`.
        let is_recipe = !name.is_empty()
            && !matches!(name.as_str(), "set" | "alias" | "export" | "import" | "mod")
            && rest.find(':').is_some_and(|c| !rest[c + 1..].starts_with('=') && !rest[..c].contains(":="));
        if is_recipe && !private && !name.starts_with('_') {
            recipes.push((name, doc.take()));
        }
        doc = None;
        private = false;
    }
    recipes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_recipes_with_their_docs_and_nothing_else() {
        let text = "#!/usr/bin/env just --justfile\nset shell := [\"bash\", \"-c\"]\nversion := \"1.0\"\n\
                    alias b := build\n\n# Build everything\nbuild target='all':\n    cargo build\n\n\
                    @test *ARGS: build\n  cargo test {{ARGS}}\n\n_helper:\n  true\n\n[private]\nhidden:\n  true\n\n\
                    [doc('Ship it')]\ndeploy env=\"prod\": test\n  ./deploy {{env}}\nexport RUST_LOG := \"info\"\n";
        let found = recipes(text);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["build", "test", "deploy"]);
        assert_eq!(found[0].1.as_deref(), Some("Build everything"));
        assert_eq!(found[1].1, None);
        assert_eq!(found[2].1.as_deref(), Some("Ship it"));
    }
}
