//! The two file-system rules every file and directory aws-session writes follows, in
//! one place:
//!
//! - [`write_atomic`]: a file is written to a temp file in the same directory, synced
//!   and renamed over the target, so a reader sees the old file or the new one, never
//!   half of one; a symlink at the target is refused or replaced, never written
//!   through.
//! - [`ensure_private_dir`]: a directory we keep files in is ours, not a symlink, and
//!   writable by no one else.
//!
//! And the rule for files we read that others write (the AWS config files):
//! [`read_regular_file`] reads only a regular file, up to a limit, and never blocks.
//!
//! Used by the session cache ([`crate::cache`]), the shell rc files ([`crate::shell`])
//! and the `mfa_serial` edit of `provision-mfa` ([`crate::provision`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// Temp names tried per write before giving up (each is created exclusively; a name
/// already taken, by a concurrent writer or a crashed one, moves on to the next).
const TEMP_ATTEMPTS: u32 = 100;

/// What [`write_atomic`] does when the target path is a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtSymlink {
    /// Fail with `ELOOP` (the errno `O_NOFOLLOW` gives): a file the user keeps
    /// behind a link (a config file) is not silently replaced by a plain file.
    Refuse,
    /// Replace the link itself with the new file (its target is untouched): for files
    /// only we write, in a directory of ours, where a link is at best stale.
    Replace,
}

/// The effective user id: the owner of every file and directory this process makes.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Replace the file at `path` with `bytes`, atomically: a new temp file
/// `.NAME.aws-session-PID-N.tmp` in the same directory (created exclusively, with
/// `O_NOFOLLOW`, never readable by others while it is written), written, given exactly
/// `mode` (whatever the umask), fsynced, renamed over `path`; then the directory is
/// fsynced so the rename lasts. On any failure the temp file is removed and `path` is
/// left as it was. `at_symlink` says what happens when `path` is a symbolic link.
///
/// ```
/// use aws_session::fsutil::{write_atomic, AtSymlink};
/// use std::os::unix::fs::PermissionsExt;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("entry");
/// write_atomic(&path, b"hello", 0o600, AtSymlink::Refuse).unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, at_symlink: AtSymlink) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let (tmp_path, mut tmp) = create_temp(dir, &name)?;
    let written = tmp
        .write_all(bytes)
        .and_then(|_| tmp.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|_| tmp.sync_all())
        .and_then(|_| refuse_symlink(path, at_symlink))
        .and_then(|_| fs::rename(&tmp_path, path));
    drop(tmp);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    // The rename itself lasts once the directory is synced; the new file is in place
    // whether or not this works, so a failure here is not one of the write.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Whether `e`, from an open with `O_NOFOLLOW`, says the path is a symbolic link:
/// `ELOOP` on Linux and macOS, `EMLINK` on FreeBSD and the other BSDs (whose `open`
/// gives EMLINK for nothing else), so a message never reads "Too many links".
///
/// ```
/// use aws_session::fsutil::is_symlink_refusal;
/// use std::io::Error;
/// assert!(is_symlink_refusal(&Error::from_raw_os_error(libc::ELOOP)));
/// assert!(is_symlink_refusal(&Error::from_raw_os_error(libc::EMLINK)));
/// assert!(!is_symlink_refusal(&Error::from_raw_os_error(libc::ENOENT)));
/// ```
pub fn is_symlink_refusal(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(n) if n == libc::ELOOP || n == libc::EMLINK)
}

/// `Err(ELOOP)` when `path` is a symbolic link and links are refused. Checked right
/// before the rename, which would replace the link rather than follow it.
fn refuse_symlink(path: &Path, at_symlink: AtSymlink) -> io::Result<()> {
    if at_symlink == AtSymlink::Refuse
        && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    Ok(())
}

/// A new file in `dir` that did not exist (mode 0600 until the caller sets its own).
fn create_temp(dir: &Path, name: &str) -> io::Result<(std::path::PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for n in 0..TEMP_ATTEMPTS {
        let p = dir.join(format!(".{name}.aws-session-{pid}-{n}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot create a temporary file in {}: {e}", dir.display()),
                ))
            }
        }
    }
    Err(io::Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "cannot create a temporary file in {}: {} (remove stale .{name}.aws-session-* files)",
            dir.display(),
            last.map(|e| e.to_string()).unwrap_or_default()
        ),
    ))
}

