//! STS calls: request builders and response parsers (pure: no I/O, no clock).
//!
//! - [`get_session_token`] → [`parse_get_session_token`]: MFA session from long-term keys.
//! - [`assume_role`] → [`parse_assume_role`]: role credentials.
//! - [`get_caller_identity`] → [`parse_get_caller_identity`]: who the keys belong to.
//! - [`get_federation_token`] → [`parse_get_federation_token`]: a federated user's
//!   credentials from an IAM user's long-term keys (for the console).

use crate::aws::query::{QueryRequest, Service};
use crate::aws::xml::{Document, Element, XmlError};
use crate::credentials::{Credentials, SessionCredentials};
use time::OffsetDateTime;

// AWS's limits on DurationSeconds, in seconds: the one definition every check, message
// and help text uses.

/// The shortest session GetSessionToken and AssumeRole grant (15 min).
pub const MIN_DURATION_SECS: u32 = 900;
/// The longest session GetSessionToken grants an IAM user (36 h).
pub const GET_SESSION_TOKEN_MAX_SECS: u32 = 129_600;
/// The longest session AssumeRole grants (12 h: a role's MaxSessionDuration is at
/// most that).
pub const ASSUME_ROLE_MAX_SECS: u32 = 43_200;
/// The longest role session assumed with temporary credentials (role chaining, 1 h).
pub const ROLE_CHAINING_MAX_SECS: u32 = 3600;
/// The longest federation token GetFederationToken grants an IAM user (36 h; the
/// root user: 1 h).
pub const FEDERATION_TOKEN_MAX_SECS: u32 = 129_600;
/// The longest name of a federated user (GetFederationToken's `Name`).
pub const FEDERATED_NAME_MAX_CHARS: usize = 32;
/// Slack on those maxima for clocks and rounding.
pub const SESSION_SLACK_SECS: i64 = 300;

/// Check the `expiration` of a session `action` answered with: it must end after
/// "now" and no later than `max_secs` (+ [`SESSION_SLACK_SECS`]) after it. "Now" is the
/// answer's `date` (AWS's clock) when it had one, else `local_now`; when the session
/// fits AWS's clock but has ended by the local clock, the error says the local clock
/// is off. All arithmetic is checked (any `OffsetDateTime` difference fits).
///
/// ```
/// use aws_session::aws::sts::{check_session_times, GET_SESSION_TOKEN_MAX_SECS};
/// use time::{Duration, OffsetDateTime};
/// let now = OffsetDateTime::now_utc();
/// let max = GET_SESSION_TOKEN_MAX_SECS;
/// assert!(check_session_times("GetSessionToken", now + Duration::hours(1), max, Some(now), now).is_ok());
/// let e = check_session_times("GetSessionToken", now - Duration::hours(1), max, Some(now), now);
/// assert!(e.unwrap_err().to_string().contains("ended"));
/// let e = check_session_times("GetSessionToken", now + Duration::days(7), max, None, now);
/// assert!(e.unwrap_err().to_string().contains("longer than AWS allows (36 h)"));
/// let e = check_session_times("GetSessionToken", now + Duration::hours(1), max, Some(now), now + Duration::hours(2));
/// assert!(e.unwrap_err().to_string().contains("local clock is 2 h 0 min (7200 s) ahead"));
/// ```
pub fn check_session_times(
    action: &str,
    expiration: OffsetDateTime,
    max_secs: u32,
    date: Option<OffsetDateTime>,
    local_now: OffsetDateTime,
) -> Result<(), crate::error::Error> {
    use crate::error::Error;
    use crate::timefmt::iso8601_utc;
    const NOT_AWS: &str = "not what AWS sends: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network";
    let now = date.unwrap_or(local_now);
    let left = (expiration - now).whole_seconds();
    let exp = iso8601_utc(expiration);
    if left <= 0 {
        let before = if date.is_some() {
            "the answer's own Date"
        } else {
            "the local clock's time (the answer had no Date header)"
        };
        return Err(Error::NotAws(format!(
            "{action} answered with a session that ended at {exp}, before {before} ({NOT_AWS})"
        )));
    }
    if left > i64::from(max_secs) + SESSION_SLACK_SECS {
        return Err(Error::NotAws(format!(
            "{action} answered with a session until {exp}, longer than AWS allows ({} h) ({NOT_AWS})",
            max_secs / 3600
        )));
    }
    if let Some(date) = date {
        if (expiration - local_now).whole_seconds() <= 0 {
            return Err(Error::NotAws(format!(
                "{action} answered with a session that ends at {exp}, {} after the answer's Date but before the local clock's time: {}",
                crate::timefmt::describe_seconds(left.unsigned_abs()),
                crate::timefmt::clock_advice(Some((date - local_now).whole_seconds()))
            )));
        }
    }
    Ok(())
}

