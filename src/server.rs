//! `errand serve`: JSON-RPC 2.0 over stdin/stdout for an editor.
//!
//! - Transport: LSP-style `Content-Length` frames, or newline-delimited
//!   JSON, detected from the first byte and answered in kind. One thread
//!   reads stdin, one writes stdout (whole frames only, flushed per batch).
//!   fd 1 itself points at /dev/null: nothing but frames can reach the client.
//! - Dispatch: each request on its own task (256 in flight at most) through
//!   the jsonrpsee methods of `protocol::Api`; responses may come out of order.
//! - Notifications: a watcher wakes on the store's change file (inotify), on
//!   followed output files, and on the exit of supervisors (pidfd). Nothing
//!   runs on a timer while nothing happens.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jsonrpsee::core::RpcResult;
use jsonrpsee::types::{Id, Params};
use jsonrpsee::{ConnectionId, Extensions, MethodCallback, Methods};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::{mpsc, Notify, Semaphore};

use crate::config::{self, Config, Paths};
use crate::error::{Error, IoContext, Result};
use crate::notify;
use crate::output::{LogFiles, Reader, Which};
use crate::protocol::{self, code, ApiServer, Checked};
use crate::scheduler;
use crate::store::{CancelAction, ListFilter, NewTask, Store, WorkerId};
use crate::supervisor::{self, Message};
use crate::sys::Inotify;
use crate::task::{now_ms, CommandSpec, Status, Task};

/// Frames larger than this are refused (and skipped without being held).
pub const MAX_FRAME: u64 = 16 << 20;
/// Responses can be larger than requests (a big output read).
const MAX_RESPONSE: usize = 256 << 20;
/// Requests handled at once; more wait for a free slot.
const MAX_IN_FLIGHT: u32 = 256;
/// How much of an oversized frame is kept to find its id.
const SNIFF_BYTES: usize = 64 << 10;
/// task/output notifications carry at most this much each.
const FOLLOW_BATCH: u64 = 256 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    ContentLength,
    Lines,
}

/// To the stdout thread: a frame, or "flush and stop".
enum Out {
    Frame(Vec<u8>),
    Stop,
}

enum Incoming {
    Frame(Vec<u8>),
    TooLarge { id: Value, len: u64 },
    Malformed(String),
}

pub fn serve(paths: &Paths) -> Result<i32> {
    let frames = crate::sys::take_stdout().context(|| "cannot set up stdout".to_owned())?;
    let mut config = Config::load(paths)?;
    config.reap_workers = true;
    // Dispatch is light: one thread runs it; method bodies run on the
    // blocking pool (jsonrpsee's blocking methods), so a slow one never
    // holds up another.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .context(|| "cannot start the async runtime".to_owned())?;
    let result = runtime.block_on(run(paths.clone(), config, frames));
    // The stdin thread may still be blocked in read(2): do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(50));
    result.map(|()| 0)
}

async fn run(paths: Paths, config: Config, frames: std::fs::File) -> Result<()> {
    let framing = Arc::new(OnceLock::new());
    let (out_tx, out_rx) = mpsc::channel::<Out>(1024);
    let writer = {
        let framing = framing.clone();
        std::thread::spawn(move || write_frames(frames, &framing, out_rx))
    };
    let (in_tx, mut in_rx) = mpsc::channel::<Incoming>(64);
    {
        let framing = framing.clone();
        std::thread::spawn(move || read_frames(io::stdin().lock(), &framing, &in_tx));
    }

    let state = Arc::new(State::new(paths, config)?);
    let methods: Methods = Api { state: state.clone() }.into_rpc().into();
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT as usize));
    let mut watching = false;
    loop {
        let incoming = tokio::select! {
            incoming = in_rx.recv() => incoming,
            () = state.shutdown.notified() => None,
        };
        let Some(incoming) = incoming else { break };
        // Notifications start once the client has spoken: then the framing is known.
        if !watching {
            watching = true;
            let (state, out) = (state.clone(), out_tx.clone());
            std::thread::spawn(move || watch(&state, &out));
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
        let methods = methods.clone();
        let out = out_tx.clone();
        tokio::spawn(async move {
            if let Some(reply) = dispatch(&methods, incoming).await {
                let _ = out.send(Out::Frame(reply)).await;
            }
            drop(permit);
        });
    }
    // Answer what is in flight (bounded), then flush and leave.
    let _ = tokio::time::timeout(Duration::from_secs(5), in_flight.acquire_many(MAX_IN_FLIGHT)).await;
    // Everything answered is queued before Stop; the watcher's later frames are not sent.
    let _ = out_tx.send(Out::Stop).await;
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    tracing::info!("server exits");
    Ok(())
}

