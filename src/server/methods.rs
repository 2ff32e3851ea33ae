//! The body of every method (the protocol's `Handler`). Each runs on the
//! blocking pool with a pooled store connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::control;
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::launch::{self, RunRequest, What};
use crate::output::{whole_chars, Reader};
use crate::protocol::{self as p, Handler};
use crate::server::chores::Chore;
use crate::server::state::{Follow, Server};
use crate::server::transport::MAX_FRAME;
use crate::store::{ListFilter, OnChange, Store};
use crate::task::{CommandSpec, Counts, Task};
use crate::workflow;

/// A `task/list` page ends after about this many bytes of tasks (its
/// `nextCursor` goes on), whatever its `limit`.
const LIST_BYTES: usize = 4 << 20;
/// One `task/output` reads at most this much (the memory budget counts on it).
const MAX_READ: u32 = 4 << 20;
/// How long `initialize` waits for the write lock to mark its unread
/// tasks told before it answers anyway (and marks them later).
const MARK_TOLD_WAIT: Duration = Duration::from_millis(500);
/// At most this many unread tasks come with `initialize`.
const UNREAD_LIMIT: u32 = 50;

/// A client's directory: absolute as given, relative to the server's, or the server's.
fn client_dir(dir: Option<&str>) -> Result<PathBuf> {
    let here = launch::current_dir()?;
    match dir {
        None => Ok(here),
        Some(d) => launch::resolve_dir(&here, Path::new(d)),
    }
}

/// The last lines of a task's output; of a running task, without a
/// character it has only half written so far.
fn tail_of(server: &Server, task: &Task, lines: usize) -> String {
    let tail = Reader::open(&server.paths, &task.id)
        .ok()
        .and_then(|r| r.tail(crate::output::Which::Both, lines).ok())
        .unwrap_or_default();
    let whole = if task.is_final() { tail.len() } else { whole_chars(&tail) };
    String::from_utf8_lossy(&tail[..whole]).into_owned()
}

/// New work waits for a config.toml that reads: as the CLI's `run` and
/// `restart`, the server refuses (-32006, naming file and line) rather than
/// run with settings the user did not write. Read and cancel methods go on.
/// Tasks one `task/runMany` may queue: one transaction stays short.
const MAX_RUN_MANY: usize = 10_000;

/// What a `task/run` (or an item of `task/runMany`) asks to run.
fn request_of(params: p::RunParams) -> Result<RunRequest> {
    let what = match (params.command, params.argv, params.workflow) {
        (Some(command), None, None) => What::shell(command),
        (None, Some(argv), None) => What::Command(CommandSpec::Argv(argv)),
        (None, None, Some(name)) => What::Workflow(name),
        _ => return Err(Error::InvalidInput("give exactly one of command, argv, workflow".into())),
    };
    Ok(RunRequest {
        what,
        name: params.name,
        client_dir: client_dir(params.client_cwd.as_deref())?,
        cwd: params.cwd.map(PathBuf::from),
        env: params.env,
        group: params.group,
        base_env: match params.client_env {
            Some(env) => launch::base_env(env).map_err(Error::InvalidInput)?,
            None => launch::client_env(),
        },
        keep_children: params.keep_children,
        matcher: params.matcher,
        timeout_ms: params.timeout_ms,
        after: params.after,
        retry: params.retry,
        retry_delay_ms: params.retry_delay_ms,
        ready: params.ready,
    })
}

/// A watch as clients see it, with its latest run.
fn watch_info(store: &Store, watch: &crate::store::Watch) -> p::WatchInfo {
    p::WatchInfo {
        id: watch.id.clone(),
        paths: watch.paths.clone(),
        ignores: watch.ignores.clone(),
        on_change: watch.on_change.as_str().to_owned(),
        state: watch.state().to_owned(),
        runs: watch.runs,
        created_at: watch.created_at,
        last_run: store.get(&watch.last_task).ok().map(|t| p::Task::now(&t)),
    }
}

fn refuse_broken_config(paths: &crate::paths::Paths) -> Result<()> {
    crate::config::Config::read(paths).map(drop)
}

