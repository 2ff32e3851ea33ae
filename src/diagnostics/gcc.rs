//! gcc and clang (and so make's output): `file:line:col: error: message
//! [-Wflag]`, also without a column.

use super::{colon_splits, num, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    lines.iter().copied().filter_map(|(at, line)| one(line).map(|f| Found { at, ..f })).collect()
}

fn one(line: &str) -> Option<Found> {
    const WORDS: [&str; 4] = ["fatal error", "error", "warning", "note"];
    let (place, word, message) = colon_splits(line).find_map(|(place, rest)| {
        WORDS.iter().find_map(|word| Some((place, *word, rest.strip_prefix(word)?.strip_prefix(": ")?)))
    })?;
    let mut parts = place.rsplitn(3, ':');
    let (path, line, column) = match (parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(l), Some(p)) if num(c).is_some() && num(l).is_some() => (p, num(l)?, num(c)),
        _ => {
            let (p, l) = place.rsplit_once(':')?;
            (p, num(l)?, None)
        }
    };
    // Not rustc's short form, tsc's or python's: those have their own matchers.
    let theirs = [".rs", ".ts", ".py", ".pyi"];
    if theirs.iter().any(|ext| path.ends_with(ext)) || path.contains(' ') {
        return None;
    }
    let (message, code) = match message.strip_suffix(']').and_then(|m| m.rsplit_once(" [-W")) {
        Some((message, flag)) => (message, Some(format!("-W{flag}"))),
        None => (message, None),
    };
    Some(Found {
        at: 0,
        path: path.to_owned(),
        line,
        column,
        severity: Severity::parse(word),
        message: message.to_owned(),
        code,
        source: "gcc",
    })
}
