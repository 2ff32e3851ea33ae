//! Followed tasks: their new output pushed as `task/outputAppended`, one
//! event per task per round, each starting where the last ended, until the
//! task ends. A follow never costs more than the client takes: events wait
//! for room in the output budget (without holding up the watcher), and a
//! follow that falls far behind a fast writer skips to the newest output,
//! says how much it left out, and then sends the newest screenfuls at most
//! once per `PACE` until it keeps up. The files keep all of it for `task/output`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::state::Server;
use super::transport::Out;
use super::wakeups::Wakeups;
use crate::output::{Carry, LogFiles, Reader, Which};
use crate::protocol::{Notification, OutputEvent};

/// One event carries at most this much output.
const BATCH: u64 = 256 << 10;
/// A follow this far behind skips ahead to the last `KEEP`.
const LAG: u64 = 4 << 20;
/// What a skip keeps: the newest screenfuls. A terminal that renders more
/// falls behind in the editor, where no budget of ours can see it.
const KEEP: u64 = 16 << 10;
/// After a skip, the next event waits this long: a screen redrawn 10 times
/// a second, not a firehose no one reads.
const PACE: Duration = Duration::from_millis(100);

/// What a round of pushing left to do.
#[derive(Debug, Default)]
pub struct Pushed {
    /// The client is gone.
    pub gone: bool,
    /// A follow has more to send now: go round again without waiting.
    pub more: bool,
    /// A follow waits for the client to read what was queued.
    pub blocked: bool,
    /// The earliest time a paced follow may send again.
    pub resume_at: Option<Instant>,
}

/// Send each followed task's next event, and drop follows of finished tasks
/// once all their output is sent.
pub async fn push(server: &Arc<Server>, wakeups: &mut Wakeups, out: &mpsc::Sender<Out>) -> Pushed {
    let mut pushed = Pushed::default();
    let ids: Vec<String> = match server.follows.lock() {
        Ok(f) => f.keys().cloned().collect(),
        Err(_) => return pushed,
    };
    let now = Instant::now();
    for id in ids {
        // Status before output: output written before the end is then sent
        // before the follow is dropped.
        let finished = {
            let id = id.clone();
            server.store(move |store| Ok(store.get(&id)?.is_final())).await.unwrap_or(true)
        };
        let Some(mut follow) = server.follow_of(&id) else { continue };
        // The last event of an ended task is not paced: the end shows at once.
        let paced = follow.paced_until.filter(|at| *at > now && !finished);
        if paced.is_some() || !server.budget.output_room(BATCH as usize) {
            pushed.resume_at = earliest(pushed.resume_at, paced);
            pushed.blocked |= paced.is_none();
            server.put_follow(&id, follow);
            continue;
        }
        let file = LogFiles::of(&server.paths, &id).growing(follow.which).clone();
        follow.watch = follow.watch.or_else(|| wakeups.watch(&file));
        let (which, pos, carry) = (follow.which, follow.pos, follow.carry.clone());
        let read = {
            let id = id.clone();
            server.blocking(move |s| {
                let mut carry = carry;
                let event = read_batch(s, &id, which, pos, &mut carry, finished);
                (event, carry)
            })
        };
        let (batch, carry) = read.await.unwrap_or((None, Carry::default()));
        let mut done = finished;
        if let Some((event, more)) = batch {
            let skipped = event.skipped > 0;
            let next = event.next;
            match send(server, out, &Notification::OutputAppended(event)).await {
                Sent::Gone => {
                    pushed.gone = true;
                    return pushed;
                }
                // No room for this one after all (its JSON ran long): again later.
                Sent::NoRoom => {
                    pushed.blocked = true;
                    done = false;
                }
                Sent::Queued => {
                    follow.pos = next;
                    follow.carry = carry;
                    done = finished && !more;
                    if skipped && !done {
                        // Paced: its file's writes need not wake the watcher meanwhile.
                        let at = now + PACE;
                        follow.paced_until = Some(at);
                        pushed.resume_at = earliest(pushed.resume_at, Some(at));
                        if let Some(wd) = follow.watch.take() {
                            wakeups.unwatch(wd);
                        }
                    } else {
                        follow.paced_until = None;
                        pushed.more |= more;
                    }
                }
            }
        }
        if done {
            server.drop_follow(&id, &follow);
            if let Some(wd) = follow.watch {
                wakeups.unwatch(wd);
            }
        } else {
            server.put_follow(&id, follow);
        }
    }
    pushed
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

enum Sent {
    Queued,
    NoRoom,
    Gone,
}

/// Queue an output event if its budget has room now.
async fn send(server: &Server, out: &mpsc::Sender<Out>, notification: &Notification) -> Sent {
    let json = match notification.to_json() {
        Ok(json) => json,
        Err(e) => {
            tracing::error!("cannot encode an output event: {e}");
            return Sent::Queued;
        }
    };
    let Some(held) = server.budget.try_for_output(json.len()) else { return Sent::NoRoom };
    match out.send(Out::Message(json, held)).await {
        Ok(()) => Sent::Queued,
        Err(_) => Sent::Gone,
    }
}

/// The output after `pos`, at most one batch, in whole characters, and
/// whether more is there already; None when there is none yet. Far behind,
/// it skips ahead to the newest output, from a line's start where it can.
fn read_batch(
    server: &Server,
    id: &str,
    which: Which,
    pos: u64,
    carry: &mut Carry,
    ended: bool,
) -> Option<(OutputEvent, bool)> {
    let reader = Reader::open(&server.paths, id).ok()?;
    let (start, mut skipped) = match reader.skip_point(which, pos, LAG, KEEP).ok()? {
        Some((to, left_out)) => {
            // What was held belongs to output left out.
            *carry = Carry::default();
            (to, left_out.max(1))
        }
        None => (pos, 0),
    };
    let (mut data, next) = reader.read_text(which, start, BATCH, carry, ended).ok()?;
    if skipped > 0 {
        let cut = line_start(&data);
        data.drain(..cut);
        skipped += cut as u64;
    }
    // From one stream a character cut at the end stays unread (up to 3 bytes).
    let unread = reader.end(which).saturating_sub(next);
    let more = if which.stream().is_some() { unread > 3 } else { unread > 0 };
    let event = OutputEvent { id: id.to_owned(), stream: which, from: pos, next, data, skipped };
    (next != pos || !event.data.is_empty()).then_some((event, more))
}

/// Where text read from an arbitrary point should start: after the first
/// line break near its start, else after a cut character's replacement.
fn line_start(text: &str) -> usize {
    let near = &text.as_bytes()[..text.len().min(4096)];
    match near.iter().position(|&b| b == b'\n') {
        Some(k) => k + 1,
        None => text.len() - text.trim_start_matches('\u{FFFD}').len(),
    }
}

#[cfg(test)]
mod tests {
    use super::line_start;

    #[test]
    fn skipped_output_resumes_at_a_line_start() {
        assert_eq!(line_start("tail of a line\nnext\n"), 15);
        assert_eq!(line_start("\u{FFFD}\u{FFFD}xyz"), 6, "no line break: after the cut character");
        assert_eq!(line_start(""), 0);
        let long = "x".repeat(5000) + "\nafter";
        assert_eq!(line_start(&long), 0, "a break far in is not looked for");
    }
}