/// Why [`ensure_private_dir`] refused a directory; each caller words it with its own
/// advice (set TMPDIR, use --no-cache, ...).
#[derive(Debug)]
pub enum PrivateDirError {
    /// It was missing and could not be made.
    Create(io::Error),
    /// Its metadata could not be read.
    Inspect(io::Error),
    /// A symlink, not a directory, or a directory owned by another user.
    NotOurs,
    /// Group- or world-writable (the permission bits are given): others may have put
    /// files in it.
    WritableByOthers(u32),
    /// Ours, but it could not be made 0700.
    Tighten(io::Error),
}

/// Make sure `path` is a private directory of ours: created with mode 0700 when
/// missing (its parent must exist); refused when it is a symlink, not a directory,
/// owned by another user, or writable by group or others; read/search access of
/// group and others is taken away (mode 0700).
///
/// Ownership is compared with the *effective* uid: that is whom the kernel checks
/// access for and who owns what we create, so a directory this process made is
/// always "ours" (the real uid differs under setuid, and would refuse it).
///
/// A directory others can write to is refused rather than tightened: whatever they
/// put in it before we looked (an rc file, a symlink) would stay there.
///
/// ```
/// use aws_session::fsutil::ensure_private_dir;
/// use std::os::unix::fs::PermissionsExt;
/// let base = tempfile::tempdir().unwrap();
/// let dir = base.path().join("private");
/// ensure_private_dir(&dir).unwrap();
/// assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
/// ```
pub fn ensure_private_dir(path: &Path) -> Result<(), PrivateDirError> {
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(PrivateDirError::Create(e)),
    }
    let meta = fs::symlink_metadata(path).map_err(PrivateDirError::Inspect)?;
    if !meta.is_dir() || meta.uid() != euid() {
        return Err(PrivateDirError::NotOurs);
    }
    if meta.mode() & 0o022 != 0 {
        return Err(PrivateDirError::WritableByOthers(meta.mode() & 0o777));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(PrivateDirError::Tighten)?;
    }
    Ok(())
}

/// Why [`read_regular_file`] did not read a file.
#[derive(Debug)]
pub enum ReadError {
    /// A FIFO, a device, a directory, a socket: what it is ("a FIFO").
    NotRegular(&'static str),
    /// Larger than the limit: its size (at least the limit + 1 when it grew while read).
    TooLarge(u64),
    /// Opening or reading failed.
    Io(io::Error),
}

/// The bytes of the regular file at `path` (a symlink to one is followed), at most
/// `limit` of them; `Ok(None)` when there is no file; nothing for `/dev/null`. It is opened with `O_NONBLOCK`, so
/// a FIFO can never block the open, and checked with `fstat` on the opened file; the
/// read stops after `limit + 1` bytes, so a file that grows while read is caught too.
///
/// ```
/// use aws_session::fsutil::{read_regular_file, ReadError};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("f");
/// std::fs::write(&path, b"12345").unwrap();
/// assert_eq!(read_regular_file(&path, 5).unwrap().unwrap(), b"12345");
/// assert!(matches!(read_regular_file(&path, 4), Err(ReadError::TooLarge(5))));
/// assert!(matches!(read_regular_file(dir.path(), 4), Err(ReadError::NotRegular(_))));
/// assert!(read_regular_file(&dir.path().join("none"), 4).unwrap().is_none());
/// assert!(read_regular_file(std::path::Path::new("/dev/null"), 4).unwrap().unwrap().is_empty());
/// assert!(matches!(read_regular_file(std::path::Path::new("/dev/zero"), 4), Err(ReadError::NotRegular(_))));
/// ```
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, ReadError> {
    Ok(read_regular_file_meta(path, limit)?.map(|(bytes, _)| bytes))
}

/// [`read_regular_file`], with the metadata of the file that was read (taken from the
/// open file, so it describes these bytes even if the path changes meanwhile).
pub fn read_regular_file_meta(
    path: &Path,
    limit: u64,
) -> Result<Option<(Vec<u8>, fs::Metadata)>, ReadError> {
    use std::io::Read;
    let Some((file, meta)) = open_regular_file(path, limit)? else {
        return Ok(None);
    };
    let Some(file) = file else {
        return Ok(Some((Vec::new(), meta)));
    };
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(Some((bytes, meta)))
}

/// The checks of [`read_regular_file`] without the read: `Ok(None)` when there is no
/// file, else its size (0 for `/dev/null`). For a file that is read later, when needed:
/// a wrong path is refused at once, and a run that never needs the file never reads it.
///
/// ```
/// use aws_session::fsutil::{regular_file_len, ReadError};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("f");
/// std::fs::write(&path, b"12345").unwrap();
/// assert_eq!(regular_file_len(&path, 5).unwrap(), Some(5));
/// assert!(matches!(regular_file_len(&path, 4), Err(ReadError::TooLarge(5))));
/// assert!(regular_file_len(&dir.path().join("none"), 4).unwrap().is_none());
/// assert!(matches!(regular_file_len(std::path::Path::new("/dev/zero"), 4), Err(ReadError::NotRegular(_))));
/// ```
pub fn regular_file_len(path: &Path, limit: u64) -> Result<Option<u64>, ReadError> {
    Ok(open_regular_file(path, limit)?
        .map(|(file, meta)| if file.is_some() { meta.len() } else { 0 }))
}

/// Open `path` without blocking and check it: `None` when there is no file, else the
/// opened file (none for `/dev/null`) and its metadata (from `fstat` on the open file).
#[allow(clippy::type_complexity)]
fn open_regular_file(
    path: &Path,
    limit: u64,
) -> Result<Option<(Option<fs::File>, fs::Metadata)>, ReadError> {
    use std::os::unix::fs::FileTypeExt;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Io(e)),
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    let ft = meta.file_type();
    // /dev/null is the usual way to say "no such file" (AWS_CONFIG_FILE=/dev/null).
    if ft.is_char_device() && fs::metadata("/dev/null").is_ok_and(|n| n.rdev() == meta.rdev()) {
        return Ok(Some((None, meta)));
    }
    if !ft.is_file() {
        return Err(ReadError::NotRegular(if ft.is_dir() {
            "a directory"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_char_device() {
            "a character device"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "not a file"
        }));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge(meta.len()));
    }
    Ok(Some((Some(file), meta)))
}

