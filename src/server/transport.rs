//! Frames over stdin/stdout. Two framings: LSP-style `Content-Length`
//! headers, or one JSON message per line; the first non-blank byte tells
//! which (`{` or `[` starts a line), and answers go out in the same one.
//!
//! `Decoder` is pure (bytes in, messages out) so every split of the input
//! can be tested; `FrameReader` and `write_frames` put it on async I/O. A
//! frame over the size limit is skipped without being held in memory; an
//! `IdScanner` reads it on the way for its top-level id, so the refusal
//! answers the right request.

use std::io;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::budget::Held;

/// Frames larger than this are refused (and skipped without being held).
pub const MAX_FRAME: u64 = 16 << 20;
/// A header line longer than this is malformed.
const MAX_HEADER_LINE: usize = 8 << 10;
/// More header lines than this make a malformed frame.
const MAX_HEADER_LINES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Lines,
}

/// What the client sent, as far as framing can tell.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// One message's bytes (a request, a notification, a batch, or junk).
    Message(Vec<u8>),
    /// A frame over the limit, skipped: its top-level id as written, if it has one.
    TooLarge { id: Option<String>, len: u64 },
    /// The framing itself is broken (a bad header).
    Malformed(String),
}

#[derive(Debug)]
enum State {
    /// Before the first non-blank byte.
    Detect,
    /// Content-Length framing: reading header lines.
    Headers { length: Option<u64>, lines: usize },
    /// Content-Length framing: waiting for `length` body bytes.
    Body { length: usize },
    /// Discarding an oversized frame: `remaining` bytes of a Content-Length
    /// body, or up to the next newline when `remaining` is None.
    Skip { remaining: Option<u64>, scan: IdScanner, len: u64 },
    /// Discarding the rest of an overlong header line.
    SkipHeaderLine,
    /// Content-Length framing: bytes where a frame should start that do
    /// not start one (a frame whose Content-Length was too short, junk);
    /// discarded up to the next `Content-Length:`.
    Resync { skipped: u64 },
    /// Line framing.
    Lines,
}

/// Bytes in, messages out.
#[derive(Debug)]
pub struct Decoder {
    framing: Option<Framing>,
    state: State,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { framing: None, state: State::Detect }
    }
}

