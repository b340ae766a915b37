//! Keys from the environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the caller,
//! or the keys an enclosing aws-session stashed (AWS_SESSION_PARENT_STASH, see
//! [`crate::session::stash`]).

use super::{Kind, Origin, SourceCredentials};
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, Result};

/// What this kind of source says about itself (see [`super::Kind`]).
pub const KIND: Kind = Kind {
    settings: &[],
    long_term_keys: true,
    // The environment cannot be read again by a refresh inside the child: it gets the
    // keys themselves (AWS_SESSION_PARENT_*).
    child_keeps_keys: true,
    no_rotation: Some("the keys come from the environment (AWS_ACCESS_KEY_ID), where aws-session cannot write: name a profile whose keys are in ~/.aws/credentials with --profile"),
};

/// Whether the environment's AWS_ACCESS_KEY_ID is a session an aws-session made
/// (so it must not be used to make another one).
fn env_holds_our_session(env: &Env) -> bool {
    env.get("AWS_SESSION_TOKEN").is_some()
        && (env.get("AWS_SESSION_EXPIRATION").is_some()
            || env.get("AWS_SESSION_MFADEVICE").is_some())
}

/// Keys from the environment: the stashed parent of an enclosing session first (so that
/// a refresh inside a session uses the keys the session was made from), then
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY unless they are a session of ours.
///
/// ```
/// use aws_session::env::Env;
/// use aws_session::session::{env_source, Origin};
/// let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
/// assert_eq!(env_source(&env).unwrap().origin, Origin::Environment);
/// assert!(env_source(&Env::default()).is_none());
/// ```
pub fn env_source(env: &Env) -> Option<SourceCredentials> {
    parent_stash(env).or_else(|| environment_keys(env))
}

/// The stash of an enclosing session: the keys it was made from. A stash that cannot
/// be used is `None` here; [`refuse_partial_keys`] says why.
pub(super) fn parent_stash(env: &Env) -> Option<SourceCredentials> {
    let credentials = crate::session::stash::read(env)?.ok()?;
    Some(SourceCredentials {
        credentials,
        origin: Origin::ParentStash,
    })
}

/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, unless they are a session of ours.
fn environment_keys(env: &Env) -> Option<SourceCredentials> {
    if env_holds_our_session(env) {
        return None;
    }
    let (k, s) = (
        env.get("AWS_ACCESS_KEY_ID")?,
        env.get("AWS_SECRET_ACCESS_KEY")?,
    );
    Some(SourceCredentials {
        credentials: Credentials {
            access_key_id: k.to_string(),
            secret_access_key: s.to_string(),
            session_token: env
                .get("AWS_SESSION_TOKEN")
                .or_else(|| env.get("AWS_SECURITY_TOKEN"))
                .map(str::to_string),
        },
        origin: Origin::Environment,
    })
}

/// Refuse a stash of an enclosing session that cannot be used (gone, not ours), and
/// half a key pair in the environment (AWS_ACCESS_KEY_ID without
/// AWS_SECRET_ACCESS_KEY, or the other way round), as the AWS CLI does: quietly
/// falling back to a profile's keys would make a session for another identity. Only
/// called where the environment's keys would be used (not with `--profile`); the
/// secret is never shown.
///
/// ```
/// use aws_session::env::Env;
/// use aws_session::session::source::environment::refuse_partial_keys;
/// assert!(refuse_partial_keys(&Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKID")])).is_err());
/// assert!(refuse_partial_keys(&Env::from_pairs([("AWS_SECRET_ACCESS_KEY", "s")])).is_err());
/// assert!(refuse_partial_keys(&Env::default()).is_ok());
/// ```
pub fn refuse_partial_keys(env: &Env) -> Result<()> {
    match crate::session::stash::read(env) {
        Some(Ok(_)) => return Ok(()),
        Some(Err(e)) => return Err(e),
        None => {}
    }
    let (set, unset) = match (
        env.get("AWS_ACCESS_KEY_ID").is_some(),
        env.get("AWS_SECRET_ACCESS_KEY").is_some(),
    ) {
        (true, false) => ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        (false, true) => ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
        _ => return Ok(()),
    };
    Err(Error::Config(format!(
        "Partial credentials found in env: {set} is set but {unset} is not (set both, or unset {set} to use the profile's keys)"
    )))
}
