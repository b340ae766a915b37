//! IAM Identity Center's OIDC service (`sso-oidc` 2019-06-10, rest-json, unsigned), pure:
//! the bodies of RegisterClient, StartDeviceAuthorization and CreateToken (device code,
//! authorization code with PKCE, refresh token), the `/authorize` URL of the
//! authorization-code flow, and the parsers of their answers and errors. Sending is
//! [`crate::aws::client::Client::sso_call`]'s.
//!
//! As the AWS CLI v2 does (`SSOTokenFetcher`, `SSOTokenFetcherAuth`): a public client
//! named `botocore-client-<session>`; the authorization-code client is registered with
//! grant types `authorization_code` + `refresh_token`, the redirect URI without a port
//! and the start URL as issuer; the port goes only into `/authorize` and CreateToken;
//! `/authorize` takes `scopes` space-separated and the S256 challenge unpadded.

use crate::encode::uri_encode;
use crate::error::{AwsError, Error};
use crate::json::{self, Value};
use time::OffsetDateTime;

/// The device-code grant type (RFC 8628).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The scope an authorization-code client gets when the sso-session names none.
pub const DEFAULT_SCOPE: &str = "sso:account:access";
/// The redirect URI registered (the CLI's: no port, any loopback port is accepted).
pub const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";
/// A token (or a registration) with less than this left is refreshed (renewed): 15
/// minutes, the CLI's and botocore's window.
pub const REFRESH_WINDOW_SECS: i64 = 15 * 60;
/// The device-code poll interval when the service names none (RFC 8628).
pub const DEFAULT_INTERVAL_SECS: u64 = 5;
/// What a SlowDownException adds to the interval (RFC 8628).
pub const SLOW_DOWN_SECS: u64 = 5;

/// A JSON POST to the OIDC service: its path and body.
pub struct OidcRequest {
    pub action: &'static str,
    pub path: &'static str,
    pub body: String,
}

/// How a RegisterClient asks for its client.
pub enum ClientKind<'a> {
    /// For the device-code flow (legacy profiles, `login --remote`).
    Device,
    /// For the authorization-code flow, issued by start URL `issuer`.
    AuthCode { issuer: &'a str },
}

/// The client name the CLI registers: `botocore-client-<session>` (legacy profiles:
/// `now`'s Unix time in place of the session).
pub fn client_name(session: Option<&str>, now: OffsetDateTime) -> String {
    match session {
        Some(s) => format!("botocore-client-{s}"),
        None => format!("botocore-client-{}", now.unix_timestamp()),
    }
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
}

/// RegisterClient of a public client `name` with `scopes` (none: the device flow asks
/// for none; the authorization-code flow for [`DEFAULT_SCOPE`]).
///
/// ```
/// use aws_session::aws::sso_oidc::{register_client, ClientKind};
/// let r = register_client("botocore-client-corp", &[], ClientKind::AuthCode { issuer: "https://d-1.awsapps.com/start" });
/// assert_eq!(r.path, "/client/register");
/// assert!(r.body.contains(r#""grantTypes":["authorization_code","refresh_token"]"#), "{}", r.body);
/// assert!(r.body.contains(r#""redirectUris":["http://127.0.0.1/oauth/callback"]"#));
/// assert!(r.body.contains(r#""scopes":["sso:account:access"]"#));
/// ```
pub fn register_client(name: &str, scopes: &[String], kind: ClientKind) -> OidcRequest {
    let mut doc = Value::object_of_strings(&[("clientName", name), ("clientType", "public")]);
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match kind {
        ClientKind::Device => {
            if !scopes.is_empty() {
                doc.set("scopes", strings(&scopes));
            }
        }
        ClientKind::AuthCode { issuer } => {
            doc.set(
                "grantTypes",
                strings(&["authorization_code", "refresh_token"]),
            );
            doc.set("redirectUris", strings(&[REDIRECT_URI]));
            doc.set("issuerUrl", Value::String(issuer.to_string()));
            let scopes = if scopes.is_empty() {
                vec![DEFAULT_SCOPE]
            } else {
                scopes
            };
            doc.set("scopes", strings(&scopes));
        }
    }
    OidcRequest {
        action: "RegisterClient",
        path: "/client/register",
        body: doc.to_json(),
    }
}

/// StartDeviceAuthorization for `start_url`.
pub fn start_device_authorization(
    client_id: &str,
    client_secret: &str,
    start_url: &str,
) -> OidcRequest {
    OidcRequest {
        action: "StartDeviceAuthorization",
        path: "/device_authorization",
        body: Value::object_of_strings(&[
            ("clientId", client_id),
            ("clientSecret", client_secret),
            ("startUrl", start_url),
        ])
        .to_json(),
    }
}