impl Decoder {
    /// The framing, once the first byte told it.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// The next message at the front of `buf`, consuming what it used; None
    /// until more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Incoming> {
        loop {
            let step = match self.state {
                State::Detect => self.detect(buf),
                State::Lines => self.line(buf),
                State::Headers { .. } => self.header_line(buf),
                State::Body { length } => self.body(buf, length),
                State::Skip { .. } => self.skip(buf),
                State::SkipHeaderLine => self.skip_header_line(buf),
                State::Resync { skipped } => self.resync(buf, skipped),
            };
            match step {
                Step::Again => {}
                Step::NeedMore => return None,
                Step::Emit(incoming) => return Some(incoming),
            }
        }
    }

    fn next_headers(&mut self) {
        self.state = State::Headers { length: None, lines: 0 };
    }

    /// The first non-blank byte: `{` or `[` starts a line of JSON.
    fn detect(&mut self, buf: &mut BytesMut) -> Step {
        let Some(start) = buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            buf.clear();
            return Step::NeedMore;
        };
        buf.advance(start);
        if matches!(buf[0], b'{' | b'[') {
            self.framing = Some(Framing::Lines);
            self.state = State::Lines;
        } else {
            self.framing = Some(Framing::ContentLength);
            self.next_headers();
        }
        Step::Again
    }

    fn line(&mut self, buf: &mut BytesMut) -> Step {
        let Some(end) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() as u64 > MAX_FRAME {
                // No end in sight: skip the rest of this line as it comes.
                let mut scan = IdScanner::default();
                scan.feed(buf);
                self.state = State::Skip { remaining: None, scan, len: buf.len() as u64 };
                buf.clear();
            }
            return Step::NeedMore;
        };
        let line = buf.split_to(end + 1);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Step::Again;
        }
        if line.len() as u64 > MAX_FRAME {
            let mut scan = IdScanner::default();
            scan.feed(&line);
            return Step::Emit(Incoming::TooLarge { id: scan.finish(), len: line.len() as u64 });
        }
        Step::Emit(Incoming::Message(line.to_vec()))
    }

    /// One header line, or the blank line that ends the headers.
    fn header_line(&mut self, buf: &mut BytesMut) -> Step {
        let State::Headers { length, lines } = self.state else { return Step::Again };
        if lines == 0 {
            match starts_a_header(buf) {
                Some(true) => {}
                Some(false) => {
                    self.state = State::Resync { skipped: 0 };
                    return Step::Again;
                }
                None => return Step::NeedMore,
            }
        }
        let Some(end) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() > MAX_HEADER_LINE {
                buf.clear();
                self.state = State::SkipHeaderLine;
                return Step::Emit(Incoming::Malformed("malformed header: too long".into()));
            }
            return Step::NeedMore;
        };
        let line = buf.split_to(end + 1);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            return match (lines, length) {
                (0, _) => Step::Again, // a stray blank line between frames
                (_, None) => {
                    self.next_headers();
                    Step::Emit(Incoming::Malformed("missing Content-Length header".into()))
                }
                (_, Some(len)) if len > MAX_FRAME => {
                    self.state = State::Skip { remaining: Some(len), scan: IdScanner::default(), len };
                    Step::Again
                }
                (_, Some(len)) => {
                    self.state = State::Body { length: len as usize };
                    Step::Again
                }
            };
        }
        if lines + 1 > MAX_HEADER_LINES {
            self.next_headers();
            return Step::Emit(Incoming::Malformed("malformed header: too many lines".into()));
        }
        let length = match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<u64>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        self.next_headers();
                        let message = format!("malformed Content-Length: {}", truncate(value.trim(), 80));
                        return Step::Emit(Incoming::Malformed(message));
                    }
                }
            }
            Some(_) => length, // Content-Type and friends
            None => {
                self.next_headers();
                return Step::Emit(Incoming::Malformed(format!("malformed header line: {}", truncate(text, 80))));
            }
        };
        self.state = State::Headers { length, lines: lines + 1 };
        Step::Again
    }

    fn body(&mut self, buf: &mut BytesMut, length: usize) -> Step {
        if buf.len() < length {
            buf.reserve(length - buf.len());
            return Step::NeedMore;
        }
        let body = buf.split_to(length).to_vec();
        self.next_headers();
        Step::Emit(Incoming::Message(body))
    }

    /// Discard an oversized frame as it arrives, looking for its id.
    fn skip(&mut self, buf: &mut BytesMut) -> Step {
        let State::Skip { remaining, scan, len } = &mut self.state else { return Step::Again };
        let available = match *remaining {
            Some(r) => buf.len().min(r as usize),
            None => buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1),
        };
        scan.feed(&buf[..available]);
        let ended = match remaining {
            Some(r) => {
                *r -= available as u64;
                *r == 0
            }
            None => {
                *len += available as u64;
                buf[..available].ends_with(b"\n")
            }
        };
        buf.advance(available);
        if !ended {
            return Step::NeedMore;
        }
        let refused = Incoming::TooLarge { id: std::mem::take(scan).finish(), len: *len };
        match self.framing {
            Some(Framing::Lines) => self.state = State::Lines,
            _ => self.next_headers(),
        }
        Step::Emit(refused)
    }

    /// Discard up to the next `Content-Length:` (any case), then say how
    /// much was skipped.
    fn resync(&mut self, buf: &mut BytesMut, skipped: u64) -> Step {
        const HEADER: &[u8] = b"content-length:";
        match buf.windows(HEADER.len()).position(|w| w.eq_ignore_ascii_case(HEADER)) {
            Some(at) => {
                buf.advance(at);
                self.next_headers();
                let skipped = skipped + at as u64;
                Step::Emit(Incoming::Malformed(format!(
                    "{skipped} bytes that do not start a frame were skipped, up to the next Content-Length header"
                )))
            }
            None => {
                // Keep what could be the start of the header, cut by the read.
                let drop = buf.len().saturating_sub(HEADER.len() - 1);
                buf.advance(drop);
                self.state = State::Resync { skipped: skipped + drop as u64 };
                Step::NeedMore
            }
        }
    }

    fn skip_header_line(&mut self, buf: &mut BytesMut) -> Step {
        match buf.iter().position(|&b| b == b'\n') {
            Some(end) => {
                buf.advance(end + 1);
                self.next_headers();
                Step::Again
            }
            None => {
                buf.clear();
                Step::NeedMore
            }
        }
    }
}

/// What one decoding step came to.
enum Step {
    /// The state moved on: decode again.
    Again,
    /// Nothing more until more bytes arrive.
    NeedMore,
    Emit(Incoming),
}

