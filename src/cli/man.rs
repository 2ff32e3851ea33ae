//! `errand man`: manual pages generated from the command line's own
//! definitions, so they never disagree with `--help`.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::args::Cli;
use crate::error::{Error, IoContext, Result};

/// Print errand.1, or write it and a page per command into `dir`.
pub fn man(dir: Option<&Path>, out: &mut impl Write) -> Result<i32> {
    // `help` is clap's own: `--help` says it all, and it has no page.
    let cmd = Cli::command().disable_help_subcommand(true);
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir).context(|| format!("cannot write the pages into {}", dir.display()))?;
        }
        None => clap_mangen::Man::new(cmd).render(out).map_err(|e| Error::io("cannot write to stdout", e))?,
    }
    Ok(0)
}
