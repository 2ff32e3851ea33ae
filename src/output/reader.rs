//! The reading side of a task's output: by offset, as a tail, merged or
//! one stream at a time. Safe to use while the task still writes.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::index::{Record, RECORD};
use super::text::{whole_chars, Carry};
use super::{LogFiles, Stream, Which};
use crate::error::{IoContext, Result};
use crate::paths::Paths;

/// A tail never returns more than this, however long its lines are.
const TAIL_CAP: usize = 4 << 20;

/// Where a reader stopped: a byte offset into one stream, or a chunk number
/// in the merged view.
pub type Position = u64;

/// Open files of one task's output.
pub struct Reader {
    stdout: Option<File>,
    stderr: Option<File>,
    index: Option<File>,
}

impl Reader {
    /// Files that do not exist yet (a queued task) read as empty.
    pub fn open(paths: &Paths, id: &str) -> Result<Reader> {
        let files = LogFiles::of(paths, id);
        let open = |p: &Path| match File::open(p) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context(|| format!("cannot read {}", p.display())),
        };
        Ok(Reader { stdout: open(&files.stdout)?, stderr: open(&files.stderr)?, index: open(&files.index)? })
    }

    fn file(&self, stream: Stream) -> Option<&File> {
        match stream {
            Stream::Stdout => self.stdout.as_ref(),
            Stream::Stderr => self.stderr.as_ref(),
        }
    }

    fn len(file: Option<&File>) -> u64 {
        file.and_then(|f| f.metadata().ok()).map_or(0, |m| m.len())
    }

    /// Where the output ends now (for `which`).
    pub fn end(&self, which: Which) -> Position {
        match which.stream() {
            None => Self::len(self.index.as_ref()) / RECORD as u64,
            Some(stream) => Self::len(self.file(stream)),
        }
    }

    fn records(&self, from: u64, count: u64) -> io::Result<Vec<Record>> {
        let Some(index) = &self.index else { return Ok(Vec::new()) };
        let mut buf = vec![0u8; (count as usize) * RECORD];
        let n = read_at_most(index, &mut buf, from * RECORD as u64)?;
        Ok(Record::decode_all(&buf[..n]).collect())
    }

    fn chunk(&self, r: &Record) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; r.len as usize];
        let n = match self.file(r.stream) {
            Some(f) => read_at_most(f, &mut buf, r.offset)?,
            None => 0,
        };
        buf.truncate(n);
        Ok(buf)
    }

    /// Copy output from `from` up to its current end into `out`, at most
    /// `max` bytes (whole chunks in the merged view, so it may stop a
    /// little short). Returns the position after what was copied.
    pub fn copy(&self, which: Which, from: Position, max: u64, out: &mut impl Write) -> io::Result<Position> {
        let Some(stream) = which.stream() else { return self.copy_merged(from, max, out) };
        let Some(file) = self.file(stream) else { return Ok(from) };
        let end = Self::len(Some(file)).min(from.saturating_add(max));
        let mut pos = from;
        let mut buf = vec![0u8; 64 << 10];
        while pos < end {
            let want = ((end - pos) as usize).min(buf.len());
            let n = read_at_most(file, &mut buf[..want], pos)?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])?;
            pos += n as u64;
        }
        Ok(pos)
    }

    fn copy_merged(&self, from: Position, max: u64, out: &mut impl Write) -> io::Result<Position> {
        self.merged_chunks(from, Position::MAX, max, |_, chunk| out.write_all(chunk))
    }

    /// Copy the merged output from `from` up to `until` (a cycle of a
    /// watch-mode tool's output) into `out`, at most about `max` bytes.
    pub fn copy_between(
        &self,
        from: Position,
        until: Position,
        max: u64,
        out: &mut impl Write,
    ) -> io::Result<Position> {
        self.merged_chunks(from, until, max, |_, chunk| out.write_all(chunk))
    }

    /// Hand chunks of the merged view from `from` (up to `until`) to `f`,
    /// whole, with their stream: at most `max` bytes, but at least one chunk.
    fn merged_chunks(
        &self,
        from: Position,
        until: Position,
        max: u64,
        mut f: impl FnMut(Stream, &[u8]) -> io::Result<()>,
    ) -> io::Result<Position> {
        let mut pos = from;
        let mut copied = 0u64;
        loop {
            let batch = self.records(pos, until.saturating_sub(pos).min(1024))?;
            if batch.is_empty() {
                return Ok(pos);
            }
            for r in &batch {
                if copied > 0 && copied + u64::from(r.len) > max {
                    return Ok(pos);
                }
                f(r.stream, &self.chunk(r)?)?;
                copied += u64::from(r.len);
                pos += 1;
            }
        }
    }

    /// Output from `from` as text, at most about `max` bytes, never ending
    /// in the middle of a character (see `text`). From one stream the
    /// position returned stops before an incomplete character, so it is
    /// read again next time; the merged view counts whole chunks, so there
    /// the bytes wait in `carry`. `ended`: the task has ended, and an
    /// incomplete character at the very end is final (decoded as U+FFFD).
    pub fn read_text(
        &self,
        which: Which,
        from: Position,
        max: u64,
        carry: &mut Carry,
        ended: bool,
    ) -> io::Result<(String, Position)> {
        let mut text = String::new();
        let at_end = |next| ended && next == self.end(which);
        let next = match which.stream() {
            Some(_) => {
                let mut bytes = Vec::new();
                let next = self.copy(which, from, max, &mut bytes)?;
                let whole = if at_end(next) { bytes.len() } else { whole_chars(&bytes) };
                text.push_str(&String::from_utf8_lossy(&bytes[..whole]));
                next - (bytes.len() - whole) as u64
            }
            None => {
                let next = self.merged_chunks(from, Position::MAX, max, |stream, chunk| {
                    carry.push(stream, chunk, &mut text);
                    Ok(())
                })?;
                if at_end(next) {
                    carry.flush(&mut text);
                }
                next
            }
        };
        Ok((text, next))
    }

    /// `read_text` for a reader that keeps no carry (`task/output`), and
    /// whether more can be read now. In the merged view, a last chunk that
    /// ends inside a character is left for the next read (its end is not
    /// written yet), unless the task has ended.
    pub fn read_text_once(
        &self,
        which: Which,
        from: Position,
        max: u64,
        ended: bool,
    ) -> io::Result<(String, Position, bool)> {
        let end = self.end(which);
        if which.stream().is_some() {
            let (text, next) = self.read_text(which, from, max, &mut Carry::default(), ended)?;
            // Bytes held back at the very end are half a character, not more to read.
            return Ok((text, next, from.saturating_add(max) < end));
        }
        let mut carry = Carry::default();
        let mut text = String::new();
        // Before the last chunk: the text's length, and whether bytes were held.
        let mut before_last = (0, false);
        let next = self.merged_chunks(from, Position::MAX, max, |stream, chunk| {
            before_last = (text.len(), !carry.is_empty());
            carry.push(stream, chunk, &mut text);
            Ok(())
        })?;
        let (len, held_before) = before_last;
        let half_a_character_last = !carry.is_empty() && !held_before && next > from;
        if half_a_character_last && !(ended && next == end) {
            text.truncate(len);
            let last = next - 1;
            return Ok((text, last, last + 1 < end));
        }
        carry.flush(&mut text);
        Ok((text, next, next < end))
    }

    /// Where a reader `lag` bytes or more behind should jump to so that
    /// about `keep` bytes are left to read, and how many bytes it leaves
    /// out (exact for one stream; about, in the merged view, where only the
    /// chunks near each end are looked at). None when it is not that far
    /// behind.
    pub fn skip_point(&self, which: Which, from: Position, lag: u64, keep: u64) -> io::Result<Option<(Position, u64)>> {
        if let Some(stream) = which.stream() {
            let end = Self::len(self.file(stream));
            let to = end.saturating_sub(keep).max(from);
            return Ok((end.saturating_sub(from) > lag && to > from).then_some((to, to - from)));
        }
        let Some(first) = self.records(from, 1)?.pop() else { return Ok(None) };
        // At least this much is unread: the rest of the first chunk's stream.
        if Self::len(self.file(first.stream)).saturating_sub(first.offset) <= lag {
            return Ok(None);
        }
        // Back from the end until `keep` bytes (or a bounded number of chunks).
        let end = self.end(Which::Both);
        let mut to = end;
        let mut kept = 0u64;
        'back: while to > from && kept < keep && end - to < 4096 {
            let lo = to.saturating_sub(256).max(from);
            for r in self.records(lo, to - lo)?.iter().rev() {
                if kept >= keep {
                    break 'back;
                }
                kept += u64::from(r.len);
                to -= 1;
            }
        }
        if to <= from {
            return Ok(None);
        }
        let (before, after) = (self.stream_offsets(from)?, self.stream_offsets(to)?);
        let left_out =
            before.iter().zip(&after).filter_map(|(b, a)| Some(a.as_ref()?.saturating_sub(*b.as_ref()?))).sum();
        Ok(Some((to, left_out)))
    }

    /// For each stream, how many of its bytes come before chunk `k` of the
    /// merged view, where the chunks near `k` tell.
    fn stream_offsets(&self, k: Position) -> io::Result<[Option<u64>; 2]> {
        const LOOK: u64 = 1024;
        let records = self.records(k, LOOK)?;
        let mut at = [None, None];
        for r in &records {
            at[r.stream as usize].get_or_insert(r.offset);
        }
        if (records.len() as u64) < LOOK {
            // The end is in sight: a stream with no chunk left is all before `k`.
            for stream in [Stream::Stdout, Stream::Stderr] {
                at[stream as usize].get_or_insert_with(|| Self::len(self.file(stream)));
            }
        }
        Ok(at)
    }

    /// The last `lines` lines (at most 4 MiB).
    pub fn tail(&self, which: Which, lines: usize) -> io::Result<Vec<u8>> {
        self.tail_within(which, lines, TAIL_CAP)
    }

    /// The last `lines` lines, at most `cap` bytes of them (then from a
    /// character's start): a summary stays small however long the lines.
    pub fn tail_within(&self, which: Which, lines: usize, cap: usize) -> io::Result<Vec<u8>> {
        let cap = cap.min(TAIL_CAP);
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut newlines = 0usize;
        let mut bytes = 0usize;
        // Walk back piece by piece until there are enough lines.
        let mut enough = |piece: Vec<u8>, pieces: &mut Vec<Vec<u8>>| {
            newlines += piece.iter().filter(|&&b| b == b'\n').count();
            bytes += piece.len();
            pieces.push(piece);
            newlines > lines || bytes >= cap
        };
        match which.stream() {
            None => {
                let mut next = self.end(Which::Both);
                'walk: while next > 0 {
                    let from = next.saturating_sub(256);
                    for r in self.records(from, next - from)?.iter().rev() {
                        if enough(self.chunk(r)?, &mut pieces) {
                            break 'walk;
                        }
                    }
                    next = from;
                }
            }
            Some(stream) => {
                if let Some(file) = self.file(stream) {
                    let mut end = Self::len(Some(file));
                    while end > 0 {
                        let start = end.saturating_sub(64 << 10);
                        let mut buf = vec![0u8; (end - start) as usize];
                        let n = read_at_most(file, &mut buf, start)?;
                        buf.truncate(n);
                        if enough(buf, &mut pieces) {
                            break;
                        }
                        end = start;
                    }
                }
            }
        }
        pieces.reverse();
        let all = pieces.concat();
        let mut all = &all[all.len().saturating_sub(cap)..];
        if all.len() == cap {
            // Cut by size: start at a character's first byte.
            let continuation = all.iter().take(3).take_while(|&&b| b & 0xC0 == 0x80).count();
            all = &all[continuation..];
        }
        Ok(last_lines(all, lines).to_vec())
    }
}

