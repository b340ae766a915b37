//! The AWS federation endpoint of `console` (pure: strings in, strings out).
//!
//! 1. `GET {base}/federation?Action=getSigninToken[&SessionDuration=N]&Session=<JSON>`
//!    with the temporary credentials as `{"sessionId","sessionKey","sessionToken"}`
//!    → `{"SigninToken": "…"}` ([`signin_token_url`], [`parse_signin_token`]).
//! 2. `{base}/federation?Action=login&Issuer=…&Destination=…&SigninToken=…`, the URL
//!    the browser opens, valid for 15 minutes ([`login_url`]).
//!
//! AWS takes only AssumeRole and GetFederationToken credentials there, and
//! `SessionDuration` only with a role session assumed with long-term keys
//! ([`session_duration`]). [`destination`] turns `--destination` (a URL or a service
//! name) into the console URL.

use crate::credentials::Credentials;
use crate::encode::uri_encode;
use crate::json::{self, Value};

/// The shortest and longest console session `SessionDuration` may ask for.
pub const MIN_SESSION_DURATION_SECS: u32 = 900;
pub const MAX_SESSION_DURATION_SECS: u32 = 43_200;

/// What the `Issuer` of the login URL says (where the console sends a person whose
/// session ended).
pub const ISSUER: &str = "aws-session";

/// How the credentials handed to the federation endpoint were made; it decides
/// whether `SessionDuration` may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A role session assumed with long-term keys (with or without an MFA code).
    RoleFromKeys,
    /// A role session assumed with temporary credentials (role chaining).
    ChainedRole,
    /// GetFederationToken credentials: the console session lasts the token's time.
    FederationToken,
    /// Credentials made elsewhere (a sign-in, an enclosing shell): how is not known.
    Unknown,
}

/// The `SessionDuration` to send for `kind` when `wanted` seconds are asked for: only
/// a role session assumed with long-term keys takes one (AWS refuses it for others,
/// "Invalid credentials parameter").
///
/// ```
/// use aws_session::aws::federation::{session_duration, Credential};
/// assert_eq!(session_duration(Credential::RoleFromKeys, Some(7200)), Some(7200));
/// assert_eq!(session_duration(Credential::ChainedRole, Some(3600)), None);
/// assert_eq!(session_duration(Credential::FederationToken, Some(7200)), None);
/// ```
pub fn session_duration(kind: Credential, wanted: Option<u32>) -> Option<u32> {
    match kind {
        Credential::RoleFromKeys => wanted,
        _ => None,
    }
}

/// The `getSigninToken` URL for `creds` (temporary: with a session token).
///
/// ```
/// use aws_session::aws::federation::signin_token_url;
/// use aws_session::credentials::Credentials;
/// let c = Credentials { access_key_id: "ASIA1".into(), secret_access_key: "s/+".into(), session_token: Some("t".into()) };
/// assert_eq!(
///     signin_token_url("https://signin.aws.amazon.com", &c, Some(7200)),
///     "https://signin.aws.amazon.com/federation?Action=getSigninToken&SessionDuration=7200&Session=%7B%22sessionId%22%3A%22ASIA1%22%2C%22sessionKey%22%3A%22s%2F%2B%22%2C%22sessionToken%22%3A%22t%22%7D"
/// );
/// ```
pub fn signin_token_url(base: &str, creds: &Credentials, duration: Option<u32>) -> String {
    let session = Value::object_of_strings(&[
        ("sessionId", &creds.access_key_id),
        ("sessionKey", &creds.secret_access_key),
        (
            "sessionToken",
            creds.session_token.as_deref().unwrap_or_default(),
        ),
    ])
    .to_json();
    let duration = duration
        .map(|d| format!("&SessionDuration={d}"))
        .unwrap_or_default();
    format!(
        "{base}/federation?Action=getSigninToken{duration}&Session={}",
        uri_encode(&session, false)
    )
}

/// The URL that signs the browser in with `token` and opens `destination`.
///
/// ```
/// use aws_session::aws::federation::login_url;
/// assert_eq!(
///     login_url("https://signin.aws.amazon.com", "https://console.aws.amazon.com/s3/home", "T"),
///     "https://signin.aws.amazon.com/federation?Action=login&Issuer=aws-session&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fhome&SigninToken=T"
/// );
/// ```
pub fn login_url(base: &str, destination: &str, token: &str) -> String {
    format!(
        "{base}/federation?Action=login&Issuer={}&Destination={}&SigninToken={}",
        uri_encode(ISSUER, false),
        uri_encode(destination, false),
        uri_encode(token, false)
    )
}

/// The sign-in token of a `getSigninToken` answer, or why there is none: AWS's reason
/// (the first line of the body, at most 200 characters, control characters dropped)
/// for a refusal, or what is wrong with a 200 answer.
///
/// ```
/// use aws_session::aws::federation::parse_signin_token;
/// assert_eq!(parse_signin_token(200, r#"{"SigninToken":"abc"}"#).unwrap(), "abc");
/// assert_eq!(parse_signin_token(400, "Invalid credentials parameter\n").unwrap_err(), "Invalid credentials parameter");
/// ```
pub fn parse_signin_token(status: u16, body: &str) -> Result<String, String> {
    if status != 200 {
        let line = body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        let reason: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
        return Err(if reason.is_empty() {
            format!("HTTP {status} without a reason")
        } else {
            reason
        });
    }
    let doc = json::parse(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    match doc.str("SigninToken") {
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()) => Ok(t.to_string()),
        _ => Err("the answer holds no SigninToken".into()),
    }
}

