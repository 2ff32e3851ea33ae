//! TypeScript's `tsc`: `file(3,5): error TS2322: …` and the pretty
//! `file:3:5 - error TS2322: …`.

use super::{num, Found, Resolver, Severity};

pub fn matches(lines: &[&str], _: &Resolver) -> Vec<Found> {
    lines.iter().enumerate().filter_map(|(at, line)| one(line).map(|f| Found { at, ..f })).collect()
}

fn one(line: &str) -> Option<Found> {
    let (place, rest) = line.split_once(": ").filter(|(p, _)| p.ends_with(')')).or_else(|| line.split_once(" - "))?;
    let (word, rest) = rest.split_once(' ')?;
    if word != "error" && word != "warning" {
        return None;
    }
    let (code, message) = rest.split_once(": ")?;
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