// ---- transport ----------------------------------------------------------

fn read_frames(input: impl Read, framing: &OnceLock<Framing>, tx: &mpsc::Sender<Incoming>) {
    let mut r = BufReader::with_capacity(64 << 10, input);
    // The first non-blank byte tells the framing: JSON starts with { or [.
    let detected = loop {
        let buf = match r.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(b) => b,
        };
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            None => {
                let n = buf.len();
                r.consume(n);
            }
            Some(i) => {
                let first = buf[i];
                r.consume(i);
                break if first == b'{' || first == b'[' { Framing::Lines } else { Framing::ContentLength };
            }
        }
    };
    let _ = framing.set(detected);
    tracing::info!(?detected, "client framing");
    loop {
        let next = match detected {
            Framing::Lines => read_line_frame(&mut r),
            Framing::ContentLength => read_lsp_frame(&mut r),
        };
        match next {
            Ok(Some(incoming)) => {
                if tx.blocking_send(incoming).is_err() {
                    return;
                }
            }
            Ok(None) | Err(_) => return, // EOF
        }
    }
}

/// One line; blank lines are skipped. Too long: skipped, its id kept.
fn read_line_frame(r: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    loop {
        let mut line = Vec::new();
        let mut len: u64 = 0;
        let mut ended = false;
        while !ended {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                if len == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let keep = if len + take as u64 <= MAX_FRAME { take } else { SNIFF_BYTES.saturating_sub(line.len()).min(take) };
            line.extend_from_slice(&buf[..keep]);
            len += take as u64;
            r.consume(take);
            ended = found;
        }
        if len > MAX_FRAME {
            return Ok(Some(Incoming::TooLarge { id: sniff_id(&line), len }));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(Incoming::Frame(line)));
    }
}

/// Headers, a blank line, then Content-Length bytes.
fn read_lsp_frame(r: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut length: Option<u64> = None;
    let mut lines = 0;
    loop {
        let mut line = Vec::new();
        let n = r.by_ref().take(8 << 10).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            if lines == 0 {
                continue; // stray blank line between frames
            }
            break;
        }
        lines += 1;
        if lines > 32 || !line.ends_with(b"\n") {
            return Ok(Some(Incoming::Malformed("malformed header: too long".into())));
        }
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<u64>() {
                    Ok(v) => length = Some(v),
                    Err(_) => return Ok(Some(Incoming::Malformed(format!("malformed Content-Length: {}", value.trim())))),
                }
            }
            Some(_) => {} // Content-Type and friends
            None => return Ok(Some(Incoming::Malformed(format!("malformed header line: {}", truncate(text, 80))))),
        }
    }
    let Some(length) = length else {
        return Ok(Some(Incoming::Malformed("missing Content-Length header".into())));
    };
    if length > MAX_FRAME {
        // Skip the body without holding it; keep its start to find the id.
        let mut head = Vec::new();
        r.by_ref().take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
        io::copy(&mut r.by_ref().take(length - head.len() as u64), &mut io::sink())?;
        return Ok(Some(Incoming::TooLarge { id: sniff_id(&head), len: length }));
    }
    let mut body = Vec::with_capacity(length as usize);
    r.by_ref().take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(None); // EOF inside a frame
    }
    Ok(Some(Incoming::Frame(body)))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Find `"id": <number or string>` in the start of a frame too large to parse.
