//! Progress read from a task's output, so that a task which never calls
//! `errand progress` still shows how far it got: percentages (`45%`, tqdm
//! bars), counts in brackets (`[12/40]` as ninja and many test runners
//! print, `(3/7)`), cargo's `Building [====>    ] 45/120: serde`, and
//! sizes as pip prints them (`5.2/10.0 MB`). Lines redrawn with `\r` count
//! as lines. The newest line that says something wins; a line that says
//! nothing changes nothing.

use crate::diagnostics::strip_ansi;

/// The longest line kept while it is written: a progress bar is short.
const MAX_LINE: usize = 512;
/// The longest message kept with the percentage.
const MAX_MESSAGE: usize = 80;

/// How far a task got, by its own output.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub percent: f64,
    /// The line that said so (trimmed, without colours, at most 80 characters).
    pub message: String,
}

/// Reads progress from output as it is captured.
#[derive(Debug, Default)]
pub struct Scanner {
    /// The end of the line being written.
    line: Vec<u8>,
}

impl Scanner {
    /// Take in output; the newest progress in it, if any.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Seen> {
        let mut newest = None;
        for piece in bytes.split_inclusive(|b| *b == b'\n' || *b == b'\r') {
            let ended = matches!(piece.last(), Some(b'\n' | b'\r'));
            self.line.extend_from_slice(if ended { &piece[..piece.len() - 1] } else { piece });
            if self.line.len() > MAX_LINE {
                self.line.drain(..self.line.len() - MAX_LINE);
            }
            if ended {
                newest = parse_line(&self.line).or(newest);
                self.line.clear();
            }
        }
        // A bar still being drawn (no `\r` yet) says something too.
        parse_line(&self.line).or(newest)
    }
}

/// The progress one line of output states, if it states one.
pub fn parse_line(line: &[u8]) -> Option<Seen> {
    if !line.iter().any(|b| matches!(b, b'%' | b'/')) {
        return None;
    }
    let text = String::from_utf8_lossy(line);
    let text = strip_ansi(&text);
    let text = text.trim();
    let percent = last_percentage(text).or_else(|| last_fraction(text))?;
    let message: String = text.chars().take(MAX_MESSAGE).collect();
    Some(Seen { percent, message })
}

/// The last `NN%` or `NN.N%` (0 to 100) in `text`.
fn last_percentage(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().rev().filter(|(_, b)| **b == b'%').find_map(|(at, _)| {
        let before = text[..at].trim_end_matches(' ');
        let number = trailing_number(before)?;
        // "a5%" is not a percentage; "(45%" and "45%|" are.
        let start = before.len() - number.len();
        if before[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '.') {
            return None;
        }
        number.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p))
    })
}

/// The last `[n/m]`, `(n/m)`, `] n/m` (cargo) or `x/y MB` (pip) in `text`.
fn last_fraction(text: &str) -> Option<f64> {
    text.char_indices().rev().filter(|(_, c)| *c == '/').find_map(|(at, _)| {
        let done = trailing_number(&text[..at])?;
        let rest = &text[at + 1..];
        let total = leading_number(rest)?;
        let start = at - done.len();
        let opener = text[..start].chars().next_back();
        let closer = rest[total.len()..].chars().next();
        let after = rest[total.len()..].trim_start();
        let framed = matches!((opener, closer), (Some('['), Some(']')) | (Some('('), Some(')')))
            || (opener == Some(' ') && text[..start].trim_end().ends_with(']'))
            || (opener.is_none_or(|c| c == ' ')
                && ["kB", "KB", "MB", "GB", "KiB", "MiB", "GiB", "B "].iter().any(|u| after.starts_with(u)));
        if !framed {
            return None;
        }
        let (done, total) = (done.parse::<f64>().ok()?, total.parse::<f64>().ok()?);
        (total > 0.0 && done <= total).then(|| done * 100.0 / total)
    })
}

/// The number `text` ends with (digits, at most one `.` inside).
fn trailing_number(text: &str) -> Option<&str> {
    let start = text.rfind(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(0, |i| i + 1);
    let number = text[start..].trim_start_matches('.');
    (!number.is_empty()
        && number.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && number.matches('.').count() <= 1)
        .then_some(number)
}

/// The number `text` starts with.
fn leading_number(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let number = text[..end].trim_end_matches('.');
    (!number.is_empty() && number.matches('.').count() <= 1).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(line: &str) -> Option<f64> {
        parse_line(line.as_bytes()).map(|s| (s.percent * 10.0).round() / 10.0)
    }

    #[test]
    fn what_real_tools_print() {
        // cargo (its bar, with colours), ninja, pytest-like, tqdm, pip, curl, rsync.
        assert_eq!(percent("\x1b[1m\x1b[36m    Building\x1b[0m [=====>     ] 45/120: serde, tokio"), Some(37.5));
        assert_eq!(percent("[12/40] Building CXX object src/main.cpp.o"), Some(30.0));
        assert_eq!(percent("tests/test_api.py::test_ok PASSED                [ 45%]"), Some(45.0));
        assert_eq!(percent(" 45%|████▌     | 45/100 [00:01<00:01, 45.00it/s]"), Some(45.0));
        assert_eq!(percent("   ━━━━━━━━━━━━━━━━━━━━╸━━━━━━━━━━━━━━━━━━━ 5.2/10.4 MB 3.1 MB/s eta 0:00:02"), Some(50.0));
        assert_eq!(percent(" 62.5% of 1.2GiB"), Some(62.5));
        assert_eq!(percent("step (3/4): link"), Some(75.0));
    }

    #[test]
    fn what_is_not_progress() {
        for line in [
            "see src/12/40/file.rs",
            "2026/11/22 12:00 started",
            "CPU a5% load",
            "ratio 3/4 of the way",
            "[5/0] nothing",
            "[7/5] more done than total",
            "disk 150% full",
            "https://example.com/a/b",
            "plain text",
        ] {
            assert_eq!(percent(line), None, "{line}");
        }
    }

    #[test]
    fn redrawn_lines_count_and_the_newest_wins() {
        let mut s = Scanner::default();
        let seen = s.feed(b"downloading\r 10%|#         |\r 20%|##        |\r");
        assert_eq!(seen.map(|s| s.percent), Some(20.0));
        // A bar split across reads, still being drawn.
        assert_eq!(s.feed(b" 3").map(|s| s.percent), None);
        assert_eq!(s.feed(b"0%|###").map(|s| s.percent), Some(30.0));
        assert_eq!(s.feed(b"\r").map(|s| s.percent), Some(30.0), "the bar's line ends");
        // A line with nothing to say changes nothing.
        assert_eq!(s.feed(b"all good\n"), None);
        let seen = s.feed(b"[1/3] a\n[2/3] b\n").unwrap();
        assert_eq!((seen.percent.round(), seen.message.as_str()), (67.0, "[2/3] b"));
    }
}