/// A `GetSessionToken` request; `mfa` is `(serial number or ARN, current code)`.
///
/// ```
/// let req = aws_session::aws::sts::get_session_token(
///     Some(43200),
///     Some(("arn:aws:iam::123456789012:mfa/alice", "123456")),
/// );
/// assert!(req.carries_mfa_code);
/// assert!(req.form_body().contains("&DurationSeconds=43200&SerialNumber="));
/// ```
pub fn get_session_token(duration_secs: Option<u32>, mfa: Option<(&str, &str)>) -> QueryRequest {
    let req = QueryRequest::new(Service::Sts, "GetSessionToken")
        .opt_param("DurationSeconds", duration_secs.map(|d| d.to_string()));
    with_mfa(req, mfa)
}

/// A `GetCallerIdentity` request (no parameters; works with any valid keys).
///
/// ```
/// let req = aws_session::aws::sts::get_caller_identity();
/// assert_eq!(req.form_body(), "Action=GetCallerIdentity&Version=2011-06-15");
/// ```
pub fn get_caller_identity() -> QueryRequest {
    QueryRequest::new(Service::Sts, "GetCallerIdentity")
}

/// A `GetFederationToken` request for the federated user `name` (2 to 32 of
/// `[\w+=,.@-]`, see [`federated_name`]) with the session `policy` (a federation
/// token without one has no permissions at all).
///
/// ```
/// let req = aws_session::aws::sts::get_federation_token("alice", Some(7200), "{}");
/// assert_eq!(
///     req.form_body(),
///     "Action=GetFederationToken&Version=2011-06-15&Name=alice&DurationSeconds=7200&Policy=%7B%7D"
/// );
/// ```
pub fn get_federation_token(name: &str, duration_secs: Option<u32>, policy: &str) -> QueryRequest {
    QueryRequest::new(Service::Sts, "GetFederationToken")
        .param("Name", name)
        .opt_param("DurationSeconds", duration_secs.map(|d| d.to_string()))
        .param("Policy", policy)
}

/// The session policy that lets a federation token do what its IAM user may do: the
/// token's permissions are the intersection of the user's policies and this one.
pub const ALLOW_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A federated user's name for `user` (an IAM user name, or a local name): the
/// characters GetFederationToken allows (`[\w+=,.@-]`, others become `-`), at most
/// [`FEDERATED_NAME_MAX_CHARS`]; a name shorter than 2 is padded with `-console`.
///
/// ```
/// use aws_session::aws::sts::federated_name;
/// assert_eq!(federated_name("alice"), "alice");
/// assert_eq!(federated_name("a b/c"), "a-b-c");
/// assert_eq!(federated_name(&"x".repeat(40)).len(), 32);
/// assert_eq!(federated_name("j"), "j-console");
/// ```
pub fn federated_name(user: &str) -> String {
    let mut name: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(FEDERATED_NAME_MAX_CHARS)
        .collect();
    if name.len() < 2 {
        name.push_str("-console");
    }
    name
}