impl Server {
    /// Change the task `typed` names with `f`, tell the watchers, and return it.
    fn change(&self, typed: &str, f: impl FnOnce(&Store, &str) -> Result<()>) -> Result<p::Task> {
        self.with_store(|store| {
            let id = store.resolve(typed)?;
            f(store, &id)?;
            crate::wakeup::signal(&self.paths);
            store.get(&id).map(|t| p::Task::now(&t))
        })
    }
}

impl Handler for Server {
    fn initialize(&self, params: p::InitializeParams) -> Result<p::InitializeResult> {
        tracing::info!(client = ?params.client_name, version = ?params.client_version, protocol = ?params.protocol_version, "initialize");
        if params.protocol_version.is_some_and(|v| v != p::PROTOCOL_VERSION) {
            tracing::warn!(client = ?params.protocol_version, server = p::PROTOCOL_VERSION, "protocol versions differ");
        }
        // Tasks of dead supervisors are marked lost beside it: that write
        // may wait for the lock, and the answer must not.
        self.chores.ask(Chore::Kick);
        self.with_store(|store| {
            // Tasks that end after the baseline reach this client as task/finished.
            let up_to = self.baseline_change();
            let missed = store.take_unannounced(up_to, UNREAD_LIMIT, MARK_TOLD_WAIT)?;
            if !missed.marked {
                self.chores.ask(Chore::AnnouncedUpTo(up_to));
            }
            Ok(p::InitializeResult {
                server: "errand".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                protocol_version: p::PROTOCOL_VERSION,
                pid: std::process::id(),
                data_dir: self.paths.data.display().to_string(),
                limits: p::Limits {
                    parallel: self.config.parallel,
                    cancel_grace_secs: self.config.cancel_grace_secs,
                    max_frame_bytes: MAX_FRAME,
                },
                counts: self.give_counts(store.counts()?),
                unread: missed.tasks.iter().map(p::Task::now).collect(),
                unread_total: missed.total,
                unread_failed: missed.failed,
            })
        })
    }

    fn run(&self, params: p::RunParams) -> Result<p::Task> {
        refuse_broken_config(&self.paths)?;
        let planned = launch::new_task(&self.config, &self.paths, request_of(params)?)?;
        self.with_store(|store| self.queue(store).launch(planned)).map(|t| p::Task::now(&t))
    }

    fn run_many(&self, params: p::RunManyParams) -> Result<p::RunManyResult> {
        refuse_broken_config(&self.paths)?;
        if params.tasks.len() > MAX_RUN_MANY {
            return Err(Error::InvalidInput(format!(
                "{} tasks: at most {MAX_RUN_MANY} per task/runMany",
                params.tasks.len()
            )));
        }
        let count = params.tasks.len();
        let mut news = Vec::with_capacity(count);
        for (k, item) in params.tasks.into_iter().enumerate() {
            let at = |e: Error| Error::InvalidInput(format!("tasks[{k}]: {e}; nothing was queued"));
            let request = request_of(item).map_err(at)?;
            if matches!(request.what, What::Workflow(_)) {
                return Err(at(Error::InvalidInput("a workflow is run with task/run".into())));
            }
            news.push(launch::new_task(&self.config, &self.paths, request).map_err(at)?.task);
        }
        let tasks = self.with_store(|store| self.queue(store).submit_many(&news))?;
        Ok(p::RunManyResult { tasks: tasks.iter().map(p::Task::now).collect() })
    }

    fn list(&self, params: p::ListParams) -> Result<p::ListResult> {
        let limit = params.limit.unwrap_or(50).clamp(1, 1000);
        self.with_store(|store| {
            store.reap_lost()?;
            let before = params.cursor.as_deref().map(|c| store.seq_of(c)).transpose()?;
            let filter = ListFilter {
                statuses: params.status,
                group: params.group,
                text: params.text,
                include_deleted: params.deleted == p::Deleted::Include,
                only_deleted: params.deleted == p::Deleted::Only,
                before,
                limit: Some(limit),
                max_bytes: Some(LIST_BYTES),
            };
            let ((tasks, more), seq) = store.at_one_change(|store| store.list(&filter))?;
            let next_cursor = if more { tasks.last().map(|t| t.id.clone()) } else { None };
            Ok(p::ListResult { tasks: tasks.iter().map(p::Task::now).collect(), next_cursor, seq })
        })
    }

