//! A task's output on disk. stdout and stderr go to their own files
//! (`ID.out`, `ID.err`) exactly as written, so each can be read, tailed or
//! sliced by byte offset on its own; an index (`ID.idx`) records every chunk
//! as it arrived (time, stream, offset, length), so the two can also be
//! shown merged in the order they were written. Nothing is held in memory
//! beyond one read buffer.
//!
//! - `index`: the index records.
//! - `capture`: the writing side, in the supervisor.
//! - `reader`: the reading side (logs, tails, follows).
//! - `text`: output as text without splitting a character (the protocol).
//! - `progress`, `ready`: what a task says by its output while it runs.

mod capture;
pub mod cycle;
mod index;
pub mod progress;
mod reader;
pub mod ready;
mod text;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::paths::Paths;

/// The most a "last lines" summary holds (`task/finished`'s tail, `errand
/// show`): ten lines of a task that never writes a newline are not 4 MiB.
pub const SUMMARY_TAIL_BYTES: usize = 16 << 10;

pub use capture::Capture;
pub use reader::{last_lines, Position, Reader};
pub use text::{whole_chars, Carry};

/// One of a task's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Which output a reader wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// stdout and stderr merged in the order written; positions count chunks.
    #[default]
    Both,
    /// stdout only; positions are byte offsets.
    Stdout,
    /// stderr only; positions are byte offsets.
    Stderr,
}

impl Which {
    /// The single stream this names, if it names one.
    pub fn stream(self) -> Option<Stream> {
        match self {
            Which::Both => None,
            Which::Stdout => Some(Stream::Stdout),
            Which::Stderr => Some(Stream::Stderr),
        }
    }
}

/// The files of one task's output, and the file it may leave a result in.
pub struct LogFiles {
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub index: PathBuf,
    /// `$ERRAND_RESULT`: read and removed when a run ends (see `task::result`).
    pub result: PathBuf,
}

impl LogFiles {
    pub fn of(paths: &Paths, id: &str) -> LogFiles {
        LogFiles {
            stdout: paths.logs.join(format!("{id}.out")),
            stderr: paths.logs.join(format!("{id}.err")),
            index: paths.logs.join(format!("{id}.idx")),
            result: paths.logs.join(format!("{id}.result")),
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
        crate::task::result::clear(&self.result);
    }
}
