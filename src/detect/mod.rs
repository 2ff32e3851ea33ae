//! Detected tasks: what a project already defines for its own tools
//! (package.json scripts, Makefile targets, cargo, justfile recipes,
//! `.vscode/tasks.json`, go, deno, poe and pdm), offered as workflows named
//! `source:name` (run as `#npm:test`).
//!
//! Detection only reads files: it never runs anything from the project (no
//! `make -p`, no `npm run` to list, no `just --dump`), so opening an
//! untrusted repository is safe. It looks in the folder asked about and
//! each folder above it up to the project root (the nearest VCS root or
//! `errand.toml`); the nearest definition of a name wins, so a package
//! inside a monorepo sees its own scripts first. A malformed file is one
//! warning, and the other sources are still listed.
//!
//! One file per source; each reads one folder.

mod cargo;
mod deno;
mod go;
mod jsonc;
mod just;
mod make;
mod npm;
mod python;
mod vscode;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::task::CommandSpec;

/// A task found in a project file.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The tool it is for: `npm`, `make`, `cargo`…; its name is `source:name`.
    pub source: &'static str,
    pub name: String,
    pub command: CommandSpec,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
    pub description: Option<String>,
    /// The file it was read from.
    pub file: PathBuf,
    /// Why it cannot run (it is listed all the same).
    pub refused: Option<String>,
    /// Detected tasks run first (`tool:name`), as `workflow::Workflow::depends`.
    pub depends: Vec<String>,
    /// One after another, rather than all at once.
    pub in_sequence: bool,
    /// A long-running task: `ready` once a line of its output matches (a
    /// `tasks.json` background task's `endsPattern`), as a workflow's `ready`.
    pub ready: Option<String>,
}

impl Found {
    /// A task run by `argv` in `cwd`, defined in `file`.
    fn argv(source: &'static str, name: &str, argv: &[&str], cwd: &Path, file: &Path) -> Found {
        Found {
            source,
            name: name.to_owned(),
            command: CommandSpec::Argv(argv.iter().map(|s| (*s).to_owned()).collect()),
            cwd: cwd.to_path_buf(),
            env: BTreeMap::new(),
            description: None,
            file: file.to_path_buf(),
            refused: None,
            depends: Vec::new(),
            in_sequence: false,
            ready: None,
        }
    }

    fn described(mut self, description: Option<&str>) -> Found {
        self.description = description.map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned);
        self
    }
}

/// What detection found, nearest folder first, and the files it could not read.
#[derive(Debug, Default)]
pub struct Detected {
    pub tasks: Vec<Found>,
    /// One line per malformed file: `file:line: what is wrong`.
    pub warnings: Vec<String>,
}

/// The tasks the project around `dir` (where the client asks from, also
/// tasks.json's `${cwd}`) defines; `env` is the client's environment
/// (`${env:NAME}`).
pub fn detect(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Detected {
    let root = project_root(dir);
    let mut detected = Detected::default();
    let folders: Vec<&Path> = match &root {
        Some(root) => dir.ancestors().take_while(|d| d.starts_with(root)).collect(),
        None => vec![dir],
    };
    let cx = Folder { root: root.as_deref().unwrap_or(dir), client_dir: dir, env };
    for folder in folders {
        for source in SOURCES {
            match source(folder, &cx) {
                Ok(found) => detected.tasks.extend(found.into_iter().filter(|f| usable_name(&f.name))),
                Err(e) => detected.warnings.push(e.to_string()),
            }
        }
    }
    detected
}

/// A source: the tasks it finds in one folder.
type Source = fn(&Path, &Folder) -> Result<Vec<Found>>;

const SOURCES: [Source; 8] =
    [npm::detect, make::detect, cargo::detect, just::detect, vscode::detect, go::detect, deno::detect, python::detect];

/// What every source may need beside its folder.
pub struct Folder<'a> {
    /// The project root (or the folder asked about, without one).
    pub root: &'a Path,
    /// Where the client asked from.
    pub client_dir: &'a Path,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// The nearest folder at or above `dir` that is a project's root: it holds
/// a version-control folder or an `errand.toml`.
pub fn project_root(dir: &Path) -> Option<PathBuf> {
    const MARKERS: [&str; 5] = [".git", ".hg", ".jj", ".svn", crate::workflow::PROJECT_FILE];
    dir.ancestors().find(|d| MARKERS.iter().any(|m| d.join(m).exists())).map(Path::to_path_buf)
}

/// A name a person can type after `#source:`: printable, not padded, not huge.
fn usable_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.trim() == name && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_person_cannot_type_are_left_out() {
        assert!(usable_name("build:prod"));
        assert!(usable_name("Build Project"));
        assert!(!usable_name(""));
        assert!(!usable_name(" padded"));
        assert!(!usable_name("bell\x07"));
        assert!(!usable_name(&"x".repeat(201)));
    }
}
