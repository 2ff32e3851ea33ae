//! TypeScript's `tsc`: `file(3,5): error TS2322: …` and the pretty
//! `file:3:5 - error TS2322: …`.

use super::{colon_splits, num, split_colon, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    lines.iter().copied().filter_map(|(at, line)| one(line).map(|f| Found { at, ..f })).collect()
}

/// Does `head` end in ` TS` and digits (a TypeScript error code)?
fn has_code(head: &str) -> bool {
    let digits = head.trim_end_matches(|c: char| c.is_ascii_digit());
    digits.len() < head.len() && digits.ends_with(" TS")
}

fn one(line: &str) -> Option<Found> {
    // `place: error TS…: message` or `place - error TS…: message`.
    let (head, message) = colon_splits(line).find(|(head, _)| has_code(head))?;
    let (place, kind) = match head.rsplit_once(" - ") {
        Some((place, kind)) if !place.ends_with(')') => (place, kind),
        _ => split_colon(head)?,
    };
    let (word, code) = kind.split_once(' ')?;
    if word != "error" && word != "warning" {
        return None;
    }
    if !code.starts_with("TS") {
        return None;
    }
    let (path, line, column) = match place.strip_suffix(')').and_then(|p| p.rsplit_once('(')) {
        Some((path, at)) => {
            let (l, c) = at.split_once(',')?;
            (path, num(l)?, num(c)?)
        }
        None => {
            let mut parts = place.rsplitn(3, ':');
            let c = num(parts.next()?)?;
            let l = num(parts.next()?)?;
            (parts.next()?, l, c)
        }
    };
    Some(Found {
        at: 0,
        path: path.to_owned(),
        line,
        column: Some(column),
        severity: Severity::parse(word),
        message: message.to_owned(),
        code: Some(code.to_owned()),
        source: "tsc",
    })
}
