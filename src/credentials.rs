//! Credential values passed between modules.
//!
//! `Debug` never shows a secret or a token: these values end up in `--debug`
//! traces and error paths, and the rule is that secrets never reach any output.

use std::fmt;
use time::OffsetDateTime;

/// A set of AWS credentials: long-term IAM user keys (no token) or
/// temporary STS credentials (with a session token).
///
/// ```
/// let c = aws_session::credentials::Credentials::long_term("AKIDEXAMPLE", "secret");
/// assert!(c.session_token.is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term keys (no session token).
    pub fn long_term(access_key_id: &str, secret_access_key: &str) -> Self {
        Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Temporary credentials returned by STS, with their expiry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SessionCredentials {
    pub credentials: Credentials,
    pub expiration: OffsetDateTime,
}
