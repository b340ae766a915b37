//! The session cache: MFA sessions and role sessions kept in files until shortly
//! before they expire, so that one MFA code serves many runs and many roles.
//!
//! Layout: `$XDG_CACHE_HOME/aws-session/` (else `~/.cache/aws-session/`), mode 0700:
//!
//! ```text
//! lock                 flock(2)ed while a run looks up, makes and stores sessions
//! <64 hex digits>.json one session per key, mode 0600
//! ```
//!
//! The key is the SHA-256 of everything that made the session ([`mfa_session_key`],
//! [`role_session_key`]): the long-term access key id and secret, the MFA device, the
//! STS endpoint, and for roles each role's ARN, external id, duration and session
//! name. Different keys, devices, roles or durations never share an entry, and a
//! rotated secret never finds the old key's sessions.
//!
//! An entry is a small JSON object (see [`Entry::to_json`]), written by hand: serde is
//! no runtime dependency. Files are written to a temp file in the same directory,
//! fsynced and renamed; an entry that is not a regular file of ours with mode 0600 (a
//! symlink, another user's, group- or world-readable), or that does not parse, is
//! ignored and replaced, never trusted.
//!
//! The secrets of the sessions are in these files: that is what the cache is for. They
//! are protected by file modes (like ~/.aws/credentials), not by a keyring.
//!
//! Pure: [`cache_dir`], the key functions, [`Entry`] (de)serialization and
//! [`Entry::is_fresh`]. I/O: [`Cache`].

use crate::credentials::{Credentials, SessionCredentials};
use crate::error::{Error, Result};
use crate::fsutil::{self, euid, AtSymlink, PrivateDirError};
use crate::json;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A cached session is used only while it has more than this many seconds left.
pub const FRESH_MARGIN_SECS: i64 = 300;
/// The entry format written by this version.
pub const FORMAT_VERSION: u64 = 1;
/// No entry is larger; a bigger file is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// The name of the lock file in the cache directory.
pub const LOCK_FILE: &str = "lock";

/// The cache directory: `$XDG_CACHE_HOME/aws-session` when that is an absolute path
/// (the XDG spec ignores relative ones), else `$HOME/.cache/aws-session`.
///
/// ```
/// use aws_session::cache::cache_dir;
/// use std::path::PathBuf;
/// assert_eq!(cache_dir(Some("/x/cache"), Some("/home/a")), Some(PathBuf::from("/x/cache/aws-session")));
/// assert_eq!(cache_dir(Some("rel"), Some("/home/a")), Some(PathBuf::from("/home/a/.cache/aws-session")));
/// assert_eq!(cache_dir(None, None), None);
/// ```
pub fn cache_dir(xdg_cache_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(x) = xdg_cache_home.filter(|x| x.starts_with('/')) {
        return Some(Path::new(x).join("aws-session"));
    }
    home.filter(|h| h.starts_with('/'))
        .map(|h| Path::new(h).join(".cache").join("aws-session"))
}

/// Builds a cache key: SHA-256 over length-prefixed fields, so that no two different
/// field lists hash the same input.
struct KeyBuilder(Sha256);

impl KeyBuilder {
    fn new(kind: &str) -> Self {
        KeyBuilder(Sha256::new())
            .field(&format!("aws-session-cache-v{FORMAT_VERSION}"))
            .field(kind)
    }

    fn field(mut self, v: &str) -> Self {
        self.0.update((v.len() as u64).to_be_bytes());
        self.0.update(v.as_bytes());
        self
    }

    fn opt(self, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.field("some").field(v),
            None => self.field("none"),
        }
    }

    fn credentials(self, c: &Credentials) -> Self {
        self.field(&c.access_key_id)
            .field(&c.secret_access_key)
            .opt(c.session_token.as_deref())
    }

    fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The key of an MFA session (GetSessionToken) made from `source` with device
/// `serial` (`None`: the device is discovered), for `duration` seconds (`None`: AWS's
/// default), at the STS `endpoint`.
///
/// ```
/// use aws_session::cache::mfa_session_key;
/// use aws_session::credentials::Credentials;
/// let c = Credentials::long_term("AKID", "secret");
/// let k = mfa_session_key(&c, Some("arn:aws:iam::1:mfa/me"), None, "https://sts.amazonaws.com/");
/// assert_eq!(k.len(), 64);
/// assert_ne!(k, mfa_session_key(&c, Some("arn:aws:iam::1:mfa/me"), Some(900), "https://sts.amazonaws.com/"));
/// ```
pub fn mfa_session_key(
    source: &Credentials,
    serial: Option<&str>,
    duration: Option<u32>,
    endpoint: &str,
) -> String {
    KeyBuilder::new("mfa-session")
        .credentials(source)
        .opt(serial)
        .opt(duration.map(|d| d.to_string()).as_deref())
        .field(endpoint)
        .finish()
}

