//! ESLint: the default `stylish` form (a file's path on its own line, then
//! `  3:10  error  message  rule-id` under it), and the `unix`
//! (`file:3:10: message [Error/rule-id]`) and `compact`
//! (`file: line 3, col 10, Error - message (rule-id)`) forms.

use super::{colon_splits, num, split_colon, Found, Lines, Resolver, Severity};

/// The stylish form: it needs every line (a file header holds no colon).
pub fn stylish_matches(lines: &Lines, resolver: &Resolver) -> Vec<Found> {
    let mut found = Vec::new();
    let mut file: Option<&str> = None;
    for (at, line) in lines.iter().copied() {
        if !line.starts_with(char::is_whitespace) {
            // A stylish file header is a path that exists, alone on its line
            // (ESLint prints it absolute).
            file = (line.starts_with('/') && resolver.resolve(line).is_some()).then_some(line);
            continue;
        }
        let Some(path) = file else { continue };
        if let Some((l, c, severity, message, rule)) = stylish(line) {
            found.push(Found {
                at,
                path: path.to_owned(),
                line: l,
                column: Some(c),
                severity,
                message,
                code: rule,
                source: "eslint",
            });
        }
    }
    found
}

/// The unix and compact forms, one line each.
pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    lines.iter().filter_map(|&(at, line)| unix(line).or_else(|| compact(line)).map(|f| Found { at, ..f })).collect()
}

/// `  3:10  error  'x' is assigned a value but never used  no-unused-vars`.
fn stylish(line: &str) -> Option<(u32, u32, Severity, String, Option<String>)> {
    let line = line.trim();
    let (place, rest) = line.split_once(char::is_whitespace)?;
    let (l, c) = place.split_once(':')?;
    let rest = rest.trim_start();
    let (word, rest) = rest.split_once(char::is_whitespace)?;
    if word != "error" && word != "warning" {
        return None;
    }
    // The rule is the last column, two or more spaces after the message.
    let rest = rest.trim();
    let (message, rule) = match rest.rsplit_once("  ") {
        Some((message, rule)) if !rule.contains(' ') => (message.trim(), Some(rule.to_owned())),
        _ => (rest, None),
    };
    Some((num(l)?, num(c)?, Severity::parse(word), message.to_owned(), rule))
}

/// `/p/a.js:3:10: 'x' is assigned a value but never used. [Error/no-unused-vars]`.
fn unix(line: &str) -> Option<Found> {
    let (head, tag) = line.strip_suffix(']')?.rsplit_once(" [")?;
    let (word, rule) = tag.split_once('/').map_or((tag, None), |(w, r)| (w, Some(r.to_owned())));
    if word != "Error" && word != "Warning" {
        return None;
    }
    let (place, message) = split_colon(head)?;
    let mut parts = place.rsplitn(3, ':');
    let c = num(parts.next()?)?;
    let l = num(parts.next()?)?;
    let path = parts.next()?.to_owned();
    Some(Found {
        at: 0,
        path,
        line: l,
        column: Some(c),
        severity: Severity::parse(word),
        message: message.to_owned(),
        code: rule,
        source: "eslint",
    })
}

/// `/p/a.js: line 3, col 10, Error - 'x' is assigned a value but never used. (no-unused-vars)`.
fn compact(line: &str) -> Option<Found> {
    let (path, rest) = colon_splits(line).find_map(|(path, rest)| Some((path, rest.strip_prefix("line ")?)))?;
    let (l, rest) = rest.split_once(", col ")?;
    let (c, rest) = rest.split_once(", ")?;
    let (word, message) = rest.split_once(" - ")?;
    if word != "Error" && word != "Warning" {
        return None;
    }
    let (message, rule) = match message.strip_suffix(')').and_then(|m| m.rsplit_once(" (")) {
        Some((message, rule)) => (message, Some(rule.to_owned())),
        None => (message, None),
    };
    Some(Found {
        at: 0,
        path: path.to_owned(),
        line: num(l)?,
        column: num(c),
        severity: Severity::parse(word),
        message: message.to_owned(),
        code: rule,
        source: "eslint",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // ESLint 9 ships only stylish (captured in tests/fixtures); the unix and
    // compact forms are separate formatter packages, written here from their
    // documented output.
    #[test]
    fn the_unix_and_compact_forms() {
        let u = unix("/p/a.js:3:10: 'x' is assigned a value but never used. [Error/no-unused-vars]").unwrap();
        assert_eq!((u.path.as_str(), u.line, u.column), ("/p/a.js", 3, Some(10)));
        assert_eq!((u.severity, u.code.as_deref()), (Severity::Error, Some("no-unused-vars")));
        assert_eq!(u.message, "'x' is assigned a value but never used.");
        let c = compact("/p/a.js: line 2, col 7, Warning - Expected '===' and instead saw '=='. (eqeqeq)").unwrap();
        assert_eq!((c.path.as_str(), c.line, c.column), ("/p/a.js", 2, Some(7)));
        assert_eq!((c.severity, c.code.as_deref()), (Severity::Warning, Some("eqeqeq")));
        assert!(unix("make: *** [Makefile:2: all] Error 1").is_none());
    }
}