/// Does `buf` start with a header line (`Name:`, after blank lines)?
/// None: cannot tell yet.
fn starts_a_header(buf: &[u8]) -> Option<bool> {
    let line = buf.iter().position(|b| !b.is_ascii_whitespace()).map_or(&buf[buf.len()..], |i| &buf[i..]);
    if line.is_empty() {
        return Some(true); // blank lines: header_line skips them
    }
    match line.iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'-')) {
        Some(i) => Some(i > 0 && line[i] == b':'),
        None if line.len() > MAX_HEADER_LINE => Some(false),
        None => None,
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Finds the top-level `"id"` of a JSON object read piece by piece, without
/// holding it: members inside `params` (or anywhere deeper) are skipped,
/// whatever their names, and the order of members does not matter.
#[derive(Debug, Default)]
struct IdScanner {
    depth: u32,
    in_string: bool,
    escape: bool,
    /// In the top-level object, where the next string is a member name.
    want_name: bool,
    reading_name: bool,
    /// The current top-level member name (its first bytes).
    name: Vec<u8>,
    /// The id's text as it is read.
    value: Option<Vec<u8>>,
    /// The id's text, whole; or done without one.
    found: Option<Vec<u8>>,
    done: bool,
}

/// An id longer than this is not looked for further.
const MAX_ID: usize = 1024;

impl IdScanner {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.done {
                return;
            }
            if self.value.is_some() {
                self.id_byte(b);
            } else if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.reading_name = false;
                } else if self.reading_name && self.name.len() < 3 {
                    self.name.push(b);
                }
            } else {
                self.structure(b);
            }
        }
    }

    fn structure(&mut self, b: u8) {
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.want_name {
                    self.want_name = false;
                    self.reading_name = true;
                    self.name.clear();
                }
            }
            b'[' if self.depth == 0 => self.done = true, // a batch: no one id
            b'{' | b'[' => {
                self.depth += 1;
                self.want_name = self.depth == 1;
            }
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b',' if self.depth == 1 => self.want_name = true,
            b':' if self.depth == 1 && self.name == b"id" => self.value = Some(Vec::new()),
            _ => {}
        }
    }

    /// A byte of the id's value: a string, or a scalar up to the next delimiter.
    fn id_byte(&mut self, b: u8) {
        let Some(value) = &mut self.value else { return };
        let ended = match value.first() {
            None if b.is_ascii_whitespace() => false,
            Some(b'"') => {
                value.push(b);
                let closing = !self.escape && b == b'"' && value.len() > 1;
                self.escape = !self.escape && b == b'\\';
                closing
            }
            _ if matches!(b, b',' | b'}' | b'{' | b'[' | b']') || b.is_ascii_whitespace() => true,
            _ => {
                value.push(b);
                false
            }
        };
        if ended || value.len() > MAX_ID {
            self.found = self.value.take().filter(|v| !v.is_empty() && v.len() <= MAX_ID);
            self.done = true;
        }
    }

    /// The id's text, if the object had a top-level id.
    fn finish(mut self) -> Option<String> {
        if let Some(value) = self.value.take() {
            self.found = Some(value); // the frame ended inside it
        }
        self.found.and_then(|v| String::from_utf8(v).ok())
    }
}

/// Messages from an async byte stream.
pub struct FrameReader<R> {
    input: R,
    buf: BytesMut,
    decoder: Decoder,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(input: R) -> Self {
        FrameReader { input, buf: BytesMut::with_capacity(64 << 10), decoder: Decoder::default() }
    }

    pub fn framing(&self) -> Option<Framing> {
        self.decoder.framing()
    }

