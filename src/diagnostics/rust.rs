//! rustc and cargo: the human form (`error[E0308]: …` then ` --> file:3:5`)
//! and `--message-format=short` (`file:3:5: error[E0308]: …`).

use super::{num, split_colon, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    let mut found = Vec::new();
    // A header waiting for its location: (line, severity, code, message).
    let mut pending: Option<(usize, Severity, Option<String>, String)> = None;
    for (at, line) in lines.iter().copied() {
        if let Some((severity, code, message)) = header(line) {
            pending = Some((at, severity, code, message));
            continue;
        }
        if let Some(location) = line.trim_start().strip_prefix("--> ") {
            if let (Some((at, severity, code, message)), Some((path, l, c))) = (pending.take(), location_of(location)) {
                found.push(Found { at, path, line: l, column: Some(c), severity, message, code, source: "rustc" });
            }
            continue;
        }
        if let Some(short) = short(line) {
            found.push(Found { at, ..short });
        }
    }
    found
}

/// `error[E0308]: mismatched types`, `warning: unused variable`: severity, code, message.
fn header(line: &str) -> Option<(Severity, Option<String>, String)> {
    let (head, message) = split_colon(line)?;
    let (word, code) = match head.split_once('[') {
        Some((word, code)) => (word, Some(code.strip_suffix(']')?.to_owned())),
        None => (head, None),
    };
    matches!(word, "error" | "warning" | "note" | "help").then(|| (Severity::parse(word), code, message.to_owned()))
}

/// `src/main.rs:3:5`.
fn location_of(text: &str) -> Option<(String, u32, u32)> {
    let mut parts = text.trim().rsplitn(3, ':');
    let column = num(parts.next()?)?;
    let line = num(parts.next()?)?;
    Some((parts.next()?.to_owned(), line, column))
}

/// `src/main.rs:3:5: error[E0308]: mismatched types`.
fn short(line: &str) -> Option<Found> {
    let (place, rest) = split_colon(line)?;
    let (severity, code, message) = header(rest)?;
    let (path, l, c) = location_of(place)?;
    path.ends_with(".rs").then_some(Found {
        at: 0,
        path,
        line: l,
        column: Some(c),
        severity,
        message,
        code,
        source: "rustc",
    })
}
