//! `package.json` scripts, run with the package manager its lockfile names.

use std::path::Path;

use super::{Folder, Found};
use crate::error::{Error, Result};
use crate::toml_file;

pub fn detect(folder: &Path, cx: &Folder) -> Result<Vec<Found>> {
    let file = folder.join("package.json");
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: file.clone(),
        line: e.line(),
        message: e.to_string(),
    })?;
    let Some(scripts) = manifest.get("scripts").and_then(serde_json::Value::as_object) else { return Ok(Vec::new()) };
    let manager = manager(folder, cx.root);
    Ok(scripts
        .iter()
        .filter_map(|(name, script)| {
            let script = script.as_str()?;
            Some(Found::argv("npm", name, &[manager, "run", name], folder, &file).described(Some(script)))
        })
        .collect())
}

/// The package manager of the nearest lockfile from `folder` up to the
/// root (a workspace keeps one at its top); npm without one.
fn manager(folder: &Path, root: &Path) -> &'static str {
    const LOCKFILES: [(&str, &str); 5] = [
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("bun.lockb", "bun"),
        ("bun.lock", "bun"),
        ("package-lock.json", "npm"),
    ];
    folder
        .ancestors()
        .take_while(|d| d.starts_with(root))
        .find_map(|d| LOCKFILES.iter().find(|(lock, _)| d.join(lock).is_file()).map(|(_, manager)| *manager))
        .unwrap_or("npm")
}
