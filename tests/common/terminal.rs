//! A real terminal for tests: a tmux pane of a fixed size running a real
//! shell (or any command), typed into with send-keys and read back with
//! capture-pane, as a user at that terminal would see it.

use std::path::Path;
use std::process::Command;

use super::Home;

pub struct Terminal {
    socket: std::path::PathBuf,
}

impl Terminal {
    /// `command` in a `width`×`height` pane, in the test's folder, with
    /// errand on PATH, the test's ERRAND_HOME, and HOME in the test's
    /// folder (no user's shell setup is read or written).
    pub fn start(home: &Home, width: u16, height: u16, command: &str) -> Terminal {
        // A server of its own each: one shutting down never takes the next.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = home.path().join(format!("tmux{n}.sock"));
        let bin = Path::new(env!("CARGO_BIN_EXE_errand")).parent().unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let shell_home = home.path().join("user");
        std::fs::create_dir_all(&shell_home).unwrap();
        // The environment goes through `env`: tmux's own -e is overridden by
        // a server's global environment.
        let line = format!(
            "env -u ERRAND_TASK_ID PATH='{path}' ERRAND_HOME='{}' HOME='{}' XDG_CONFIG_HOME='{}/config' \
             XDG_DATA_HOME='{}/data' TERM=xterm-256color LANG=C.UTF-8 {command}",
            home.errand_home().display(),
            shell_home.display(),
            shell_home.display(),
            shell_home.display()
        );
        let started = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x", &width.to_string(), "-y", &height.to_string()])
            .arg("-c")
            .arg(home.path())
            .arg(&line)
            .status()
            .expect("tmux is installed (tests/run-all.sh installs it)");
        assert!(started.success(), "tmux could not start {command}");
        Terminal { socket }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-S").arg(&self.socket).args(args).output().expect("tmux")
    }

    /// Type text literally (no key names), then the keys named (Tab, Enter, C-c).
    pub fn type_text(&self, text: &str) {
        assert!(self.tmux(&["send-keys", "-l", text]).status.success());
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// What the pane shows now, one line per row, trailing blanks trimmed.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Wait until the screen shows what `f` looks for; the screen then.
    /// Fails the test after 20 s, showing the screen.
    pub fn until(&self, what: &str, mut f: impl FnMut(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if f(&screen) {
                return screen;
            }
            assert!(std::time::Instant::now() < deadline, "timed out waiting for: {what}; the screen:\n{screen}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The pane's command has exited (the pane is gone with it).
    pub fn closed(&self) -> bool {
        !self.tmux(&["has-session"]).status.success()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}