    fn get(&self, params: p::GetParams) -> Result<p::TaskDetail> {
        self.with_store(|store| {
            store.reap_lost()?;
            let task = store.get(&store.resolve(&params.id)?)?;
            let lines = params.tail_lines.unwrap_or(20).min(10_000) as usize;
            let result = super::watch::result_of(store, &task)?;
            Ok(p::TaskDetail { output_tail: tail_of(self, &task, lines), task: p::Task::now(&task), result })
        })
    }

    fn cancel(&self, params: p::IdParams) -> Result<p::CancelResult> {
        self.with_store(|store| {
            let id = store.resolve(&params.id)?;
            let action = control::cancel(store, &self.paths, &id)?;
            Ok(p::CancelResult { id, action })
        })
    }

    fn pause(&self, params: p::IdParams) -> Result<p::Task> {
        self.with_store(|store| {
            let id = store.resolve(&params.id)?;
            control::pause(store, &self.paths, &id, true)?;
            Ok(p::Task::now(&store.get(&id)?))
        })
    }

    fn resume(&self, params: p::IdParams) -> Result<p::Task> {
        self.with_store(|store| {
            let id = store.resolve(&params.id)?;
            control::pause(store, &self.paths, &id, false)?;
            Ok(p::Task::now(&store.get(&id)?))
        })
    }

    fn pause_queue(&self, _: p::Empty) -> Result<Counts> {
        self.with_store(|store| {
            control::pause_queue(store, &self.paths, true)?;
            Ok(self.give_counts(store.counts()?))
        })
    }

    fn resume_queue(&self, _: p::Empty) -> Result<Counts> {
        self.with_store(|store| {
            control::pause_queue(store, &self.paths, false)?;
            self.queue(store).kick()?;
            Ok(self.give_counts(store.counts()?))
        })
    }

    fn restart(&self, params: p::IdParams) -> Result<p::Task> {
        refuse_broken_config(&self.paths)?;
        self.with_store(|store| self.queue(store).restart(&store.resolve(&params.id)?)).map(|t| p::Task::now(&t))
    }

    fn delete(&self, params: p::IdParams) -> Result<p::Task> {
        self.change(&params.id, Store::delete)
    }

    fn restore(&self, params: p::IdParams) -> Result<p::Task> {
        self.change(&params.id, Store::restore)
    }

    fn mark_read(&self, params: p::MarkReadParams) -> Result<p::MarkReadResult> {
        self.with_store(|store| {
            let marked = match (params.ids, params.all) {
                (_, true) => store.mark_read(None)?,
                (Some(ids), false) => {
                    let ids = ids.iter().map(|i| store.resolve(i)).collect::<Result<Vec<_>>>()?;
                    store.mark_read(Some(&ids))?
                }
                (None, false) => return Err(Error::InvalidInput("give ids, or all: true".into())),
            };
            crate::wakeup::signal(&self.paths);
            Ok(p::MarkReadResult { marked })
        })
    }

    fn output(&self, params: p::OutputParams) -> Result<p::OutputResult> {
        let (id, finished) = self.with_store(|store| {
            let id = store.resolve(&params.id)?;
            let finished = store.get(&id)?.is_final();
            Ok((id, finished))
        })?;
        let reader = Reader::open(&self.paths, &id)?;
        let read_err = |e: std::io::Error| Error::io(format!("cannot read the output of {id}"), e);
        let max = u64::from(params.max_bytes.unwrap_or(1 << 20).clamp(1, MAX_READ));
        let end = reader.end(params.stream);
        let (data, offset, next, more) = match params.lines {
            // A tail ends where the output ends now.
            Some(n) => {
                let tail = reader.tail(params.stream, n as usize).map_err(read_err)?;
                (String::from_utf8_lossy(&tail).into_owned(), end, end, false)
            }
            None => {
                let from = params.offset.unwrap_or(0).min(end);
                let (text, next, more) = reader.read_text_once(params.stream, from, max, finished).map_err(read_err)?;
                (text, from, next, more)
            }
        };
        Ok(p::OutputResult { data, stream: params.stream, offset, next, more, finished })
    }

    fn follow(&self, params: p::FollowParams) -> Result<p::FollowResult> {
        let id = self.with_store(|store| store.resolve(&params.id))?;
        let from = params.from.unwrap_or(0);
        if let Ok(mut follows) = self.follows.lock() {
            follows.insert(id.clone(), Follow::new(params.stream, from));
        }
        self.wake.notify_one();
        Ok(p::FollowResult { id, stream: params.stream, from })
    }