/// How [`lock_regular_file`] got its lock.
#[derive(Debug, PartialEq, Eq)]
pub enum Locked {
    /// At once: nobody held it.
    AtOnce,
    /// After another process let it go.
    AfterWaiting,
}

/// An exclusive flock(2) on the regular file at `path` (opened read-only, never
/// through a symlink, never blocking on a FIFO), waiting up to `wait` for another
/// process to let it go; held until the returned file is closed. `Ok(None)`: there is
/// no regular file there to lock (the caller's read says why). The error says the
/// wait ran out, or why the lock failed.
///
/// ```
/// use aws_session::fsutil::{lock_regular_file, Locked};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("token.json");
/// assert!(lock_regular_file(&path, std::time::Duration::ZERO).unwrap().is_none());
/// std::fs::write(&path, "{}").unwrap();
/// let (_file, how) = lock_regular_file(&path, std::time::Duration::ZERO).unwrap().unwrap();
/// assert_eq!(how, Locked::AtOnce);
/// ```
pub fn lock_regular_file(
    path: &Path,
    wait: std::time::Duration,
) -> io::Result<Option<(File, Locked)>> {
    use std::os::fd::AsRawFd;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(_) => return Ok(None),
    };
    if !file.metadata()?.is_file() {
        return Ok(None);
    }
    let deadline = std::time::Instant::now() + wait;
    let mut how = Locked::AtOnce;
    loop {
        // SAFETY: the descriptor is open; flock has no memory effects.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Some((file, how)));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EWOULDBLOCK) if std::time::Instant::now() < deadline => {
                how = Locked::AfterWaiting;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Some(libc::EWOULDBLOCK) => {
                return Err(io::Error::new(
                    ErrorKind::WouldBlock,
                    format!("another process held its lock for {} s", wait.as_secs()),
                ))
            }
            _ => return Err(e),
        }
    }
}

