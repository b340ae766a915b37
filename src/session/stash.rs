//! The parent stash: the long-term keys a session was made from, when they came from
//! the environment, kept where a refresh inside the session can find them but no
//! child's environment holds them: a 0600 file in the private runtime directory
//! (`shell::private_dir`: `$XDG_RUNTIME_DIR/aws-session`, else
//! `${TMPDIR:-/tmp}/aws-session-UID`), named `parent-PID-RANDOM.json`, where PID is
//! the process the session's child runs as (`exec` and `shell` replace aws-session,
//! so it is ours). The child gets only its path, in AWS_SESSION_PARENT_STASH.
//!
//! The shells' integration removes the stash of their own PID when they exit;
//! `--server` removes its own when the child ends; and every write removes the stashes
//! whose process has ended (after [`STALE_AFTER`], so a stash is never taken from
//! under a refresh that was just started).

use crate::aws::dpop::random_bytes;
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::fsutil::{read_regular_file_meta, secret_file_problem};
use crate::json::{self, Value};
use crate::shell::{self, EnvChanges};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The variable that names the stash of the session (its path; not a secret).
pub const VAR: &str = "AWS_SESSION_PARENT_STASH";

/// How long a stash of a process that has ended is kept.
pub const STALE_AFTER: Duration = Duration::from_secs(600);

/// The largest stash read: three short values.
const MAX_BYTES: u64 = 16 * 1024;

/// The private directory of this environment.
fn dir(env: &Env) -> Result<PathBuf> {
    shell::private_dir(env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR"))
}

/// Write `keys` to a new stash for the process `pid` and return its path; stashes of
/// ended processes are removed first.
pub fn write(env: &Env, keys: &Credentials, pid: u32) -> Result<PathBuf> {
    let dir = dir(env)?;
    remove_stale(&dir);
    let random = random_bytes::<8>()
        .ok_or_else(|| Error::Local("the system gave no random bytes for the stash".into()))?;
    let path = dir.join(format!("parent-{pid}-{}.json", hex::encode(random)));
    let mut members = vec![
        ("AccessKeyId", keys.access_key_id.as_str()),
        ("SecretAccessKey", keys.secret_access_key.as_str()),
    ];
    if let Some(t) = &keys.session_token {
        members.push(("SessionToken", t.as_str()));
    }
    shell::write_private(&path, &Value::object_of_strings(&members).to_json())
}

/// The process id in a stash's file name, when the name is one of ours.
fn pid_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("parent-")?.strip_suffix(".json")?;
    let (pid, random) = rest.split_once('-')?;
    (random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Remove the stashes in `dir` whose process has ended more than [`STALE_AFTER`]
/// after they were written.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = pid_of(&name.to_string_lossy()) else {
            continue;
        };
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        let ended = i32::try_from(pid).is_ok_and(|p| {
            // SAFETY: kill with signal 0 only checks that the process exists.
            let rc = unsafe { libc::kill(p, 0) };
            rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        });
        if old && ended {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The keys of the stash AWS_SESSION_PARENT_STASH names: `None` when it is unset;
/// an error when it is not a stash of ours (outside the private directory, another
/// user's, readable by others) or cannot be read.
pub fn read(env: &Env) -> Option<Result<Credentials>> {
    let named = env.get(VAR).filter(|v| !v.is_empty())?;
    Some(read_path(env, Path::new(named)))
}

fn read_path(env: &Env, path: &Path) -> Result<Credentials> {
    let shown = path.display();
    let refuse = |why: String| {
        Error::Local(format!(
            "the parent keys of this session ({VAR}={shown}) cannot be used: {why}; leave the session and start a new one (or unset {VAR})"
        ))
    };
    let ours = path
        .file_name()
        .and_then(|n| pid_of(&n.to_string_lossy()))
        .is_some()
        && path.parent() == Some(dir(env)?.as_path());
    if !ours {
        return Err(refuse(
            "it is not a stash in aws-session's private directory".into(),
        ));
    }
    let (bytes, meta) = match read_regular_file_meta(path, MAX_BYTES) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(refuse(
                "it is gone (the session that made it has ended)".into(),
            ))
        }
        Err(_) => return Err(refuse("it cannot be read".into())),
    };
    if let Some(why) = secret_file_problem(&meta) {
        return Err(refuse(why));
    }
    let doc = json::parse(&String::from_utf8_lossy(&bytes))
        .map_err(|_| refuse("it is not a stash".into()))?;
    let field = |k: &str| doc.str(k).filter(|v| !v.is_empty()).map(str::to_string);
    match (field("AccessKeyId"), field("SecretAccessKey")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: field("SessionToken"),
        }),
        _ => Err(refuse("it holds no keys".into())),
    }
}

/// Remove the stash at `path` (the `--server` child has ended).
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The stash a child's environment `changes` names, if any (to remove it when the
/// child could not start, or has ended under `--server`).
pub fn named_in(changes: &EnvChanges) -> Option<PathBuf> {
    changes
        .iter()
        .find(|(k, _)| *k == VAR)
        .and_then(|(_, v)| v.as_ref())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_ours_only_with_a_pid_and_16_hex_digits() {
        assert_eq!(pid_of("parent-42-0123456789abcdef.json"), Some(42));
        assert_eq!(pid_of("parent-42-0123.json"), None);
        assert_eq!(pid_of("parent-x-0123456789abcdef.json"), None);
        assert_eq!(pid_of("rc-42-0123456789abcdef.json"), None);
    }

    #[test]
    fn a_stash_reads_back_and_others_are_refused() {
        let base = tempfile::tempdir().unwrap();
        let tmp = base.path().to_str().unwrap();
        let env = Env::from_pairs([("TMPDIR", tmp)]);
        let keys = Credentials::long_term("AKIDSTASH", "secret/stash");
        let path = write(&env, &keys, std::process::id()).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let named = path.to_str().unwrap();
        let got = read(&Env::from_pairs([("TMPDIR", tmp), (VAR, named)]))
            .unwrap()
            .unwrap();
        assert_eq!(got.access_key_id, "AKIDSTASH");
        assert_eq!(got.secret_access_key, "secret/stash");
        // A file elsewhere, even with the right name, is not ours to read.
        let elsewhere = base.path().join(path.file_name().unwrap());
        std::fs::copy(&path, &elsewhere).unwrap();
        let env2 = Env::from_pairs([("TMPDIR", tmp), (VAR, elsewhere.to_str().unwrap())]);
        assert!(read(&env2).unwrap().is_err());
        remove(&path);
        assert!(read(&Env::from_pairs([("TMPDIR", tmp), (VAR, named)]))
            .unwrap()
            .is_err());
        assert!(read(&Env::from_pairs([("TMPDIR", tmp)])).is_none());
    }
}