/// What a CreateToken trades for a token.
pub enum Grant<'a> {
    DeviceCode(&'a str),
    AuthCode {
        code: &'a str,
        redirect_uri: &'a str,
        verifier: &'a str,
    },
    Refresh(&'a str),
}

/// CreateToken of client (`client_id`, `client_secret`) with `grant`.
///
/// ```
/// use aws_session::aws::sso_oidc::{create_token, Grant};
/// let r = create_token("id", "secret", Grant::Refresh("rt"));
/// assert!(r.body.contains(r#""grantType":"refresh_token""#) && r.body.contains(r#""refreshToken":"rt""#));
/// ```
pub fn create_token(client_id: &str, client_secret: &str, grant: Grant) -> OidcRequest {
    let mut doc =
        Value::object_of_strings(&[("clientId", client_id), ("clientSecret", client_secret)]);
    let s = |v: &str| Value::String(v.to_string());
    match grant {
        Grant::DeviceCode(code) => {
            doc.set("grantType", s(DEVICE_GRANT));
            doc.set("deviceCode", s(code));
        }
        Grant::AuthCode {
            code,
            redirect_uri,
            verifier,
        } => {
            doc.set("grantType", s("authorization_code"));
            doc.set("redirectUri", s(redirect_uri));
            doc.set("codeVerifier", s(verifier));
            doc.set("code", s(code));
        }
        Grant::Refresh(token) => {
            doc.set("grantType", s("refresh_token"));
            doc.set("refreshToken", s(token));
        }
    }
    OidcRequest {
        action: "CreateToken",
        path: "/token",
        body: doc.to_json(),
    }
}

/// The `/authorize` URL of the authorization-code flow at OIDC `base`.
///
/// ```
/// use aws_session::aws::sso_oidc::authorize_url;
/// let u = authorize_url("https://oidc.eu-west-1.amazonaws.com", "cid", "http://127.0.0.1:4711/oauth/callback", "st", "ch", &[]);
/// assert_eq!(u, "https://oidc.eu-west-1.amazonaws.com/authorize?response_type=code&client_id=cid\
/// &redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Foauth%2Fcallback&state=st&code_challenge_method=S256\
/// &scopes=sso%3Aaccount%3Aaccess&code_challenge=ch");
/// ```
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
    scopes: &[String],
) -> String {
    let scopes = if scopes.is_empty() {
        DEFAULT_SCOPE.to_string()
    } else {
        scopes.join(" ")
    };
    let q = |v: &str| uri_encode(v, false);
    format!(
        "{base}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        q(client_id),
        q(redirect_uri),
        q(state),
        q(&scopes),
        q(challenge)
    )
}

/// A client registration (no Debug: it holds the client secret).
#[derive(Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: OffsetDateTime,
}

/// The device authorization a person approves.
#[derive(Clone)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: u64,
}

/// A CreateToken answer (no Debug: secrets).
#[derive(Clone)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

fn answer_doc(action: &str, body: &str) -> Result<Value, Error> {
    match json::parse(body) {
        Ok(doc @ Value::Object(_)) => Ok(doc),
        _ => Err(Error::Network(format!(
            "sso-oidc {action}: the answer is not a JSON object: check AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL"
        ))),
    }
}

fn missing(action: &str, member: &str) -> Error {
    Error::Network(format!(
        "sso-oidc {action}: the answer has no usable \"{member}\": check AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL"
    ))
}

fn text(doc: &Value, action: &str, member: &str) -> Result<String, Error> {
    doc.str(member)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| missing(action, member))
}

fn number(doc: &Value, action: &str, member: &str) -> Result<i64, Error> {
    doc.get(member)
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
        .ok_or_else(|| missing(action, member))
}

/// RegisterClient's answer.
pub fn parse_register_client(body: &str) -> Result<Registration, Error> {
    let a = "RegisterClient";
    let doc = answer_doc(a, body)?;
    let expires = number(&doc, a, "clientSecretExpiresAt")?;
    Ok(Registration {
        client_id: text(&doc, a, "clientId")?,
        client_secret: text(&doc, a, "clientSecret")?,
        expires_at: OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|_| missing(a, "clientSecretExpiresAt"))?,
    })
}

/// StartDeviceAuthorization's answer.
pub fn parse_device_authorization(body: &str) -> Result<DeviceAuthorization, Error> {
    let a = "StartDeviceAuthorization";
    let doc = answer_doc(a, body)?;
    Ok(DeviceAuthorization {
        device_code: text(&doc, a, "deviceCode")?,
        user_code: text(&doc, a, "userCode")?,
        verification_uri: text(&doc, a, "verificationUri")?,
        verification_uri_complete: doc
            .str("verificationUriComplete")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        expires_in: number(&doc, a, "expiresIn")?,
        interval: doc
            .get("interval")
            .and_then(Value::as_i64)
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| (1..=60).contains(n))
            .unwrap_or(DEFAULT_INTERVAL_SECS),
    })
}