fn sniff_id(head: &[u8]) -> Value {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("\"id\"") {
        rest = &rest[i + 4..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix(':') else { continue };
        let after = after.trim_start();
        let mut de = serde_json::Deserializer::from_str(after).into_iter::<Value>();
        if let Some(Ok(v @ (Value::Number(_) | Value::String(_)))) = de.next() {
            return v;
        }
    }
    Value::Null
}

fn write_frames(out: std::fs::File, framing: &OnceLock<Framing>, mut rx: mpsc::Receiver<Out>) {
    let mut w = BufWriter::with_capacity(64 << 10, out);
    let write = |w: &mut BufWriter<std::fs::File>, body: &[u8]| -> io::Result<()> {
        match framing.get().copied().unwrap_or(Framing::ContentLength) {
            Framing::ContentLength => {
                write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
                w.write_all(body)
            }
            Framing::Lines => {
                w.write_all(body)?;
                w.write_all(b"\n")
            }
        }
    };
    let mut next = rx.blocking_recv();
    while let Some(Out::Frame(body)) = next {
        let mut result = write(&mut w, &body);
        // Write what else is queued, then flush once.
        next = loop {
            match rx.try_recv() {
                Ok(Out::Frame(more)) if result.is_ok() => result = write(&mut w, &more),
                Ok(Out::Frame(_)) => {}
                Ok(Out::Stop) => break Some(Out::Stop),
                Err(_) => break None,
            }
        };
        if result.and_then(|()| w.flush()).is_err() {
            return; // the client is gone
        }
        if next.is_none() {
            next = rx.blocking_recv();
        }
    }
}

// ---- dispatch -------------------------------------------------------------

fn error_reply(id: Value, code: i32, message: impl Into<String>) -> Box<RawValue> {
    let v = json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } });
    serde_json::value::to_raw_value(&v).unwrap_or_default()
}

async fn dispatch(methods: &Methods, incoming: Incoming) -> Option<Vec<u8>> {
    let reply = match incoming {
        Incoming::Malformed(msg) => Some(error_reply(Value::Null, code::PARSE_ERROR, msg)),
        Incoming::TooLarge { id, len } => Some(error_reply(
            id,
            code::TOO_LARGE,
            format!("request of {len} bytes is over the limit of {MAX_FRAME} bytes; it was skipped"),
        )),
        Incoming::Frame(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Err(e) => Some(error_reply(Value::Null, code::PARSE_ERROR, format!("parse error: {e}"))),
            Ok(Value::Array(items)) if items.is_empty() => {
                Some(error_reply(Value::Null, code::INVALID_REQUEST, "empty batch"))
            }
            Ok(Value::Array(items)) => {
                let mut replies = Vec::new();
                for item in items {
                    replies.extend(call(methods, item).await);
                }
                if replies.is_empty() {
                    None
                } else {
                    serde_json::value::to_raw_value(&replies).ok()
                }
            }
            Ok(one) => call(methods, one).await,
        },
    };
    reply.map(|r| r.get().as_bytes().to_vec())
}

/// One request or notification. None: nothing to answer (a notification).
async fn call(methods: &Methods, request: Value) -> Option<Box<RawValue>> {
    let Value::Object(mut req) = request else {
        return Some(error_reply(Value::Null, code::INVALID_REQUEST, "a request must be a JSON object"));
    };
    let raw_id = req.remove("id");
    let is_notification = raw_id.is_none();
    let reply_id = raw_id.clone().unwrap_or(Value::Null);
    let id: Id<'static> = match &raw_id {
        None | Some(Value::Null) => Id::Null,
        Some(Value::Number(n)) if n.as_u64().is_some() => Id::Number(n.as_u64().unwrap_or_default()),
        Some(Value::String(s)) => Id::Str(s.clone().into()),
        Some(_) => {
            return Some(error_reply(Value::Null, code::INVALID_REQUEST, "id must be a string, a non-negative integer or null"))
        }
    };
    // Not a valid request: answered even without an id (the spec's rule).
    if req.get("jsonrpc") != Some(&json!("2.0")) {
        return Some(error_reply(reply_id, code::INVALID_REQUEST, "jsonrpc must be \"2.0\""));
    }
    let Some(Value::String(method)) = req.remove("method") else {
        return Some(error_reply(reply_id, code::INVALID_REQUEST, "method must be a string"));
    };
    // A valid notification gets no answer, not even an error.
    let fail = |code: i32, message: String| (!is_notification).then(|| error_reply(reply_id.clone(), code, message));
    // Every method takes one object by name; jsonrpsee gets it as [object].
    let params = match req.remove("params") {
        None | Some(Value::Null) => "[{}]".to_owned(),
        Some(Value::Object(o)) => format!("[{}]", Value::Object(o)),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_object() => Value::Array(a).to_string(),
        Some(_) => return fail(code::INVALID_PARAMS, "params must be an object (by name)".into()),
    };
    let Some((_, callback)) = methods.method_with_name(&method) else {
        return fail(code::METHOD_NOT_FOUND, format!("no method '{}'", truncate(&method, 100)));
    };
    let params = Params::new(Some(&params)).into_owned();
    let response = match callback {
        MethodCallback::Sync(f) => f(id, params, MAX_RESPONSE, Extensions::new()),
        MethodCallback::Async(f) => f(id, params, ConnectionId(0), MAX_RESPONSE, Extensions::new()).await,
        _ => return fail(code::METHOD_NOT_FOUND, format!("no method '{method}'")),
    };
    if is_notification {
        return None;
    }
    if response.is_error() {
        // jsonrpsee answers a panicked blocking method with id null: put the id back.
        let mut v: Value = serde_json::from_str(response.as_json().get()).unwrap_or(Value::Null);
        if v.get("id").is_some_and(Value::is_null) {
            v["id"] = reply_id;
        }
        return serde_json::value::to_raw_value(&v).ok();
    }
    Some(response.into_json())
}