    /// The next message; None at the end of input (a frame cut short by
    /// the end is dropped).
    pub async fn next(&mut self) -> Option<Incoming> {
        loop {
            if let Some(incoming) = self.decoder.decode(&mut self.buf) {
                return Some(incoming);
            }
            self.buf.reserve(64 << 10);
            match self.input.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

/// To the writer: a message, or "flush and stop". A message holds its
/// share of the connection's memory budget until it is written.
#[derive(Debug)]
pub enum Out {
    Message(Vec<u8>, Held),
    Stop,
}

fn frame(framing: Framing, body: &[u8], out: &mut Vec<u8>) {
    match framing {
        Framing::ContentLength => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
        }
        Framing::Lines => {
            out.extend_from_slice(body);
            out.push(b'\n');
        }
    }
}

/// The one writer of stdout: whole frames only, what is queued written
/// together and flushed once. Returns when told to stop, when every sender
/// is gone, or when the client stops reading.
pub async fn write_frames(mut output: impl AsyncWrite + Unpin, framing: Framing, mut rx: mpsc::Receiver<Out>) {
    let mut pending = Vec::with_capacity(64 << 10);
    let mut pending_budget = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut stop = false;
        let mut next = Some(first);
        while let Some(out) = next.take() {
            match out {
                Out::Message(body, held) => {
                    frame(framing, &body, &mut pending);
                    pending_budget.push(held);
                }
                Out::Stop => {
                    stop = true;
                    break;
                }
            }
            if pending.len() < 1 << 20 {
                next = rx.try_recv().ok();
            }
        }
        if output.write_all(&pending).await.is_err() || output.flush().await.is_err() {
            return; // the client is gone
        }
        pending.clear();
        pending_budget.clear(); // written: their budget is free again
        if pending.capacity() > 4 << 20 {
            pending = Vec::with_capacity(64 << 10);
        }
        if stop {
            return;
        }
    }
}

/// stdin as an async reader: a pipe or a socket (what editors give their
/// children) is read in the event loop; anything else (a file, a terminal)
/// through tokio's blocking stdin.
pub fn stdin() -> io::Result<Box<dyn AsyncRead + Unpin + Send>> {
    let fd = crate::sys::dup_stdin()?;
    Ok(match crate::sys::fd_kind(&fd)? {
        crate::sys::FdKind::Fifo => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?),
        crate::sys::FdKind::Socket => {
            let socket = std::os::unix::net::UnixStream::from(fd);
            socket.set_nonblocking(true)?;
            Box::new(tokio::net::UnixStream::from_std(socket)?)
        }
        crate::sys::FdKind::Other => Box::new(tokio::io::stdin()),
    })
}

