//! Readiness of a long-running task (a dev server, `tsc --watch`): the
//! task is `ready` once a line of its output matches the pattern it was
//! given (`--ready 'Listening on'`, a workflow's `ready`). Colours are
//! taken out first, lines redrawn with `\r` count as lines, and a line
//! still being written counts too (a prompt that waits without a newline).

use crate::diagnostics::strip_ansi;

/// The longest pattern accepted: a readiness regex is a short phrase.
const MAX_PATTERN: usize = 1024;
/// The most memory a compiled pattern may take: a hostile one is refused.
const MAX_COMPILED: usize = 1 << 20;
/// The longest line kept while it is written; a longer one is matched on its end.
const MAX_LINE: usize = 4096;

/// A checked readiness pattern.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// The pattern, or why it cannot be one (a clear message for the user).
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        if pattern.is_empty() {
            return Err("the ready pattern is empty".into());
        }
        if pattern.len() > MAX_PATTERN {
            return Err(format!("the ready pattern is {} bytes; at most {MAX_PATTERN}", pattern.len()));
        }
        regex::RegexBuilder::new(pattern)
            .size_limit(MAX_COMPILED)
            .build()
            .map(Pattern)
            .map_err(|e| format!("the ready pattern is not a regex: {}", one_line(&e.to_string())))
    }
}

/// regex's messages draw a caret under the pattern over several lines.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Watches a task's output, both streams, for the pattern.
#[derive(Debug)]
pub struct Scanner {
    pattern: Pattern,
    /// The line being written, per stream (stdout, stderr): they interleave.
    lines: [Vec<u8>; 2],
}

impl Scanner {
    pub fn new(pattern: Pattern) -> Scanner {
        Scanner { pattern, lines: [Vec::new(), Vec::new()] }
    }

    /// Take in output of stream `which` (0 stdout, 1 stderr): true once a
    /// line matched.
    pub fn feed(&mut self, which: usize, bytes: &[u8]) -> bool {
        let Some(line) = self.lines.get_mut(which) else { return false };
        for piece in bytes.split_inclusive(|b| *b == b'\n' || *b == b'\r') {
            let ended = matches!(piece.last(), Some(b'\n' | b'\r'));
            line.extend_from_slice(if ended { &piece[..piece.len() - 1] } else { piece });
            if line.len() > MAX_LINE {
                line.drain(..line.len() - MAX_LINE);
            }
            if ended {
                if matches(&self.pattern, line) {
                    return true;
                }
                line.clear();
            }
        }
        matches(&self.pattern, line)
    }
}

fn matches(pattern: &Pattern, line: &[u8]) -> bool {
    !line.is_empty() && pattern.0.is_match(&strip_ansi(&String::from_utf8_lossy(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(p: &str) -> Scanner {
        Scanner::new(Pattern::new(p).unwrap())
    }

    #[test]
    fn a_line_matches_across_reads_and_without_its_colours() {
        let mut s = scanner(r"Local:\s+http://");
        assert!(!s.feed(0, b"  VITE v5 ready\n  \x1b[32mLocal\x1b[0m:   ht"));
        assert!(s.feed(0, b"tp://localhost:5173/\n"));
    }

    #[test]
    fn streams_do_not_mix_their_lines() {
        let mut s = scanner("^Listening on");
        assert!(!s.feed(0, b"Listen"));
        assert!(!s.feed(1, b"ing on 3000\n"), "the end of another stream's line is not this line");
        assert!(s.feed(1, b"Listening on 3000\n"));
    }

    #[test]
    fn a_prompt_without_a_newline_matches_and_redrawn_lines_count() {
        assert!(scanner("ready>").feed(0, b"loading...\nready> "));
        assert!(scanner("^compiled$").feed(1, b"compiling 3%\rcompiled\r"));
        assert!(!scanner("^compiled$").feed(1, b"compiling 3%\rcompiled 4\r"));
    }

    #[test]
    fn bad_patterns_are_refused_with_one_line() {
        let e = Pattern::new("Listening (on").unwrap_err();
        assert!(e.starts_with("the ready pattern is not a regex:") && !e.contains('\n'), "{e}");
        assert_eq!(Pattern::new("").unwrap_err(), "the ready pattern is empty");
        assert!(Pattern::new(&"a".repeat(2000)).unwrap_err().contains("at most 1024"));
        // Compiles to far more than the limit.
        assert!(Pattern::new(r"\w{1000}\w{1000}").is_err());
    }
}