/// The parameters of one AssumeRole, as far as they make a session different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeyPart<'a> {
    pub role_arn: &'a str,
    pub external_id: Option<&'a str>,
    pub duration: Option<u32>,
    /// The configured session name; `None` when it is derived at run time.
    pub session_name: Option<&'a str>,
}

/// The key of the role session at the end of `chain` (roles assumed in this order),
/// started from `source`, with MFA device `serial` (`None`: no MFA).
///
/// ```
/// use aws_session::cache::{role_session_key, RoleKeyPart};
/// use aws_session::credentials::Credentials;
/// let c = Credentials::long_term("AKID", "secret");
/// let part = RoleKeyPart { role_arn: "arn:aws:iam::1:role/a", external_id: None, duration: None, session_name: None };
/// let a = role_session_key(&c, None, "https://sts.amazonaws.com/", &[part.clone()]);
/// let b = role_session_key(&c, None, "https://sts.amazonaws.com/", &[RoleKeyPart { duration: Some(900), ..part }]);
/// assert_ne!(a, b);
/// ```
pub fn role_session_key(
    source: &Credentials,
    serial: Option<&str>,
    endpoint: &str,
    chain: &[RoleKeyPart],
) -> String {
    let mut k = KeyBuilder::new("role")
        .credentials(source)
        .opt(serial)
        .field(endpoint)
        .field(&chain.len().to_string());
    for part in chain {
        k = k
            .field(part.role_arn)
            .opt(part.external_id)
            .opt(part.duration.map(|d| d.to_string()).as_deref())
            .opt(part.session_name);
    }
    k.finish()
}

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// GetSessionToken credentials.
    MfaSession,
    /// AssumeRole credentials.
    Role,
}

impl EntryKind {
    /// The name used in files and in `status`.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::MfaSession => "mfa-session",
            EntryKind::Role => "role",
        }
    }
}

/// One cached session and what it is (for `status` and `clear`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// The profile it was made for (`default` when none was chosen).
    pub profile: String,
    /// The profile the long-term keys came from; `None` when from the environment.
    pub source_profile: Option<String>,
    /// The long-term access key id it was made from (not a secret).
    pub source_access_key_id: String,
    /// The MFA device used, if any.
    pub mfa_serial: Option<String>,
    /// For roles: the role's ARN and the assumed-role ARN of the session.
    pub role_arn: Option<String>,
    pub assumed_role_arn: Option<String>,
    pub session: SessionCredentials,
}

