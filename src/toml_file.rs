//! Reading errand's small TOML files (`config.toml`, `errand.toml`) and the
//! project files detection reads: regular files only, a size limit, UTF-8
//! checked, and errors that name the file and the line.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Files larger than this are refused, not parsed.
const MAX_BYTES: u64 = 1 << 20;

/// The file's text; None if it does not exist. Only a regular file is
/// read, and only up to the limit: a project file that is a FIFO or a
/// link to `/dev/zero` (detection reads untrusted repositories) is an
/// error, not a hang.
pub fn read(path: &Path) -> Result<Option<String>> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    // Non-blocking: opening a FIFO must not wait for a writer.
    let file = match OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
        Ok(file) => file,
    };
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(error_at(path, 1, "not a regular file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(error_at(path, 1, format!("file is {} bytes; the limit is {MAX_BYTES}", meta.len())));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(error_at(path, 1, format!("file grew past the limit of {MAX_BYTES} bytes")));
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let line = line_of(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
        error_at(path, line, "file is not valid UTF-8".into())
    })
}

/// Parse `text` (read from `path`) into `T`, naming the line of an error.
pub fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        error_at(path, line, e.message().trim().to_owned())
    })
}

/// A config error at a byte offset of the file's text.
pub fn error_at_offset(path: &Path, text: &str, offset: usize, message: String) -> Error {
    error_at(path, line_of(text, offset), message)
}

fn error_at(path: &Path, line: usize, message: String) -> Error {
    Error::Config { path: path.to_path_buf(), line, message }
}

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let path = Path::new("/x/errand.toml");
        let err = parse::<toml::Table>(path, "a = 1\n\n[broken\n").unwrap_err();
        assert!(err.to_string().starts_with("/x/errand.toml:3: "), "{err}");
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a", 99), 1, "past the end is the last line");
    }

    #[test]
    fn a_fifo_or_a_device_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("package.json");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(read(&fifo).unwrap_err().to_string().contains("not a regular file"));
        let zero = dir.path().join("Cargo.toml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(read(&zero).unwrap_err().to_string().contains("not a regular file"));
    }

    #[test]
    fn big_or_invalid_files_are_refused_and_missing_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("none.toml")).unwrap().is_none());
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; (MAX_BYTES + 1) as usize]).unwrap();
        assert!(read(&big).unwrap_err().to_string().contains("the limit is"));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, b"a = 1\nb = \"\xff\"\n").unwrap();
        assert!(read(&bad).unwrap_err().to_string().contains("bad.toml:2: file is not valid UTF-8"));
    }
}
