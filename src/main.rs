//! errand: run shell commands and workflows in the background, and get told
//! when they finish. See README.md for the tour and DESIGN notes.

mod cli;
mod config;
mod error;
mod notify;
mod output;
mod protocol;
mod scheduler;
mod server;
mod store;
mod supervisor;
mod sys;
mod task;

use clap::Parser;

use crate::config::Paths;

fn main() {
    let cli = cli::Cli::parse();
    let code = match Paths::discover() {
        Err(e) => report(&e),
        Ok(paths) => {
            // Long-lived processes always log; a quick CLI command only
            // when asked (ERRAND_LOG), which keeps `status` fit for a prompt.
            let long_lived = matches!(cli.command, cli::Command::Worker | cli::Command::Serve);
            let _log = (long_lived || std::env::var_os("ERRAND_LOG").is_some()).then(|| init_logging(&paths));
            if !matches!(cli.command, cli::Command::Worker | cli::Command::Serve) {
                sys::default_sigpipe();
            }
            match cli::run(cli, &paths) {
                Ok(code) => code,
                Err(e) => report(&e),
            }
        }
    };
    std::process::exit(code);
}

fn report(e: &error::Error) -> i32 {
    tracing::debug!("exit with error: {e}");
    eprintln!("errand: {e}");
    e.exit_code()
}

/// errand's own log: a daily rolling file in the state folder, never stdout.
/// Level from ERRAND_LOG (default "info"). Logging is best effort: a folder
/// we cannot write to must not stop the command.
fn init_logging(paths: &Paths) -> Option<()> {
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
        .ok()?;
    Some(())
}
