//! A Cargo package or workspace: build, check, test, clippy, and run (one
//! `run:NAME` per binary when a package has several).

use std::collections::BTreeSet;
use std::path::Path;

use super::{Folder, Found};
use crate::error::Result;
use crate::toml_file;

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    let file = folder.join("Cargo.toml");
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let manifest: toml::Table = toml_file::parse(&file, &text)?;
    let package = manifest.get("package").and_then(toml::Value::as_table);
    if package.is_none() && !manifest.contains_key("workspace") {
        return Ok(Vec::new());
    }
    let mut found: Vec<Found> = ["build", "check", "test", "clippy"]
        .iter()
        .map(|verb| Found::argv("cargo", verb, &["cargo", verb], folder, &file))
        .collect();
    let bins = binaries(folder, &manifest);
    // A workspace without a package of its own: cargo picks the binary.
    if package.is_some() || !bins.is_empty() {
        found.push(Found::argv("cargo", "run", &["cargo", "run"], folder, &file));
    }
    if bins.len() > 1 {
        for bin in &bins {
            found.push(Found::argv("cargo", &format!("run:{bin}"), &["cargo", "run", "--bin", bin], folder, &file));
        }
    }
    Ok(found)
}

/// The package's binaries: `[[bin]]` entries, and unless `autobins =
/// false`, `src/main.rs` and what `src/bin/` holds.
fn binaries(folder: &Path, manifest: &toml::Table) -> BTreeSet<String> {
    let mut bins = BTreeSet::new();
    let package = manifest.get("package").and_then(toml::Value::as_table);
    let explicit = manifest.get("bin").and_then(toml::Value::as_array).into_iter().flatten();
    bins.extend(explicit.filter_map(|b| b.get("name")?.as_str().map(str::to_owned)));
    let auto = package.and_then(|p| p.get("autobins")).and_then(toml::Value::as_bool).unwrap_or(true);
    if !auto {
        return bins;
    }
    if let Some(name) = package.and_then(|p| p.get("name")).and_then(toml::Value::as_str) {
        if folder.join("src/main.rs").is_file() {
            bins.insert(name.to_owned());
        }
    }
    if let Ok(entries) = std::fs::read_dir(folder.join("src/bin")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
            let is_bin = path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").is_file();
            if let (Some(name), true) = (name, is_bin) {
                bins.insert(name);
            }
        }
    }
    bins
}
