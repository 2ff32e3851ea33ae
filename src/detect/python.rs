//! `pyproject.toml` task runners: poethepoet's `[tool.poe.tasks]` and
//! pdm's `[tool.pdm.scripts]`.

use std::path::Path;

use super::{Folder, Found};
use crate::error::Result;
use crate::toml_file;

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    let file = folder.join("pyproject.toml");
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let project: toml::Table = toml_file::parse(&file, &text)?;
    let mut found = from_table(&project, &["tool", "poe", "tasks"], "poe", &["poe"], folder, &file);
    found.extend(from_table(&project, &["tool", "pdm", "scripts"], "pdm", &["pdm", "run"], folder, &file));
    Ok(found)
}

/// Each key of the table at `path` is a task, run as `runner… key`.
fn from_table(
    project: &toml::Table,
    path: &[&str],
    source: &'static str,
    runner: &[&str],
    folder: &Path,
    file: &Path,
) -> Vec<Found> {
    let mut table = Some(project);
    for key in path {
        table = table.and_then(|t| t.get(*key)).and_then(toml::Value::as_table);
    }
    let Some(table) = table else { return Vec::new() };
    table
        .iter()
        // pdm's `_` holds settings shared by its scripts.
        .filter(|(name, _)| name.as_str() != "_")
        .map(|(name, task)| {
            let argv: Vec<&str> = runner.iter().copied().chain([name.as_str()]).collect();
            let about = task.as_str().or_else(|| task.get("help")?.as_str()).or_else(|| task.get("cmd")?.as_str());
            Found::argv(source, name, &argv, folder, file).described(about)
        })
        .collect()
}