// ---- methods -------------------------------------------------------------------

struct Follow {
    which: Which,
    pos: u64,
    watch: Option<i32>,
}

struct State {
    paths: Paths,
    config: Config,
    /// Connections for request handlers (each is used by one thread at a time).
    pool: Mutex<Vec<Store>>,
    follows: Mutex<HashMap<String, Follow>>,
    /// Wakes the watcher (a follow was added).
    wake: Notify,
    shutdown: Notify,
}

impl State {
    fn new(paths: Paths, config: Config) -> Result<State> {
        let store = Store::open(&paths)?;
        Ok(State {
            paths,
            config,
            pool: Mutex::new(vec![store]),
            follows: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            shutdown: Notify::new(),
        })
    }

    fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> RpcResult<T> {
        let taken = self.pool.lock().ok().and_then(|mut p| p.pop());
        let store = match taken {
            Some(s) => s,
            None => Store::open(&self.paths)?,
        };
        let result = f(&store);
        if let Ok(mut p) = self.pool.lock() {
            p.push(store);
        }
        Ok(result?)
    }
}

struct Api {
    state: Arc<State>,
}

fn server_cwd() -> Result<std::path::PathBuf> {
    std::env::current_dir().context(|| "cannot read the current directory".to_owned())
}

fn resolve_dir(dir: Option<&str>) -> Result<std::path::PathBuf> {
    let here = server_cwd()?;
    let Some(dir) = dir else { return Ok(here) };
    let dir = here.join(dir);
    if !dir.is_dir() {
        return Err(Error::InvalidInput(format!("cwd: {} is not a directory", dir.display())));
    }
    Ok(dir)
}

