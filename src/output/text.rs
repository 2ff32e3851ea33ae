//! Output as text for the protocol, which carries JSON strings: bytes are
//! decoded without ever splitting a character. A task writes bytes, and a
//! read can end in the middle of a character (the task wrote half of it so
//! far, or a chunk or a size limit cut it); those bytes wait for the next
//! read of the same stream instead of becoming two U+FFFD.

use super::Stream;

/// How many bytes of `bytes` end on a character boundary: all of them but
/// an incomplete UTF-8 sequence at the very end. Invalid bytes count as
/// whole (they decode to U+FFFD wherever they are).
pub fn whole_chars(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // The last byte that is not a continuation byte, within a character's reach.
    let Some(start) = (len.saturating_sub(4)..len).rev().find(|&i| bytes[i] & 0xC0 != 0x80) else {
        return len;
    };
    let needed = match bytes[start] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    };
    if len - start < needed {
        start
    } else {
        len
    }
}

/// The incomplete character at the end of each stream's last piece, kept
/// for the next piece of that stream.
#[derive(Debug, Default, Clone)]
pub struct Carry {
    held: [Vec<u8>; 2],
}

impl Carry {
    fn slot(&mut self, stream: Stream) -> &mut Vec<u8> {
        &mut self.held[stream as usize]
    }

    /// Decode `piece` of `stream` onto `text`, after what was held for it;
    /// hold its incomplete end.
    pub fn push(&mut self, stream: Stream, piece: &[u8], text: &mut String) {
        let held = self.slot(stream);
        held.extend_from_slice(piece);
        let whole = whole_chars(held);
        text.push_str(&String::from_utf8_lossy(&held[..whole]));
        held.drain(..whole);
    }

    /// Bytes held for `stream`.
    pub fn held(&self, stream: Stream) -> usize {
        self.held[stream as usize].len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.iter().all(Vec::is_empty)
    }

    /// Nothing more will come: what is held is decoded as it is.
    pub fn flush(&mut self, text: &mut String) {
        for held in &mut self.held {
            text.push_str(&String::from_utf8_lossy(held));
            held.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_at_any_byte_is_held_until_it_is_whole() {
        for s in ["€", "😀", "é", "a😀"] {
            let bytes = s.as_bytes();
            for cut in 1..bytes.len() {
                let mut carry = Carry::default();
                let mut text = String::new();
                carry.push(Stream::Stdout, &bytes[..cut], &mut text);
                carry.push(Stream::Stderr, b"x", &mut text);
                carry.push(Stream::Stdout, &bytes[cut..], &mut text);
                assert_eq!(
                    text,
                    format!("{}x{}", &s[..s.len() - s.chars().last().unwrap().len_utf8()], s.chars().last().unwrap())
                );
            }
        }
    }

    #[test]
    fn invalid_bytes_are_not_held_and_a_final_flush_decodes_what_is_left() {
        assert_eq!(whole_chars(b"ab\xff"), 3);
        assert_eq!(whole_chars(b"ab\x80\x80\x80\x80"), 6);
        assert_eq!(whole_chars(b"ab\xe2\x82"), 2);
        assert_eq!(whole_chars(b"\xe2\x82\xac"), 3);
        let mut carry = Carry::default();
        let mut text = String::new();
        carry.push(Stream::Stdout, b"ok\xe2\x82", &mut text);
        assert_eq!((text.as_str(), carry.held(Stream::Stdout)), ("ok", 2));
        carry.flush(&mut text);
        assert_eq!(text, "ok\u{fffd}");
    }
}
