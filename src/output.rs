//! A task's output on disk. stdout and stderr go to their own files
//! (`ID.out`, `ID.err`) exactly as written, so each can be read, tailed or
//! sliced by byte offset on its own; an index (`ID.idx`) records every chunk
//! as it arrived (time, stream, offset, length), so the two can also be
//! shown merged in the order they were written. Nothing is held in memory
//! beyond one read buffer.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

use crate::config::Paths;
use crate::error::{IoContext, Result};


#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Which output a reader wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    #[default]
    Both,
    Stdout,
    Stderr,
}

const RECORD: usize = 24;
/// A tail never returns more than this, however long its lines are.
const TAIL_CAP: usize = 4 << 20;

struct Record {
    stream: Stream,
    offset: u64,
    len: u32,
}

impl Record {
    fn encode(&self, micros: u64) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        b[0..8].copy_from_slice(&micros.to_le_bytes());
        b[8..16].copy_from_slice(&self.offset.to_le_bytes());
        b[16..20].copy_from_slice(&self.len.to_le_bytes());
        b[20] = match self.stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        b
    }

    fn decode(b: &[u8]) -> Record {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        Record {
            offset: u64_at(8),
            len: u32::from_le_bytes(b[16..20].try_into().unwrap_or_default()),
            stream: if b[20] == 1 { Stream::Stderr } else { Stream::Stdout },
        }
    }
}

pub struct LogFiles {
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub index: PathBuf,
}

impl LogFiles {
    pub fn of(paths: &Paths, id: &str) -> LogFiles {
        LogFiles {
            stdout: paths.logs.join(format!("{id}.out")),
            stderr: paths.logs.join(format!("{id}.err")),
            index: paths.logs.join(format!("{id}.idx")),
        }
    }

    /// The file a follower should watch for growth.
    pub fn growing(&self, which: Which) -> &PathBuf {
        match which {
            Which::Both => &self.index,
            Which::Stdout => &self.stdout,
            Which::Stderr => &self.stderr,
        }
    }