impl Entry {
    /// Whether the session has more than [`FRESH_MARGIN_SECS`] left at `now`.
    ///
    /// ```
    /// # use aws_session::cache::{Entry, EntryKind};
    /// # use aws_session::credentials::{Credentials, SessionCredentials};
    /// # use time::OffsetDateTime;
    /// let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
    /// let entry = |secs: i64| Entry {
    ///     kind: EntryKind::MfaSession, profile: "default".into(), source_profile: None,
    ///     source_access_key_id: "AKID".into(), mfa_serial: None, role_arn: None, assumed_role_arn: None,
    ///     session: SessionCredentials { credentials: Credentials::long_term("ASIA", "s"),
    ///                                   expiration: now + time::Duration::seconds(secs) } };
    /// assert!(entry(301).is_fresh(now));
    /// assert!(!entry(300).is_fresh(now));
    /// ```
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        (self.session.expiration - now).whole_seconds() > FRESH_MARGIN_SECS
    }

    /// The entry as a JSON object (one line).
    pub fn to_json(&self) -> String {
        let c = &self.session.credentials;
        let expiration = crate::timefmt::rfc3339_utc(self.session.expiration).unwrap_or_default();
        let fields: Vec<(&str, Option<&str>)> = vec![
            ("kind", Some(self.kind.name())),
            ("profile", Some(&self.profile)),
            ("source_profile", self.source_profile.as_deref()),
            ("source_access_key_id", Some(&self.source_access_key_id)),
            ("mfa_serial", self.mfa_serial.as_deref()),
            ("role_arn", self.role_arn.as_deref()),
            ("assumed_role_arn", self.assumed_role_arn.as_deref()),
            ("access_key_id", Some(&c.access_key_id)),
            ("secret_access_key", Some(&c.secret_access_key)),
            ("session_token", c.session_token.as_deref()),
            ("expiration", Some(&expiration)),
        ];
        let mut out = format!("{{\"version\":{FORMAT_VERSION}");
        for (k, v) in fields {
            out.push(',');
            out.push_str(&json::string(k));
            out.push(':');
            match v {
                Some(v) => out.push_str(&json::string(v)),
                None => out.push_str("null"),
            }
        }
        out.push_str("}\n");
        out
    }

    /// Parse [`Entry::to_json`]'s output. The error says what is wrong, never a value.
    pub fn from_json(text: &str) -> std::result::Result<Entry, String> {
        let doc = json::parse(text)?;
        if !matches!(doc, json::Value::Object(_)) {
            return Err("not a JSON object".into());
        }
        match doc.get("version") {
            Some(v) if v.as_i64() == Some(FORMAT_VERSION as i64) => {}
            Some(json::Value::Number(v)) => {
                return Err(format!("format version {v}, not {FORMAT_VERSION}"))
            }
            _ => return Err("no format version".into()),
        }
        let opt = |k: &str| -> std::result::Result<Option<String>, String> {
            match doc.get(k) {
                None | Some(json::Value::Null) => Ok(None),
                Some(json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("\"{k}\" is not a string")),
            }
        };
        let req = |k: &str| -> std::result::Result<String, String> {
            opt(k)?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("\"{k}\" is missing"))
        };
        let kind = match req("kind")?.as_str() {
            "mfa-session" => EntryKind::MfaSession,
            "role" => EntryKind::Role,
            _ => return Err("\"kind\" is neither mfa-session nor role".into()),
        };
        // parse_rfc3339 gives UTC within years 1..=9999, so to_json writes it back
        // (fuzzing found 0000-01-01T00:30:00+01:00, which is year -1 in UTC).
        let expiration = crate::timefmt::parse_rfc3339(&req("expiration")?)
            .ok_or_else(|| "\"expiration\" is not an RFC 3339 time".to_string())?;
        Ok(Entry {
            kind,
            profile: req("profile")?,
            source_profile: opt("source_profile")?,
            source_access_key_id: req("source_access_key_id")?,
            mfa_serial: opt("mfa_serial")?,
            role_arn: opt("role_arn")?,
            assumed_role_arn: opt("assumed_role_arn")?,
            session: SessionCredentials {
                credentials: Credentials {
                    access_key_id: req("access_key_id")?,
                    secret_access_key: req("secret_access_key")?,
                    session_token: opt("session_token")?,
                },
                expiration,
            },
        })
    }
}

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
            Error::Local(format!(
                "cannot lock the session cache ({}): {e} (remove the file, or use --no-cache)",
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
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Lookup::Ignored("a symlink".into())
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entry() -> Entry {
        Entry {
            kind: EntryKind::Role,
            profile: "admin".into(),
            source_profile: Some("me".into()),
            source_access_key_id: "AKIDME".into(),
            mfa_serial: Some("arn:aws:iam::1:mfa/me".into()),
            role_arn: Some("arn:aws:iam::1:role/admin".into()),
            assumed_role_arn: Some("arn:aws:sts::1:assumed-role/admin/s".into()),
            session: SessionCredentials {
                credentials: Credentials {
                    access_key_id: "ASIAX".into(),
                    secret_access_key: "se/cr+et\"\\\u{1}é😀".into(),
                    session_token: Some("tok==".into()),
                },
                expiration: OffsetDateTime::from_unix_timestamp(1_795_597_484).unwrap(),
            },
        }
    }

    #[test]
    fn json_round_trip() {
        let e = entry();
        let text = e.to_json();
        assert!(
            text.contains("\"expiration\":\"2026-11-25T09:04:44Z\""),
            "{text}"
        );
        assert_eq!(Entry::from_json(&text).unwrap(), e);
        let mut e2 = e.clone();
        e2.kind = EntryKind::MfaSession;
        e2.source_profile = None;
        e2.role_arn = None;
        e2.assumed_role_arn = None;
        assert_eq!(Entry::from_json(&e2.to_json()).unwrap(), e2);
        // Other writers' spacing and escapes are read too.
        let spaced = text
            .replace(",\"", ",\n  \"")
            .replace("\"kind\"", "\"k\\u0069nd\"");
        assert_eq!(Entry::from_json(&spaced).unwrap(), e);
    }

    #[test]
    fn corrupt_entries_are_errors_without_secrets() {
        let text = entry().to_json();
        for end in 0..text.len() - 1 {
            if text.is_char_boundary(end) {
                let r = Entry::from_json(&text[..end]);
                assert!(r.is_err(), "prefix {end}");
                assert!(!r.unwrap_err().contains("cr+et"));
            }
        }
        for bad in [
            "",
            "[]",
            "{}",
            "{\"version\":2}",
            "{\"version\":1,\"version\":1}",
            &text.replace("\"role\"", "\"other\""),
            &text.replace("2026-11-25T09:04:44Z", "soon"),
            &text.replace("\"ASIAX\"", "null"),
            &format!("{text}x"),
        ] {
            assert!(Entry::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_differ_by_every_input() {
        let c = Credentials::long_term("AKID", "secret");
        let ep = "https://sts.amazonaws.com/";
        let base = mfa_session_key(&c, Some("s"), None, ep);
        let others = [
            mfa_session_key(
                &Credentials::long_term("AKID2", "secret"),
                Some("s"),
                None,
                ep,
            ),
            mfa_session_key(
                &Credentials::long_term("AKID", "secret2"),
                Some("s"),
                None,
                ep,
            ),
            mfa_session_key(&c, Some("t"), None, ep),
            mfa_session_key(&c, None, None, ep),
            mfa_session_key(&c, Some("s"), Some(3600), ep),
            mfa_session_key(&c, Some("s"), None, "http://127.0.0.1:1/"),
        ];
        for o in &others {
            assert_ne!(&base, o);
        }
        let p = RoleKeyPart {
            role_arn: "arn:a",
            external_id: None,
            duration: None,
            session_name: None,
        };
        let r = |chain: &[RoleKeyPart]| role_session_key(&c, Some("s"), ep, chain);
        let one = r(std::slice::from_ref(&p));
        assert_ne!(one, base);
        for other in [
            r(&[RoleKeyPart {
                external_id: Some("x"),
                ..p.clone()
            }]),
            r(&[RoleKeyPart {
                duration: Some(900),
                ..p.clone()
            }]),
            r(&[RoleKeyPart {
                session_name: Some("n"),
                ..p.clone()
            }]),
            r(&[RoleKeyPart {
                role_arn: "arn:b",
                ..p.clone()
            }]),
            r(&[p.clone(), p.clone()]),
            role_session_key(&c, None, ep, std::slice::from_ref(&p)),
        ] {
            assert_ne!(one, other);
        }
        // Length prefixes: moving a boundary between fields changes the key.
        assert_ne!(
            r(&[RoleKeyPart {
                role_arn: "ab",
                external_id: Some("c"),
                ..p.clone()
            }]),
            r(&[RoleKeyPart {
                role_arn: "a",
                external_id: Some("bc"),
                ..p.clone()
            }])
        );
    }

    #[test]
    fn files_modes_and_untrusted_entries() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("c/aws-session");
        let cache = Cache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let key = "a".repeat(64);
        assert!(matches!(cache.load(&key), Lookup::Missing));
        cache.store(&key, &entry()).unwrap();
        let path = dir.join(format!("{key}.json"));
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert!(matches!(cache.load(&key), Lookup::Found(e) if *e == entry()));

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(cache.load(&key), Lookup::Removed(w) if w.contains("0644")));
        assert!(!path.exists(), "a world-readable entry is removed at once");
        cache.store(&key, &entry()).unwrap();
        assert!(matches!(cache.load(&key), Lookup::Found(_)));

        fs::write(&path, "garbage").unwrap();
        assert!(matches!(cache.load(&key), Lookup::Ignored(w) if w.contains("not a valid")));

        let target = home.path().join("elsewhere.json");
        fs::write(&target, entry().to_json()).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(cache.load(&key), Lookup::Ignored(w) if w.contains("symlink")));
        cache.store(&key, &entry()).unwrap();
        assert!(!fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), entry().to_json());

        let listed = cache.entries().unwrap();
        assert_eq!(listed.len(), 1);
        cache.remove(&key).unwrap();
        cache.remove(&key).unwrap();
        assert!(cache.entries().unwrap().is_empty());

        // An open directory of ours is closed; a symlinked one is refused.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Cache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let link = home.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(Cache::open(&link).is_err());
    }

    #[test]
    fn lock_waits_then_gives_up() {
        let home = tempfile::tempdir().unwrap();
        let cache = Cache::open(home.path()).unwrap();
        let held = cache.lock(Duration::from_secs(1), || {}).unwrap();
        // flock locks belong to the open file: a second open of ours must wait.
        let mut waited = false;
        let e = cache
            .lock(Duration::from_millis(200), || waited = true)
            .unwrap_err();
        assert!(waited && e.to_string().contains("locked"), "{e}");
        drop(held);
        cache.lock(Duration::from_millis(200), || {}).unwrap();
        let mode = fs::metadata(home.path().join(LOCK_FILE)).unwrap().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
