//! Reading the AWS config and credentials files from disk (bounded, regular files
//! only) and writing them back atomically: the one reader and the one writer of them.

use super::{file_paths, merge, parse, FileKind, ParsedFile, ProfileSet};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::fsutil::{self, AtSymlink};
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Under --debug, every warning of the AWS files' reader (sections and properties it
/// ignored, with file and line) as an `aws-session: note:` line.
pub fn note_warnings(profiles: &ProfileSet) {
    if crate::msg::debug_on() {
        for w in profiles.warnings() {
            crate::msg::note(w);
        }
    }
}

/// The largest AWS config or credentials file read (16 MiB): far more than any real
/// one, and a bound on what a wrong path (a device, a log file) can cost.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Read and parse the config and credentials files (a missing file is no error). Only
/// a regular file of at most [`MAX_CONFIG_BYTES`] is read.
pub fn load_profiles(env: &Env) -> Result<ProfileSet> {
    use crate::fsutil::{read_regular_file, ReadError};
    let home = env.get("HOME");
    let paths = file_paths(|k| env.get(k).map(str::to_string), home);
    let read = |path: &Option<std::path::PathBuf>, kind: FileKind| -> Result<Option<ParsedFile>> {
        let Some(path) = path else { return Ok(None) };
        let (var, what) = match kind {
            FileKind::Config => ("AWS_CONFIG_FILE", "config"),
            FileKind::Credentials => ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        };
        let fail = |why: String| {
            Error::Config(format!(
                "cannot read {}: {why} (point {var} at your AWS {what} file)",
                path.display()
            ))
        };
        match read_regular_file(path, MAX_CONFIG_BYTES) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                Ok(Some(parse(&text, kind, &path.to_string_lossy())?))
            }
            Ok(None) => Ok(None),
            Err(ReadError::NotRegular(found)) => Err(fail(format!("not a regular file ({found})"))),
            Err(ReadError::TooLarge(n)) => Err(fail(format!(
                "{n} bytes, more than the 16 MiB an AWS {what} file may have"
            ))),
            Err(ReadError::Io(e)) => Err(Error::Config(format!(
                "cannot read {}: {e} (fix its permissions or point {var} elsewhere)",
                path.display()
            ))),
        }
    };
    let config = read(&paths.config, FileKind::Config)?;
    let credentials = read(&paths.credentials, FileKind::Credentials)?;
    Ok(merge(config, credentials))
}

/// Replace the file at `path` with `edit(its text)`: a temp file in the same
/// directory, synced, renamed over it; the mode of the old file kept (0600 for a new
/// one). A symbolic link at `path` is refused, never followed. `var` is the variable
/// that names the file (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), for the advice.
pub fn write_atomically(
    path: &Path,
    var: &str,
    edit: impl FnOnce(&str) -> Result<String>,
) -> Result<()> {
    let shown = path.display();
    let local = |what: &str, e: std::io::Error| Error::Local(format!("cannot {what} {shown}: {e}"));
    let (text, mode) = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(mut file) => {
            let meta = file.metadata().map_err(|e| local("inspect", e))?;
            if !meta.is_file() {
                return Err(Error::Local(format!(
                    "{shown} is not a regular file: point {var} at a file"
                )));
            }
            // Bounded as load_profiles bounds it: a file that grew past the limit since
            // it was read is not loaded whole.
            let mut bytes = Vec::new();
            (&mut file)
                .take(MAX_CONFIG_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| local("read", e))?;
            if bytes.len() as u64 > MAX_CONFIG_BYTES {
                return Err(Error::Local(format!(
                    "{shown} is larger than 16 MiB: not editing it"
                )));
            }
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::Local(format!(
                    "{shown} is not UTF-8 text: not editing it (convert it to UTF-8 first)"
                ))
            })?;
            (text, meta.permissions().mode() & 0o7777)
        }
        Err(e) if fsutil::is_symlink_refusal(&e) => {
            return Err(Error::Local(format!(
                "{shown} is a symbolic link: aws-session does not write through links \
                 (point {var} at the real file to let it write)"
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => (String::new(), 0o600),
        Err(e) => return Err(local("read", e)),
    };
    let new_text = edit(&text)?;

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::Local(format!("cannot create {}: {e}", dir.display())))?;
    }
    // A link put there since we read is refused too (checked again before the rename).
    fsutil::write_atomic(path, new_text.as_bytes(), mode, AtSymlink::Refuse).map_err(|e| {
        if fsutil::is_symlink_refusal(&e) {
            Error::Local(format!(
                "{shown} is a symbolic link: aws-session does not write through links \
                 (point {var} at the real file to let it write)"
            ))
        } else {
            local("write", e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomically_keeps_mode_and_refuses_links() {
        let dir = std::env::temp_dir().join(format!("aws-session-prov-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        fs::write(&path, "# mine\n[default]\nregion = x\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, "AWS_CONFIG_FILE", |t| Ok(format!("{t}# more\n"))).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# mine\n[default]\nregion = x\n# more\n"
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );

        let new = dir.join("sub/new-config");
        write_atomically(&new, "AWS_CONFIG_FILE", |t| Ok(format!("{t}[default]\n"))).unwrap();
        assert_eq!(
            fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let link = dir.join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = write_atomically(&link, "AWS_CONFIG_FILE", |t| Ok(t.to_string())).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(e.exit_code(), 6);
        // No temp file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
