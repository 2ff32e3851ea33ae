//! The fallback for tools errand has no matcher for: `file:line: message`
//! or `file:line:col: message`, the form most compilers and linters can
//! print. Off unless a workflow or run chooses it (`matcher = "generic"`).
//! A leading `error:`/`warning:`/`note:` sets the severity (error otherwise).

use super::{colon_splits, num, Found, Lines, Resolver, Severity};

pub fn matches(lines: &Lines, _: &Resolver) -> Vec<Found> {
    lines.iter().copied().filter_map(|(at, line)| one(line).map(|f| Found { at, ..f })).collect()
}

fn one(line: &str) -> Option<Found> {
    let (path, line_no, column, message) = colon_splits(line.trim_start()).find_map(|(place, message)| {
        let mut parts = place.rsplitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(l), Some(p)) if num(c).is_some() && num(l).is_some() => Some((p, num(l)?, num(c), message)),
            _ => {
                let (p, l) = place.rsplit_once(':')?;
                Some((p, num(l)?, None, message))
            }
        }
    })?;
    // A time (`12:30:01: started`) is not a place.
    if path.is_empty() || path.contains(' ') || path.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (severity, message) = match split_word(message) {
        Some((word, rest)) => (Severity::parse(word), rest),
        None => (Severity::Error, message),
    };
    Some(Found {
        at: 0,
        path: path.to_owned(),
        line: line_no,
        column,
        severity,
        message: message.to_owned(),
        code: None,
        source: "generic",
    })
}

/// `error: rest` → ("error", "rest"), for the words that name a severity.
fn split_word(message: &str) -> Option<(&str, &str)> {
    const WORDS: [&str; 6] = ["error", "warning", "note", "info", "hint", "fatal error"];
    let (word, rest) = message.split_once(": ")?;
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(word.trim())).then_some((word.trim(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_with_and_without_columns_and_severity_words() {
        let f = one("lib/x.lua:12:3: warning: unused variable 'y'").unwrap();
        assert_eq!((f.path.as_str(), f.line, f.column, f.severity), ("lib/x.lua", 12, Some(3), Severity::Warning));
        assert_eq!(f.message, "unused variable 'y'");
        let f = one("  conf/app.yml:4: mapping values are not allowed here").unwrap();
        assert_eq!((f.path.as_str(), f.line, f.column, f.severity), ("conf/app.yml", 4, None, Severity::Error));
        assert!(one("12:30:01: the build started").is_none(), "a time is not a place");
        assert!(one("INFO: nothing here").is_none());
        assert!(one("in file a b.c:3: x").is_none());
    }
}
