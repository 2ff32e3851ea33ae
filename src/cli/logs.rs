//! `errand logs`: a task's output, or its tail, or followed until it ends.

use std::io::{self, Write};

use super::args::LogsArgs;
use super::{stdout_error, Context};
use crate::error::{Error, Result};
use crate::output::{LogFiles, Reader, Which};
use crate::wakeup::Waiter;

pub fn logs(cx: &Context, args: LogsArgs, out: &mut impl Write) -> Result<i32> {
    let id = cx.store.resolve(&args.id)?;
    let which = match (args.stdout, args.stderr) {
        (true, _) => Which::Stdout,
        (_, true) => Which::Stderr,
        _ => Which::Both,
    };
    let read_err = |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => stdout_error(e),
        _ => Error::io(format!("cannot read the output of {id}"), e),
    };
    // Watch before the first read, so nothing written in between is missed.
    let waiter = match args.follow {
        true => {
            let w = Waiter::new(cx.paths)?;
            w.watch_creates(&cx.paths.logs)?;
            Some(w)
        }
        false => None,
    };
    let mut reader = Reader::open(cx.paths, &id)?;
    let mut pos = match args.lines {
        Some(n) => {
            out.write_all(&reader.tail(which, n).map_err(read_err)?).map_err(stdout_error)?;
            reader.end(which)
        }
        None => 0,
    };
    let Some(mut waiter) = waiter else {
        reader.copy(which, pos, u64::MAX, out).map_err(read_err)?;
        cx.store.mark_read(Some(std::slice::from_ref(&id)))?;
        return Ok(0);
    };
    loop {
        // Status first, output second: output written before the task
        // ended is then always printed before we leave.
        cx.store.reap_lost()?;
        let finished = cx.store.get(&id)?.is_final();
        reader = Reader::open(cx.paths, &id)?;
        let growing = LogFiles::of(cx.paths, &id).growing(which).clone();
        if growing.exists() {
            waiter.watch_file(&growing)?;
        }
        pos = reader.copy(which, pos, u64::MAX, out).map_err(read_err)?;
        out.flush().map_err(stdout_error)?;
        if finished {
            return Ok(0);
        }
        waiter.watch_supervisors(cx.store)?;
        waiter.wait(None)?;
    }
}
