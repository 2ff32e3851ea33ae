//! Diagnostics: a task's output read as the compiler and linter messages
//! in it (file, line, column, severity, message, code), for the quickfix
//! list, the Problems panel and `errand errors`.
//!
//! Every built-in matcher reads the output: each is anchored on its tool's
//! exact format and on a file that exists, so running them all finds a
//! `make` that calls gcc, an `npm run build` that calls tsc, or a `just`
//! recipe that calls cargo, without errand guessing from the command.
//! Colour codes are stripped first; relative paths resolve against the
//! task's folder or one above it (cargo prints paths from the workspace
//! root); a path that does not exist is dropped.
//!
//! One file per tool's format.

pub mod choice;
mod eslint;
mod gcc;
mod generic;
mod go;
mod python;
mod rust;
mod tsc;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::{Reader, Which};
use crate::paths::Paths;
use crate::store::{ListFilter, Store};
use crate::task::{Status, Task};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// An error: the build or check failed on it.
    Error,
    /// A warning.
    Warning,
    /// A note or a hint.
    Info,
}

impl Severity {
    fn parse(word: &str) -> Severity {
        match word.to_ascii_lowercase().as_str() {
            "error" | "fatal error" | "e" => Severity::Error,
            "warning" | "w" => Severity::Warning,
            _ => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One message of a compiler or linter about a place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// The file, as an absolute path.
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, if the tool gives it.
    pub column: Option<u32>,
    /// How bad it is.
    pub severity: Severity,
    /// What the tool said (its first line).
    pub message: String,
    /// The tool's code for it (`E0308`, `TS2322`, `no-unused-vars`, `-Wunused-variable`).
    pub code: Option<String>,
    /// The tool that said it: `rustc`, `gcc`, `tsc`, `eslint`, `python`, `mypy`, `go`.
    pub source: String,
}

/// How many diagnostics of each severity a task's output held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticCounts {
    /// Errors: the build or check failed on them.
    pub errors: u32,
    /// Warnings.
    pub warnings: u32,
    /// Notes and hints.
    pub infos: u32,
}

impl DiagnosticCounts {
    pub fn of(found: &[Diagnostic]) -> DiagnosticCounts {
        let mut counts = DiagnosticCounts::default();
        for d in found {
            *match d.severity {
                Severity::Error => &mut counts.errors,
                Severity::Warning => &mut counts.warnings,
                Severity::Info => &mut counts.infos,
            } += 1;
        }
        counts
    }

    pub fn total(&self) -> u32 {
        self.errors + self.warnings + self.infos
    }
}

/// What a matcher found, before its path is resolved.
struct Found {
    /// The output line it starts on.
    at: usize,
    path: String,
    line: u32,
    column: Option<u32>,
    severity: Severity,
    message: String,
    code: Option<String>,
    source: &'static str,
}

/// At most this much of a task's output is read for diagnostics (from its start).
pub const MAX_OUTPUT: u64 = 16 << 20;

/// The diagnostics in a task's output (both streams, merged), by the
/// matchers it chose, and whether its output went on past `MAX_OUTPUT`.
/// Only the output of its last run is read: a task that retries has the
/// messages of the run that decided its outcome, once. A watch-mode tool
/// (`tsc --watch`) has those of its last finished compile cycle: each
/// cycle's messages replace the last one's (once the task ended: the last
/// cycle's and what followed it).
pub fn of_task(paths: &Paths, task: &Task) -> Result<(Vec<Diagnostic>, bool)> {
    match task.cycle {
        Some(cycle) if task.is_final() => of_task_between(paths, task, cycle.from, None),
        Some(cycle) => of_task_between(paths, task, cycle.from, Some(cycle.to)),
        None => of_task_between(paths, task, task.attempts.last().map_or(0, |a| a.output_end), None),
    }
}

/// The diagnostics in a task's output from position `from` (of stream
/// `both`) up to `until` (its end if None).
pub fn of_task_between(paths: &Paths, task: &Task, from: u64, until: Option<u64>) -> Result<(Vec<Diagnostic>, bool)> {
    if choice::is_off(task.matcher.as_deref()) {
        return Ok((Vec::new(), false));
    }
    let reader = Reader::open(paths, &task.id)?;
    let read_err = |e: std::io::Error| Error::io(format!("cannot read the output of {}", task.id), e);
    let mut bytes = Vec::new();
    let until = until.unwrap_or(u64::MAX).min(reader.end(Which::Both));
    let next = reader.copy_between(from, until, MAX_OUTPUT, &mut bytes).map_err(read_err)?;
    let truncated = next < until;
    // Checking is much faster than decoding with replacements: decode only bad output.
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&bytes),
    };
    Ok((parse(&text, Path::new(&task.cwd), task.matcher.as_deref()), truncated))
}

