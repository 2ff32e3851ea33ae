//! The files a watch looks at: every folder under its paths that
//! .gitignore, .ignore, the repository's .git/info/exclude, the user's
//! global gitignore (core.excludesFile), hidden names and the user's globs
//! leave in, each
//! with an inotify watch, and the rules that decide whether a change in one
//! of them counts. Ignored folders (target/, node_modules/, .git/) are never
//! watched at all, so a build writing there costs nothing.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

use tokio::io::unix::AsyncFd;

use crate::sys::{Inotify, InotifyEvent};

/// What a watched folder reports: a file written and closed, created,
/// deleted or renamed in or out (an editor's save is one of these).
const MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_ONLYDIR
    | libc::IN_EXCL_UNLINK;

/// One path the user named.
struct Root {
    /// The folder watched for it (a file's own folder, for a file).
    dir: PathBuf,
    /// For a file: only changes to this name count.
    only: Option<OsString>,
    /// The user's --ignore globs, relative to `dir`.
    user: Gitignore,
}

pub struct Tree {
    pub inotify: AsyncFd<Inotify>,
    roots: Vec<Root>,
    /// Watched folders by watch descriptor.
    dirs: HashMap<i32, PathBuf>,
    /// The ignore files of watched folders and of their parents.
    rules: HashMap<PathBuf, Gitignore>,
    /// What git leaves out beside them, weaker than any of them: each
    /// repository's .git/info/exclude, then the user's global gitignore.
    excludes: Vec<Gitignore>,
    global: Gitignore,
    /// Folders that could not be watched (out of inotify watches), logged once.
    pub missed: usize,
}

impl Tree {
    /// Watch `paths` (absolute, existing) leaving out `ignores`.
    pub fn new(inotify: AsyncFd<Inotify>, paths: &[String], ignores: &[String]) -> io::Result<Tree> {
        let mut roots = Vec::new();
        for path in paths {
            let path = PathBuf::from(path);
            let (dir, only) = if path.is_dir() {
                (path.clone(), None)
            } else {
                let dir = path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
                (dir, path.file_name().map(OsStr::to_owned))
            };
            let mut user = GitignoreBuilder::new(&dir);
            for glob in ignores {
                user.add_line(None, glob).map_err(|e| io::Error::other(format!("--ignore {glob}: {e}")))?;
            }
            let user = user.build().map_err(|e| io::Error::other(e.to_string()))?;
            roots.push(Root { dir, only, user });
        }
        let mut excludes: Vec<Gitignore> = Vec::new();
        for root in &roots {
            let Some(repo) = root.dir.ancestors().find(|d| d.join(".git").exists()) else { continue };
            if excludes.iter().any(|e| e.path() == repo) {
                continue;
            }
            let mut builder = GitignoreBuilder::new(repo);
            if builder.add(repo.join(".git/info/exclude")).is_none() {
                excludes.extend(builder.build().ok());
            }
        }
        // No global gitignore (or a broken one) leaves nothing out.
        let (global, _) = Gitignore::global();
        let mut tree =
            Tree { inotify, roots, dirs: HashMap::new(), rules: HashMap::new(), excludes, global, missed: 0 };
        for k in 0..tree.roots.len() {
            let root = tree.roots[k].dir.clone();
            // The ignore files above a watched path apply inside it too.
            for parent in root.ancestors().skip(1) {
                tree.load_rules(parent);
            }
            if tree.roots[k].only.is_some() {
                tree.add_dir(&root)?;
            } else {
                tree.add_under(&root)?;
            }
        }
        Ok(tree)
    }

    /// How many folders are watched.
    pub fn len(&self) -> usize {
        self.dirs.len()
    }

    /// Watch `top` and every folder under it that is not ignored.
    fn add_under(&mut self, top: &Path) -> io::Result<()> {
        let walk = ignore::WalkBuilder::new(top)
            .hidden(true)
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(true)
            .parents(true)
            // A folder that is not (yet) a git repository keeps its .gitignore.
            .require_git(false)
            .follow_links(false)
            .filter_entry(|e| e.file_type().is_some_and(|t| t.is_dir()))
            .build();
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => {
                    if self.is_user_ignored(e.path(), true) {
                        continue;
                    }
                    match self.add_dir(e.path()) {
                        Ok(()) => {}
                        // A folder removed meanwhile is not an error.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) if crate::sys::is_exhausted(&e) => self.missed += 1,
                        Err(e) if e.raw_os_error() == Some(libc::EACCES) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(_) => {}
                // Unreadable folders are left out, as ripgrep does.
                Err(e) => tracing::debug!("watch: {e}"),
            }
        }
        Ok(())
    }

