//! Followed tasks: their new output pushed as `task/outputAppended`, in
//! batches, each starting where the last ended, until the task ends.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::Server;
use super::transport::Out;
use super::wakeups::Wakeups;
use super::watch::send;
use crate::output::{Carry, LogFiles, Reader, Which};
use crate::protocol::{Notification, OutputEvent};

/// One event carries at most this much output.
const BATCH: u64 = 256 << 10;

/// Send new output of followed tasks, one batch at a time (the client's
/// pace bounds memory), and drop follows of finished tasks once all their
/// output is sent. False if the client is gone.
pub async fn push(server: &Arc<Server>, wakeups: &mut Wakeups, out: &mpsc::Sender<Out>) -> bool {
    let ids: Vec<String> = match server.follows.lock() {
        Ok(f) => f.keys().cloned().collect(),
        Err(_) => return true,
    };
    for id in ids {
        // Status before output: output written before the end is then sent
        // before the follow is dropped.
        let finished = {
            let id = id.clone();
            server.store(move |store| Ok(store.get(&id)?.is_final())).await.unwrap_or(true)
        };
        let Some((which, mut pos, watch, mut carry)) = server.follow_of(&id) else { continue };
        let file = LogFiles::of(&server.paths, &id).growing(which).clone();
        let watch = watch.or_else(|| wakeups.watch(&file));
        loop {
            let (batch, returned) = {
                let id = id.clone();
                let read = server.blocking(move |s| {
                    let event = read_batch(s, &id, which, pos, &mut carry, finished);
                    (event, carry)
                });
                read.await.unwrap_or_default()
            };
            carry = returned;
            let Some(event) = batch else { break };
            pos = event.next;
            if !send(server, out, &Notification::OutputAppended(event)).await {
                return false;
            }
        }
        if let Ok(mut follows) = server.follows.lock() {
            if finished {
                follows.remove(&id);
                if let Some(wd) = watch {
                    wakeups.unwatch(wd);
                }
            } else if let Some(follow) = follows.get_mut(&id) {
                follow.pos = pos;
                follow.watch = watch;
                follow.carry = carry;
            }
        }
    }
    true
}

/// The output after `pos`, at most one batch, in whole characters; None
/// when there is none yet.
fn read_batch(
    server: &Server,
    id: &str,
    which: Which,
    pos: u64,
    carry: &mut Carry,
    ended: bool,
) -> Option<OutputEvent> {
    let reader = Reader::open(&server.paths, id).ok()?;
    let (data, next) = reader.read_text(which, pos, BATCH, carry, ended).ok()?;
    (next != pos || !data.is_empty()).then(|| OutputEvent { id: id.to_owned(), stream: which, from: pos, next, data })
}
