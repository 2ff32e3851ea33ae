//! errand's own log: a daily rolling file in the state folder, never stdout
//! (which carries protocol frames in `serve`) and never stderr (which an
//! editor shows as errors).

use crate::paths::Paths;

/// Start logging, at the level ERRAND_LOG gives (default "info"). Best
/// effort: a folder errand cannot write to must not stop the command.
pub fn init(paths: &Paths) -> Option<()> {
    paths.create_dirs().ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("errand.log")
        .max_log_files(7)
        .build(&paths.own_logs)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ERRAND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Written in place: errand logs little, and the non-blocking
        // writer's queue alone would cost 4 MB of memory.
        .with_writer(appender)
        .with_ansi(false)
        .try_init()
        .ok()
}
