//! Go: `go build` and `go vet` (`./x.go:3:2: message`) and `go test`
//! failures (`    x_test.go:12: message`).

use super::{num, split_colon, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    lines.iter().copied().filter_map(|(at, line)| one(line).map(|f| Found { at, ..f })).collect()
}

fn one(line: &str) -> Option<Found> {
    let test_failure = line.starts_with(char::is_whitespace);
    let body = line.trim_start();
    let (place, message) = split_colon(body.strip_prefix("vet: ").unwrap_or(body))?;
    let mut parts = place.rsplitn(3, ':');
    let last = num(parts.next()?)?;
    let (path, line, column) = match (parts.next(), parts.next()) {
        (Some(l), Some(path)) if num(l).is_some() => (path, num(l)?, Some(last)),
        (Some(path), None) => (path, last, None),
        _ => return None,
    };
    if !path.ends_with(".go") || (test_failure && !path.ends_with("_test.go")) {
        return None;
    }
    Some(Found {
        at: 0,
        path: path.to_owned(),
        line,
        column,
        severity: Severity::Error,
        message: message.to_owned(),
        code: None,
        source: "go",
    })
}
