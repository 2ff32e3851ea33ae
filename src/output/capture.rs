//! The writing side of a task's output, owned by its supervisor. Files are
//! created on the first write: most tasks write little, many nothing, and
//! creating files is a good part of what a short task costs.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::index::Record;
use super::{LogFiles, Stream};
use crate::paths::Paths;

pub struct Capture {
    files: LogFiles,
    stdout: Option<File>,
    stderr: Option<File>,
    index: Option<File>,
    stdout_len: u64,
    stderr_len: u64,
    /// Chunks written, of both streams: a position as `Reader` counts them.
    chunks: u64,
    /// The first write error (a full disk): capture stops, the task goes on.
    error: Option<String>,
}

/// The file in `slot`, created (private, empty) on first use.
fn created<'a>(path: &Path, slot: &'a mut Option<File>) -> io::Result<&'a mut File> {
    match slot {
        Some(f) => Ok(f),
        None => Ok(slot.insert(OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(path)?)),
    }
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
            chunks: 0,
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
        let record = Record { micros: now_micros(), stream, offset: *len, len: data.len() as u32 };
        // Data first, then the index entry that points at it: a reader that
        // sees the entry always finds the bytes.
        let result = created(path, file)
            .and_then(|f| f.write_all(data))
            .and_then(|()| created(&self.files.index, &mut self.index))
            .and_then(|index| index.write_all(&record.encode()));
        match result {
            Ok(()) => {
                *len += data.len() as u64;
                self.chunks += 1;
            }
            Err(e) => self.error = Some(format!("output capture stopped: {e}")),
        }
    }

    /// Bytes captured so far of (stdout, stderr).
    pub fn bytes(&self) -> (u64, u64) {
        (self.stdout_len, self.stderr_len)
    }

    /// Where the output of both streams ends now, as `Reader` positions count.
    pub fn position(&self) -> u64 {
        self.chunks
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

fn now_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}
