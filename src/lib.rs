//! errand: run shell commands and workflows in the background, and get told
//! when they finish. The binary (`main.rs`) only picks a role; everything
//! lives here. README.md has the module map.

pub mod cli;
pub mod config;
pub mod control;
pub mod detect;
pub mod diagnostics;
pub mod duration;
pub mod error;
pub mod launch;
pub mod logging;
pub mod output;
pub mod paths;
pub mod process;
pub mod protocol;
pub mod server;
pub mod store;
pub mod supervisor;
pub mod sys;
pub mod task;
pub mod toml_file;
pub mod wakeup;
pub mod watch;
pub mod workflow;
