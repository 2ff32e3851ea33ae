//! Compile cycles of watch-mode tools: `tsc --watch`, `cargo watch`,
//! webpack and esbuild in watch mode, `vite build --watch`, nodemon. Each
//! ends its cycle with a line of its own ("Found 2 errors. Watching for
//! file changes."); the output since the last such line is one cycle,
//! whose diagnostics replace the last cycle's while the task runs.
//!
//! Every task's output goes through this, so it costs a literal search per
//! read (a few GB/s), and a line is looked at only where a tool's words
//! are, a few per read at most.

use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::diagnostics::strip_ansi;

/// The words every end-of-cycle line holds (a fast search over raw output).
static WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Watching for file changes|Finished running|compiled|built in|Built in|waiting for|build finished")
        .expect("a valid regex")
});

/// The end-of-cycle lines themselves, colours taken out.
static END_OF_CYCLE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(concat!(
        // tsc --watch: "[10:04:05 AM] Found 1 error. Watching for file changes."
        r"(?i)(Found \d+ errors?\.? Watching for file changes",
        // cargo watch: "[Finished running. Exit status: 101]"
        r"|^\[Finished running\b",
        // webpack --watch: "webpack 5.89.0 compiled with 1 error in 310 ms"
        r"|^webpack \S+ compiled\b",
        // vite build --watch: "✓ built in 1.02s"
        r"|\bbuilt in [\d.]+\s*m?s\b",
        // nodemon: "[nodemon] app crashed - waiting for file changes before starting..."
        r"|^\[nodemon\] .*waiting for (file )?changes",
        // esbuild --watch: "[watch] build finished, watching for changes..."
        // after its first build, "[watch] build finished" after each rebuild
        r"|^\[watch\] build finished)",
    ))
    .expect("a valid regex")
});

/// How many lines with the words one read has looked at, at most.
const MAX_LOOKS: usize = 4;
/// The longest line looked at; of a longer one, its end.
const MAX_LINE: usize = 4096;

/// Finds the ends of cycles in a task's output, per stream, in whole lines.
#[derive(Debug, Default)]
pub struct Scanner {
    /// Each stream's line still being written (stdout, stderr): a tool's
    /// line cut between two reads is looked at once it ends.
    partial: [Vec<u8>; 2],
}

impl Scanner {
    /// Take in output of stream `which` (0 stdout, 1 stderr): true if a
    /// line it ended ends a cycle.
    pub fn feed(&mut self, which: usize, bytes: &[u8]) -> bool {
        let Some(partial) = self.partial.get_mut(which) else { return false };
        let Some(last_break) = bytes.iter().rposition(is_break) else {
            append(partial, bytes);
            return false;
        };
        let first_break = bytes.iter().position(is_break).unwrap_or(last_break);
        // The line the last read left unfinished, finished by this one.
        append(partial, &bytes[..first_break]);
        let mut ended = WORDS.is_match(partial) && is_end_line(partial);
        partial.clear();
        // The lines this read holds whole. The end of a cycle is the last
        // line of its burst: the last few lines with the words are looked
        // at, not each of a flood of them.
        let whole = &bytes[first_break..=last_break];
        let starts: Vec<usize> = WORDS.find_iter(whole).map(|m| m.start()).collect();
        ended |= starts.iter().rev().take(MAX_LOOKS).any(|&at| is_end_line(line_around(whole, at)));
        append(partial, &bytes[last_break + 1..]);
        ended
    }
}

fn is_break(b: &u8) -> bool {
    matches!(b, b'\n' | b'\r')
}

/// Add to a line being written, keeping its last `MAX_LINE` bytes.
fn append(line: &mut Vec<u8>, bytes: &[u8]) {
    line.extend_from_slice(&bytes[bytes.len().saturating_sub(MAX_LINE)..]);
    if line.len() > MAX_LINE {
        line.drain(..line.len() - MAX_LINE);
    }
}

/// The line around byte `at` of whole lines (at most `MAX_LINE` each side).
fn line_around(text: &[u8], at: usize) -> &[u8] {
    let start = text[..at].iter().rposition(is_break).map_or(0, |k| k + 1).max(at.saturating_sub(MAX_LINE));
    let end = text[at..].iter().position(is_break).map_or(text.len(), |k| at + k).min(at + MAX_LINE);
    &text[start..end]
}

fn is_end_line(line: &[u8]) -> bool {
    END_OF_CYCLE.is_match(strip_ansi(&String::from_utf8_lossy(line)).trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(lines: &[&str]) -> Vec<bool> {
        let mut s = Scanner::default();
        lines.iter().map(|l| s.feed(0, l.as_bytes())).collect()
    }

    #[test]
    fn the_tools_own_end_of_cycle_lines_end_a_cycle() {
        for line in [
            "[\x1b[90m10:04:05 AM\x1b[0m] Found 1 error. Watching for file changes.\n",
            "10:04:05 - Found 0 errors. Watching for file changes.\r\n",
            "[Finished running. Exit status: 101]\n",
            "webpack 5.89.0 compiled with 1 error in 310 ms\n",
            "\x1b[32m✓ built in 1.02s\x1b[39m\n",
            "[nodemon] app crashed - waiting for file changes before starting...\n",
            "[watch] build finished, watching for changes...\n",
            "[watch] build finished\n",
            "✨ Built in 1.23s\n",
        ] {
            assert_eq!(ends(&[line]), [true], "{line:?}");
        }
    }

    #[test]
    fn other_lines_do_not() {
        for line in [
            "the project compiled fine yesterday\n",
            "Starting compilation in watch mode...\n",
            "waiting for the lock on build directory\n",
            "src/a.ts(1,7): error TS2322: Type 'number' is not assignable to type 'string'.\n",
        ] {
            assert_eq!(ends(&[line]), [false], "{line:?}");
        }
    }

    #[test]
    fn a_line_cut_between_reads_ends_the_cycle_once() {
        assert_eq!(
            ends(&["x\n[10:04:05 AM] Found 2 errors. Watching for fi", "le changes.\n", "more\n"]),
            [false, true, false]
        );
        assert_eq!(ends(&["vite v5 building...\nbuilt in ", "1020ms.\n"]), [false, true], "cut after the words");
        assert_eq!(ends(&["[watch] build finished"]), [false], "looked at once the line ends");
        // Streams keep their own lines: another stream's read does not end this one's.
        let mut s = Scanner::default();
        assert!(!s.feed(0, b"Found 2 errors. Watching for fi"));
        assert!(!s.feed(1, b"le changes.\n"));
    }
}