    pub fn remove(&self) {
        for f in [&self.stdout, &self.stderr, &self.index] {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The writing side, owned by the task's supervisor. Files are created on
/// the first write: most tasks write little, many nothing, and creating
/// files is a good part of what a short task costs.
pub struct Capture {
    files: LogFiles,
    stdout: Option<File>,
    stderr: Option<File>,
    index: Option<File>,
    stdout_len: u64,
    stderr_len: u64,
    /// The first write error (a full disk): capture stops, the task goes on.
    error: Option<String>,
}

fn create<'a>(path: &PathBuf, slot: &'a mut Option<File>) -> io::Result<&'a mut File> {
    if slot.is_none() {
        *slot = Some(OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(path)?);
    }
    slot.as_mut().ok_or_else(|| io::Error::other("unreachable: file just opened"))
}

impl Capture {
    pub fn new(paths: &Paths, id: &str) -> Capture {
        Capture {
            files: LogFiles::of(paths, id),
            stdout: None,
            stderr: None,
            index: None,
            stdout_len: 0,
            stderr_len: 0,
            error: None,
        }
    }

    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        if self.error.is_some() || data.is_empty() {
            return;
        }
        let (path, file, len) = match stream {
            Stream::Stdout => (&self.files.stdout, &mut self.stdout, &mut self.stdout_len),
            Stream::Stderr => (&self.files.stderr, &mut self.stderr, &mut self.stderr_len),
        };
        let record = Record { stream, offset: *len, len: data.len() as u32 };
        // Data first, then the index entry that points at it: a reader that
        // sees the entry always finds the bytes.
        let result = create(path, file)
            .and_then(|f| f.write_all(data))
            .and_then(|()| create(&self.files.index, &mut self.index))
            .and_then(|index| index.write_all(&record.encode(now_micros())));
        match result {
            Ok(()) => *len += data.len() as u64,
            Err(e) => self.error = Some(format!("output capture stopped: {e}")),
        }
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

fn now_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// The reading side: open files of one task's output.
pub struct Reader {
    stdout: Option<File>,
    stderr: Option<File>,
    index: Option<File>,
}

/// Where a reader stopped: a byte offset into one stream, or a chunk number
/// in the merged view.
pub type Position = u64;

impl Reader {
    /// Files that do not exist yet (a queued task) read as empty.
    pub fn open(paths: &Paths, id: &str) -> Result<Reader> {
        let files = LogFiles::of(paths, id);
        let open = |p: &PathBuf| match File::open(p) {
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
        match which {
            Which::Both => Self::len(self.index.as_ref()) / RECORD as u64,
            Which::Stdout => Self::len(self.stdout.as_ref()),
            Which::Stderr => Self::len(self.stderr.as_ref()),
        }
    }

    fn records(&self, from: u64, count: u64) -> io::Result<Vec<Record>> {
        let Some(index) = &self.index else { return Ok(Vec::new()) };
        let mut buf = vec![0u8; (count as usize) * RECORD];
        let n = read_at_most(index, &mut buf, from * RECORD as u64)?;
        Ok(buf[..n - n % RECORD].chunks_exact(RECORD).map(Record::decode).collect())
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
        match which {
            Which::Both => {
                let mut pos = from;
                let mut copied = 0u64;
                loop {
                    let batch = self.records(pos, 1024)?;
                    if batch.is_empty() {
                        return Ok(pos);
                    }
                    for r in &batch {
                        if copied > 0 && copied + u64::from(r.len) > max {
                            return Ok(pos);
                        }
                        out.write_all(&self.chunk(r)?)?;
                        copied += u64::from(r.len);
                        pos += 1;
                    }
                }
            }
            Which::Stdout | Which::Stderr => {
                let stream = if which == Which::Stdout { Stream::Stdout } else { Stream::Stderr };
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
        }
    }

    /// The last `lines` lines (at most 4 MiB).
    pub fn tail(&self, which: Which, lines: usize) -> io::Result<Vec<u8>> {
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut newlines = 0usize;
        let mut bytes = 0usize;
        let mut take = |piece: Vec<u8>, pieces: &mut Vec<Vec<u8>>| {
            newlines += piece.iter().filter(|&&b| b == b'\n').count();
            bytes += piece.len();
            pieces.push(piece);
            newlines > lines || bytes >= TAIL_CAP
        };
        match which {
            Which::Both => {
                let mut next = self.end(Which::Both);
                'walk: while next > 0 {
                    let from = next.saturating_sub(256);
                    let batch = self.records(from, next - from)?;
                    for r in batch.iter().rev() {
                        if take(self.chunk(r)?, &mut pieces) {
                            break 'walk;
                        }
                    }
                    next = from;
                }
            }
            Which::Stdout | Which::Stderr => {
                let stream = if which == Which::Stdout { Stream::Stdout } else { Stream::Stderr };
                if let Some(file) = self.file(stream) {
                    let mut end = Self::len(Some(file));
                    while end > 0 {
                        let start = end.saturating_sub(64 << 10);
                        let mut buf = vec![0u8; (end - start) as usize];
                        let n = read_at_most(file, &mut buf, start)?;
                        buf.truncate(n);
                        if take(buf, &mut pieces) {
                            break;
                        }
                        end = start;
                    }
                }
            }
        }
        pieces.reverse();
        let all = pieces.concat();
        let all = &all[all.len().saturating_sub(TAIL_CAP)..];
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
    use super::last_lines;

    #[test]
    fn last_lines_counts_lines_not_newlines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\nc", 2), b"b\nc");
        assert_eq!(last_lines(b"a\nb\nc\n", 5), b"a\nb\nc\n");
        assert_eq!(last_lines(b"abc", 1), b"abc");
        assert_eq!(last_lines(b"a\n", 0), b"");
    }
}