/// CreateToken's answer.
pub fn parse_create_token(body: &str) -> Result<TokenAnswer, Error> {
    let a = "CreateToken";
    let doc = answer_doc(a, body)?;
    Ok(TokenAnswer {
        access_token: text(&doc, a, "accessToken")?,
        expires_in: number(&doc, a, "expiresIn")?,
        refresh_token: doc
            .str("refreshToken")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    })
}

/// The error shape of a rest-json answer, read as botocore does: the
/// `x-amzn-ErrorType` header (before any `:`), else the body's `code` or `__type`
/// (after any `#`). `None` when neither names one.
///
/// ```
/// use aws_session::aws::sso_oidc::error_code;
/// assert_eq!(error_code(Some("SlowDownException:http://internal/"), "{}").as_deref(), Some("SlowDownException"));
/// assert_eq!(error_code(None, r#"{"__type":"com.amazon#InvalidGrantException"}"#).as_deref(), Some("InvalidGrantException"));
/// assert_eq!(error_code(None, "<html>"), None);
/// ```
pub fn error_code(error_type: Option<&str>, body: &str) -> Option<String> {
    let header = error_type
        .map(|t| t.split(':').next().unwrap_or_default().trim())
        .filter(|t| !t.is_empty());
    if let Some(h) = header {
        return Some(h.to_string());
    }
    let doc = json::parse(body).ok()?;
    let code = doc.str("code").or_else(|| doc.str("__type"))?;
    let code = code.rsplit('#').next().unwrap_or(code).trim();
    (!code.is_empty()).then(|| code.to_string())
}

/// An error answer of IAM Identity Center (`service`: `sso-oauth` or `sso`, as IAM
/// names them) to `action`: an [`AwsError`] whose code is the shape
/// (`AuthorizationPendingException`, `UnauthorizedException`, …) and whose message is
/// the body's `error_description` or `message` (the OAuth `error` when there is none).
pub fn parse_error(
    service: &'static str,
    action: &str,
    status: u16,
    error_type: Option<&str>,
    body: &str,
) -> Error {
    let Some(code) = error_code(error_type, body) else {
        return Error::Network(format!(
            "{service} {action}: HTTP {status} without an error document: check AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL, or try again later"
        ));
    };
    let doc = json::parse(body).ok();
    let field = |k: &str| doc.as_ref().and_then(|d| d.str(k)).map(str::to_string);
    let message = field("error_description")
        .or_else(|| field("message"))
        .or_else(|| field("Message"))
        .or_else(|| field("error"))
        .unwrap_or_default();
    Error::Aws(Box::new(AwsError {
        action: action.to_string(),
        service,
        status,
        code,
        message: message.chars().take(300).collect(),
        ..AwsError::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_client_without_scopes_asks_for_none() {
        let r = register_client("n", &[], ClientKind::Device);
        let doc = json::parse(&r.body).unwrap();
        assert!(doc.get("scopes").is_none() && doc.get("grantTypes").is_none());
        let r = register_client("n", &["a".into(), "b".into()], ClientKind::Device);
        assert!(r.body.contains(r#""scopes":["a","b"]"#), "{}", r.body);
    }

    #[test]
    fn answers_are_parsed_and_checked() {
        let t = parse_create_token(r#"{"accessToken":"at","expiresIn":3600,"tokenType":"Bearer"}"#)
            .ok()
            .unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_in), ("at", 3600));
        assert!(t.refresh_token.is_none());
        assert!(parse_create_token(r#"{"expiresIn":3600}"#).is_err());
        assert!(parse_create_token("[]").is_err());
        let d = parse_device_authorization(
            r#"{"deviceCode":"d","userCode":"ABCD-EFGH","verificationUri":"https://v","expiresIn":600}"#,
        )
        .ok()
        .unwrap();
        assert_eq!((d.interval, d.verification_uri_complete), (5, None));
        let r = parse_register_client(
            r#"{"clientId":"c","clientSecret":"s","clientIdIssuedAt":1,"clientSecretExpiresAt":1800000000}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(r.expires_at.unix_timestamp(), 1_800_000_000);
    }

    #[test]
    fn errors_name_the_shape_and_keep_no_body() {
        let e = parse_error(
            "sso-oauth",
            "CreateToken",
            400,
            Some("InvalidGrantException"),
            r#"{"error":"invalid_grant","error_description":"Invalid refresh token provided"}"#,
        );
        match e {
            Error::Aws(a) => {
                assert_eq!(a.code, "InvalidGrantException");
                assert_eq!(a.message, "Invalid refresh token provided");
            }
            other => panic!("{other}"),
        }
        let e = parse_error(
            "sso",
            "GetRoleCredentials",
            502,
            None,
            "<html>bad gateway</html>",
        );
        assert_eq!(e.exit_code(), 5);
    }
}