/// Why a file holding a secret of ours must not be used, as ssh refuses a private key:
/// owned by another user (who could have written it), or readable or writable by
/// group or others (mode shown). `None`: it is private.
///
/// ```
/// use aws_session::fsutil::secret_file_problem;
/// use std::os::unix::fs::PermissionsExt;
/// let dir = tempfile::tempdir().unwrap();
/// let f = dir.path().join("t");
/// std::fs::write(&f, "x").unwrap();
/// std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
/// let m = std::fs::metadata(&f).unwrap();
/// assert!(secret_file_problem(&m).unwrap().contains("mode 0644"));
/// std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
/// assert!(secret_file_problem(&std::fs::metadata(&f).unwrap()).is_none());
/// ```
pub fn secret_file_problem(meta: &fs::Metadata) -> Option<String> {
    if meta.uid() != euid() {
        return Some(format!(
            "it is owned by uid {}, not by you (uid {})",
            meta.uid(),
            euid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    (mode & 0o077 != 0).then(|| format!("its mode {mode:04o} lets other users read or change it"))
}

/// Why a directory must not hold a secret of ours: another user's (who can replace
/// what is in it), or writable by group or others (anyone could plant a file there).
/// `None`: it is ours and only ours to write. A symlink to a directory is followed.
pub fn shared_dir_problem(dir: &Path) -> Option<String> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("it cannot be inspected ({e})")),
    };
    if meta.uid() != euid() {
        return Some(format!(
            "it is owned by uid {}, not by you (uid {})",
            meta.uid(),
            euid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    (mode & 0o022 != 0).then(|| format!("its mode {mode:04o} lets other users put files in it"))
}

/// Whether this process may create and rename files in `dir` (`access(W_OK|X_OK)`,
/// which checks the effective ids and read-only mounts).
pub fn can_write_dir(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid C string; access has no other preconditions.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// An exclusive `flock` on the directory `dir`, waiting up to `wait` for whoever
/// holds it (`waiting` is called once if it is not free at once). Held until the
/// returned file is dropped. A directory is locked rather than a file in it: a file
/// replaced by rename would leave two processes holding locks on different inodes.
pub fn lock_dir(dir: &Path, wait: Duration, waiting: impl FnOnce()) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)?;
    let deadline = Instant::now() + wait;
    let mut waiting = Some(waiting);
    loop {
        // SAFETY: the descriptor is open; flock has no memory effects.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(file);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if Instant::now() < deadline => {
                if let Some(f) = waiting.take() {
                    f();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(libc::EWOULDBLOCK) => {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("another process held the lock for {} s", wait.as_secs()),
                ))
            }
            _ => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn temps(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_replace_with_the_exact_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one", 0o600, AtSymlink::Refuse).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), 0o600);
        write_atomic(&path, b"two", 0o640, AtSymlink::Refuse).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), 0o640);
        assert!(temps(dir.path()).is_empty());
    }

    /// What this system's open(O_NOFOLLOW) answers for a link (ELOOP here, EMLINK on
    /// the BSDs) is read as a link; the errnos of other failures are not.
    #[test]
    fn nofollow_answers_are_read_as_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        symlink(dir.path().join("target"), &link).unwrap();
        fs::write(dir.path().join("target"), "x").unwrap();
        let e = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&link)
            .unwrap_err();
        assert!(is_symlink_refusal(&e), "{e}");
        for errno in [libc::ELOOP, libc::EMLINK] {
            assert!(is_symlink_refusal(&io::Error::from_raw_os_error(errno)));
        }
        for errno in [libc::ENOENT, libc::EACCES, libc::ENOTDIR, libc::EISDIR] {
            assert!(!is_symlink_refusal(&io::Error::from_raw_os_error(errno)));
        }
        assert!(!is_symlink_refusal(&io::Error::other("no errno")));
    }

    #[test]
    fn symlinks_are_refused_or_replaced_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "theirs").unwrap();
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();

        let e = write_atomic(&link, b"ours", 0o600, AtSymlink::Refuse).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        assert!(is_symlink_refusal(&e));
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(temps(dir.path()).is_empty());

        write_atomic(&link, b"ours", 0o600, AtSymlink::Replace).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(fs::read(&link).unwrap(), b"ours");
        assert_eq!(fs::read(&target).unwrap(), b"theirs");
    }

    #[test]
    fn taken_temp_names_are_skipped_and_failures_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let taken = dir
            .path()
            .join(format!(".f.aws-session-{}-0.tmp", std::process::id()));
        fs::write(&taken, "stale").unwrap();
        write_atomic(&path, b"new", 0o600, AtSymlink::Refuse).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read(&taken).unwrap(), b"stale");
        fs::remove_file(&taken).unwrap();

        // The rename fails (a directory is in the way): the temp file goes.
        let blocked = dir.path().join("d");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("x"), "").unwrap();
        assert!(write_atomic(&blocked, b"x", 0o600, AtSymlink::Refuse).is_err());
        assert!(temps(dir.path()).is_empty());
    }

    #[test]
    fn private_dirs() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("p");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // Read access of others is taken away; the directory is reused.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // Writable by others: refused, left as it is.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o770)).unwrap();
        assert!(matches!(
            ensure_private_dir(&dir),
            Err(PrivateDirError::WritableByOthers(0o770))
        ));
        assert_eq!(mode(&dir), 0o770);
        // A symlink to a directory of ours, or a file: not ours.
        let link = base.path().join("link");
        symlink(&dir, &link).unwrap();
        assert!(matches!(
            ensure_private_dir(&link),
            Err(PrivateDirError::NotOurs)
        ));
        let file = base.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(matches!(
            ensure_private_dir(&file),
            Err(PrivateDirError::NotOurs)
        ));
        // The parent must exist.
        assert!(matches!(
            ensure_private_dir(&base.path().join("a/b")),
            Err(PrivateDirError::Create(_))
        ));
    }
}
