//! The cache directory: entries in private files, written atomically, under a lock.

use super::*;

/// What looking up a key found.
#[derive(Debug)]
pub enum Lookup {
    /// A readable entry of ours (fresh or not: see [`Entry::is_fresh`]).
    Found(Box<Entry>),
    /// No entry.
    Missing,
    /// Something is there but is not trusted; the reason says why (no secrets).
    Ignored(String),
    /// An entry others could read, removed as soon as it was found (its session may
    /// have been seen: it is not used); the reason says why.
    Removed(String),
}

/// Whether `name` is a key of ours: 64 lower-case hex digits (a SHA-256).
///
/// ```
/// assert!(aws_session::cache::is_key(&"0a".repeat(32)));
/// assert!(!aws_session::cache::is_key("notes") && !aws_session::cache::is_key(&"A".repeat(64)));
/// ```
pub fn is_key(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a temp file of ours for an entry:
/// `.<key>.json.aws-session-<pid>-<n>.tmp` ([`fsutil::write_atomic`]).
fn is_our_temp(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((key, tail)) = rest.split_once(".json.aws-session-") else {
        return false;
    };
    let mut numbers = tail.split('-');
    is_key(key)
        && numbers
            .next()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && numbers
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && numbers.next().is_none()
}

/// The cache directory, checked: a directory of ours, not a symlink, mode 0700.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
}

