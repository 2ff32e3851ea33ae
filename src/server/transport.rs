//! Frames over stdin/stdout. Two framings: LSP-style `Content-Length`
//! headers, or one JSON message per line; the first non-blank byte tells
//! which (`{` or `[` starts a line), and answers go out in the same one.
//!
//! `Decoder` is pure (bytes in, messages out) so every split of the input
//! can be tested; `FrameReader` and `write_frames` put it on async I/O. A
//! frame over the size limit is skipped without being held in memory; its
//! start is kept to find its id, so the refusal answers the right request.

use std::io;

use bytes::{Buf, BytesMut};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Frames larger than this are refused (and skipped without being held).
pub const MAX_FRAME: u64 = 16 << 20;
/// How much of an oversized frame is kept to find its id.
const SNIFF_BYTES: usize = 64 << 10;
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
    /// A frame over the limit, skipped: its id if one was found early on.
    TooLarge { id: Value, len: u64 },
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
    Skip { remaining: Option<u64>, head: Vec<u8>, len: u64 },
    /// Discarding the rest of an overlong header line.
    SkipHeaderLine,
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
                let head = buf[..SNIFF_BYTES].to_vec();
                self.state = State::Skip { remaining: None, head, len: buf.len() as u64 };
                buf.clear();
            }
            return Step::NeedMore;
        };
        let line = buf.split_to(end + 1);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Step::Again;
        }
        if line.len() as u64 > MAX_FRAME {
            return Step::Emit(Incoming::TooLarge { id: sniff_id(&line[..SNIFF_BYTES]), len: line.len() as u64 });
        }
        Step::Emit(Incoming::Message(line.to_vec()))
    }

    /// One header line, or the blank line that ends the headers.
    fn header_line(&mut self, buf: &mut BytesMut) -> Step {
        let State::Headers { length, lines } = self.state else { return Step::Again };
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
                    self.state = State::Skip { remaining: Some(len), head: Vec::new(), len };
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

    /// Discard an oversized frame as it arrives, keeping its start.
    fn skip(&mut self, buf: &mut BytesMut) -> Step {
        let State::Skip { remaining, head, len } = &mut self.state else { return Step::Again };
        let available = match *remaining {
            Some(r) => buf.len().min(r as usize),
            None => buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1),
        };
        let keep = SNIFF_BYTES.saturating_sub(head.len()).min(available);
        head.extend_from_slice(&buf[..keep]);
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
        let refused = Incoming::TooLarge { id: sniff_id(head), len: *len };
        match self.framing {
            Some(Framing::Lines) => self.state = State::Lines,
            _ => self.next_headers(),
        }
        Step::Emit(refused)
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

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Find `"id": <number or string>` in the start of a frame too large to parse.
fn sniff_id(head: &[u8]) -> Value {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("\"id\"") {
        rest = &rest[i + 4..];
        let Some(after) = rest.trim_start().strip_prefix(':') else { continue };
        let mut values = serde_json::Deserializer::from_str(after.trim_start()).into_iter::<Value>();
        if let Some(Ok(v @ (Value::Number(_) | Value::String(_)))) = values.next() {
            return v;
        }
    }
    Value::Null
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

/// To the writer: a message, or "flush and stop".
#[derive(Debug)]
pub enum Out {
    Message(Vec<u8>),
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
    while let Some(first) = rx.recv().await {
        let mut stop = false;
        let mut next = Some(first);
        while let Some(out) = next.take() {
            match out {
                Out::Message(body) => frame(framing, &body, &mut pending),
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
                Incoming::Malformed("malformed header line: X-Nonsense".into()),
                Incoming::Malformed("missing Content-Length header".into()),
                msg("{}"),
            ]
        );
        let mut long = b"Content-Length: 2\r\nX: ".to_vec();
        long.extend(vec![b'x'; 3 * MAX_HEADER_LINE]);
        long.extend(b"\r\n\r\nContent-Length: 2\r\n\r\n[]");
        let (_, got) = decode_in_pieces(&long, 1000);
        assert_eq!(got, [Incoming::Malformed("malformed header: too long".into()), msg("[]")]);
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
            assert!(matches!(&got[0], Incoming::TooLarge { id, len } if *id == 77 && *len > MAX_FRAME), "{:?}", got[0]);
            assert_eq!(got[1], msg(if framing == Framing::Lines { "{}\n" } else { "{}" }));
            assert!(peak as u64 <= MAX_FRAME + (128 << 10), "held {peak} bytes");
        }
    }

    #[test]
    fn ids_are_sniffed_from_the_start_of_a_frame() {
        assert_eq!(sniff_id(br#"{"method":"x","id" : "abc","params":"#), Value::from("abc"));
        assert_eq!(sniff_id(br#"{"params":{"id":{"x":1}},"id":5"#), Value::from(5));
        assert_eq!(sniff_id(br#"{"params":"xxxxx"#), Value::Null);
    }

    #[test]
    fn frames_are_written_in_the_clients_framing() {
        let mut out = Vec::new();
        frame(Framing::ContentLength, b"{}", &mut out);
        frame(Framing::Lines, b"[]", &mut out);
        assert_eq!(out, b"Content-Length: 2\r\n\r\n{}[]\n");
    }
}
