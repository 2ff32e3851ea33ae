//! `deno.json` / `deno.jsonc` tasks.

use std::path::Path;

use super::{jsonc, Folder, Found};
use crate::error::Result;
use crate::toml_file;

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    let Some(file) = ["deno.json", "deno.jsonc"].iter().map(|n| folder.join(n)).find(|f| f.is_file()) else {
        return Ok(Vec::new());
    };
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let config = jsonc::parse(&file, &text)?;
    let Some(tasks) = config.get("tasks").and_then(serde_json::Value::as_object) else { return Ok(Vec::new()) };
    Ok(tasks
        .iter()
        .map(|(name, task)| {
            // A string, or (deno 2) a table with a command and a description.
            let about =
                task.as_str().or_else(|| task.get("description")?.as_str()).or_else(|| task.get("command")?.as_str());
            Found::argv("deno", name, &["deno", "task", name], folder, &file).described(about)
        })
        .collect())
}
