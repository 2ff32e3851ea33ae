//! A supervisor's control FIFO (`run/wPID.ctl`): how any client sends its
//! running task stdin, closes that stdin, or cancels it. The FIFO exists
//! only while its supervisor reads it, and every frame names its task, so a
//! frame can never reach the wrong task and "not running" is detected for
//! free.
//!
//! A frame: kind (1 byte), id length (1), payload length (2, little-endian),
//! the task id, the payload. A whole frame is at most PIPE_BUF bytes, so the
//! kernel never interleaves two senders inside one.

use std::io::Write;
use std::path::PathBuf;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use crate::store::Store;

const KIND_INPUT: u8 = 1;
const KIND_EOF: u8 = 2;
const KIND_CANCEL: u8 = 3;
const KIND_PAUSE: u8 = 4;
const KIND_RESUME: u8 = 5;
const HEADER: usize = 4;
/// Writes up to this size are atomic on a pipe (Linux).
pub const PIPE_BUF: usize = 4096;

/// What a client can say to a running task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Input(Vec<u8>),
    Eof,
    Cancel,
    /// Stop its processes (SIGSTOP) until a `Resume`.
    Pause,
    Resume,
}

/// The FIFO of the supervisor with this pid.
pub fn path(paths: &Paths, worker_pid: u32) -> PathBuf {
    paths.run.join(format!("w{worker_pid}.ctl"))
}

/// The frames that carry `message` to task `id` (input is split as needed).
pub fn encode(id: &str, message: &Message) -> Result<Vec<Vec<u8>>> {
    let id_len = u8::try_from(id.len()).map_err(|_| Error::InvalidInput(format!("task id too long: {id}")))?;
    let frame = |kind: u8, payload: &[u8]| {
        let mut f = Vec::with_capacity(HEADER + id.len() + payload.len());
        f.extend_from_slice(&[kind, id_len]);
        f.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        f.extend_from_slice(id.as_bytes());
        f.extend_from_slice(payload);
        f
    };
    Ok(match message {
        Message::Input(data) => data.chunks(PIPE_BUF - HEADER - id.len()).map(|c| frame(KIND_INPUT, c)).collect(),
        Message::Eof => vec![frame(KIND_EOF, &[])],
        Message::Cancel => vec![frame(KIND_CANCEL, &[])],
        Message::Pause => vec![frame(KIND_PAUSE, &[])],
        Message::Resume => vec![frame(KIND_RESUME, &[])],
    })
}

/// Reassembles frames from what the FIFO delivers, in pieces of any size.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame: (task id, message). Garbage (a frame longer
    /// than any sender writes) drops what is buffered; an unknown kind is
    /// skipped.
    pub fn next_frame(&mut self) -> Option<(String, Message)> {
        while self.buf.len() >= HEADER {
            let id_len = usize::from(self.buf[1]);
            let len = usize::from(u16::from_le_bytes([self.buf[2], self.buf[3]]));
            let total = HEADER + id_len + len;
            if total > PIPE_BUF {
                self.buf.clear();
                return None;
            }
            if self.buf.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buf.drain(..total).collect();
            let id = String::from_utf8_lossy(&frame[HEADER..HEADER + id_len]).into_owned();
            let message = match frame[0] {
                KIND_INPUT => Message::Input(frame[HEADER + id_len..].to_vec()),
                KIND_EOF => Message::Eof,
                KIND_CANCEL => Message::Cancel,
                KIND_PAUSE => Message::Pause,
                KIND_RESUME => Message::Resume,
                _ => continue,
            };
            return Some((id, message));
        }
        None
    }
}

/// Read frames from the FIFO for as long as the supervisor lives.
pub async fn read(mut fifo: tokio::net::unix::pipe::Receiver, to_task: mpsc::Sender<(String, Message)>) {
    let mut decoder = Decoder::default();
    let mut chunk = vec![0u8; 2 * PIPE_BUF];
    loop {
        let n = match fifo.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        decoder.push(&chunk[..n]);
        while let Some(frame) = decoder.next_frame() {
            if to_task.send(frame).await.is_err() {
                return;
            }
        }
    }
}

/// Send a message to a running task through its supervisor's FIFO. Fails
/// with NotRunning if the task is not running or nobody listens.
pub fn send(paths: &Paths, store: &Store, id: &str, message: &Message) -> Result<()> {
    let task = store.get(id)?;
    let not_running = || Error::NotRunning { id: id.to_owned(), status: task.status().to_string() };
    let worker = store.worker_of(id)?.ok_or_else(not_running)?;
    let path = path(paths, worker);
    let mut fifo = crate::sys::open_fifo_writer(&path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENXIO) | Some(libc::ENOENT) => not_running(),
        _ => Error::io(format!("cannot open {}", path.display()), e),
    })?;
    for frame in encode(id, message)? {
        fifo.write_all(&frame).context(|| format!("cannot write to task {id}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], piece: usize) -> Vec<(String, Message)> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for p in bytes.chunks(piece) {
            d.push(p);
            while let Some(f) = d.next_frame() {
                out.push(f);
            }
        }
        out
    }

    #[test]
    fn frames_survive_any_split_of_the_stream() {
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut bytes = Vec::new();
        for (id, m) in [
            ("k3vq", Message::Input(big.clone())),
            ("k3vq", Message::Eof),
            ("k3vq", Message::Pause),
            ("k3vq", Message::Resume),
            ("zz", Message::Cancel),
        ] {
            let frames = encode(id, &m).unwrap();
            assert!(frames.iter().all(|f| f.len() <= PIPE_BUF), "each frame fits one atomic write");
            bytes.extend(frames.concat());
        }
        for piece in [1, 3, 4095, 1 << 20] {
            let got = decode_all(&bytes, piece);
            let input: Vec<u8> = got
                .iter()
                .filter_map(|(_, m)| if let Message::Input(d) = m { Some(d.clone()) } else { None })
                .collect::<Vec<_>>()
                .concat();
            assert_eq!(input, big, "input arrives whole and in order (pieces of {piece})");
            assert_eq!(got[got.len() - 4], ("k3vq".into(), Message::Eof));
            assert_eq!(got[got.len() - 3], ("k3vq".into(), Message::Pause));
            assert_eq!(got[got.len() - 2], ("k3vq".into(), Message::Resume));
            assert_eq!(got[got.len() - 1], ("zz".into(), Message::Cancel));
        }
    }

    #[test]
    fn garbage_is_dropped_and_reading_goes_on() {
        let mut bytes = vec![9, 2, 0, 0, b'a', b'b']; // unknown kind: skipped
        bytes.extend([1, 0, 0xff, 0xff]); // longer than any frame: buffer dropped
        let got = decode_all(&bytes, 64);
        assert!(got.is_empty());
        let mut d = Decoder::default();
        d.push(&[1, 0, 0xff, 0xff]);
        assert_eq!(d.next_frame(), None);
        d.push(&encode("ab", &Message::Cancel).unwrap().concat());
        assert_eq!(d.next_frame(), Some(("ab".into(), Message::Cancel)));
        assert!(encode(&"x".repeat(300), &Message::Eof).is_err());
    }
}
