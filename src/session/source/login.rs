//! Credentials of a profile with `login_session` (signed in with `aws-session login` or
//! `aws login`): the token in the AWS CLI v2's cache, refreshed with its refresh token
//! and DPoP key when 5 minutes or less are left, and written back in place (members
//! this code does not know are kept), atomically and 0600. A refresh is single-flight
//! whatever the session cache setting: the refresh token changes with each refresh, so
//! a run refreshes only under a lock on the token file ([`lock_regular_file`]) and,
//! once it has the lock, reads the token again: a run that waited uses what the other
//! one wrote.

use super::Kind;
use crate::aws::client::Client;
use crate::aws::dpop::DpopKey;
use crate::aws::signin::{cache_file_name, refresh_body, LoginToken, REFRESH_MARGIN_SECS};
use crate::credentials::SessionCredentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::fsutil::{
    euid, lock_regular_file, read_regular_file_meta, secret_file_problem, shared_dir_problem,
    write_atomic, AtSymlink, Locked, ReadError,
};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// What this kind of source says about itself (see [`super::Kind`]).
pub const KIND: Kind = Kind {
    settings: &["login_session"],
    // A sign-in's credentials are temporary: their key id names no long-term keys.
    long_term_keys: false,
    child_keeps_keys: false,
    no_rotation: Some(
        "profile \"{profile}\" signs in with aws-session login and has no access key to rotate",
    ),
};

/// The largest sign-in token file read (1 MiB): a real one is a few KiB, and the
/// directory is one AWS_LOGIN_CACHE_DIRECTORY may name.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// How long a run waits for another one refreshing the same sign-in token: longer
/// than a refresh can take (its requests end within the run's network deadline).
const TOKEN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(90);

/// The token cache directory: AWS_LOGIN_CACHE_DIRECTORY (a leading `~/` is the home
/// directory), else `~/.aws/login/cache`.
pub fn cache_dir(env: &Env) -> Option<PathBuf> {
    let home = env.get("HOME").filter(|h| h.starts_with('/'));
    match env
        .get("AWS_LOGIN_CACHE_DIRECTORY")
        .filter(|d| !d.is_empty())
    {
        Some(d) => match d.strip_prefix("~/") {
            Some(rest) => home.map(|h| Path::new(h).join(rest)),
            None => Some(PathBuf::from(d)),
        },
        None => home.map(|h| Path::new(h).join(".aws/login/cache")),
    }
}

/// The cache file of `login_session`.
pub fn cache_path(env: &Env, login_session: &str) -> Result<PathBuf> {
    cache_dir(env)
        .map(|d| d.join(cache_file_name(login_session)))
        .ok_or_else(|| {
            Error::Config(
                "no login token cache: HOME is not set; set HOME or AWS_LOGIN_CACHE_DIRECTORY"
                    .into(),
            )
        })
}