/// How many recent failures `which_task` looks through for one with messages.
const RECENT_FAILURES: u32 = 20;

/// The task asked about: `id`, or without one the newest failed task whose
/// output held messages (counted when it ended), else the newest failed
/// task: a test run or a timeout after a broken build does not hide the
/// build's errors.
pub fn which_task(store: &Store, id: Option<&str>) -> Result<Task> {
    match id {
        Some(id) => store.get(&store.resolve(id)?),
        None => {
            let filter =
                ListFilter { statuses: vec![Status::Failed], limit: Some(RECENT_FAILURES), ..ListFilter::default() };
            let (tasks, _) = store.list(&filter)?;
            let with_messages = tasks.iter().position(|t| t.diagnostics.is_some_and(|c| c.total() > 0));
            let mut tasks = tasks.into_iter();
            let task = match with_messages {
                Some(at) => tasks.nth(at),
                None => tasks.next(),
            };
            task.ok_or_else(|| Error::NoSuchTask("no task has failed".into()))
        }
    }
}

/// Output lines (colour codes gone), each with its number.
type Lines<'a> = [(usize, &'a str)];

/// A matcher reads lines and reports what it finds.
type Matcher = fn(&Lines, &Resolver) -> Vec<Found>;

/// The diagnostics in `output`, of a task that ran in `cwd`, found by the
/// matchers of a stored choice (`choice`), in the order the tools printed
/// them, each once.
pub fn parse(output: &str, cwd: &Path, matcher: Option<&str>) -> Vec<Diagnostic> {
    // Most matchers only need the lines holding a `:` (every message of
    // theirs does; most of a compiler's output is quoted source that does
    // not); a traceback's frames and ESLint's file headers hold none.
    let (colon_matchers, line_matchers) = choice::matchers(matcher);
    let text = strip_ansi(output);
    let lines = split_lines(&text);
    let with_colon: Vec<(usize, &str)> =
        lines.iter().filter(|(_, l)| memchr::memchr(b':', l.as_bytes()).is_some()).copied().collect();
    let resolver = Resolver::new(cwd);
    let found = colon_matchers
        .iter()
        .flat_map(|m| m(&with_colon, &resolver))
        .chain(line_matchers.iter().flat_map(|m| m(&lines, &resolver)));
    // Each with the line it was on, so the whole comes out in output order.
    let mut all: Vec<(usize, Diagnostic)> = Vec::new();
    {
        for found in found {
            let Some(file) = resolver.resolve(&found.path) else { continue };
            all.push((
                found.at,
                Diagnostic {
                    file: file.display().to_string(),
                    line: found.line,
                    column: found.column,
                    severity: found.severity,
                    message: found.message.trim().to_owned(),
                    code: found.code,
                    source: found.source.to_owned(),
                },
            ));
        }
    }
    all.sort_by_key(|(at, _)| *at);
    // One per place on an output line (two matchers may read the same line:
    // the first, the more specific, wins), and each message once.
    let keep: Vec<bool> = {
        let mut places = HashSet::new();
        let mut seen = HashSet::new();
        all.iter().map(|(at, d)| places.insert((*at, d.file.as_str(), d.line, d.column)) && seen.insert(d)).collect()
    };
    all.into_iter().zip(keep).filter(|(_, keep)| *keep).map(|((_, d), _)| d).collect()
}

/// The lines of `text`, numbered, each as a terminal leaves it: what
/// follows its last `\r` (a redrawn progress line shows only its last
/// state). Byte searches: most of a compiler's output is short lines, where
/// a char searcher's set-up per line costs more than the search.
fn split_lines(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut lines = Vec::with_capacity(bytes.len() / 64);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain((!text.ends_with('\n')).then_some(bytes.len()));
    for (n, end) in ends.enumerate() {
        let mut from = start;
        let mut to = end;
        start = end + 1;
        if to > from && bytes[to - 1] == b'\r' {
            to -= 1;
        }
        if let Some(cr) = memchr::memrchr(b'\r', &bytes[from..to]) {
            from += cr + 1;
        }
        // Cut next to ASCII bytes only: always at a character's boundary.
        lines.push((n, text.get(from..to).unwrap_or_default()));
    }
    lines
}

/// Paths as a tool printed them, to files that exist. Remembers each
/// answer: a build names the same few files thousands of times.
pub struct Resolver<'a> {
    cwd: &'a Path,
    /// Paths resolve no higher than this: the project's root, or the
    /// task's folder outside a project (a same-named file further up is
    /// not the one the tool meant).
    root: PathBuf,
    known: RefCell<HashMap<String, Option<PathBuf>>>,
}