/// An `AssumeRole` request; `mfa` is `(serial number or ARN, current code)`.
///
/// ```
/// let req = aws_session::aws::sts::assume_role(
///     "arn:aws:iam::123456789012:role/admin", "alice", Some(3600), Some("ext-1"), None,
/// );
/// assert_eq!(
///     req.params.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
///     ["RoleArn", "RoleSessionName", "DurationSeconds", "ExternalId"]
/// );
/// ```
pub fn assume_role(
    role_arn: &str,
    role_session_name: &str,
    duration_secs: Option<u32>,
    external_id: Option<&str>,
    mfa: Option<(&str, &str)>,
) -> QueryRequest {
    let req = QueryRequest::new(Service::Sts, "AssumeRole")
        .param("RoleArn", role_arn)
        .param("RoleSessionName", role_session_name)
        .opt_param("DurationSeconds", duration_secs.map(|d| d.to_string()))
        .opt_param("ExternalId", external_id);
    with_mfa(req, mfa)
}

fn with_mfa(req: QueryRequest, mfa: Option<(&str, &str)>) -> QueryRequest {
    match mfa {
        Some((serial, code)) => req.param("SerialNumber", serial).param("TokenCode", code),
        None => req,
    }
}

/// The identity of the role session returned by `AssumeRole`.
///
/// ```
/// let u = aws_session::aws::sts::AssumedRoleUser {
///     arn: "arn:aws:sts::123456789012:assumed-role/admin/alice".into(),
///     assumed_role_id: "AROA3XFRBF535PLBIFPI4:alice".into(),
/// };
/// assert!(u.arn.ends_with("/alice"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRoleUser {
    /// ARN of the role session, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `ROLEID:SESSION`.
    pub assumed_role_id: String,
}

/// Who the signing credentials belong to (`GetCallerIdentity`).
///
/// ```
/// let id = aws_session::aws::sts::CallerIdentity {
///     account: "123456789012".into(),
///     arn: "arn:aws:iam::123456789012:user/alice".into(),
///     user_id: "AIDAEXAMPLE".into(),
/// };
/// assert_eq!(id.iam_user_name(), Some("alice"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN.
    pub arn: String,
    /// The caller's unique id (`AIDA...` for users, `AROA...:session` for roles).
    pub user_id: String,
}

