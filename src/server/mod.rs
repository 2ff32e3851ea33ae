//! `errand serve`: JSON-RPC 2.0 over stdin/stdout for an editor.
//!
//! One event loop (a current-thread tokio runtime) reads frames, dispatches
//! each request on its own task (at most 256 in flight; answers may come
//! out of order), and pushes notifications; store work and file reads run
//! on a small blocking pool, which also bounds the store connections. The
//! watcher reads the store on its own thread, and store writes nobody waits
//! for are chores: neither queues behind a request waiting for SQLite's
//! write lock, so notifications flow while writers wait.
//! Supervisors it starts are reaped by tokio; their death is watched
//! through pidfds. stdout carries frames only: fd 1 itself points at
//! /dev/null, so nothing else can write into the stream.
//!
//! - `transport`: framing (Content-Length or lines) and the stdio streams.
//! - `dispatch`: a message to its answer, by JSON-RPC rules.
//! - `methods`: the body of every method.
//! - `watch`: store changes and dead supervisors as notifications.
//! - `chores`: store writes nobody waits for (told, lost, a supervisor).
//! - `follow`: output of followed tasks as notifications.
//! - `wakeups`: what wakes the watcher (inotify, or a timer without it).
//! - `state`: what the server holds.
//! - `budget`: how much memory a connection may hold.

mod budget;
mod chores;
mod dispatch;
mod follow;
mod methods;
mod state;
mod transport;
mod wakeups;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use state::Server;
use transport::{FrameReader, Framing, Out};

pub use transport::MAX_FRAME;

/// Requests handled at once; more wait for a free slot.
const MAX_IN_FLIGHT: u32 = 256;
/// Threads for store work and file reads. Writes to the store are
/// serialised by SQLite anyway; a few threads let reads and one slow
/// output read go on beside them.
const BLOCKING_THREADS: usize = 4;
/// How long answers in flight may take once the client said goodbye.
const DRAIN: Duration = Duration::from_secs(5);

pub fn serve(paths: &Paths) -> Result<i32> {
    let frames = crate::sys::take_stdout().context(|| "cannot set up stdout".to_owned())?;
    let config = Config::load(paths);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .context(|| "cannot start the async runtime".to_owned())?;
    let result = runtime.block_on(run(paths.clone(), config, frames));
    // A blocking stdin read (a terminal) cannot be interrupted: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(50));
    result.map(|()| 0)
}

async fn run(paths: Paths, config: Config, frames: std::fs::File) -> Result<()> {
    let server = Arc::new(Server::new(paths, config)?);
    chores::Chores::start(&server);
    let methods: jsonrpsee::Methods = crate::protocol::rpc_module(server.clone())
        .map_err(|e| Error::io("cannot register the methods", std::io::Error::other(e.to_string())))?
        .into();
    let mut reader = FrameReader::new(transport::stdin().context(|| "cannot read stdin".to_owned())?);
    let mut output = Some(transport::stdout(frames).context(|| "cannot write stdout".to_owned())?);
    let (out_tx, out_rx) = mpsc::channel::<Out>(1024);
    let mut out_rx = Some(out_rx);
    let mut writer = None;
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT as usize));
    // Before the first frame: a task that ends from here on is reported.
    let mut baseline = Some(watch::baseline(&server).await?);
    loop {
        let incoming = tokio::select! {
            incoming = reader.next() => incoming,
            () = server.shutdown.notified() => None,
        };
        let Some(incoming) = incoming else { break };
        // The first message tells the framing: answers and notifications
        // can go out now; notifications after the answer to `initialize`.
        let mut release = None;
        if let (Some(output), Some(out_rx), Some(feed)) = (output.take(), out_rx.take(), baseline.take()) {
            let framing = reader.framing().unwrap_or(Framing::ContentLength);
            tracing::info!(?framing, "client framing");
            writer = Some(tokio::spawn(transport::write_frames(output, framing, out_rx)));
            let (ready, wait_ready) = oneshot::channel();
            tokio::spawn(watch::watch(server.clone(), out_tx.clone(), feed, wait_ready));
            if dispatch::is_initialize(&incoming) {
                release = Some(ready);
            } else {
                let _ = ready.send(());
            }
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
        let Some(held) = server.budget.for_frame(&incoming, dispatch::may_answer_large(&incoming)).await else { break };
        let methods = methods.clone();
        let out = out_tx.clone();
        tokio::spawn(async move {
            if let Some(reply) = dispatch::handle(&methods, incoming).await {
                let _ = out.send(Out::Message(String::from(Box::<str>::from(reply)).into_bytes(), held)).await;
            }
            if let Some(release) = release {
                let _ = release.send(());
            }
            drop(permit);
        });
    }
    // Answer what is in flight (bounded), then flush and leave; the
    // watcher's later notifications are not sent.
    let _ = tokio::time::timeout(DRAIN, in_flight.acquire_many(MAX_IN_FLIGHT)).await;
    let _ = tokio::time::timeout(DRAIN, server.chores.flush()).await;
    let _ = tokio::time::timeout(DRAIN, out_tx.send(Out::Stop)).await;
    if let Some(writer) = writer {
        let _ = tokio::time::timeout(DRAIN, writer).await;
    }
    tracing::info!("server exits");
    Ok(())
}
