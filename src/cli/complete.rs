//! Shell completion through clap_complete's dynamic engine: the script a
//! shell loads (`errand completions SHELL`) calls errand back at each Tab
//! (`ERRAND_COMPLETE=SHELL errand -- WORDS`), so task ids and workflow names
//! are the store's and the project's of that moment, never a stale list.

use std::ffi::OsStr;
use std::io::Write;

use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;

use super::args::Cli;
use super::render::{fit, visible};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::store::Store;
use crate::task::Task;

/// The variable the scripts set when they call errand back.
pub const VAR: &str = "ERRAND_COMPLETE";

/// The most candidates one Tab offers: the newest (a prefix narrows them).
const OFFERED: u32 = 100;

/// The shells a script can be written for.
pub const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

/// Answer a shell's call for candidates, if this is one (then exit).
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command).var(VAR).complete();
}

/// `errand completions SHELL`: the script that hooks errand into the shell.
pub fn script(shell: &str, out: &mut impl Write) -> Result<i32> {
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| Error::InvalidInput(format!("no completions for {shell} (try {})", SHELLS.join(", "))))?;
    // The script calls this very binary back, wherever PATH points later.
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot find the errand executable", e))?;
    let mut script = Vec::new();
    completer
        .write_registration(VAR, "errand", "errand", &exe.to_string_lossy(), &mut script)
        .map_err(|e| Error::io("cannot write the script", e))?;
    out.write_all(&script).map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}

/// Any task, newest first (show, wait, rm, restart).
pub fn any_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, false, false)
}

/// Running and queued tasks first, then the newest (cancel, send, logs).
pub fn active_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, false, true)
}

/// Deleted tasks (restore).
pub fn deleted_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, true, false)
}

fn tasks(current: &OsStr, deleted: bool, active_first: bool) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str() else { return Vec::new() };
    // No store yet, or a broken one: nothing to offer, and nothing to say
    // in the middle of someone's command line.
    let found = Paths::discover()
        .and_then(|paths| Store::open(&paths))
        .and_then(|store| store.complete_ids(prefix, deleted, active_first, OFFERED));
    found.unwrap_or_default().iter().enumerate().map(|(i, task)| candidate(i, task)).collect()
}

/// The id, described by its status and name; in the store's order.
fn candidate(order: usize, task: &Task) -> CompletionCandidate {
    let about = format!("{} · {}", task.status().as_str(), fit(&visible(&task.name), 60));
    CompletionCandidate::new(&task.id).help(Some(about.into())).display_order(Some(order))
}

/// What `errand run` takes: after `#`, the workflows visible from here;
/// otherwise nothing, and the shell completes commands and files itself.
/// `#` starts a comment in bash and fish, so users quote it there: fish
/// hands the word over as typed (`'#bu`, `\#bu`); the shell itself quotes
/// the name it inserts.
pub fn run_target(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(typed) = current.to_str() else { return Vec::new() };
    let typed = typed.trim_start_matches(['\'', '"', '\\']);
    let Some(typed) = typed.strip_prefix('#') else { return Vec::new() };
    let (Ok(paths), Ok(dir)) = (Paths::discover(), std::env::current_dir()) else { return Vec::new() };
    let config = Config::load(&paths);
    let Ok(all) = crate::workflow::visible(&config, &paths, &dir) else { return Vec::new() };
    all.values()
        .filter(|wf| wf.name.starts_with(typed))
        .map(|wf| {
            let about = wf.description.clone().unwrap_or_else(|| wf.command.to_string());
            CompletionCandidate::new(format!("#{}", wf.name)).help(Some(fit(&visible(&about), 60).into()))
        })
        .collect()
}