impl CallerIdentity {
    /// The IAM user name when the caller is an IAM user
    /// (`arn:PARTITION:iam::ACCOUNT:user/PATH/NAME` → `NAME`); `None` for the root
    /// user, assumed roles, federated users and anything else.
    ///
    /// ```
    /// let mut id = aws_session::aws::sts::CallerIdentity {
    ///     account: "123456789012".into(),
    ///     arn: "arn:aws:iam::123456789012:user/division/team/alice".into(),
    ///     user_id: "AIDAEXAMPLE".into(),
    /// };
    /// assert_eq!(id.iam_user_name(), Some("alice"));
    /// id.arn = "arn:aws:iam::123456789012:root".into();
    /// assert_eq!(id.iam_user_name(), None);
    /// ```
    pub fn iam_user_name(&self) -> Option<&str> {
        // arn:partition:service:region:account:resource (the resource may hold ':').
        let mut parts = self.arn.splitn(6, ':');
        let (arn, partition, service, _region, _account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if arn != "arn" || partition.is_empty() || service != "iam" {
            return None;
        }
        let path_and_name = resource.strip_prefix("user/")?;
        let name = path_and_name.rsplit('/').next()?;
        (!name.is_empty()).then_some(name)
    }
}

/// Parse a `GetSessionTokenResponse` into session credentials.
///
/// ```
/// let body = include_str!("../../fixtures/xml/sts_get_session_token.xml");
/// let s = aws_session::aws::sts::parse_get_session_token(body).unwrap();
/// assert_eq!(s.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
/// ```
pub fn parse_get_session_token(body: &str) -> Result<SessionCredentials, XmlError> {
    let doc = Document::parse_expecting(body, "GetSessionTokenResponse")?;
    read_credentials(doc.root(), "GetSessionTokenResult")
}

/// Parse an `AssumeRoleResponse` into role credentials and the role session's identity.
///
/// ```
/// let body = include_str!("../../fixtures/xml/sts_assume_role.xml");
/// let (creds, user) = aws_session::aws::sts::parse_assume_role(body).unwrap();
/// assert!(user.arn.contains(":assumed-role/"));
/// assert!(creds.credentials.session_token.is_some());
/// ```
pub fn parse_assume_role(body: &str) -> Result<(SessionCredentials, AssumedRoleUser), XmlError> {
    let doc = Document::parse_expecting(body, "AssumeRoleResponse")?;
    let root = doc.root();
    let creds = read_credentials(root, "AssumeRoleResult")?;
    let user = AssumedRoleUser {
        arn: root
            .require_text(&["AssumeRoleResult", "AssumedRoleUser", "Arn"])?
            .to_string(),
        assumed_role_id: root
            .require_text(&["AssumeRoleResult", "AssumedRoleUser", "AssumedRoleId"])?
            .to_string(),
    };
    Ok((creds, user))
}

/// Parse a `GetCallerIdentityResponse`.
///
/// ```
/// let body = include_str!("../../fixtures/xml/sts_get_caller_identity.xml");
/// let id = aws_session::aws::sts::parse_get_caller_identity(body).unwrap();
/// assert_eq!(id.account, "123456789012");
/// ```
pub fn parse_get_caller_identity(body: &str) -> Result<CallerIdentity, XmlError> {
    let doc = Document::parse_expecting(body, "GetCallerIdentityResponse")?;
    let root = doc.root();
    let field = |name: &str| {
        root.require_text(&["GetCallerIdentityResult", name])
            .map(str::to_string)
    };
    Ok(CallerIdentity {
        account: field("Account")?,
        arn: field("Arn")?,
        user_id: field("UserId")?,
    })
}

/// Parse a `GetFederationTokenResponse` into the credentials and the federated user's
/// ARN (`arn:aws:sts::ACCOUNT:federated-user/NAME`).
///
/// ```
/// let body = include_str!("../../fixtures/xml/sts_get_federation_token.xml");
/// let (creds, arn) = aws_session::aws::sts::parse_get_federation_token(body).unwrap();
/// assert_eq!(arn, "arn:aws:sts::123456789012:federated-user/Bob");
/// assert!(creds.credentials.session_token.is_some());
/// ```
pub fn parse_get_federation_token(body: &str) -> Result<(SessionCredentials, String), XmlError> {
    let doc = Document::parse_expecting(body, "GetFederationTokenResponse")?;
    let root = doc.root();
    let creds = read_credentials(root, "GetFederationTokenResult")?;
    let arn = root
        .require_text(&["GetFederationTokenResult", "FederatedUser", "Arn"])?
        .to_string();
    Ok((creds, arn))
}

/// Read `<RESULT><Credentials>` (shared by GetSessionToken, AssumeRole and
/// GetFederationToken).
fn read_credentials(root: Element<'_>, result: &str) -> Result<SessionCredentials, XmlError> {
    let field = |name: &str| root.require_text(&[result, "Credentials", name]);
    let access_key_id = field("AccessKeyId")?;
    let secret_access_key = field("SecretAccessKey")?;
    let session_token = field("SessionToken")?;
    let expiration_text = field("Expiration")?;
    let expiration = parse_timestamp(expiration_text).ok_or_else(|| XmlError::Invalid {
        path: crate::aws::xml::path_string(&[result, "Credentials", "Expiration"]),
        // A timestamp is no secret: showing it helps whoever runs the peer.
        reason: format!(
            "is not an RFC 3339 time: \"{}\"",
            expiration_text.chars().take(40).collect::<String>()
        ),
    })?;
    Ok(SessionCredentials {
        credentials: Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: Some(session_token.to_string()),
        },
        expiration,
    })
}

