//! Keys kept in a profile: `aws_access_key_id`, `aws_secret_access_key` and
//! `aws_session_token` of the AWS credentials (or config) file; without them, its
//! `credential_process` ([`process`]).

use super::{process, Kind, Origin, SourceCredentials};
use crate::config::Profile;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::session::roles;

/// What this kind of source says about itself (see [`super::Kind`]).
pub const KIND: Kind = Kind {
    settings: &[
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
    ],
    long_term_keys: true,
    child_keeps_keys: false,
    no_rotation: None,
};

/// The keys of profile `name` (`p`); `explicit` when it was named on the command line
/// (the advice then says to leave out `--profile`); `creds_file` names the credentials
/// file read, for the advice.
pub fn profile_keys(
    name: &str,
    p: &Profile,
    explicit: bool,
    creds_file: &str,
) -> Result<SourceCredentials> {
    let has = |k: &str| p.get(k).is_some_and(|v| !v.is_empty());
    if !has("aws_access_key_id") && !has("aws_secret_access_key") {
        if let Some(c) = p.get("credential_process").filter(|c| !c.is_empty()) {
            return if crate::shell::process::is_aws_session(c) {
                Err(Error::Config(roles::calls_itself(name)))
            } else {
                Ok(process::planned(name, c))
            };
        }
    }
    match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => {
            return Ok(SourceCredentials {
                credentials: Credentials {
                    access_key_id: k.to_string(),
                    secret_access_key: s.to_string(),
                    session_token: p
                        .get("aws_session_token")
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                },
                origin: Origin::Profile(name.to_string()),
            })
        }
        (Some(_), _) => {
            return Err(Error::Config(format!(
                "profile \"{name}\" has aws_access_key_id but no aws_secret_access_key: add it to {creds_file}"
            )))
        }
        _ => {}
    }
    if roles::is_indirect(p) {
        return Err(Error::Config(format!(
            "profile \"{name}\" has no keys of its own (it assumes a role or names a source_profile): use it with exec, shell, export or credential-process, or name the profile with the keys"
        )));
    }
    // SSO, web identity: say so rather than "no keys".
    roles::unsupported_features(p)?;
    Err(Error::Config(if explicit {
        format!(
            "profile \"{name}\" has no keys (aws_access_key_id, aws_secret_access_key): add them to {creds_file}, or leave out --profile to use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    } else {
        format!(
            "profile \"{name}\" has no keys (aws_access_key_id, aws_secret_access_key): add them to {creds_file} or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    }))
}
