//! One cached session and its JSON form.

use super::*;

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// GetSessionToken credentials.
    MfaSession,
    /// AssumeRole credentials.
    Role,
}

impl EntryKind {
    /// The name used in files and in `status`.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::MfaSession => "mfa-session",
            EntryKind::Role => "role",
        }
    }
}

/// One cached session and what it is (for `status` and `clear`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// The profile it was made for (`default` when none was chosen).
    pub profile: String,
    /// The profile the long-term keys came from; `None` when from the environment.
    pub source_profile: Option<String>,
    /// The long-term access key id it was made from (not a secret).
    pub source_access_key_id: String,
    /// The MFA device used, if any.
    pub mfa_serial: Option<String>,
    /// For roles: the role's ARN and the assumed-role ARN of the session.
    pub role_arn: Option<String>,
    pub assumed_role_arn: Option<String>,
    pub session: SessionCredentials,
}

impl Entry {
    /// Whether the session has more than [`FRESH_MARGIN_SECS`] left at `now`.
    ///
    /// ```
    /// # use aws_session::cache::{Entry, EntryKind};
    /// # use aws_session::credentials::{Credentials, SessionCredentials};
    /// # use time::OffsetDateTime;
    /// let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
    /// let entry = |secs: i64| Entry {
    ///     kind: EntryKind::MfaSession, profile: "default".into(), source_profile: None,
    ///     source_access_key_id: "AKID".into(), mfa_serial: None, role_arn: None, assumed_role_arn: None,
    ///     session: SessionCredentials { credentials: Credentials::long_term("ASIA", "s"),
    ///                                   expiration: now + time::Duration::seconds(secs) } };
    /// assert!(entry(301).is_fresh(now));
    /// assert!(!entry(300).is_fresh(now));
    /// ```
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        (self.session.expiration - now).whole_seconds() > FRESH_MARGIN_SECS
    }

    /// The entry as a JSON object (one line).
    pub fn to_json(&self) -> String {
        let c = &self.session.credentials;
        let expiration = crate::timefmt::rfc3339_utc(self.session.expiration).unwrap_or_default();
        let fields: Vec<(&str, Option<&str>)> = vec![
            ("kind", Some(self.kind.name())),
            ("profile", Some(&self.profile)),
            ("source_profile", self.source_profile.as_deref()),
            ("source_access_key_id", Some(&self.source_access_key_id)),
            ("mfa_serial", self.mfa_serial.as_deref()),
            ("role_arn", self.role_arn.as_deref()),
            ("assumed_role_arn", self.assumed_role_arn.as_deref()),
            ("access_key_id", Some(&c.access_key_id)),
            ("secret_access_key", Some(&c.secret_access_key)),
            ("session_token", c.session_token.as_deref()),
            ("expiration", Some(&expiration)),
        ];
        let mut out = format!("{{\"version\":{FORMAT_VERSION}");
        for (k, v) in fields {
            out.push(',');
            out.push_str(&json::string(k));
            out.push(':');
            match v {
                Some(v) => out.push_str(&json::string(v)),
                None => out.push_str("null"),
            }
        }
        out.push_str("}\n");
        out
    }

    /// Parse [`Entry::to_json`]'s output. The error says what is wrong, never a value.
    pub fn from_json(text: &str) -> std::result::Result<Entry, String> {
        let doc = json::parse(text)?;
        if !matches!(doc, json::Value::Object(_)) {
            return Err("not a JSON object".into());
        }
        match doc.get("version") {
            Some(v) if v.as_i64() == Some(FORMAT_VERSION as i64) => {}
            Some(json::Value::Number(v)) => {
                return Err(format!("format version {v}, not {FORMAT_VERSION}"))
            }
            _ => return Err("no format version".into()),
        }
        let opt = |k: &str| -> std::result::Result<Option<String>, String> {
            match doc.get(k) {
                None | Some(json::Value::Null) => Ok(None),
                Some(json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("\"{k}\" is not a string")),
            }
        };
        let req = |k: &str| -> std::result::Result<String, String> {
            opt(k)?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("\"{k}\" is missing"))
        };
        let kind = match req("kind")?.as_str() {
            "mfa-session" => EntryKind::MfaSession,
            "role" => EntryKind::Role,
            _ => return Err("\"kind\" is neither mfa-session nor role".into()),
        };
        // parse_rfc3339 gives UTC within years 1..=9999, so to_json writes it back
        // (fuzzing found 0000-01-01T00:30:00+01:00, which is year -1 in UTC).
        let expiration = crate::timefmt::parse_rfc3339(&req("expiration")?)
            .ok_or_else(|| "\"expiration\" is not an RFC 3339 time".to_string())?;
        Ok(Entry {
            kind,
            profile: req("profile")?,
            source_profile: opt("source_profile")?,
            source_access_key_id: req("source_access_key_id")?,
            mfa_serial: opt("mfa_serial")?,
            role_arn: opt("role_arn")?,
            assumed_role_arn: opt("assumed_role_arn")?,
            session: SessionCredentials {
                credentials: Credentials {
                    access_key_id: req("access_key_id")?,
                    secret_access_key: req("secret_access_key")?,
                    session_token: opt("session_token")?,
                },
                expiration,
            },
        })
    }
}
