//! A task's structured result: one JSON value the task writes to the file
//! named by `$ERRAND_RESULT`, read by its supervisor when the task ends,
//! validated and stored with the outcome (`errand result`, `task/get`,
//! `task/finished`).

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The variable that names the file.
pub const VARIABLE: &str = "ERRAND_RESULT";

/// The largest result kept (whitespace around it aside): a result is for
/// facts a script reads (counts, a URL, a version), not for output (that
/// is what the logs are for).
pub const MAX_BYTES: u64 = 1 << 20;
/// Whitespace around a value read beyond the limit (`echo` adds a newline).
const SLACK: u64 = 4096;
/// The deepest nesting kept: the store checks JSON to 1000 levels, and
/// clients parse it recursively.
pub const MAX_DEPTH: usize = 512;

/// What a task left in its result file.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Left {
    /// No file, or only whitespace in it.
    #[default]
    Nothing,
    /// One JSON value, as the task wrote it (trimmed).
    Value(String),
    /// Something errand will not keep: the sentence says what and why.
    Refused(String),
}

/// Read what the task left at `path`. Never blocks and never follows a
/// link: the task controls the file, and a FIFO or a link to `/dev/zero`
/// there must not hang or flood its supervisor.
pub fn read(path: &Path) -> Left {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Left::Nothing,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Left::Refused("the result file is a symbolic link, not a file".into())
        }
        Err(e) => return Left::Refused(format!("cannot read the result file: {e}")),
    };
    match file.metadata() {
        Ok(m) if !m.is_file() => return Left::Refused("the result file is not a regular file".into()),
        Ok(m) if m.len() > MAX_BYTES + SLACK => return Left::Refused(too_big(m.len())),
        Ok(_) => {}
        Err(e) => return Left::Refused(format!("cannot read the result file: {e}")),
    }
    // The file may grow after the check: never read more than the limit allows.
    let mut text = Vec::new();
    if let Err(e) = file.take(MAX_BYTES + SLACK + 1).read_to_end(&mut text) {
        return Left::Refused(format!("cannot read the result file: {e}"));
    }
    if text.len() as u64 > MAX_BYTES + SLACK {
        return Left::Refused(too_big(text.len() as u64));
    }
    parse(&text)
}

/// Validate what a task wrote: exactly one JSON value.
pub fn parse(text: &[u8]) -> Left {
    let Ok(text) = std::str::from_utf8(text) else {
        return Left::Refused("the result is not UTF-8 text, so not JSON".into());
    };
    let text = text.trim();
    if text.is_empty() {
        return Left::Nothing;
    }
    if text.len() as u64 > MAX_BYTES {
        return Left::Refused(too_big(text.len() as u64));
    }
    if depth(text.as_bytes()) > MAX_DEPTH {
        return Left::Refused(format!("the result is nested deeper than {MAX_DEPTH} levels"));
    }
    match serde_json::from_str::<&serde_json::value::RawValue>(text) {
        Ok(_) => Left::Value(text.to_owned()),
        Err(e) => Left::Refused(format!("the result is not one JSON value: {e}")),
    }
}

/// How deep arrays and objects nest in `json` (brackets inside strings
/// aside): one pass, no recursion.
fn depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in json {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Remove what a run left at `path`: a file, a link, or a directory the
/// task made there (never what a link points to).
pub fn clear(path: &Path) {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = removed {
        tracing::warn!("cannot remove the result file {}: {e}", path.display());
    }
}

fn too_big(bytes: u64) -> String {
    format!("the result is {} bytes, over the limit of {MAX_BYTES} (1 MiB)", bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_is_kept_as_written() {
        assert_eq!(parse(b" {\"a\": 1.50}\n"), Left::Value("{\"a\": 1.50}".into()));
        assert_eq!(parse(b"42"), Left::Value("42".into()));
        assert_eq!(parse(b"\"caf\xc3\xa9\""), Left::Value("\"café\"".into()));
    }

    #[test]
    fn nesting_is_counted_outside_strings_and_capped() {
        assert_eq!(depth(br#"{"a": [1, {"b": "[[[{"}], "c\"[": 2}"#), 3);
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(matches!(parse(deep(MAX_DEPTH).as_bytes()), Left::Value(_)));
        assert!(matches!(parse(deep(MAX_DEPTH + 1).as_bytes()), Left::Refused(why) if why.contains("nested deeper")));
        // Whitespace around a value of exactly the limit does not count.
        let big = format!("\"{}\"\n", "a".repeat(MAX_BYTES as usize - 2));
        assert!(matches!(parse(big.as_bytes()), Left::Value(_)));
    }

    #[test]
    fn nothing_is_no_result() {
        assert_eq!(parse(b""), Left::Nothing);
        assert_eq!(parse(b" \n\t"), Left::Nothing);
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        for bad in [&b"{\"a\":"[..], b"1 2", b"{} []", b"nul", b"\xff\xfe"] {
            assert!(matches!(parse(bad), Left::Refused(_)), "{:?}", String::from_utf8_lossy(bad));
        }
        let Left::Refused(why) = parse(b"{\"a\": }") else { panic!() };
        assert!(why.contains("line 1 column 7"), "{why}");
    }

    #[test]
    fn a_fifo_a_link_or_a_huge_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        crate::sys::mkfifo(&fifo).unwrap();
        assert!(matches!(read(&fifo), Left::Refused(why) if why.contains("not a regular file")));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(read(&link), Left::Refused(why) if why.contains("symbolic link")));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b' '; (MAX_BYTES + SLACK) as usize + 1]).unwrap();
        assert!(matches!(read(&big), Left::Refused(why) if why.contains("over the limit")));
        assert_eq!(read(&dir.path().join("none")), Left::Nothing);
    }
}
