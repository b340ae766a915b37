//! Cache keys: what made a session, hashed, so that different keys, devices, roles or
//! durations never share an entry.

use super::*;

/// Builds a cache key: SHA-256 over length-prefixed fields, so that no two different
/// field lists hash the same input.
struct KeyBuilder(Sha256);

impl KeyBuilder {
    fn new(kind: &str) -> Self {
        KeyBuilder(Sha256::new())
            .field(&format!("aws-session-cache-v{FORMAT_VERSION}"))
            .field(kind)
    }

    fn field(mut self, v: &str) -> Self {
        self.0.update((v.len() as u64).to_be_bytes());
        self.0.update(v.as_bytes());
        self
    }

    fn opt(self, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.field("some").field(v),
            None => self.field("none"),
        }
    }

    fn credentials(self, c: &Credentials) -> Self {
        self.field(&c.access_key_id)
            .field(&c.secret_access_key)
            .opt(c.session_token.as_deref())
    }

    fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The key of an MFA session (GetSessionToken) made from `source` with device
/// `serial` (`None`: the device is discovered), for `duration` seconds (`None`: AWS's
/// default), at the STS `endpoint`.
///
/// ```
/// use aws_session::cache::mfa_session_key;
/// use aws_session::credentials::Credentials;
/// let c = Credentials::long_term("AKID", "secret");
/// let k = mfa_session_key(&c, Some("arn:aws:iam::1:mfa/me"), None, "https://sts.amazonaws.com/");
/// assert_eq!(k.len(), 64);
/// assert_ne!(k, mfa_session_key(&c, Some("arn:aws:iam::1:mfa/me"), Some(900), "https://sts.amazonaws.com/"));
/// ```
pub fn mfa_session_key(
    source: &Credentials,
    serial: Option<&str>,
    duration: Option<u32>,
    endpoint: &str,
) -> String {
    KeyBuilder::new("mfa-session")
        .credentials(source)
        .opt(serial)
        .opt(duration.map(|d| d.to_string()).as_deref())
        .field(endpoint)
        .finish()
}

/// The parameters of one AssumeRole, as far as they make a session different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeyPart<'a> {
    pub role_arn: &'a str,
    pub external_id: Option<&'a str>,
    pub duration: Option<u32>,
    /// The configured session name; `None` when it is derived at run time.
    pub session_name: Option<&'a str>,
}

/// The key of the role session at the end of `chain` (roles assumed in this order),
/// started from `source`, with MFA device `serial` (`None`: no MFA).
///
/// ```
/// use aws_session::cache::{role_session_key, RoleKeyPart};
/// use aws_session::credentials::Credentials;
/// let c = Credentials::long_term("AKID", "secret");
/// let part = RoleKeyPart { role_arn: "arn:aws:iam::1:role/a", external_id: None, duration: None, session_name: None };
/// let a = role_session_key(&c, None, "https://sts.amazonaws.com/", &[part.clone()]);
/// let b = role_session_key(&c, None, "https://sts.amazonaws.com/", &[RoleKeyPart { duration: Some(900), ..part }]);
/// assert_ne!(a, b);
/// ```
pub fn role_session_key(
    source: &Credentials,
    serial: Option<&str>,
    endpoint: &str,
    chain: &[RoleKeyPart],
) -> String {
    let mut k = KeyBuilder::new("role")
        .credentials(source)
        .opt(serial)
        .field(endpoint)
        .field(&chain.len().to_string());
    for part in chain {
        k = k
            .field(part.role_arn)
            .opt(part.external_id)
            .opt(part.duration.map(|d| d.to_string()).as_deref())
            .opt(part.session_name);
    }
    k.finish()
}

/// The key of the role credentials an IAM Identity Center sign-in (`identity`: its
/// sso-session name, else its start URL, with `start_url`) gets for `role_name` in
/// `account_id` from the portal at `region`. The token is not part of it: a refresh
/// changes the token, not the credentials already had.
///
/// ```
/// use aws_session::cache::sso_role_key;
/// let a = sso_role_key("corp", "https://d-1.awsapps.com/start", "us-east-1", "111111111111", "Admin");
/// assert_eq!(a.len(), 64);
/// assert_ne!(a, sso_role_key("corp", "https://d-1.awsapps.com/start", "us-east-1", "111111111111", "ReadOnly"));
/// ```
pub fn sso_role_key(
    identity: &str,
    start_url: &str,
    region: &str,
    account_id: &str,
    role_name: &str,
) -> String {
    KeyBuilder::new("sso-role")
        .field(identity)
        .field(start_url)
        .field(region)
        .field(account_id)
        .field(role_name)
        .finish()
}
