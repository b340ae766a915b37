//! The output formats of credentials, in one place: `export NAME='value'` lines (bash,
//! zsh, sh), fish's `set -gx`, a JSON object, and the credential_process document.

use crate::error::{Error, Result};
use crate::json::string as json_string;
use crate::session::{EnvChanges, Established};
use crate::timefmt::iso8601_utc;

/// How `refresh` / `export` print credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// `export NAME='value'` (bash, zsh, sh).
    #[default]
    Env,
    /// `set -gx NAME 'value'` (fish).
    Fish,
    /// A JSON object (export only).
    Json,
    /// The credential_process JSON (export only).
    CredentialProcess,
}

/// The value of `--format`.
pub fn parse_format(v: &str) -> Result<OutputFormat> {
    Ok(match v {
        "env" | "sh" | "bash" | "zsh" => OutputFormat::Env,
        "fish" => OutputFormat::Fish,
        "json" => OutputFormat::Json,
        "credential-process" => OutputFormat::CredentialProcess,
        other => {
            return Err(Error::Usage(format!(
                "--format \"{}\" is not known: use env, fish, json or credential-process",
                other.chars().take(20).collect::<String>()
            )))
        }
    })
}

/// `changes` (of session `est`) in `format`: the one place the output formats meet.
pub fn render(format: OutputFormat, changes: &EnvChanges, est: &Established) -> String {
    use crate::shell::quote;
    match format {
        OutputFormat::Env => quote::export_lines(changes),
        OutputFormat::Fish => quote::fish_lines(changes),
        OutputFormat::Json => json_lines(changes),
        OutputFormat::CredentialProcess => credential_process_json(est),
    }
}

/// The variables that are set, as one JSON object (unset ones are left out).
///
/// ```
/// let ch = vec![("A", Some("1".to_string())), ("B", None)];
/// assert_eq!(aws_session::cmd::format::json_lines(&ch), "{\n  \"A\": \"1\"\n}\n");
/// ```
pub fn json_lines(changes: &EnvChanges) -> String {
    let body: Vec<String> = changes
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("  {}: {}", json_string(k), json_string(v)))
        })
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
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
///     aws_session::cmd::format::credential_process_json(&est),
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