/// Refuse a sign-in token (`meta`: the file read at `path`) that others could have
/// written or read, as ssh refuses such a key: another user's file, a mode that lets
/// group or others in, or a directory others can write to (a token planted in a
/// shared AWS_LOGIN_CACHE_DIRECTORY would sign this user in as someone else).
fn check_private(path: &Path, meta: &std::fs::Metadata, login_again: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let shown = path.display();
    if let Some(why) = secret_file_problem(meta) {
        let fix = if meta.uid() == euid() {
            format!("chmod 600 {shown} (and, if others may have read it, aws-session logout and login again)")
        } else {
            format!("remove it and {login_again}")
        };
        return Err(Error::Local(format!(
            "the sign-in token {shown} is not used: {why}; {fix}"
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Some(why) = shared_dir_problem(dir) {
        return Err(Error::Local(format!(
            "the sign-in token {shown} is not used: its directory {}: {why}; keep sign-in tokens in a directory only you can write (chmod go-w it, or set AWS_LOGIN_CACHE_DIRECTORY to one), then {login_again}",
            dir.display()
        )));
    }
    Ok(())
}

/// The credentials of a sign-in, and when the sign-in itself ends (estimated).
pub struct LoginCredentials {
    pub session: SessionCredentials,
    pub horizon: Option<OffsetDateTime>,
}

/// Read the token of `login_session` (of profile `profile`); refresh it when 5 minutes
/// or less are left, or always when `force`.
pub fn credentials(
    client: &Client,
    env: &Env,
    profile: &str,
    login_session: &str,
    force: bool,
) -> Result<LoginCredentials> {
    let path = cache_path(env, login_session)?;
    // Held until the token is read, refreshed and written back (the end of this call).
    let lock = lock_regular_file(&path, TOKEN_LOCK_WAIT).map_err(|e| {
        Error::Local(format!(
            "cannot lock the sign-in token {} for its refresh: {e}; try again, or run aws-session --profile {profile} login",
            path.display()
        ))
    })?;
    // Another run held the token: it has just refreshed it (or found it fresh).
    let force = force && !matches!(lock, Some((_, Locked::AfterWaiting)));
    let shown = path.display();
    let login_again = format!("run aws-session --profile {profile} login");
    let unreadable = |why: String| {
        Error::Local(format!(
            "cannot read the sign-in token {shown}: {why}; fix it or {login_again}"
        ))
    };
    let text = match read_regular_file_meta(&path, MAX_TOKEN_BYTES) {
        Ok(Some((bytes, meta))) => {
            check_private(&path, &meta, &login_again)?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Ok(None) => {
            return Err(Error::Config(format!(
                "profile \"{profile}\" signs in as {login_session}, but there is no sign-in token {shown}: {login_again}"
            )))
        }
        Err(ReadError::NotRegular(found)) => {
            return Err(unreadable(format!("not a regular file ({found})")))
        }
        Err(ReadError::TooLarge(n)) => {
            return Err(unreadable(format!(
                "{n} bytes, more than the 1 MiB a sign-in token may have"
            )))
        }
        Err(ReadError::Io(e)) => {
            return Err(Error::Local(format!(
                "cannot read the sign-in token {shown}: {e}; fix its permissions or {login_again}"
            )))
        }
    };
    let bad = |why: &str| {
        Error::Local(format!(
            "the sign-in token {shown} cannot be used: {why}; {login_again}"
        ))
    };
    let mut token = LoginToken::parse(&text).map_err(|why| bad(&why))?;
    let now = OffsetDateTime::now_utc();
    let session = token.session().ok_or_else(|| bad("no expiry"))?;
    let left = (session.expiration - now).whole_seconds();
    if !force && left > REFRESH_MARGIN_SECS {
        crate::msg::debug(format_args!("login: {shown}: {left} s left, no refresh"));
        return Ok(LoginCredentials {
            session,
            horizon: token.horizon(),
        });
    }
    let key = DpopKey::from_pem(token.dpop_pem())
        .ok_or_else(|| bad("its dpopKey is not a P-256 key in SEC1 or PKCS#8 PEM"))?;
    crate::msg::debug(format_args!("login: {shown}: {left} s left, refreshing"));
    let out = client
        .signin_token(
            &refresh_body(token.client_id(), token.refresh_token()),
            &key,
        )
        .map_err(|e| match e {
            Error::Aws(_) => e.with_note(format!("the sign-in token is unchanged; {login_again}")),
            other => other,
        })?;
    token.refreshed(&out, OffsetDateTime::now_utc());
    write_atomic(&path, token.to_json().as_bytes(), 0o600, AtSymlink::Replace).map_err(|e| {
        Error::Local(format!(
            "cannot write the refreshed sign-in token {shown}: {e}; fix the directory's permissions or {login_again}"
        ))
    })?;
    let session = token.session().ok_or_else(|| bad("no expiry"))?;
    Ok(LoginCredentials {
        session,
        horizon: token.horizon(),
    })
}
