//! The `errand` binary: read the command line and take one of errand's
//! roles. Everything else is in the library (src/lib.rs).

use clap::error::ErrorKind;
use clap::Parser;
use errand::cli::{args::SchemaFormat, visible, Cli, Command};
use errand::error::Error;
use errand::paths::Paths;

fn main() {
    // Tasks get the mask the user gave errand; errand's own files are private.
    errand::launch::record_client_umask();
    errand::sys::set_umask(0o077);
    // A shell asking for completions (ERRAND_COMPLETE set) is answered here.
    errand::cli::complete::answer_if_asked();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => std::process::exit(command_line_error(&e)),
    };
    let code = match Paths::discover() {
        Err(e) => report(&e),
        Ok(paths) => role(cli.command, &paths).unwrap_or_else(|e| report(&e.naming_store(&paths.db))),
    };
    std::process::exit(code);
}

fn role(command: Command, paths: &Paths) -> Result<i32, Error> {
    // Long-lived processes always log; a quick CLI command only when asked
    // (ERRAND_LOG), which keeps `status` fit for a prompt.
    let long_lived = matches!(command, Command::Worker | Command::Serve | Command::Watch { .. });
    let _log = (long_lived || std::env::var_os("ERRAND_LOG").is_some()).then(|| errand::logging::init(paths));
    // Shell commands die quietly on a closed pipe (`errand man | head`), as
    // other commands do; the long-lived roles handle EPIPE themselves.
    if !long_lived {
        errand::sys::default_sigpipe();
    }
    match command {
        Command::Worker => errand::supervisor::run(paths).map(|()| 0),
        Command::Serve => errand::server::serve(paths),
        Command::Watch { id } => errand::watch::run(paths, &id).map(|()| 0),
        Command::Schema { format } => print_schema(format),
        Command::Completions { shell } => errand::cli::complete::script(&shell, &mut std::io::stdout().lock()),
        Command::Man { dir } => errand::cli::man(dir.as_deref(), &mut std::io::stdout().lock()),
        command => errand::cli::run(command, paths),
    }
}

/// `errand __schema`: the protocol document or a client's generated types.
fn print_schema(format: SchemaFormat) -> Result<i32, Error> {
    let described = errand::protocol::describe();
    let text = match format {
        SchemaFormat::Openrpc => serde_json::to_string_pretty(&errand::protocol::openrpc::document(&described))
            .map_err(|e| Error::io("cannot write JSON", e.into()))?,
        SchemaFormat::Typescript => errand::protocol::codegen::typescript(&described),
        SchemaFormat::Lua => errand::protocol::codegen::lua(&described),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.trim_end().as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}

/// What clap made of the command line: help and version print as clap
/// prints them (stdout, exit 0); a mistake is one line, as every error is.
fn command_line_error(e: &clap::Error) -> i32 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        _ => {
            eprintln!("errand: {}", visible(&errand::cli::args::one_line(e)));
            2
        }
    }
}

fn report(e: &Error) -> i32 {
    tracing::debug!("exit with error: {e}");
    // Errors can quote a project's text: shown, never obeyed, in one line.
    eprintln!("errand: {}", visible(&e.to_string()));
    e.exit_code()
}
