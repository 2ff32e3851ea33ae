//! `errand logs`: a task's output, or its tail, or followed until it ends.
//! Output that was deleted is reported as gone (exit 1), never passed off
//! as no output.

use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::args::LogsArgs;
use super::{stdout_error, Context};
use crate::error::{Error, Result};
use crate::output::{LogFiles, Reader, Which};
use crate::wakeup::Waiter;

pub fn logs(cx: &Context, args: LogsArgs, out: &mut impl Write) -> Result<i32> {
    let id = cx.store.resolve(args.id.as_deref().unwrap_or_default())?;
    let which = match (args.stdout, args.stderr) {
        (true, _) => Which::Stdout,
        (_, true) => Which::Stderr,
        _ => Which::Both,
    };
    let read_err = read_error(&id);
    let files = LogFiles::of(cx.paths, &id);
    // Watch before the first read, so nothing written in between is missed.
    let waiter = match args.follow {
        true => {
            let mut w = Waiter::new(cx.paths);
            w.watch_entries(&cx.paths.logs)?;
            Some(w)
        }
        false => None,
    };
    if cx.store.get(&id)?.is_final() {
        all_there(cx, &id, &files, which)?;
    }
    let mut seen = Seen::new(&files, which);
    seen.check(&id)?;
    let mut reader = Reader::open(cx.paths, &id)?;
    let mut pos = match args.lines {
        Some(n) => {
            out.write_all(&reader.tail(which, n).map_err(&read_err)?).map_err(stdout_error)?;
            reader.end(which)
        }
        None => 0,
    };
    let Some(mut waiter) = waiter else {
        reader.copy(which, pos, u64::MAX, out).map_err(&read_err)?;
        cx.store.mark_read(Some(std::slice::from_ref(&id)))?;
        return Ok(0);
    };
    loop {
        // Status first, output second: output written before the task
        // ended is then always printed before we leave.
        cx.store.reap_lost()?;
        let finished = cx.store.get(&id)?.is_final();
        reader = Reader::open(cx.paths, &id)?;
        seen.check(&id)?;
        let growing = files.growing(which);
        if growing.exists() {
            waiter.watch_file(growing)?;
        }
        pos = reader.copy(which, pos, u64::MAX, out).map_err(&read_err)?;
        out.flush().map_err(stdout_error)?;
        if finished {
            // Files deleted before we first looked show only now, against
            // what the supervisor recorded.
            all_there(cx, &id, &files, which)?;
            return Ok(0);
        }
        waiter.watch_supervisors(cx.store)?;
        waiter.wait(None)?;
    }
}

/// What failed while copying a task's output: writing it (a closed pipe)
/// or reading it.
pub(super) fn read_error(id: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => stdout_error(e),
        _ => Error::io(format!("cannot read the output of {id}"), e),
    }
}

/// The output files a reader has seen, by inode: one that disappears or is
/// replaced later was deleted under it.
struct Seen {
    files: Vec<(PathBuf, Option<u64>)>,
}

impl Seen {
    fn new(files: &LogFiles, which: Which) -> Seen {
        let paths = match which {
            Which::Both => vec![&files.index, &files.stdout, &files.stderr],
            Which::Stdout => vec![&files.stdout],
            Which::Stderr => vec![&files.stderr],
        };
        Seen { files: paths.into_iter().map(|p| (p.clone(), None)).collect() }
    }

    fn check(&mut self, id: &str) -> Result<()> {
        for (path, inode) in &mut self.files {
            match (std::fs::metadata(&*path), *inode) {
                (Ok(m), None) => *inode = Some(m.ino()),
                (Ok(m), Some(ino)) if m.ino() != ino => return Err(gone(id, path, "was replaced")),
                (Ok(_), Some(_)) => {}
                // Not created yet: the task has written nothing there so far.
                (Err(e), None) if e.kind() == io::ErrorKind::NotFound => {}
                (Err(e), Some(_)) if e.kind() == io::ErrorKind::NotFound => return Err(gone(id, path, "was deleted")),
                (Err(e), _) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
            }
        }
        Ok(())
    }
}

/// For a task that ended: is all the output its supervisor recorded still
/// on disk? (Nothing to compare with for a task lost or run by an older errand.)
fn all_there(cx: &Context, id: &str, files: &LogFiles, which: Which) -> Result<()> {
    let Some((stdout, stderr)) = cx.store.output_bytes(id)? else { return Ok(()) };
    let streams = match which {
        Which::Both => vec![(&files.stdout, stdout), (&files.stderr, stderr)],
        Which::Stdout => vec![(&files.stdout, stdout)],
        Which::Stderr => vec![(&files.stderr, stderr)],
    };
    for (path, written) in streams.into_iter().filter(|(_, written)| *written > 0) {
        match std::fs::metadata(path) {
            Ok(m) if m.len() >= written => {}
            Ok(m) => return Err(gone(id, path, &format!("holds {} of the {written} bytes written", m.len()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(gone(id, path, &format!("is missing ({written} bytes were written)")))
            }
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }
    // The merged view is read through the index.
    if which == Which::Both && stdout + stderr > 0 && !files.index.exists() {
        return Err(gone(id, &files.index, "is missing"));
    }
    Ok(())
}

fn gone(id: &str, path: &Path, what: &str) -> Error {
    let why = io::Error::new(io::ErrorKind::NotFound, format!("{} {what}", path.display()));
    Error::io(format!("the output of {id} is gone"), why)
}