/// Console paths of the services `--destination` knows by name (the name, the path
/// under the console's domain, whether the page takes a `region`).
const SERVICES: &[(&str, &str, bool)] = &[
    ("home", "console/home", true),
    ("billing", "billing/home", false),
    ("cloudformation", "cloudformation/home", true),
    ("cloudtrail", "cloudtrail/home", true),
    ("cloudwatch", "cloudwatch/home", true),
    ("dynamodb", "dynamodbv2/home", true),
    ("ec2", "ec2/home", true),
    ("ecr", "ecr/home", true),
    ("ecs", "ecs/v2/home", true),
    ("eks", "eks/home", true),
    ("iam", "iam/home", false),
    ("kms", "kms/home", true),
    ("lambda", "lambda/home", true),
    ("logs", "cloudwatch/home", true),
    ("organizations", "organizations/v2/home", false),
    ("rds", "rds/home", true),
    ("route53", "route53/v2/home", false),
    ("s3", "s3/home", true),
    ("secretsmanager", "secretsmanager/home", true),
    ("sns", "sns/v3/home", true),
    ("sqs", "sqs/v3/home", true),
    ("ssm", "systems-manager/home", true),
    ("sso", "singlesignon/home", true),
    ("vpc", "vpc/home", true),
];

/// The console URL `--destination` asks for: a URL as given (https://, or http://
/// for a local peer), else a service name of [`SERVICES`] on `domain`
/// ([`crate::aws::endpoint::console_domain`]) in `region`; `None` asks for the
/// console home. The error lists the names known.
///
/// ```
/// use aws_session::aws::federation::destination;
/// let d = |v| destination(v, "console.aws.amazon.com", Some("eu-west-1"));
/// assert_eq!(d(None).unwrap(), "https://console.aws.amazon.com/console/home?region=eu-west-1");
/// assert_eq!(d(Some("S3")).unwrap(), "https://console.aws.amazon.com/s3/home?region=eu-west-1");
/// assert_eq!(d(Some("iam")).unwrap(), "https://console.aws.amazon.com/iam/home");
/// assert!(d(Some("nosuch")).unwrap_err().contains("s3"));
/// ```
pub fn destination(
    given: Option<&str>,
    domain: &str,
    region: Option<&str>,
) -> Result<String, String> {
    let name = given.unwrap_or("home").trim();
    if let Some(rest) = name
        .strip_prefix("https://")
        .or_else(|| name.strip_prefix("http://"))
    {
        if rest.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("--destination \"{}\" is not a URL", shown(name)));
        }
        return Ok(name.to_string());
    }
    let lower = name.to_ascii_lowercase();
    let Some((_, path, regional)) = SERVICES.iter().find(|(n, _, _)| *n == lower) else {
        let known: Vec<&str> = SERVICES.iter().map(|(n, _, _)| *n).collect();
        return Err(format!(
            "--destination \"{}\" is neither a URL nor a service this knows (known: {}); give the console URL instead",
            shown(name),
            known.join(", ")
        ));
    };
    let query = match (regional, region) {
        (true, Some(r)) => format!("?region={}", uri_encode(r, false)),
        _ => String::new(),
    };
    Ok(format!("https://{domain}/{path}{query}"))
}

fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::percent_decode;

    #[test]
    fn the_session_json_round_trips_and_carries_the_three_parts() {
        let c = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "a\"b\\c/+=".into(),
            session_token: Some("tok+/=".into()),
        };
        let url = signin_token_url("http://127.0.0.1:1", &c, None);
        assert!(!url.contains("SessionDuration"));
        let enc = url.split("&Session=").nth(1).unwrap();
        let doc = json::parse(&percent_decode(enc, false).unwrap()).unwrap();
        assert_eq!(doc.str("sessionId"), Some("ASIAEXAMPLE"));
        assert_eq!(doc.str("sessionKey"), Some("a\"b\\c/+="));
        assert_eq!(doc.str("sessionToken"), Some("tok+/="));
    }

    #[test]
    fn only_a_role_from_long_term_keys_gets_a_session_duration() {
        for kind in [
            Credential::ChainedRole,
            Credential::FederationToken,
            Credential::Unknown,
        ] {
            assert_eq!(session_duration(kind, Some(3600)), None, "{kind:?}");
        }
        assert_eq!(session_duration(Credential::RoleFromKeys, None), None);
    }

    #[test]
    fn refusals_and_bad_answers() {
        assert_eq!(
            parse_signin_token(400, "").unwrap_err(),
            "HTTP 400 without a reason"
        );
        assert_eq!(
            parse_signin_token(400, "\n  Only federation tokens\u{7}\nmore").unwrap_err(),
            "Only federation tokens"
        );
        assert!(parse_signin_token(200, "<html>").is_err());
        assert!(parse_signin_token(200, "{}").is_err());
        assert!(parse_signin_token(200, r#"{"SigninToken":"a b"}"#).is_err());
        assert_eq!(
            parse_signin_token(400, &"x".repeat(500)).unwrap_err().len(),
            200
        );
    }

    #[test]
    fn destinations() {
        let d = |v: Option<&str>, r| destination(v, "console.amazonaws.cn", r);
        assert_eq!(
            d(None, None).unwrap(),
            "https://console.amazonaws.cn/console/home"
        );
        assert_eq!(
            d(Some("https://example.com/x?y=1"), None).unwrap(),
            "https://example.com/x?y=1"
        );
        for bad in ["https://", "https://a b", "ftp://x", ""] {
            assert!(d(Some(bad), None).is_err(), "{bad}");
        }
        let url = login_url("b", "https://c/?a=1&b=2", "t");
        assert!(url.contains("Destination=https%3A%2F%2Fc%2F%3Fa%3D1%26b%3D2&"));
    }
}