/// The frames' file (the real stdout) as an async writer, likewise.
pub fn stdout(frames: std::fs::File) -> io::Result<Box<dyn AsyncWrite + Unpin + Send>> {
    Ok(match crate::sys::fd_kind(&frames)? {
        crate::sys::FdKind::Fifo => Box::new(tokio::net::unix::pipe::Sender::from_file(frames)?),
        crate::sys::FdKind::Socket => {
            let socket = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(frames));
            socket.set_nonblocking(true)?;
            Box::new(tokio::net::UnixStream::from_std(socket)?)
        }
        crate::sys::FdKind::Other => Box::new(tokio::fs::File::from_std(frames)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `input` in pieces of `piece` bytes; every message decoded.
    fn decode_in_pieces(input: &[u8], piece: usize) -> (Option<Framing>, Vec<Incoming>) {
        let mut d = Decoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for p in input.chunks(piece) {
            buf.extend_from_slice(p);
            while let Some(m) = d.decode(&mut buf) {
                out.push(m);
            }
        }
        (d.framing(), out)
    }

    fn msg(s: &str) -> Incoming {
        Incoming::Message(s.as_bytes().to_vec())
    }

    #[test]
    fn content_length_frames_come_out_whole_however_they_are_split() {
        let input = b"\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{\"a\":1}Content-Length:2\n\n[]";
        for piece in [1, 2, 5, 13, input.len()] {
            let (framing, got) = decode_in_pieces(input, piece);
            assert_eq!(framing, Some(Framing::ContentLength));
            assert_eq!(got, [msg("{\"a\":1}"), msg("[]")], "pieces of {piece}");
        }
    }

    #[test]
    fn lines_frames_skip_blank_lines_and_keep_crlf_inside() {
        let input = b"  \n{\"a\":1}\n\n[1,2]\r\n{\"b\":\n";
        for piece in [1, 3, input.len()] {
            let (framing, got) = decode_in_pieces(input, piece);
            assert_eq!(framing, Some(Framing::Lines));
            assert_eq!(got, [msg("{\"a\":1}\n"), msg("[1,2]\r\n"), msg("{\"b\":\n")]);
        }
    }

    #[test]
    fn broken_headers_are_reported_and_the_stream_resynchronises() {
        let input = b"Content-Length: abc\r\n\r\nX-Nonsense\r\n\r\nContent-Type: x\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let (_, got) = decode_in_pieces(input, 4);
        assert_eq!(
            got,
            [
                Incoming::Malformed("malformed Content-Length: abc".into()),
                Incoming::Malformed(
                    "35 bytes that do not start a frame were skipped, up to the next Content-Length header".into()
                ),
                msg("{}"),
            ]
        );
        let mut long = b"Content-Length: 2\r\nX: ".to_vec();
        long.extend(vec![b'x'; 3 * MAX_HEADER_LINE]);
        long.extend(b"\r\n\r\nContent-Length: 2\r\n\r\n[]");
        let (_, got) = decode_in_pieces(&long, 1000);
        assert_eq!(got, [Incoming::Malformed("malformed header: too long".into()), msg("[]")]);
    }

    #[test]
    fn a_content_length_too_short_costs_one_frame_not_the_connection() {
        let good = |id: u32| {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"task/counts"}}"#);
            format!("Content-Length: {}\r\n\r\n{body}", body.len())
        };
        let input = format!(
            "Content-Length: 10\r\n\r\n{}{}{}",
            r#"{"jsonrpc":"2.0","id":1,"method":"task/counts"}"#,
            good(2),
            good(3)
        );
        for piece in [1, 7, input.len()] {
            let (_, got) = decode_in_pieces(input.as_bytes(), piece);
            assert_eq!(got.len(), 4, "{got:?}");
            assert_eq!(got[0], msg(r#"{"jsonrpc""#));
            assert!(matches!(&got[1], Incoming::Malformed(m) if m.starts_with("37 bytes")), "{:?}", got[1]);
            assert_eq!(got[2], Incoming::Message(good(2).split("\r\n\r\n").nth(1).unwrap().as_bytes().to_vec()));
            assert_eq!(got[3], Incoming::Message(good(3).split("\r\n\r\n").nth(1).unwrap().as_bytes().to_vec()));
        }
    }

    fn oversized(framing: Framing) -> Vec<u8> {
        let mut body = br#"{"jsonrpc":"2.0","id":77,"method":"task/run","params":{"command":""#.to_vec();
        body.resize(MAX_FRAME as usize + 10, b'x');
        body.extend_from_slice(br#""}}"#);
        let mut out = Vec::new();
        frame(framing, &body, &mut out);
        frame(framing, b"{}", &mut out);
        out
    }

    #[test]
    fn an_oversized_frame_is_skipped_with_its_id_and_not_held() {
        for framing in [Framing::ContentLength, Framing::Lines] {
            let input = oversized(framing);
            let mut d = Decoder::default();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut peak = 0;
            for p in input.chunks(64 << 10) {
                buf.extend_from_slice(p);
                peak = peak.max(buf.len());
                while let Some(m) = d.decode(&mut buf) {
                    got.push(m);
                }
            }
            assert_eq!(got.len(), 2, "{framing:?}");
            assert!(
                matches!(&got[0], Incoming::TooLarge { id, len } if id.as_deref() == Some("77") && *len > MAX_FRAME),
                "{:?}",
                got[0]
            );
            assert_eq!(got[1], msg(if framing == Framing::Lines { "{}\n" } else { "{}" }));
            assert!(peak as u64 <= MAX_FRAME + (128 << 10), "held {peak} bytes");
        }
    }

    fn scan(pieces: &[&[u8]]) -> Option<String> {
        let mut scan = IdScanner::default();
        for p in pieces {
            scan.feed(p);
        }
        scan.finish()
    }

    #[test]
    fn the_top_level_id_is_found_wherever_it_is_and_however_the_frame_is_split() {
        let frame = br#"{"method":"x","params":{"id":"decoy","list":[{"id":1}],"s":"\"id\":2"},"id" : -1.5e3}"#;
        for piece in 1..frame.len() {
            let pieces: Vec<&[u8]> = frame.chunks(piece).collect();
            assert_eq!(scan(&pieces).as_deref(), Some("-1.5e3"), "pieces of {piece}");
        }
        assert_eq!(scan(&[br#"{"id":"a\"b","method":"x"}"#]).as_deref(), Some(r#""a\"b""#));
        assert_eq!(scan(&[br#"{"id":null}"#]).as_deref(), Some("null"));
        assert_eq!(scan(&[br#"{"params":"xxxxx"#]), None);
        assert_eq!(scan(&[br#"[{"id":1}]"#]), None, "a batch has no one id");
        let mut far = br#"{"params":{"text":""#.to_vec();
        far.resize(20 << 20, b'x');
        far.extend_from_slice(br#""},"id":42}"#);
        assert_eq!(scan(&[&far]).as_deref(), Some("42"), "an id after 20 MB of params");
    }

    #[test]
    fn frames_are_written_in_the_clients_framing() {
        let mut out = Vec::new();
        frame(Framing::ContentLength, b"{}", &mut out);
        frame(Framing::Lines, b"[]", &mut out);
        assert_eq!(out, b"Content-Length: 2\r\n\r\n{}[]\n");
    }
}
