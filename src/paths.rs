//! Where errand keeps its files. `ERRAND_HOME` puts all of them under one
//! folder (tests, sandboxes); otherwise the platform's data, state and
//! config folders.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// Every path errand uses.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data folder: the store and the output.
    pub data: PathBuf,
    /// The task store (SQLite).
    pub db: PathBuf,
    /// Space set aside beside the store, freed when the disk is full so an
    /// outcome can still be recorded.
    pub reserve: PathBuf,
    /// Locked (flock) by whichever errand connection writes to the store.
    pub write_lock: PathBuf,
    /// Task output: `ID.out`, `ID.err`, `ID.idx`.
    pub logs: PathBuf,
    /// Runtime files: the change file, supervisors' control FIFOs.
    pub run: PathBuf,
    /// errand's own rolling log.
    pub own_logs: PathBuf,
    /// The user's settings.
    pub config_file: PathBuf,
}

impl Paths {
    pub fn discover() -> Result<Paths> {
        if let Some(home) = std::env::var_os("ERRAND_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Paths::in_home(&home));
        }
        let dirs = directories::ProjectDirs::from("", "", "errand")
            .ok_or_else(|| Error::InvalidInput("cannot find a home directory; set ERRAND_HOME".into()))?;
        let state = dirs.state_dir().unwrap_or(dirs.data_local_dir()).join("log");
        Ok(Paths::under(dirs.data_local_dir(), &state, &dirs.config_dir().join("config.toml")))
    }

    /// All paths under one folder, as `ERRAND_HOME` does.
    pub fn in_home(home: &Path) -> Paths {
        Paths::under(home, &home.join("log"), &home.join("config.toml"))
    }

    fn under(data: &Path, own_logs: &Path, config_file: &Path) -> Paths {
        Paths {
            data: data.to_path_buf(),
            db: data.join("errand.db"),
            reserve: data.join("errand.reserve"),
            write_lock: data.join("errand.write-lock"),
            logs: data.join("logs"),
            run: data.join("run"),
            own_logs: own_logs.to_path_buf(),
            config_file: config_file.to_path_buf(),
        }
    }

    /// Create the private folders errand writes to (mode 0700).
    pub fn create_dirs(&self) -> Result<()> {
        for dir in [&self.data, &self.logs, &self.run, &self.own_logs] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(())
    }
}