    fn unfollow(&self, params: p::IdParams) -> Result<p::UnfollowResult> {
        let id = self.with_store(|store| store.resolve(&params.id))?;
        let was_following = self.follows.lock().ok().and_then(|mut f| f.remove(&id)).is_some();
        self.wake.notify_one();
        Ok(p::UnfollowResult { was_following })
    }

    fn send_input(&self, params: p::SendInputParams) -> Result<p::Ack> {
        self.with_store(|store| {
            let id = store.resolve(&params.id)?;
            control::send_input(store, &self.paths, &id, params.text.map(String::into_bytes), params.eof)?;
            Ok(p::Ack { ok: true })
        })
    }

    fn counts(&self, params: p::CountsParams) -> Result<Counts> {
        self.with_store(|store| {
            store.reap_lost()?;
            match params.group {
                // One group's: not the counts `counts/changed` keeps the client up to date with.
                Some(group) => {
                    let counts = store.counts_in(Some(&group))?;
                    Ok(Counts { limit: self.config.group_limit(&group), ..counts })
                }
                None => Ok(self.give_counts(store.counts()?)),
            }
        })
    }

    fn workflows(&self, params: p::WorkflowListParams) -> Result<Vec<p::WorkflowInfo>> {
        let dir = client_dir(params.client_cwd.as_deref())?;
        let listing = workflow::listing(&self.config, &self.paths, &dir)?;
        for warning in &listing.warnings {
            tracing::warn!("detected tasks: {warning}");
        }
        Ok(listing.workflows.into_values().map(p::WorkflowInfo::from).collect())
    }

    fn watch_start(&self, params: p::WatchStartParams) -> Result<p::WatchStarted> {
        refuse_broken_config(&self.paths)?;
        let on_change = match params.on_change.as_deref() {
            None | Some("restart") => OnChange::Restart,
            Some("queue") => OnChange::Queue,
            Some(other) => {
                return Err(Error::InvalidInput(format!("onChange is restart or queue, not '{other}'")));
            }
        };
        crate::watch::check_ignores(&params.ignore)?;
        let planned = launch::new_task(&self.config, &self.paths, request_of(params.run)?)?;
        // What to watch: as asked, else the workflow's, else where it runs.
        let here = PathBuf::from(&planned.task.cwd);
        let given = match (params.paths.is_empty(), planned.watch.is_empty()) {
            (false, _) => params.paths.iter().map(PathBuf::from).collect(),
            (true, false) => planned.watch.clone(),
            (true, true) => vec![here.clone()],
        };
        let watched = crate::watch::resolve_paths(&here, given, "paths")?;
        self.with_store(|store| {
            let first = self.queue(store).launch(planned)?;
            let (id, folders) = crate::watch::begin(store, &self.paths, &watched, &params.ignore, on_change, &first)?;
            let watch = store.watch(&id)?.ok_or_else(|| Error::NoSuchWatch(id.clone()))?;
            Ok(p::WatchStarted { watch: watch_info(store, &watch), folders: folders as u32 })
        })
    }

    fn watch_list(&self, _: p::Empty) -> Result<Vec<p::WatchInfo>> {
        self.with_store(|store| Ok(store.open_watches()?.iter().map(|w| watch_info(store, w)).collect()))
    }

    fn watch_end(&self, params: p::IdParams) -> Result<p::WatchEnded> {
        if !crate::store::is_watch_id(&params.id) {
            return Err(Error::NoSuchWatch(params.id));
        }
        let cancelled_run = self.with_store(|store| crate::watch::end(store, &self.paths, &params.id))?;
        crate::wakeup::signal(&self.paths);
        Ok(p::WatchEnded { cancelled_run })
    }

    fn diagnostics(&self, params: p::DiagnosticsParams) -> Result<p::DiagnosticsResult> {
        let task = self.with_store(|store| diagnostics::which_task(store, params.id.as_deref()))?;
        let (found, truncated) = diagnostics::of_task(&self.paths, &task)?;
        Ok(p::DiagnosticsResult { task: p::Task::now(&task), diagnostics: found, truncated })
    }

    fn shutdown(&self, _: p::Empty) -> Result<p::Ack> {
        self.shutdown.notify_one();
        Ok(p::Ack { ok: true })
    }
}
