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

mod entry;
mod key;
pub mod sso_token;
mod store;

pub use entry::{Entry, EntryKind};
pub use key::{mfa_session_key, role_session_key, sso_role_key, RoleKeyPart};
pub use store::{is_key, Cache, CacheLock, Lookup};

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
