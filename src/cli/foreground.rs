//! Foreground mode (`run -w`, `wait --follow`): the task's output on this
//! terminal as it comes, stdout to stdout and stderr to stderr, then its
//! exit status. Ctrl-C detaches (the task goes on in the background); a
//! second Ctrl-C within a second cancels it, and its end is still shown.

use std::io::{self, IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use super::{stdout_error, Context};
use crate::control;
use crate::error::{Error, Result};
use crate::output::{LogFiles, Reader, Which};
use crate::paths::Paths;
use crate::store::Store;
use crate::task::Status;
use crate::wakeup::Waiter;

/// How long a first Ctrl-C waits for a second before detaching.
const SECOND_PRESS: Duration = Duration::from_secs(1);

/// The exit status of a detached `run -w`: the shell's for Ctrl-C.
const DETACHED: i32 = 130;

/// Stream `id`'s output until it ends; its `wait` exit status (or 130 when
/// detached).
pub fn follow(cx: &Context, id: &str) -> Result<i32> {
    // Watch before the first read, so nothing written in between is missed.
    let mut waiter = Waiter::new(cx.paths);
    waiter.watch_entries(&cx.paths.logs)?;
    waiter.listen_for_interrupt()?;
    if io::stderr().is_terminal() {
        eprintln!("{}", cx.style.dim(&format!("{id} · Ctrl-C detaches, twice cancels")));
    }
    let files = LogFiles::of(cx.paths, id);
    let read_err = super::logs::read_error(id);
    let (mut out_at, mut err_at) = (0, 0);
    let mut forwarding = false;
    // Set by a first Ctrl-C: when to detach unless a second one comes.
    let mut detach_at: Option<Instant> = None;
    let mut cancelling = false;
    loop {
        // Status first, output second: all output is printed before we leave.
        cx.store.reap_lost()?;
        let task = cx.store.get(id)?;
        for which in [Which::Stdout, Which::Stderr] {
            if files.growing(which).exists() {
                waiter.watch_file(files.growing(which))?;
            }
        }
        let reader = Reader::open(cx.paths, id)?;
        out_at = reader.copy(Which::Stdout, out_at, u64::MAX, &mut io::stdout().lock()).map_err(&read_err)?;
        err_at = reader.copy(Which::Stderr, err_at, u64::MAX, &mut io::stderr().lock()).map_err(&read_err)?;
        io::stdout().flush().map_err(stdout_error)?;
        if task.is_final() {
            cx.store.mark_read(Some(std::slice::from_ref(&task.id)))?;
            return Ok(task.wait_status());
        }
        if !forwarding && task.status() == Status::Running {
            forward_stdin(cx.paths.clone(), task.id.clone());
            forwarding = true;
        }
        let presses = waiter.interrupts();
        if presses > 0 && !cancelling {
            if detach_at.is_some() || presses > 1 {
                match control::cancel(cx.store, cx.paths, id) {
                    Ok(_) | Err(Error::AlreadyFinished { .. }) => {}
                    Err(e) => return Err(e),
                }
                eprintln!("errand: cancelling {id}");
                cancelling = true;
                detach_at = None;
            } else {
                eprintln!(
                    "\nerrand: {id} goes on in the background (errand logs -f {id}); \
                     press Ctrl-C again within a second to cancel it"
                );
                detach_at = Some(Instant::now() + SECOND_PRESS);
            }
        }
        if detach_at.is_some_and(|at| Instant::now() >= at) {
            eprintln!("errand: detached from {id}; errand cancel {id} stops it");
            return Ok(DETACHED);
        }
        waiter.watch_supervisors(cx.store)?;
        // A supervisor the queue counted on died: the task may need another.
        if waiter.supervisor_died() {
            cx.queue().kick()?;
        }
        waiter.wait(detach_at.map(|at| at.saturating_duration_since(Instant::now())))?;
    }
}

/// Our stdin becomes the task's, as in a shell: lines typed at the terminal
/// (Ctrl-D closes it), or a pipe to its end. Started once the task runs (its
/// supervisor's FIFO takes the input); SIGINT stays blocked in this thread
/// too (the mask is inherited), so Ctrl-C still reaches the follower.
fn forward_stdin(paths: Paths, id: String) {
    std::thread::spawn(move || {
        let Ok(store) = Store::open(&paths) else { return };
        let mut buf = vec![0u8; 64 * 1024];
        let mut stdin = io::stdin().lock();
        loop {
            let sent = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = control::send_input(&store, &paths, &id, None, true);
                    return;
                }
                Ok(n) => control::send_input(&store, &paths, &id, Some(buf[..n].to_vec()), false),
            };
            // It ended (or stopped reading): the rest is not for it.
            if sent.is_err() {
                return;
            }
        }
    });
}