    fn add_dir(&mut self, dir: &Path) -> io::Result<()> {
        let wd = self.inotify.get_ref().watch(dir, MASK)?;
        self.dirs.insert(wd, dir.to_path_buf());
        self.load_rules(dir);
        Ok(())
    }

    /// Read `dir`'s .gitignore and .ignore (nothing if it has none).
    fn load_rules(&mut self, dir: &Path) {
        let mut builder = GitignoreBuilder::new(dir);
        let mut any = false;
        for name in [".gitignore", ".ignore"] {
            let file = dir.join(name);
            if file.is_file() {
                any = true;
                if let Some(e) = builder.add(&file) {
                    tracing::warn!("watch: {}: {e}", file.display());
                }
            }
        }
        match builder.build() {
            Ok(rules) if any => {
                self.rules.insert(dir.to_path_buf(), rules);
            }
            Ok(_) => {
                self.rules.remove(dir);
            }
            Err(e) => tracing::warn!("watch: {}: {e}", dir.display()),
        }
    }

    /// Does this event change something the watch looks at? Keeps the tree
    /// up to date on the way: a new folder is watched, a removed one let
    /// go, a changed ignore file read again.
    pub fn counts(&mut self, event: &InotifyEvent) -> bool {
        if event.mask & libc::IN_Q_OVERFLOW != 0 {
            // Events were lost: look again at everything, and run.
            let tops: Vec<PathBuf> = self.roots.iter().filter(|r| r.only.is_none()).map(|r| r.dir.clone()).collect();
            for top in tops {
                if let Err(e) = self.add_under(&top) {
                    tracing::warn!("watch: {}: {e}", top.display());
                }
            }
            return true;
        }
        if event.mask & libc::IN_IGNORED != 0 {
            if let Some(dir) = self.dirs.remove(&event.wd) {
                self.rules.remove(&dir);
            }
            return false;
        }
        let Some(dir) = self.dirs.get(&event.wd).cloned() else { return false };
        let name = event.name.as_os_str();
        if name.is_empty() {
            return false;
        }
        let path = dir.join(name);
        let is_dir = event.mask & libc::IN_ISDIR != 0;
        if name == ".gitignore" || name == ".ignore" {
            self.load_rules(&dir);
        }
        if !self.is_relevant(&path, name, is_dir) {
            return false;
        }
        if is_dir && event.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0 {
            if let Err(e) = self.add_under(&path) {
                tracing::warn!("watch: {}: {e}", path.display());
            }
        }
        true
    }

    fn is_relevant(&self, path: &Path, name: &OsStr, is_dir: bool) -> bool {
        // A file named on the command line counts, whatever its name.
        let named = |r: &Root| r.only.as_deref() == Some(name) && path.parent() == Some(r.dir.as_path());
        if self.roots.iter().any(named) {
            return true;
        }
        let bytes = name.as_encoded_bytes();
        // Hidden files (an editor's swap file, .git) and backups (`file~`).
        if bytes.starts_with(b".") || bytes.ends_with(b"~") {
            return false;
        }
        // Under a watched folder (a named file's folder is not one).
        self.roots.iter().any(|r| r.only.is_none() && path.starts_with(&r.dir))
            && !self.is_user_ignored(path, is_dir)
            && !self.is_git_ignored(path, is_dir)
    }

    fn is_user_ignored(&self, path: &Path, is_dir: bool) -> bool {
        self.roots
            .iter()
            .any(|r| r.only.is_none() && path.starts_with(&r.dir) && r.user.matched(path, is_dir).is_ignore())
    }

    /// The nearest ignore file with an opinion decides, as git does; then
    /// the repository's exclude file, then the user's global one.
    fn is_git_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let nearest = path.ancestors().skip(1).filter_map(|dir| self.rules.get(dir));
        let excludes = self.excludes.iter().filter(|e| path.starts_with(e.path()));
        for rules in nearest.chain(excludes).chain(std::iter::once(&self.global)) {
            match rules.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}