fn tail_of(paths: &Paths, id: &str, lines: usize) -> String {
    Reader::open(paths, id)
        .ok()
        .and_then(|r| r.tail(Which::Both, lines).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

impl protocol::ApiServer for Api {
    fn initialize(&self, Checked(p): Checked<protocol::InitializeParams>) -> RpcResult<protocol::InitializeResult> {
        tracing::info!(client = ?p.client_name, version = ?p.client_version, "initialize");
        let s = &self.state;
        s.with_store(|store| {
            store.reap_lost()?;
            Ok(protocol::InitializeResult {
                server: "errand".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                protocol_version: protocol::PROTOCOL_VERSION,
                pid: std::process::id(),
                data_dir: s.paths.data.display().to_string(),
                limits: protocol::Limits {
                    parallel: s.config.parallel,
                    cancel_grace_secs: s.config.cancel_grace_secs,
                    max_frame_bytes: MAX_FRAME,
                },
                counts: store.counts()?,
                unread: store.unread(50)?,
            })
        })
    }

    fn run(&self, Checked(p): Checked<protocol::RunParams>) -> RpcResult<Task> {
        let s = &self.state;
        let cwd = resolve_dir(p.cwd.as_deref())?;
        let workflow = p.workflow.clone().or_else(|| p.command.as_deref().and_then(|c| c.strip_prefix('#')).map(str::to_owned));
        let given = [p.command.is_some(), p.argv.is_some(), p.workflow.is_some()].iter().filter(|&&b| b).count();
        if given != 1 {
            return Err(Error::InvalidInput("give exactly one of command, argv, workflow".into()).into());
        }
        let base_env = scheduler::client_env();
        let group_of = scheduler::project_group;
        let new = match workflow {
            Some(name) => {
                let wf = config::find_workflow(&s.config, &s.paths, &cwd, &name)?;
                let mut env = wf.env.clone();
                env.extend(p.env);
                NewTask {
                    name: p.name.or(Some(wf.name.clone())),
                    command: wf.command.clone(),
                    cwd: wf.cwd.to_string_lossy().into_owned(),
                    env,
                    base_env,
                    group: p.group.or_else(|| group_of(&wf.cwd)),
                    workflow: Some(wf.name),
                    restarted_from: None,
                }
            }
            None => NewTask {
                name: p.name,
                command: match (p.command, p.argv) {
                    (Some(c), _) => CommandSpec::Shell(c),
                    (_, Some(a)) => CommandSpec::Argv(a),
                    _ => return Err(Error::InvalidInput("command: missing".into()).into()),
                },
                group: p.group.or_else(|| group_of(&cwd)),
                cwd: cwd.to_string_lossy().into_owned(),
                env: p.env,
                base_env,
                workflow: None,
                restarted_from: None,
            },
        };
        s.with_store(|store| scheduler::submit(store, &s.paths, &s.config, &new))
    }

    fn list(&self, Checked(p): Checked<protocol::ListParams>) -> RpcResult<protocol::ListResult> {
        let limit = p.limit.unwrap_or(50).clamp(1, 1000);
        self.state.with_store(|store| {
            store.reap_lost()?;
            let before = p.cursor.as_deref().map(|c| store.seq_of(c)).transpose()?;
            let filter = ListFilter {
                statuses: p.status,
                group: p.group,
                text: p.text,
                include_deleted: p.deleted == protocol::Deleted::Include,
                only_deleted: p.deleted == protocol::Deleted::Only,
                before,
                limit: Some(limit),
            };
            let (tasks, more) = store.list(&filter)?;
            let next_cursor = if more { tasks.last().map(|t| t.id.clone()) } else { None };
            Ok(protocol::ListResult { tasks, next_cursor })
        })
    }

    fn get(&self, Checked(p): Checked<protocol::GetParams>) -> RpcResult<protocol::TaskDetail> {
        let s = &self.state;
        s.with_store(|store| {
            store.reap_lost()?;
            let task = store.get(&store.resolve(&p.id)?)?;
            let output_tail = tail_of(&s.paths, &task.id, p.tail_lines.unwrap_or(20).min(10_000) as usize);
            Ok(protocol::TaskDetail { task, output_tail })
        })
    }

    fn cancel(&self, Checked(p): Checked<protocol::IdParams>) -> RpcResult<protocol::CancelResult> {
        let s = &self.state;
        s.with_store(|store| {
            let id = store.resolve(&p.id)?;
            let action = match scheduler::cancel(store, &s.paths, &id)? {
                CancelAction::Dequeued => protocol::CancelAction::Dequeued,
                CancelAction::Signal => protocol::CancelAction::Signalled,
            };
            Ok(protocol::CancelResult { id, action })
        })
    }

    fn restart(&self, Checked(p): Checked<protocol::IdParams>) -> RpcResult<Task> {
        let s = &self.state;
        s.with_store(|store| scheduler::restart(store, &s.paths, &s.config, &store.resolve(&p.id)?))
    }

    fn delete(&self, Checked(p): Checked<protocol::IdParams>) -> RpcResult<Task> {
        let s = &self.state;
        s.with_store(|store| {
            let id = store.resolve(&p.id)?;
            store.delete(&id)?;
            notify::touch(&s.paths);
            store.get(&id)
        })
    }

    fn restore(&self, Checked(p): Checked<protocol::IdParams>) -> RpcResult<Task> {
        let s = &self.state;
        s.with_store(|store| {
            let id = store.resolve(&p.id)?;
            store.restore(&id)?;
            notify::touch(&s.paths);
            store.get(&id)
        })
    }

    fn mark_read(&self, Checked(p): Checked<protocol::MarkReadParams>) -> RpcResult<protocol::MarkReadResult> {
        let s = &self.state;
        if !p.all && p.ids.is_none() {
            return Err(Error::InvalidInput("give ids or all: true".into()).into());
        }
        s.with_store(|store| {
            let marked = match (&p.ids, p.all) {
                (_, true) => store.mark_read(None)?,
                (Some(ids), false) => {
                    let ids = ids.iter().map(|i| store.resolve(i)).collect::<Result<Vec<_>>>()?;
                    store.mark_read(Some(&ids))?
                }
                (None, false) => 0,
            };
            notify::touch(&s.paths);
            Ok(protocol::MarkReadResult { marked })
        })
    }

    fn output(&self, Checked(p): Checked<protocol::OutputParams>) -> RpcResult<protocol::OutputResult> {
        let s = &self.state;
        let (id, finished) = s.with_store(|store| {
            let id = store.resolve(&p.id)?;
            let finished = store.get(&id)?.status.is_final();
            Ok((id, finished))
        })?;
        let reader = Reader::open(&s.paths, &id)?;
        let read_err = |e: io::Error| Error::io(format!("cannot read the output of {id}"), e);
        let max = u64::from(p.max_bytes.unwrap_or(1 << 20).clamp(1, 16 << 20));
        let end = reader.end(p.stream);
        let (data, offset, next) = match p.lines {
            Some(n) => (reader.tail(p.stream, n as usize).map_err(read_err)?, end, end),
            None => {
                let from = p.offset.unwrap_or(0).min(end);
                let mut data = Vec::new();
                let next = reader.copy(p.stream, from, max, &mut data).map_err(read_err)?;
                (data, from, next)
            }
        };
        // `data` of a tail ends at `end`: report where it starts only for offset reads.
        Ok(protocol::OutputResult {
            data: String::from_utf8_lossy(&data).into_owned(),
            stream: p.stream,
            offset,
            next,
            more: next < end,
            finished,
        })
    }

    fn follow(&self, Checked(p): Checked<protocol::FollowParams>) -> RpcResult<protocol::FollowResult> {
        let s = &self.state;
        let id = s.with_store(|store| store.resolve(&p.id))?;
        let from = p.from.unwrap_or(0);
        if let Ok(mut f) = s.follows.lock() {
            f.insert(id.clone(), Follow { which: p.stream, pos: from, watch: None });
        }
        s.wake.notify_one();
        Ok(protocol::FollowResult { id, stream: p.stream, from })
    }

    fn unfollow(&self, Checked(p): Checked<protocol::IdParams>) -> RpcResult<protocol::Ok> {
        let s = &self.state;
        let id = s.with_store(|store| store.resolve(&p.id))?;
        let removed = s.follows.lock().ok().and_then(|mut f| f.remove(&id)).is_some();
        s.wake.notify_one();
        Ok(protocol::Ok { ok: removed })
    }

    fn send_input(&self, Checked(p): Checked<protocol::SendInputParams>) -> RpcResult<protocol::Ok> {
        let s = &self.state;
        if p.text.is_none() && !p.eof {
            return Err(Error::InvalidInput("give text, or eof: true".into()).into());
        }
        s.with_store(|store| {
            let id = store.resolve(&p.id)?;
            if let Some(text) = p.text {
                supervisor::send(&s.paths, store, &id, Message::Input(text.into_bytes()))?;
            }
            if p.eof {
                supervisor::send(&s.paths, store, &id, Message::Eof)?;
            }
            Ok(protocol::Ok { ok: true })
        })
    }

    fn counts(&self, _: Checked<protocol::Empty>) -> RpcResult<crate::store::Counts> {
        self.state.with_store(|store| {
            store.reap_lost()?;
            store.counts()
        })
    }

    fn workflows(&self, Checked(p): Checked<protocol::WorkflowListParams>) -> RpcResult<Vec<protocol::WorkflowInfo>> {
        let s = &self.state;
        let cwd = resolve_dir(p.cwd.as_deref())?;
        let all = config::workflows(&s.config, &s.paths, &cwd)?;
        Ok(all
            .into_values()
            .map(|w| protocol::WorkflowInfo {
                name: w.name,
                command: w.command,
                cwd: w.cwd.display().to_string(),
                env: w.env,
                description: w.description,
                source: w.source.display().to_string(),
            })
            .collect())
    }

    fn shutdown(&self, _: Checked<protocol::Empty>) -> RpcResult<protocol::Ok> {
        self.state.shutdown.notify_one();
        Ok(protocol::Ok { ok: true })
    }
}

// ---- notifications -------------------------------------------------------------

fn notification(method: &str, params: impl Serialize) -> Out {
    Out::Frame(serde_json::to_vec(&json!({ "jsonrpc": "2.0", "method": method, "params": params })).unwrap_or_default())
}

/// What the watcher remembers of a task, to tell what changed.
struct Known {
    status: Status,
    progress: (Option<f64>, Option<String>),
}

/// Push notifications for every change to the store, whoever made it. On
/// a thread of its own (its store connection is not Sync); it ends with the
/// process.
fn watch(state: &State, out: &mpsc::Sender<Out>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(watch_inner(state, out)),
        Err(e) => Err(Error::io("cannot start the watcher", e)),
    };
    if let Err(e) = result {
        tracing::error!("watcher stopped: {e}");
    }
}

async fn watch_inner(state: &State, out: &mpsc::Sender<Out>) -> Result<()> {
    let paths = &state.paths;
    let store = Store::open(paths)?;
    let inotify = Inotify::new_nonblocking().context(|| "inotify".to_owned())?;
    inotify.watch(&notify::changed_path(paths), libc::IN_MODIFY).context(|| "cannot watch the store".to_owned())?;
    // Output files appear on a task's first write.
    inotify.watch(&paths.logs, libc::IN_CREATE).context(|| "cannot watch the output folder".to_owned())?;
    // SAFETY: Inotify owns its fd, which stays open as long as the AsyncFd.
    let inotify = unsafe { AsyncFd::register_with_interest(inotify, Interest::READABLE) }
        .map_err(|_| Error::io("inotify", io::Error::other("cannot register with the reactor")))?;

    let loaded_at = now_ms();
    let (mut last_change, active) = store.snapshot()?;
    let mut known: HashMap<String, Known> = active
        .into_iter()
        .map(|t| (t.id.clone(), Known { status: t.status, progress: (t.progress, t.progress_message.clone()) }))
        .collect();
    let mut counts = store.counts()?;
    let mut watched_workers: HashSet<(u32, u64)> = HashSet::new();
    let (died_tx, mut died_rx) = mpsc::unbounded_channel::<()>();

    loop {
        // 1. Task changes since last time, as events.
        loop {
            let (tasks, last) = store.changed_since(last_change, 500)?;
            last_change = last;
            for task in &tasks {
                for msg in events_for(task, known.get(&task.id), loaded_at, paths) {
                    if out.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
                known.insert(
                    task.id.clone(),
                    Known { status: task.status, progress: (task.progress, task.progress_message.clone()) },
                );
            }
            if tasks.len() < 500 {
                break;
            }
        }
        // 2. Counts, only when they change.
        let now_counts = store.counts()?;
        if now_counts != counts {
            counts = now_counts;
            if out.send(notification("counts/changed", counts)).await.is_err() {
                return Ok(());
            }
        }
        // 3. Output of followed tasks.
        if !push_follows(state, &store, inotify.get_ref(), out).await {
            return Ok(());
        }
        // 4. Watch each running task's supervisor: its death is a change nobody writes.
        for (_, worker) in store.running_workers()? {
            if watched_workers.insert((worker.pid, worker.start)) {
                watch_worker(worker, died_tx.clone());
            }
        }
        // 5. Sleep until something happens. The only timer: when the oldest
        // counted failure stops counting (an hour after it ended).
        let expiry = store.next_failure_expiry()?;
        let sleep = async {
            match expiry {
                Some(at) => tokio::time::sleep(Duration::from_millis((at - now_ms()).max(0) as u64 + 5)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ready = inotify.readable() => {
                if let Ok(mut guard) = ready {
                    let _ = guard.get_inner().drain();
                    guard.clear_ready();
                }
            }
            () = state.wake.notified() => {}
            Some(()) = died_rx.recv() => {
                if store.reap_lost()? > 0 {
                    notify::touch(paths);
                }
            }
            () = sleep => {}
        }
    }
}

fn events_for(task: &Task, before: Option<&Known>, loaded_at: i64, paths: &Paths) -> Vec<Out> {
    let event = |method: &str| notification(method, protocol::TaskEvent { task: task.clone() });
    let was = before.map(|k| k.status);
    let mut out = Vec::new();
    match task.status {
        Status::Queued if was.is_none() => out.push(event("task/queued")),
        Status::Running if was != Some(Status::Running) => out.push(event("task/started")),
        Status::Running => {
            let progress = (task.progress, task.progress_message.clone());
            if before.is_some_and(|k| k.progress != progress) {
                out.push(notification(
                    "task/progress",
                    protocol::ProgressEvent {
                        id: task.id.clone(),
                        progress: task.progress,
                        progress_message: task.progress_message.clone(),
                        eta_at: task.eta_at,
                    },
                ));
            }
        }
        // Finished now: it was active, or it came and went since we started
        // (created after our snapshot, so it is not an old task being edited).
        s if s.is_final() && (was.is_some_and(|w| !w.is_final()) || (was.is_none() && task.created_at >= loaded_at)) => {
            out.push(notification(
                "task/finished",
                protocol::FinishedEvent { task: task.clone(), output_tail: tail_of(paths, &task.id, 10) },
            ));
        }
        s if s.is_final() => out.push(event("task/updated")),
        _ => {}
    }
    out
}

/// Send new output of followed tasks; drop follows of finished tasks once
/// everything is sent. False if the client is gone.
async fn push_follows(state: &State, store: &Store, inotify: &Inotify, out: &mpsc::Sender<Out>) -> bool {
    let ids: Vec<String> = match state.follows.lock() {
        Ok(f) => f.keys().cloned().collect(),
        Err(_) => return true,
    };
    for id in ids {
        // Status before output: output written before the end is then sent
        // before the follow is dropped.
        let finished = store.get(&id).map(|t| t.status.is_final()).unwrap_or(true);
        let Some((which, mut pos, watch)) =
            state.follows.lock().ok().and_then(|f| f.get(&id).map(|f| (f.which, f.pos, f.watch)))
        else {
            continue;
        };
        let file = LogFiles::of(&state.paths, &id).growing(which).clone();
        let watch = watch.or_else(|| inotify.watch(&file, libc::IN_MODIFY).ok());
        let Ok(reader) = Reader::open(&state.paths, &id) else { continue };
        loop {
            let mut data = Vec::new();
            let Ok(next) = reader.copy(which, pos, FOLLOW_BATCH, &mut data) else { break };
            if next == pos {
                break;
            }
            let event = protocol::OutputEvent {
                id: id.clone(),
                stream: which,
                from: pos,
                next,
                data: String::from_utf8_lossy(&data).into_owned(),
            };
            if out.send(notification("task/outputAppended", event)).await.is_err() {
                return false;
            }
            pos = next;
        }
        if let Ok(mut f) = state.follows.lock() {
            if finished {
                f.remove(&id);
                if let Some(wd) = watch {
                    inotify.unwatch(wd);
                }
            } else if let Some(follow) = f.get_mut(&id) {
                follow.pos = pos;
                follow.watch = watch;
            }
        }
    }
    true
}

/// Tell the watcher when this supervisor exits (a pidfd becomes readable).
fn watch_worker(worker: WorkerId, died: mpsc::UnboundedSender<()>) {
    let Ok(fd) = crate::sys::pidfd_open(worker.pid) else {
        let _ = died.send(()); // already gone
        return;
    };
    // The pid may have been reused between the store read and pidfd_open.
    if crate::sys::process_start_time(worker.pid) != Some(worker.start) {
        let _ = died.send(());
        return;
    }
    tokio::spawn(async move {
        // SAFETY: the OwnedFd stays open as long as the AsyncFd owns it.
        if let Ok(fd) = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) } {
            let _ = fd.readable().await;
        }
        let _ = died.send(());
    });
}
