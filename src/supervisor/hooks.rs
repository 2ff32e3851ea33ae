//! Finish hooks: the user's own commands (`[hooks]` in config.toml, then a
//! workflow's `on_finish` / `on_failure`) run by
//! the supervisor when a task it ran ends, after the outcome is recorded
//! and clients were told, and before it starts its next task: so nothing of
//! a hook is ever taken for that task's leftovers. A hook runs with
//! `sh -c` in the task's folder and the environment the task started from,
//! the task's facts in `ERRAND_*` variables,
//! for at most `timeout_secs`; whatever is left of its process group then
//! is killed. Its output goes nowhere; a hook that cannot start is logged.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::Hooks;
use crate::supervisor::process::MARKER;
use crate::task::{Status, Task};

/// Run the hooks that apply to `task`, which just ended: the user's, then
/// its workflow's own. `env`: the environment the task started from (its
/// submitter's).
pub fn after(hooks: &Hooks, task: &Task, env: &BTreeMap<String, String>) {
    // A task a hook queued or restarted runs none: a hook that runs `errand
    // run` or `errand restart` would otherwise chain for ever.
    if task.from_hook {
        tracing::debug!(task = %task.id, "queued by a hook: no hooks run for it");
        return;
    }
    let failed = task.status() == Status::Failed;
    for command in [&hooks.on_finish, &task.hooks.on_finish].into_iter().flatten() {
        run("on_finish", command, task, env, hooks.timeout());
    }
    for command in [&hooks.on_failure, &task.hooks.on_failure].into_iter().flatten().filter(|_| failed) {
        run("on_failure", command, task, env, hooks.timeout());
    }
}

/// The variable every hook carries: which hook it is. What a process
/// carrying it queues is a task `from_hook`.
pub const VARIABLE: &str = "ERRAND_HOOK";

fn run(which: &str, command: &str, task: &Task, env: &BTreeMap<String, String>, timeout: Duration) {
    let exit = task.exit();
    let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
    let cwd = if std::path::Path::new(&task.cwd).is_dir() { task.cwd.as_str() } else { "/" };
    let mut cmd = Command::new("/bin/sh");
    if !env.is_empty() {
        cmd.env_clear().envs(env);
    }
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        // Not the task's marker: a hook is not a process of the task.
        .env_remove(MARKER)
        .env(VARIABLE, which)
        .env("ERRAND_ID", &task.id)
        .env("ERRAND_NAME", &task.name)
        .env("ERRAND_STATUS", task.status().as_str())
        .env("ERRAND_EXIT_CODE", number(exit.and_then(crate::task::Exit::code)))
        .env("ERRAND_SIGNAL", number(exit.and_then(crate::task::Exit::signal)))
        .env("ERRAND_ERROR", task.error().unwrap_or_default())
        .env("ERRAND_DURATION_MS", task.duration_ms(crate::task::now_ms()).map(|d| d.to_string()).unwrap_or_default())
        .env("ERRAND_CWD", &task.cwd)
        .env("ERRAND_WORKFLOW", task.workflow.as_deref().unwrap_or_default())
        .env("ERRAND_GROUP", task.group.as_deref().unwrap_or_default());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(task = %task.id, "cannot start the {which} hook: {e}");
            return;
        }
    };
    let group = child.id();
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    tracing::info!(task = %task.id, "the {which} hook ended with {status}");
                }
                break;
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Ok(None) => {
                tracing::warn!(task = %task.id, "the {which} hook ran past {timeout:?}: killed");
                break;
            }
            Err(e) => {
                tracing::warn!(task = %task.id, "cannot wait for the {which} hook: {e}");
                break;
            }
        }
    }
    // Nothing of a hook outlives it (its group: what it started in the background too).
    let _ = crate::sys::kill_group(group, libc::SIGKILL);
    let _ = child.wait();
}
