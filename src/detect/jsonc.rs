//! JSON with comments and trailing commas (VS Code's `tasks.json`, deno's
//! `deno.jsonc`), read as JSON: comments and trailing commas become spaces,
//! so lines and columns in an error still point into the file.

use std::path::Path;

use crate::error::{Error, Result};

pub fn parse(file: &Path, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(&plain(text)).map_err(|e| Error::Config {
        path: file.to_path_buf(),
        line: e.line(),
        message: e.to_string(),
    })
}

/// `text` with its comments and trailing commas blanked out.
fn plain(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    // Where the last comma outside a string was, if only blanks followed it.
    let mut comma: Option<usize> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                comma = None;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
                continue;
            }
            b',' => comma = Some(i),
            b'}' | b']' => {
                if let Some(at) = comma.take() {
                    out[at] = b' ';
                }
            }
            b if b.is_ascii_whitespace() => {}
            _ => comma = None,
        }
        i += 1;
    }
    // Only ASCII bytes were replaced, by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_trailing_commas_are_read_past_and_strings_are_left_alone() {
        let text = "{\n  // a comment, with \"quotes\"\n  \"a\": \"http://x/*y*/\", /* block\n spanning */\n  \"b\": [1, 2,],\n}\n";
        let v = parse(Path::new("tasks.json"), text).unwrap();
        assert_eq!(v["a"], "http://x/*y*/");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
        let err = parse(Path::new("/p/tasks.json"), "{\n// ok\n\"a\": @\n}").unwrap_err().to_string();
        assert!(err.starts_with("/p/tasks.json:3: "), "{err}");
        assert_eq!(plain("\"a\\\"//b\""), "\"a\\\"//b\"", "an escaped quote does not end the string");
    }
}
