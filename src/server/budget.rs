//! A connection's memory budget. Whatever a client sends or stops reading,
//! `errand serve` holds a bounded amount: frames read but not yet answered,
//! answers that can be large (output, tails, lists), and notifications
//! queued for a client that does not read. Each takes its share before it
//! is read or built and gives it back once written to stdout; a stalled
//! client so stalls the server's work for it, never its memory. Output a
//! follow did not send yet waits in the task's files, not in memory, and
//! followed output has a small budget of its own, taken without waiting: a
//! `task/finished` is never queued behind more than that.

use std::sync::Arc;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::transport::Incoming;

/// Bytes of frames read and not yet answered.
const INCOMING: u32 = 32 << 20;
/// Requests whose answer can be large, at once.
const LARGE_ANSWERS: u32 = 2;
/// Bytes of notifications queued and not yet written.
const NOTIFICATIONS: u32 = 4 << 20;
/// Bytes of followed output queued and not yet written: four events.
pub const OUTPUT: u32 = 1 << 20;

pub struct Budget {
    incoming: Arc<Semaphore>,
    large: Arc<Semaphore>,
    notifications: Arc<Semaphore>,
    output: Arc<Semaphore>,
    /// Told when followed output was written (its budget is free again).
    pub output_written: Arc<Notify>,
}

/// Shares held until a message is written.
#[derive(Debug, Default)]
pub struct Held {
    permits: Vec<OwnedSemaphorePermit>,
    /// Told once these are given back.
    on_free: Option<Arc<Notify>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.permits.clear();
        if let Some(notify) = &self.on_free {
            notify.notify_one();
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            incoming: Arc::new(Semaphore::new(INCOMING as usize)),
            large: Arc::new(Semaphore::new(LARGE_ANSWERS as usize)),
            notifications: Arc::new(Semaphore::new(NOTIFICATIONS as usize)),
            output: Arc::new(Semaphore::new(OUTPUT as usize)),
            output_written: Arc::new(Notify::new()),
        }
    }
}

/// `len` bytes as permits of a budget of `total`: a message larger than the
/// whole budget waits until it has it all.
fn share(len: usize, total: u32) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX).clamp(1, total)
}

impl Budget {
    /// Before a frame is handled: its bytes, and a large-answer slot if
    /// its answer may be large. None once the server is closing.
    pub async fn for_frame(&self, incoming: &Incoming, large: bool) -> Option<Held> {
        let len = match incoming {
            Incoming::Message(bytes) => bytes.len(),
            _ => 0,
        };
        let mut permits = vec![self.incoming.clone().acquire_many_owned(share(len, INCOMING)).await.ok()?];
        if large {
            permits.push(self.large.clone().acquire_owned().await.ok()?);
        }
        Some(Held { permits, on_free: None })
    }

    /// Before a notification of `len` bytes is queued.
    pub async fn for_notification(&self, len: usize) -> Option<Held> {
        let permit = self.notifications.clone().acquire_many_owned(share(len, NOTIFICATIONS)).await.ok()?;
        Some(Held { permits: vec![permit], on_free: None })
    }

    /// Room for `len` bytes of followed output, now or None (then wait for
    /// `output_written`).
    pub fn try_for_output(&self, len: usize) -> Option<Held> {
        let permit = self.output.clone().try_acquire_many_owned(share(len, OUTPUT)).ok()?;
        Some(Held { permits: vec![permit], on_free: Some(self.output_written.clone()) })
    }

    /// Is there room for an output event of `len` bytes now?
    pub fn output_room(&self, len: usize) -> bool {
        self.output.available_permits() >= share(len, OUTPUT) as usize
    }
}