/// Held while a run uses the cache; released when dropped (or at exec: close-on-exec).
#[derive(Debug)]
pub struct CacheLock {
    file: File,
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for as long as `self.file` lives.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

impl Cache {
    /// Open (create when missing) the cache directory `dir`: made with mode 0700 (and
    /// missing parents too); a symlink, a directory of another user or one writable by
    /// others is refused; a directory of ours that others can read is made 0700 (the
    /// rules of [`fsutil::ensure_private_dir`]).
    pub fn open(dir: &Path) -> Result<Cache> {
        let fail = |what: &str, e: std::io::Error| {
            Error::Local(format!(
                "cannot {what} the session cache {}: {e} (fix it, set XDG_CACHE_HOME, or use --no-cache)",
                dir.display()
            ))
        };
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| fail("create", e))?;
        }
        fsutil::ensure_private_dir(dir).map_err(|e| match e {
            PrivateDirError::Create(e) => fail("create", e),
            PrivateDirError::Inspect(e) => fail("inspect", e),
            PrivateDirError::NotOurs => Error::Local(format!(
                "the session cache {} is not a directory owned by you (a symlink, or made by someone else): remove it, or use --no-cache",
                dir.display()
            )),
            PrivateDirError::WritableByOthers(mode) => Error::Local(format!(
                "the session cache {} is writable by others (mode {mode:o}): remove it, or use --no-cache",
                dir.display()
            )),
            PrivateDirError::Tighten(e) => fail("make private (0700)", e),
        })?;
        Ok(Cache {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Take the cache lock, waiting up to `wait` for another run to finish (a run
    /// holds it while it asks for an MFA code). `waiting` is called once if the lock is
    /// not free at once.
    pub fn lock(&self, wait: Duration, waiting: impl FnOnce()) -> Result<CacheLock> {
        use std::os::fd::AsRawFd;
        let path = self.dir.join(LOCK_FILE);
        let fail = |e: std::io::Error| {
            let why = if fsutil::is_symlink_refusal(&e) {
                "it is a symbolic link".to_string()
            } else {
                e.to_string()
            };
            Error::Local(format!(
                "cannot lock the session cache ({}): {why} (remove the file, or use --no-cache)",
                path.display()
            ))
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(fail)?;
        let meta = file.metadata().map_err(fail)?;
        if !meta.is_file() || meta.uid() != euid() {
            return Err(Error::Local(format!(
                "the session cache lock {} is not a file of yours: remove it, or use --no-cache",
                path.display()
            )));
        }
        let deadline = Instant::now() + wait;
        let mut waiting = Some(waiting);
        loop {
            // SAFETY: the descriptor is open; flock has no memory effects.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(CacheLock { file });
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Local(format!(
                            "the session cache {} stayed locked by another aws-session for {} s (is it waiting for an MFA code?)",
                            self.dir.display(),
                            wait.as_secs()
                        )));
                    }
                    if let Some(f) = waiting.take() {
                        f();
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return Err(fail(e)),
            }
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Read the entry of `key`, trusting only a regular file of ours with mode 0600.
    pub fn load(&self, key: &str) -> Lookup {
        read_entry(&self.path_of(key))
    }

    /// Write `entry` under `key`: temp file (0600) in the directory, fsync, rename,
    /// fsync of the directory ([`fsutil::write_atomic`]). Replaces whatever was there
    /// (a symlink is replaced, never followed).
    pub fn store(&self, key: &str, entry: &Entry) -> Result<()> {
        let path = self.path_of(key);
        fsutil::write_atomic(&path, entry.to_json().as_bytes(), 0o600, AtSymlink::Replace).map_err(
            |e| {
                Error::Local(format!(
                    "cannot write the session cache entry {}: {e}",
                    path.display()
                ))
            },
        )
    }

    /// Remove the entry of `key` (no error when there is none).
    pub fn remove(&self, key: &str) -> Result<()> {
        remove_file(&self.path_of(key))
    }

    /// Every entry file (`<key>.json`, a key of ours: [`is_key`]) with what it holds,
    /// sorted by key; plus our leftover temp files as [`Lookup::Ignored`]. Other files
    /// in the directory are not ours and are not listed.
    pub fn entries(&self) -> Result<Vec<(String, Lookup)>> {
        let list = fs::read_dir(&self.dir).map_err(|e| {
            Error::Local(format!(
                "cannot list the session cache {}: {e}",
                self.dir.display()
            ))
        })?;
        let mut out = Vec::new();
        for item in list.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            if let Some(key) = name.strip_suffix(".json").filter(|k| is_key(k)) {
                out.push((key.to_string(), read_entry(&item.path())));
            } else if is_our_temp(&name) {
                out.push((name, Lookup::Ignored("a leftover temp file".into())));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Remove at once every entry of ours that others can read (mode other than 0600),
    /// whatever key it has: its session may have been seen, so it must not stay there
    /// for the rest of this run, which may fail before it would replace it. Returns
    /// each removed path with the reason (nothing is returned for a file that could not
    /// be looked at; reading it later ignores it anyway).
    pub fn remove_exposed(&self) -> Vec<(PathBuf, String)> {
        let Ok(list) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut removed = Vec::new();
        for item in list.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            if !name.strip_suffix(".json").is_some_and(is_key) {
                continue;
            }
            let path = item.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_file() && meta.uid() == euid() && meta.mode() & 0o077 != 0 {
                let mode = meta.mode() & 0o7777;
                if fs::remove_file(&path).is_ok() {
                    removed.push((path, format!("mode {mode:04o} let others read it")));
                }
            }
        }
        removed
    }

    /// Remove a file listed by [`Cache::entries`] (a key, or a temp file's name).
    pub fn remove_listed(&self, name: &str) -> Result<()> {
        if is_our_temp(name) {
            remove_file(&self.dir.join(name))
        } else {
            self.remove(name)
        }
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Local(format!(
            "cannot remove the session cache entry {}: {e}",
            path.display()
        ))),
    }
}

fn read_entry(path: &Path) -> Lookup {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
        Err(e) if fsutil::is_symlink_refusal(&e) => return Lookup::Ignored("a symlink".into()),
        Err(e) => return Lookup::Ignored(format!("unreadable: {e}")),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Lookup::Ignored(format!("unreadable: {e}")),
    };
    if !meta.is_file() {
        return Lookup::Ignored("not a regular file".into());
    }
    if meta.uid() != euid() {
        return Lookup::Ignored(format!("owned by uid {}, not by you", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        // Others may have read the session: never use it, and do not leave it there
        // for the rest of the run (which may fail before it would replace it).
        let mode = meta.mode() & 0o7777;
        drop(file);
        return match fs::remove_file(path) {
            Ok(()) => Lookup::Removed(format!("mode {mode:04o} let others read it")),
            Err(e) => Lookup::Ignored(format!(
                "mode {mode:04o} lets others read it (0600 expected), and it cannot be removed: {e}"
            )),
        };
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Lookup::Ignored(format!("{} bytes, too large to be ours", meta.len()));
    }
    let mut text = String::new();
    if let Err(e) = file.take(MAX_ENTRY_BYTES).read_to_string(&mut text) {
        return Lookup::Ignored(format!("unreadable: {e}"));
    }
    match Entry::from_json(&text) {
        Ok(entry) => Lookup::Found(Box::new(entry)),
        Err(why) => Lookup::Ignored(format!("not a valid entry ({why})")),
    }
}