impl<'a> Resolver<'a> {
    fn new(cwd: &'a Path) -> Resolver<'a> {
        let root = crate::detect::project_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
        Resolver { cwd, root, known: RefCell::default() }
    }
}

impl Resolver<'_> {
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        if let Some(known) = self.known.borrow().get(path) {
            return known.clone();
        }
        let found = self.look_up(path);
        self.known.borrow_mut().insert(path.to_owned(), found.clone());
        found
    }

    fn look_up(&self, path: &str) -> Option<PathBuf> {
        let path = Path::new(path.trim());
        if path.as_os_str().is_empty() {
            return None;
        }
        if path.is_absolute() {
            return path.is_file().then(|| path.to_path_buf());
        }
        let mut folders = self.cwd.ancestors().take_while(|d| d.starts_with(&self.root));
        folders.find_map(|d| Some(normalize(&d.join(path))).filter(|p| p.is_file()))
    }

    /// Is `path` one of the project's files (not a library's)?
    fn in_project(&self, path: &str) -> bool {
        let inside = match self.resolve(path) {
            Some(p) => p.starts_with(&self.root),
            None => false,
        };
        inside && !path.contains("site-packages") && !path.contains("/lib/python")
    }
}

/// `a/./b/../c` as `a/c`, without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `text` without terminal escape sequences (colours, titles, cursor moves).
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\x1b') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        rest = match after.as_bytes().first() {
            // CSI: parameters, then one final byte.
            Some(b'[') => after[1..].find(|c: char| ('\x40'..='\x7e').contains(&c)).map_or("", |end| &after[end + 2..]),
            // OSC: up to BEL or ESC \.
            Some(b']') => match after.find(['\x07', '\x1b']) {
                Some(end) if after[end..].starts_with("\x1b\\") => &after[end + 2..],
                Some(end) => &after[end + 1..],
                None => "",
            },
            _ => after,
        };
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `s` split at each ": " in turn, the separator of nearly every tool's
/// format (found with a byte search: a searcher for ": " set up per line
/// cost more than the matching itself).
fn colon_splits(s: &str) -> impl Iterator<Item = (&str, &str)> {
    memchr::memchr_iter(b':', s.as_bytes())
        .filter(|at| s.as_bytes().get(at + 1) == Some(&b' '))
        .map(|at| (&s[..at], &s[at + 2..]))
}

/// `s` split at its first ": ".
fn split_colon(s: &str) -> Option<(&str, &str)> {
    colon_splits(s).next()
}

/// A number in a match, if it is one.
fn num(s: &str) -> Option<u32> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_titles_and_carriage_returns_are_gone_before_matching() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[31merror\x1b[0m: x\x1b]0;title\x07!"), "error: x!");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.c"), "").unwrap();
        let out = "progress 10%\rprogress 100%\r\x1b[1ma.c:1:2: \x1b[31merror:\x1b[0m boom\n";
        let found = parse(out, dir.path(), None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].message, "boom");
        assert_eq!(found[0].file, dir.path().join("a.c").display().to_string());
    }

    #[test]
    fn a_line_another_matcher_reads_is_theirs_not_the_generic_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.py"), "").unwrap();
        std::fs::write(dir.path().join("app.yml"), "").unwrap();
        let out = "x.py:3: error: Name \"y\" is not defined  [name-defined]\napp.yml:2: bad indent\n";
        let found = parse(out, dir.path(), Some("python,generic"));
        let seen: Vec<_> = found.iter().map(|d| (d.source.as_str(), d.code.as_deref())).collect();
        assert_eq!(seen, [("mypy", Some("name-defined")), ("generic", None)]);
    }

    #[test]
    fn paths_resolve_from_the_folder_or_above_and_missing_files_are_dropped() {
        let outside = tempfile::tempdir().unwrap();
        let dir = outside.path().join("project");
        let dir = &dir;
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::create_dir_all(dir.join("crate/src")).unwrap();
        std::fs::write(dir.join("crate/src/lib.rs"), "").unwrap();
        std::fs::write(outside.path().join("above.rs"), "").unwrap();
        let sub = dir.join("crate/src");
        let r = Resolver::new(&sub);
        assert_eq!(r.resolve("crate/src/lib.rs"), Some(dir.join("crate/src/lib.rs")), "from the workspace root");
        assert_eq!(r.resolve("above.rs"), None, "not above the project's root");
        assert_eq!(r.resolve("./lib.rs"), Some(sub.join("lib.rs")));
        assert_eq!(r.resolve("gone.rs"), None);
    }
}