/// The suffix of `text` holding its last `n` lines (a final newline does not
/// start another line).
pub fn last_lines(text: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Capture;

    #[test]
    fn last_lines_counts_lines_not_newlines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\nc", 2), b"b\nc");
        assert_eq!(last_lines(b"a\nb\nc\n", 5), b"a\nb\nc\n");
        assert_eq!(last_lines(b"abc", 1), b"abc");
        assert_eq!(last_lines(b"a\n", 0), b"");
    }

    fn captured(chunks: &[(Stream, &str)]) -> (tempfile::TempDir, Reader) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(dir.path());
        paths.create_dirs().unwrap();
        let mut capture = Capture::new(&paths, "t");
        for (stream, data) in chunks {
            capture.write(*stream, data.as_bytes());
        }
        assert_eq!(capture.error(), None);
        let reader = Reader::open(&paths, "t").unwrap();
        (dir, reader)
    }

    fn copied(r: &Reader, which: Which, from: u64, max: u64) -> (String, u64) {
        let mut out = Vec::new();
        let next = r.copy(which, from, max, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), next)
    }

    #[test]
    fn streams_merge_in_the_order_written_and_read_apart_by_offset() {
        let (_dir, r) = captured(&[(Stream::Stdout, "out1\n"), (Stream::Stderr, "err1\n"), (Stream::Stdout, "out2\n")]);
        assert_eq!(copied(&r, Which::Both, 0, u64::MAX), ("out1\nerr1\nout2\n".into(), 3));
        assert_eq!(copied(&r, Which::Both, 1, u64::MAX), ("err1\nout2\n".into(), 3), "positions count chunks");
        assert_eq!(copied(&r, Which::Stdout, 0, u64::MAX), ("out1\nout2\n".into(), 10));
        assert_eq!(copied(&r, Which::Stdout, 1, 2), ("ut".into(), 3), "a byte range");
        assert_eq!(copied(&r, Which::Both, 0, 6), ("out1\n".into(), 1), "whole chunks only");
        assert_eq!(r.end(Which::Both), 3);
        assert_eq!(r.end(Which::Stderr), 5);
        assert_eq!(r.tail(Which::Both, 2).unwrap(), b"err1\nout2\n");
        assert_eq!(r.tail(Which::Stdout, 1).unwrap(), b"out2\n");
    }

    #[test]
    fn a_task_that_wrote_nothing_reads_as_empty() {
        let (_dir, r) = captured(&[]);
        assert_eq!(copied(&r, Which::Both, 0, u64::MAX), (String::new(), 0));
        assert_eq!(copied(&r, Which::Stderr, 7, u64::MAX), (String::new(), 7));
        assert!(r.tail(Which::Both, 10).unwrap().is_empty());
    }

    #[test]
    fn a_tail_spans_many_chunks_and_long_output() {
        let lines: Vec<String> = (0..5000).map(|i| format!("line {i}\n")).collect();
        let chunks: Vec<(Stream, &str)> = lines.iter().map(|l| (Stream::Stdout, l.as_str())).collect();
        let (_dir, r) = captured(&chunks);
        assert_eq!(r.tail(Which::Both, 3).unwrap(), b"line 4997\nline 4998\nline 4999\n");
        assert_eq!(r.tail(Which::Stdout, 300).unwrap().split(|&b| b == b'\n').count(), 301);
    }

    #[test]
    fn a_summary_tail_is_capped_in_bytes_from_a_character_start() {
        let long = "é".repeat(10_000); // one line of 20,000 bytes
        let (_dir, r) = captured(&[(Stream::Stdout, long.as_str())]);
        let tail = r.tail_within(Which::Both, 10, 1001).unwrap();
        assert_eq!(tail.len(), 1000, "1001 bytes, less the half character they start with");
        assert!(std::str::from_utf8(&tail).is_ok());
        assert_eq!(r.tail(Which::Both, 10).unwrap().len(), 20_000, "under 4 MiB: all of the line");
    }

    #[test]
    fn a_reader_far_behind_skips_to_the_newest_output() {
        let line = "x".repeat(1000) + "\n";
        let mut chunks: Vec<(Stream, &str)> = vec![(Stream::Stdout, line.as_str()); 100];
        chunks.insert(50, (Stream::Stderr, "oops\n"));
        let (_dir, r) = captured(&chunks);
        let out_len = 100 * 1001;
        // One stream: bytes, exact.
        assert_eq!(r.skip_point(Which::Stdout, 0, 10_000, 5_000).unwrap(), Some((out_len - 5_000, out_len - 5_000)));
        assert_eq!(r.skip_point(Which::Stdout, out_len - 9_000, 10_000, 5_000).unwrap(), None, "not that far behind");
        // Merged: whole chunks kept from the end; the bytes left out, both streams.
        let (to, left_out) = r.skip_point(Which::Both, 0, 10_000, 5_000).unwrap().unwrap();
        assert_eq!(to, 101 - 5, "five chunks of 1001 bytes keep 5,000");
        assert_eq!(left_out, 95 * 1001 + 5, "95 stdout chunks and the stderr one");
        assert_eq!(r.skip_point(Which::Both, 95, 10_000, 5_000).unwrap(), None);
        assert_eq!(r.skip_point(Which::Both, 101, 10_000, 5_000).unwrap(), None, "at the end");
    }
}