/// An AWS timestamp: RFC 3339 (`2011-07-11T19:55:29.611Z`, fraction optional);
/// one without a zone is read as UTC, as AWS's timestamps always are.
fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    crate::timefmt::parse_rfc3339(s).or_else(|| crate::timefmt::parse_rfc3339(&format!("{s}Z")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::{Date, Month, PrimitiveDateTime, Time};

    /// A UTC time from its parts (tests only; `time`'s macros feature is off).
    fn utc(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, nanos: u32) -> OffsetDateTime {
        let date = Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d).unwrap();
        let time = Time::from_hms_nano(h, mi, s, nanos).unwrap();
        PrimitiveDateTime::new(date, time).assume_utc()
    }

    const GST: &str = include_str!("../../fixtures/xml/sts_get_session_token.xml");
    const GST_MOTO: &str = include_str!("../../fixtures/xml/sts_get_session_token_moto.xml");
    const GST_TRUNCATED: &str =
        include_str!("../../fixtures/xml/sts_get_session_token_truncated.xml");
    const AR: &str = include_str!("../../fixtures/xml/sts_assume_role.xml");
    const AR_MOTO: &str = include_str!("../../fixtures/xml/sts_assume_role_moto.xml");
    const GCI_USER: &str = include_str!("../../fixtures/xml/sts_get_caller_identity.xml");
    const GCI_ROLE: &str =
        include_str!("../../fixtures/xml/sts_get_caller_identity_assumed_role.xml");
    const GCI_MOTO: &str = include_str!("../../fixtures/xml/sts_get_caller_identity_moto.xml");
    const HTML_502: &str = include_str!("../../fixtures/xml/html_502.html");
    const ERR_MFA: &str = include_str!("../../fixtures/xml/error_access_denied_mfa.xml");

    fn form_pairs(req: &QueryRequest) -> Vec<(String, String)> {
        req.form_body()
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    #[test]
    fn get_federation_token_request_and_answer() {
        let req = get_federation_token("alice", Some(129_600), ALLOW_ALL_POLICY);
        let pairs = form_pairs(&req);
        assert_eq!(pairs[0], ("Action".into(), "GetFederationToken".into()));
        assert!(pairs.contains(&("Name".into(), "alice".into())));
        assert!(pairs.contains(&("DurationSeconds".into(), "129600".into())));
        let policy = pairs.iter().find(|(k, _)| k == "Policy").unwrap();
        assert_eq!(
            crate::encode::percent_decode(&policy.1, false).as_deref(),
            Some(ALLOW_ALL_POLICY)
        );
        assert!(!req.carries_mfa_code);
        let body = include_str!("../../fixtures/xml/sts_get_federation_token.xml");
        let (creds, arn) = parse_get_federation_token(body).unwrap();
        assert_eq!(creds.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(creds.expiration, utc(2011, 7, 15, 23, 28, 33, 359_000_000));
        assert!(arn.ends_with(":federated-user/Bob"));
        // Another action's answer is not a federation token.
        assert!(parse_get_federation_token(AR).is_err());
        assert!(parse_get_federation_token(&body[..body.len() / 2]).is_err());
    }

    #[test]
    fn federated_names_fit_aws_rules() {
        for user in ["alice", "a.b@c", "x", "", "ü-name", &"long".repeat(20)] {
            let n = federated_name(user);
            assert!((2..=32).contains(&n.len()), "{user:?} -> {n:?}");
            assert!(n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)));
        }
    }

    #[test]
    fn get_session_token_request() {
        let req = get_session_token(None, None);
        assert_eq!(req.form_body(), "Action=GetSessionToken&Version=2011-06-15");
        assert!(!req.carries_mfa_code);
        assert_eq!(req.service, Service::Sts);

        let req = get_session_token(
            Some(129600),
            Some(("arn:aws:iam::123456789012:mfa/alice", "012345")),
        );
        assert_eq!(
            req.form_body(),
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600\
             &SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&TokenCode=012345"
        );
        assert!(req.carries_mfa_code);
        assert!(!format!("{req:?}").contains("012345"));
    }

    #[test]
    fn assume_role_request() {
        let req = assume_role(
            "arn:aws:iam::123456789012:role/admin",
            "alice@example.com",
            Some(900),
            Some("a b"),
            Some(("GAHT12345678", "123456")),
        );
        let pairs = form_pairs(&req);
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "RoleArn",
                "RoleSessionName",
                "DurationSeconds",
                "ExternalId",
                "SerialNumber",
                "TokenCode"
            ]
        );
        assert_eq!(pairs[3].1, "alice%40example.com");
        assert_eq!(pairs[5].1, "a%20b");
        assert!(req.carries_mfa_code);

        let plain = assume_role("arn:aws:iam::1:role/r", "s", None, None, None);
        assert_eq!(form_pairs(&plain).len(), 4);
        assert!(!plain.carries_mfa_code);
        assert_eq!(get_caller_identity().params, []);
    }

    #[test]
    fn parses_get_session_token_docs_example() {
        let s = parse_get_session_token(GST).unwrap();
        assert_eq!(s.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            s.credentials.secret_access_key,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        );
        let token = s.credentials.session_token.as_deref().unwrap();
        assert!(token.starts_with("AQoEXAMPLEH4aoAH0gNCAPy"));
        assert!(token.ends_with("wnOE49mRl/+OtkIKGO7fAE"));
        assert!(!token.contains(char::is_whitespace));
        assert_eq!(s.expiration, utc(2011, 7, 11, 19, 55, 29, 611000000));
        // Debug never shows the secret or the token.
        let dbg = format!("{s:?}");
        assert!(
            !dbg.contains("wJalrXUtnFEMI") && !dbg.contains("AQoEXAMPLE"),
            "{dbg}"
        );
    }

    #[test]
    fn parses_get_session_token_from_moto() {
        let s = parse_get_session_token(GST_MOTO).unwrap();
        assert_eq!(s.credentials.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(s.expiration, utc(2026, 11, 25, 10, 17, 14, 540026000));
    }

    #[test]
    fn expiration_formats() {
        let body = |exp: &str| {
            GST.replace(
                "<Expiration>2011-07-11T19:55:29.611Z</Expiration>",
                &format!("<Expiration>{exp}</Expiration>"),
            )
        };
        let exp = |e: &str| parse_get_session_token(&body(e)).map(|s| s.expiration);
        assert_eq!(
            exp("2011-07-11T19:55:29Z"),
            Ok(utc(2011, 7, 11, 19, 55, 29, 0))
        );
        assert_eq!(
            exp("2011-07-11T21:55:29+02:00"),
            Ok(utc(2011, 7, 11, 19, 55, 29, 0))
        );
        assert_eq!(
            exp("2011-07-11T19:55:29"),
            Ok(utc(2011, 7, 11, 19, 55, 29, 0))
        );
        let e = exp("tomorrow").unwrap_err();
        assert!(matches!(e, XmlError::Invalid { .. }));
        assert_eq!(
            e.to_string(),
            "<GetSessionTokenResult><Credentials><Expiration> is not an RFC 3339 time: \"tomorrow\""
        );
    }

    #[test]
    fn missing_and_empty_fields() {
        let no_token = GST
            .replace("<SessionToken>", "<X>")
            .replace("</SessionToken>", "</X>");
        let e = parse_get_session_token(&no_token).unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing <GetSessionTokenResult><Credentials><SessionToken>"
        );
        let empty_key = GST.replace("ASIAIOSFODNN7EXAMPLE", "");
        assert!(matches!(
            parse_get_session_token(&empty_key),
            Err(XmlError::Invalid { .. })
        ));
    }

    #[test]
    fn bad_bodies_for_get_session_token() {
        let e = parse_get_session_token(GST_TRUNCATED).unwrap_err();
        assert!(matches!(e, XmlError::Truncated { .. }), "{e:?}");
        // The truncated body holds a secret; the error must not.
        assert!(!e.to_string().contains("wJalrXUtnFEMI"));
        assert!(matches!(
            parse_get_session_token(HTML_502),
            Err(XmlError::Html { title: Some(t) }) if t == "502 Bad Gateway"
        ));
        assert_eq!(
            parse_get_session_token(ERR_MFA).unwrap_err().to_string(),
            "root element <ErrorResponse>, expected <GetSessionTokenResponse>"
        );
        assert_eq!(parse_get_session_token(""), Err(XmlError::Empty));
        assert!(matches!(
            parse_get_session_token(AR),
            Err(XmlError::WrongRoot { .. })
        ));
        // Every prefix of a valid answer fails cleanly (no panic), never succeeds.
        for end in 0..GST.trim_end().len() {
            if GST.is_char_boundary(end) {
                assert!(
                    parse_get_session_token(&GST[..end]).is_err(),
                    "prefix {end}"
                );
            }
        }
    }

    #[test]
    fn parses_assume_role() {
        let (s, user) = parse_assume_role(AR).unwrap();
        assert_eq!(s.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            s.credentials.secret_access_key,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        );
        assert!(s
            .credentials
            .session_token
            .as_deref()
            .unwrap()
            .starts_with("IQoJb3JpZ2luX2Vj"));
        assert_eq!(s.expiration, utc(2019, 11, 9, 13, 34, 41, 0));
        assert_eq!(
            user,
            AssumedRoleUser {
                arn: "arn:aws:sts::123456789012:assumed-role/demo/John".into(),
                assumed_role_id: "ARO123EXAMPLE123:John".into(),
            }
        );

        let (s, user) = parse_assume_role(AR_MOTO).unwrap();
        assert_eq!(s.credentials.access_key_id, "ASIARZPUZDIKDJJVWWQM");
        assert_eq!(s.expiration, utc(2026, 11, 25, 9, 26, 54, 682443000));
        assert_eq!(
            user.arn,
            "arn:aws:sts::123456789012:assumed-role/admin/alice-session"
        );
        assert_eq!(user.assumed_role_id, "AROA3X42LBCDRECPVQQ1F:alice-session");

        let no_user = AR.replace("AssumedRoleUser>", "Other>");
        assert_eq!(
            parse_assume_role(&no_user).unwrap_err().to_string(),
            "missing <AssumeRoleResult><AssumedRoleUser><Arn>"
        );
    }

    #[test]
    fn parses_get_caller_identity() {
        let id = parse_get_caller_identity(GCI_USER).unwrap();
        assert_eq!(
            id,
            CallerIdentity {
                account: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Alice".into(),
                user_id: "AIDASAMPLEUSERID".into(),
            }
        );
        assert_eq!(id.iam_user_name(), Some("Alice"));

        let id = parse_get_caller_identity(GCI_ROLE).unwrap();
        assert_eq!(
            id.arn,
            "arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name"
        );
        assert_eq!(id.user_id, "AROACLKWSDQRAOEXAMPLE:my-role-session-name");
        assert_eq!(id.iam_user_name(), None);

        let id = parse_get_caller_identity(GCI_MOTO).unwrap();
        assert_eq!(id.arn, "arn:aws:iam::123456789012:user/alice");
        assert_eq!(id.iam_user_name(), Some("alice"));

        let no_account = GCI_USER.replace("Account>", "Acct>");
        assert!(matches!(
            parse_get_caller_identity(&no_account),
            Err(XmlError::Missing { .. })
        ));
    }

    #[test]
    fn iam_user_names() {
        let name = |arn: &str| {
            CallerIdentity {
                account: "123456789012".into(),
                arn: arn.into(),
                user_id: "X".into(),
            }
            .iam_user_name()
            .map(str::to_string)
        };
        assert_eq!(
            name("arn:aws:iam::123456789012:user/alice").as_deref(),
            Some("alice")
        );
        assert_eq!(
            name("arn:aws-cn:iam::123456789012:user/p/q/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(
            name("arn:aws-us-gov:iam::123456789012:user/a.b+c=d,e@f-g_h").as_deref(),
            Some("a.b+c=d,e@f-g_h")
        );
        for none in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:assumed-role/admin/alice",
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:user/path/",
            "arn:aws:iam::123456789012",
            "user/alice",
            "",
        ] {
            assert_eq!(name(none), None, "{none}");
        }
    }
}
