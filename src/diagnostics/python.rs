//! Python: a traceback as one diagnostic at its innermost frame in the
//! project (not a library's), pytest's `file.py:12: AssertionError`, and
//! mypy's `file.py:3: error: message  [code]`.

use super::{num, split_colon, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, resolver: &Resolver) -> Vec<Found> {
    let mut found = Vec::new();
    // Inside a traceback: the innermost project frame so far (path, line, where it started).
    let mut frame: Option<(String, u32)> = None;
    let mut start = 0;
    let mut in_traceback = false;
    for (at, line) in lines.iter().copied() {
        if line.starts_with("Traceback (most recent call last):") {
            (in_traceback, frame, start) = (true, None, at);
            continue;
        }
        if in_traceback {
            if let Some((path, l)) = frame_of(line) {
                if resolver.in_project(&path) {
                    frame = Some((path, l));
                }
                continue;
            }
            if line.starts_with(char::is_whitespace) || line.is_empty() {
                continue; // the frame's source line, or a chained exception's gap
            }
            // The exception itself ends it.
            in_traceback = false;
            if let Some((path, l)) = frame.take() {
                let code = line.split_once(':').map(|(name, _)| name.to_owned()).filter(|n| !n.contains(' '));
                found.push(Found {
                    at: start,
                    path,
                    line: l,
                    column: None,
                    severity: Severity::Error,
                    message: line.to_string(),
                    code,
                    source: "python",
                });
            }
            continue;
        }
        if let Some(f) = mypy(line).or_else(|| pytest(line)) {
            found.push(Found { at, ..f });
        }
    }
    found
}

/// `  File "/p/app.py", line 3, in main`.
fn frame_of(line: &str) -> Option<(String, u32)> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (path, rest) = rest.split_once("\", line ")?;
    let l = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((path.to_owned(), num(l)?))
}

/// `app.py:3: error: Incompatible types in assignment  [assignment]` (also with a column).
fn mypy(line: &str) -> Option<Found> {
    let (place, rest) = split_colon(line)?;
    let (word, message) = split_colon(rest)?;
    if !matches!(word, "error" | "warning" | "note") {
        return None;
    }
    let (path, l, c) = place_of(place)?;
    let (message, code) = match message.strip_suffix(']').and_then(|m| m.rsplit_once("  [")) {
        Some((message, code)) => (message, Some(code.to_owned())),
        None => (message, None),
    };
    Some(Found {
        at: 0,
        path,
        line: l,
        column: c,
        severity: Severity::parse(word),
        message: message.to_owned(),
        code,
        source: "mypy",
    })
}

/// pytest's `tests/test_app.py:12: AssertionError` (the line a test failed on).
fn pytest(line: &str) -> Option<Found> {
    let (place, message) = split_colon(line)?;
    let (path, l, None) = place_of(place)? else { return None };
    if message.contains(' ') && !message.contains("Error") {
        return None;
    }
    Some(Found {
        at: 0,
        path,
        line: l,
        column: None,
        severity: Severity::Error,
        message: message.to_owned(),
        code: None,
        source: "pytest",
    })
}

/// `file.py:3` or `file.py:3:5`.
fn place_of(place: &str) -> Option<(String, u32, Option<u32>)> {
    let mut parts = place.rsplitn(3, ':');
    let last = num(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (Some(l), Some(path)) if path.ends_with(".py") || path.ends_with(".pyi") => {
            Some((path.to_owned(), num(l)?, Some(last)))
        }
        (Some(path), None) if path.ends_with(".py") || path.ends_with(".pyi") => Some((path.to_owned(), last, None)),
        _ => None,
    }
}
