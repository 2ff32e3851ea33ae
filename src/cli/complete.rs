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
use crate::store::{Offer, Store};
use crate::task::Task;

/// The variable the scripts set when they call errand back.
pub const VAR: &str = "ERRAND_COMPLETE";

/// The most candidates one Tab offers: the newest (a prefix narrows them).
const OFFERED: u32 = 100;

/// The shells a script can be written for.
pub const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

/// Answer a shell's call for candidates, if this is one (then exit).
/// Nothing may reach the terminal but candidates: a warning (a broken
/// config) would land in the middle of the line being edited.
pub fn answer_if_asked() {
    if std::env::var_os(VAR).is_some_and(|v| !v.is_empty()) {
        crate::sys::silence_stderr();
    }
    clap_complete::CompleteEnv::with_factory(Cli::command).var(VAR).complete();
}

/// `errand completions SHELL`: the script that hooks errand into the shell.
pub fn script(shell: &str, out: &mut impl Write) -> Result<i32> {
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| Error::InvalidInput(format!("no completions for {shell} (try {})", SHELLS.join(", "))))?;
    // The script calls errand back as it was called: by name when found on
    // PATH (an upgrade is picked up), else by the path it was run from.
    let arg0 = std::env::args_os().next().unwrap_or_default();
    let exe = if std::path::Path::new(&arg0).components().count() == 1 {
        std::path::PathBuf::from(arg0)
    } else {
        std::env::current_exe().map_err(|e| Error::io("cannot find the errand executable", e))?
    };
    let mut script = Vec::new();
    completer
        .write_registration(VAR, "errand", "errand", &exe.to_string_lossy(), &mut script)
        .map_err(|e| Error::io("cannot write the script", e))?;
    // bash hands the word over unquoted: pass it as typed too, so a
    // workflow completes right both inside quotes and outside them.
    let script = match shell {
        "bash" => String::from_utf8_lossy(&script)
            .replace("_CLAP_IFS=\"$IFS\" \\", "_CLAP_IFS=\"$IFS\" _ERRAND_WORD=\"${COMP_WORDS[COMP_CWORD]}\" \\")
            .into_bytes(),
        _ => script,
    };
    out.write_all(&script).map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}

/// Any task, newest first (show, restart).
pub fn any_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, Offer::Newest)
}

/// Running and queued tasks first, then the newest (logs, wait).
pub fn active_task_first(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, Offer::ActiveFirst)
}

/// Running and queued tasks only (cancel, send).
pub fn active_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, Offer::Active)
}

/// Finished tasks (rm).
pub fn finished_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, Offer::Finished)
}

/// Deleted tasks (restore).
pub fn deleted_task(current: &OsStr) -> Vec<CompletionCandidate> {
    tasks(current, Offer::Deleted)
}

fn tasks(current: &OsStr, offer: Offer) -> Vec<CompletionCandidate> {
    let Some(typed) = current.to_str() else { return Vec::new() };
    // No store yet, or a broken one: nothing to offer, and nothing to say
    // in the middle of someone's command line.
    let found = Paths::discover()
        .and_then(|paths| Store::open(&paths))
        .and_then(|store| store.complete_ids(typed, offer, OFFERED));
    found.unwrap_or_default().iter().enumerate().map(|(i, task)| candidate(i, task, typed)).collect()
}

/// The id, described by its status and name; in the store's order. It
/// starts as typed (`K` → `Kk3c`): ids match in any case, and zsh drops a
/// candidate that does not start with what is on the line.
fn candidate(order: usize, task: &Task, typed: &str) -> CompletionCandidate {
    let about = format!("{} · {}", task.status().as_str(), fit(&visible(&task.name), 60));
    let value = format!("{typed}{}", task.id.get(typed.len()..).unwrap_or_default());
    CompletionCandidate::new(value).help(Some(about.into())).display_order(Some(order))
}

/// What `errand run` takes: after `#`, the workflows visible from here;
/// otherwise nothing, and the shell completes commands and files itself.
/// `#` starts a comment in bash and fish, so users quote it there: fish
/// hands the word over as typed (`'#bu`, `\#bu`); the shell itself quotes
/// the name it inserts.
pub fn run_target(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(raw) = current.to_str() else { return Vec::new() };
    let Some(typed) = raw.trim_start_matches(['\'', '"', '\\']).strip_prefix('#') else { return Vec::new() };
    // bash inserts a candidate as it is: outside quotes, `\#` keeps the name
    // from becoming a comment. (Only our bash script sets _ERRAND_WORD, the
    // word as typed; zsh and fish quote what they insert themselves.)
    let hash = match std::env::var("_ERRAND_WORD") {
        Ok(word) if !word.starts_with(['\'', '"']) => "\\#",
        _ => "#",
    };
    let (Ok(paths), Ok(dir)) = (Paths::discover(), std::env::current_dir()) else { return Vec::new() };
    let config = Config::load(&paths);
    let Ok(all) = crate::workflow::visible(&config, &paths, &dir) else { return Vec::new() };
    all.values()
        .filter(|wf| wf.name.starts_with(typed))
        .map(|wf| {
            let about = wf.description.clone().unwrap_or_else(|| wf.command.to_string());
            CompletionCandidate::new(format!("{hash}{}", wf.name)).help(Some(fit(&visible(&about), 60).into()))
        })
        .collect()
}
