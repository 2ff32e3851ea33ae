//! The index of a task's output: one fixed-size record per chunk written,
//! in the order written. Little-endian: micros (8), offset (8), length (4),
//! stream (1), padding (3).

use super::Stream;

/// Bytes per record.
pub const RECORD: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// When the chunk was read from the task, in microseconds since the epoch.
    pub micros: u64,
    pub stream: Stream,
    /// Where the chunk starts in its stream's file.
    pub offset: u64,
    pub len: u32,
}

impl Record {
    pub fn encode(&self) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        b[0..8].copy_from_slice(&self.micros.to_le_bytes());
        b[8..16].copy_from_slice(&self.offset.to_le_bytes());
        b[16..20].copy_from_slice(&self.len.to_le_bytes());
        b[20] = match self.stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        b
    }

    pub fn decode(b: &[u8; RECORD]) -> Record {
        Record {
            micros: u64::from_le_bytes(field(b, 0)),
            offset: u64::from_le_bytes(field(b, 8)),
            len: u32::from_le_bytes(field(b, 16)),
            stream: if b[20] == 1 { Stream::Stderr } else { Stream::Stdout },
        }
    }

    /// Every whole record in `bytes`; a torn last one (being written) is left out.
    pub fn decode_all(bytes: &[u8]) -> impl Iterator<Item = Record> + '_ {
        bytes.chunks_exact(RECORD).filter_map(|c| c.try_into().ok()).map(Record::decode)
    }
}

/// `N` bytes of a record from `at`.
fn field<const N: usize>(b: &[u8; RECORD], at: usize) -> [u8; N] {
    let mut f = [0u8; N];
    f.copy_from_slice(&b[at..at + N]);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        for r in [
            Record { micros: 1_700_000_000_123_456, stream: Stream::Stderr, offset: 1 << 40, len: u32::MAX },
            Record { micros: 0, stream: Stream::Stdout, offset: 0, len: 1 },
        ] {
            assert_eq!(Record::decode(&r.encode()), r);
        }
    }

    #[test]
    fn a_torn_record_is_not_read() {
        let a = Record { micros: 1, stream: Stream::Stdout, offset: 0, len: 3 };
        let b = Record { micros: 2, stream: Stream::Stderr, offset: 0, len: 4 };
        let mut bytes = [a.encode(), b.encode()].concat();
        bytes.truncate(RECORD + 10);
        assert_eq!(Record::decode_all(&bytes).collect::<Vec<_>>(), [a]);
    }
}
