//! `credential-process`: the AWS SDKs' external process protocol.

use super::{load_profiles, note_warnings, Context, Options, Spec};
use crate::config::Profile;
use crate::env::{Env, Source};
use crate::error::Result;
use crate::json::string as json_string;
use crate::session::roles;
use crate::session::Established;
use crate::timefmt::iso8601_utc;

pub const SPEC: Spec = Spec {
    name: "credential-process",
    about: "print credential_process JSON for the AWS SDKs",
    help: concat!(
        "Usage: aws-session [--profile P] credential-process\n",
        "\n",
        "Prints the credential_process JSON (Version 1) for the AWS SDKs and CLI:\n",
        "  credential_process = aws-session credential-process --profile P\n",
        "Asks for a code on the terminal when no cached session is left.\n",
    ),
    options: &[],
    operands: "",
    makes_session: true,
};

/// `credential-process`: the credential_process JSON for the AWS SDKs and CLI
/// (`credential_process = aws-session credential-process --profile P`). A code, when
/// one is needed, is asked on /dev/tty (the SDK owns stdin, stdout and stderr).
///
/// A profile chosen by AWS_PROFILE (not `--profile`) whose only credentials are a
/// `credential_process` naming aws-session is the profile the SDK runs this for (it
/// passes its environment on): the line `credential_process = aws-session
/// credential-process` then means the default credentials, as it does when the SDK's
/// profile was chosen another way.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    note_warnings(&profiles);
    let choice = opts
        .profile
        .as_ref()
        .map(|(p, s)| (p.as_str(), *s))
        .filter(|&(name, source)| {
            source != Source::Environment
                || !profiles.get(name).is_some_and(runs_a_credential_process)
        });
    let ctx = Context::with_profiles(opts, env, profiles, choice)?;
    let est = ctx.establish_for_sdk()?;
    crate::out::print(&credential_process_json(&est))
}

/// Whether `p` gets its credentials only from a `credential_process` that is
/// aws-session: no keys, no role, no source_profile.
fn runs_a_credential_process(p: &Profile) -> bool {
    p.get("credential_process")
        .is_some_and(crate::shell::process::is_aws_session)
        && p.get("aws_access_key_id").is_none_or(str::is_empty)
        && !roles::is_indirect(p)
}

/// The credential_process document: Version 1 with the keys, the token and the
/// expiry (ISO 8601 UTC), one line.
///
/// ```
/// use aws_session::credentials::{Credentials, SessionCredentials};
/// use aws_session::session::Established;
/// let est = Established {
///     session: SessionCredentials {
///         credentials: Credentials { access_key_id: "ASIA1".into(), secret_access_key: "s".into(),
///                                    session_token: Some("t".into()) },
///         expiration: time::OffsetDateTime::from_unix_timestamp(1_795_597_484).unwrap(),
///     },
///     mfa_serial: None, role: None, from_cache: false, login_until: None,
/// };
/// assert_eq!(
///     aws_session::cmd::credential_process::credential_process_json(&est),
///     "{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2026-11-25T09:04:44Z\"}\n"
/// );
/// ```
pub fn credential_process_json(est: &Established) -> String {
    let c = &est.session.credentials;
    let mut out = format!(
        "{{\"Version\":1,\"AccessKeyId\":{},\"SecretAccessKey\":{}",
        json_string(&c.access_key_id),
        json_string(&c.secret_access_key)
    );
    if let Some(t) = &c.session_token {
        out.push_str(&format!(",\"SessionToken\":{}", json_string(t)));
    }
    out.push_str(&format!(
        ",\"Expiration\":{}}}\n",
        json_string(&iso8601_utc(est.session.expiration))
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn credential_process_json_escapes_and_omits_missing_token() {
        let est = Established {
            session: crate::credentials::SessionCredentials {
                credentials: crate::credentials::Credentials {
                    access_key_id: "AKID".into(),
                    secret_access_key: "a\"b".into(),
                    session_token: None,
                },
                expiration: OffsetDateTime::from_unix_timestamp(0).unwrap(),
            },
            mfa_serial: None,
            role: None,
            from_cache: false,
            login_until: None,
        };
        assert_eq!(
            credential_process_json(&est),
            "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"a\\\"b\",\"Expiration\":\"1970-01-01T00:00:00Z\"}\n"
        );
    }
}
