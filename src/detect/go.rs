//! A Go module (`go.mod`): build, test and vet every package.

use std::path::Path;

use super::{Folder, Found};
use crate::error::Result;

pub fn detect(folder: &Path, _: &Folder) -> Result<Vec<Found>> {
    let file = folder.join("go.mod");
    if !file.is_file() {
        return Ok(Vec::new());
    }
    Ok(["build", "test", "vet"]
        .iter()
        .map(|verb| Found::argv("go", verb, &["go", verb, "./..."], folder, &file))
        .collect())
}
