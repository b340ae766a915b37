//! The AWS Sign-In protocol of `aws login` (pure: strings and bytes in, strings out):
//! the authorization URL with PKCE, the callback or pasted code, the
//! `CreateOAuth2Token` bodies (rest-json, camelCase, `POST {base}/v1/token`) and their
//! answers, the id token's subject, and the token cache record the AWS CLI v2 and
//! botocore share (`~/.aws/login/cache/<sha256(login_session)>.json`).

use crate::credentials::{Credentials, SessionCredentials};
use crate::encode::{
    base64_decode, base64_encode, percent_decode, printable, printable_line, uri_encode,
};
use crate::error::{AwsError, Error};
use crate::json::{self, Value};
use crate::timefmt::{iso8601_utc, parse_rfc3339};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The client id of the browser-on-this-machine flow.
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
/// The client id of the paste-a-code flow (`login --remote`).
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";
/// A token is refreshed when this little is left (botocore's threshold).
pub const REFRESH_MARGIN_SECS: i64 = 300;
/// How long a sign-in lasts, as AWS documents it (the service ends it; nothing in the
/// token says when: it is estimated from the id token's `iat`).
pub const SESSION_HORIZON_SECS: i64 = 12 * 3600;

/// A random (version 4) UUID from 16 random bytes, lower-case and hyphenated.
///
/// ```
/// assert_eq!(aws_session::aws::signin::uuid4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
/// ```
pub fn uuid4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The PKCE code verifier: 64 characters of `[A-Za-z0-9-_]` from 64 random bytes.
pub fn code_verifier(random: &[u8; 64]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    random
        .iter()
        .map(|b| ABC[(b & 63) as usize] as char)
        .collect()
}

/// The PKCE challenge of `verifier`: base64url(SHA-256), no padding (RFC 7636 S256).
///
/// ```
/// use aws_session::aws::signin::code_challenge;
/// // RFC 7636, appendix B.
/// assert_eq!(code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
///            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
/// ```
pub fn code_challenge(verifier: &str) -> String {
    base64_encode(&Sha256::digest(verifier.as_bytes()), true)
}

/// Where the cross-device flow's page shows the code to paste.
pub fn confirmation_uri(base: &str) -> String {
    format!("{base}/v1/sessions/confirmation")
}

/// `CreateOAuth2Token`'s URL (also the DPoP proof's `htu`).
pub fn token_url(base: &str) -> String {
    format!("{base}/v1/token")
}

/// The authorization URL, parameters in the AWS CLI's order and encoding.
///
/// ```
/// let u = aws_session::aws::signin::authorize_url("https://us-east-1.signin.aws.amazon.com",
///     aws_session::aws::signin::SAME_DEVICE, "st", "ch", "http://127.0.0.1:5/oauth/callback");
/// assert_eq!(u, "https://us-east-1.signin.aws.amazon.com/v1/authorize?response_type=code\
///     &client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=st\
///     &code_challenge_method=SHA-256&scope=openid\
///     &redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Foauth%2Fcallback&code_challenge=ch");
/// ```
pub fn authorize_url(
    base: &str,
    client_id: &str,
    state: &str,
    challenge: &str,
    redirect_uri: &str,
) -> String {
    format!(
        "{base}/v1/authorize?response_type=code&client_id={}&state={}&code_challenge_method=SHA-256&scope=openid&redirect_uri={}&code_challenge={}",
        uri_encode(client_id, false),
        uri_encode(state, false),
        uri_encode(redirect_uri, false),
        uri_encode(challenge, false)
    )
}

/// The body that trades an authorization code for a token.
pub fn auth_code_body(client_id: &str, code: &str, verifier: &str, redirect_uri: &str) -> String {
    Value::object_of_strings(&[
        ("clientId", client_id),
        ("grantType", "authorization_code"),
        ("code", code),
        ("codeVerifier", verifier),
        ("redirectUri", redirect_uri),
    ])
    .to_json()
}

/// The body that trades a refresh token for new credentials.
pub fn refresh_body(client_id: &str, refresh_token: &str) -> String {
    Value::object_of_strings(&[
        ("clientId", client_id),
        ("refreshToken", refresh_token),
        ("grantType", "refresh_token"),
    ])
    .to_json()
}

/// A successful `CreateOAuth2Token` answer (no Debug: secrets).
#[derive(Clone)]
pub struct TokenOutput {
    pub credentials: Credentials,
    pub expires_in: i64,
    pub refresh_token: String,
    pub id_token: Option<String>,
}

/// `CreateOAuth2Token`'s answer (`status`, `body`): the token, or the error AWS gave
/// as an [`AwsError`] whose code is the OAuth2 error (`TOKEN_EXPIRED`, …).
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenOutput, Error> {
    let doc = json::parse(body).ok();
    if status != 200 {
        let field =
            |k: &str| printable_line(doc.as_ref().and_then(|d| d.str(k)).unwrap_or_default());
        let code = field("error");
        if code.is_empty() {
            return Err(Error::NotAws(format!(
                "the sign-in service answered HTTP {status} without an error document; check AWS_ENDPOINT_URL_SIGNIN / AWS_ENDPOINT_URL, or try again later"
            )));
        }
        return Err(crate::aws::advice::with_advice(AwsError {
            action: "CreateOAuth2Token".into(),
            service: "signin",
            status,
            code,
            message: field("message"),
            ..AwsError::default()
        }));
    }
    let bad = || {
        Error::NotAws(
            "the sign-in service's answer holds no usable token; try again, or run aws-session login"
                .into(),
        )
    };
    let doc = doc.ok_or_else(bad)?;
    let access = doc.get("accessToken").ok_or_else(bad)?;
    let s = |v: &Value, k: &str| v.str(k).filter(|s| !s.is_empty()).map(str::to_string);
    let expires_in = doc
        .get("expiresIn")
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
        .ok_or_else(bad)?;
    Ok(TokenOutput {
        credentials: Credentials {
            access_key_id: s(access, "accessKeyId").ok_or_else(bad)?,
            secret_access_key: s(access, "secretAccessKey").ok_or_else(bad)?,
            session_token: Some(s(access, "sessionToken").ok_or_else(bad)?),
        },
        expires_in,
        refresh_token: s(&doc, "refreshToken").ok_or_else(bad)?,
        id_token: s(&doc, "idToken"),
    })
}

/// The value of `key` in the query string `q` (the first one).
fn query_value(q: &str, key: &str) -> Option<String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| percent_decode(v, true))
}

/// What came back to the callback URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code and the state it came with.
    Code { code: String, state: String },
    /// The sign-in was refused or cancelled (`error=…`).
    Refused(String),
}

/// A request to the callback listener, as [`parse_callback`] sorts it.
#[derive(Clone, PartialEq, Eq)]
pub enum CallbackRequest {
    /// Not the callback path (a browser's `/favicon.ico`).
    OtherPath,
    /// The callback path, but not this sign-in's answer: another state, no state, or
    /// neither a code nor an error. Answered and ignored: whatever sent it (another
    /// tab, a stale bookmark, a local program) must not end the sign-in.
    Stray,
    /// This sign-in's answer (its state matched).
    Answer(Callback),
}

/// Sort request target `target` (`/oauth/callback?code=…&state=…`) for the sign-in
/// whose state is `state`: only a request carrying that state and a code or an
/// `error` is its answer.
///
/// ```
/// use aws_session::aws::signin::{parse_callback, Callback, CallbackRequest};
/// assert!(parse_callback("/favicon.ico", "s") == CallbackRequest::OtherPath);
/// assert!(matches!(parse_callback("/oauth/callback?code=a%2Bb&state=s", "s"),
///                  CallbackRequest::Answer(Callback::Code { code, state }) if code == "a+b" && state == "s"));
/// assert!(parse_callback("/oauth/callback?code=a&state=x", "s") == CallbackRequest::Stray);
/// assert!(parse_callback("/oauth/callback?code=a", "s") == CallbackRequest::Stray);
/// assert!(parse_callback("/oauth/callback?state=s", "s") == CallbackRequest::Stray);
/// assert!(parse_callback("/oauth/callback?error=access_denied", "s") == CallbackRequest::Stray);
/// assert!(parse_callback("/oauth/callback?error=access_denied&state=s", "s")
///         == CallbackRequest::Answer(Callback::Refused("access_denied".into())));
/// ```
pub fn parse_callback(target: &str, state: &str) -> CallbackRequest {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/oauth/callback" {
        return CallbackRequest::OtherPath;
    }
    if query_value(query, "state").as_deref() != Some(state) {
        return CallbackRequest::Stray;
    }
    if let Some(e) = query_value(query, "error") {
        let e: String = e.chars().take(100).collect();
        return CallbackRequest::Answer(Callback::Refused(printable(&e)));
    }
    match query_value(query, "code") {
        Some(code) if !code.is_empty() => CallbackRequest::Answer(Callback::Code {
            code,
            state: state.to_string(),
        }),
        _ => CallbackRequest::Stray,
    }
}

/// The code pasted in the cross-device flow: standard base64 of `state=…&code=…`
/// (whitespace around it ignored, padding optional). The error says what is wrong.
///
/// ```
/// use aws_session::aws::signin::decode_pasted_code;
/// let pasted = aws_session::encode::base64_encode(b"state=s1&code=c1", false);
/// assert_eq!(decode_pasted_code(&format!(" {pasted}\n")).unwrap(), ("c1".into(), "s1".into()));
/// assert!(decode_pasted_code("not base64!").is_err());
/// ```
pub fn decode_pasted_code(text: &str) -> Result<(String, String), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("no code was entered".into());
    }
    let bytes = base64_decode(t, false).ok_or("it is not base64")?;
    let q = String::from_utf8(bytes).map_err(|_| "it does not decode to text".to_string())?;
    match (query_value(&q, "code"), query_value(&q, "state")) {
        (Some(code), Some(state)) if !code.is_empty() => Ok((code, state)),
        _ => Err("it holds no code and state".into()),
    }
}

/// The claims of a JWT (not verified: the id token comes from the service over TLS
/// and only names the signed-in principal).
pub fn jwt_claims(jwt: &str) -> Option<Value> {
    let mut parts = jwt.split('.');
    let (_, claims, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = base64_decode(claims, true)?;
    json::parse(std::str::from_utf8(&bytes).ok()?).ok()
}

/// The account of an ARN (`arn:aws:iam::123456789012:user/alice` → `123456789012`).
pub fn account_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, _, _, account, _] if !account.is_empty() => Some(account),
        _ => None,
    }
}

/// Whether `s` looks like the ARN of a principal, as the id token's `sub` must before it
/// is written into the config as `login_session` or shown: `arn:PARTITION:iam|sts::` a
/// 12-digit account, `:`, and a resource of the characters IAM allows in names and
/// paths (`A-Z a-z 0-9 + = , . @ _ - /`), at most 2048 characters in all. A line
/// break, an escape or a space would break the config file or the terminal.
///
/// ```
/// use aws_session::aws::signin::is_principal_arn;
/// assert!(is_principal_arn("arn:aws:iam::123456789012:user/alice"));
/// assert!(is_principal_arn("arn:aws-cn:sts::123456789012:assumed-role/Admin/a.b@c"));
/// assert!(!is_principal_arn("arn:aws:iam::123456789012:user/alice\nlogin_session = x"));
/// assert!(!is_principal_arn("arn:aws:iam::123456789012:user/\x1b]0;x\x07"));
/// assert!(!is_principal_arn("arn:aws:iam::12345:user/alice"));
/// assert!(!is_principal_arn("arn:aws:s3:::bucket"));
/// ```
pub fn is_principal_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ["arn", partition, service, "", account, resource] = parts.as_slice() else {
        return false;
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    s.len() <= 2048
        && !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && matches!(*service, "iam" | "sts")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !resource.is_empty()
        && resource.chars().all(name_char)
}

/// The cache file's name for `login_session`: its SHA-256 in hex, `.json`.
///
/// ```
/// assert_eq!(aws_session::aws::signin::cache_file_name("arn:aws:iam::123456789012:user/alice"),
///            "b7d71d383b9557a9bad4c3346c50365819226484c6824a0fdef66637be339db0.json");
/// ```
pub fn cache_file_name(login_session: &str) -> String {
    format!(
        "{}.json",
        hex::encode(Sha256::digest(login_session.as_bytes()))
    )
}

/// The token cache record (the AWS CLI's format; members this code does not know are
/// kept where they are when it is written back). No Debug: secrets.
#[derive(Clone)]
pub struct LoginToken {
    doc: Value,
}

impl LoginToken {
    /// A new record from a token the authorization code brought.
    pub fn new(
        out: &TokenOutput,
        client_id: &str,
        account_id: &str,
        now: OffsetDateTime,
        dpop_pem: &str,
    ) -> LoginToken {
        let mut doc = Value::Object(Vec::new());
        doc.set("accessToken", access_token(out, account_id, now));
        doc.set("tokenType", Value::String("aws_sigv4".into()));
        doc.set("clientId", Value::String(client_id.into()));
        doc.set("refreshToken", Value::String(out.refresh_token.clone()));
        if let Some(id) = &out.id_token {
            doc.set("idToken", Value::String(id.clone()));
        }
        doc.set("dpopKey", Value::String(dpop_pem.into()));
        LoginToken { doc }
    }

    /// Read a record; the error names what is missing or wrong (never a value).
    pub fn parse(text: &str) -> Result<LoginToken, String> {
        let doc = json::parse(text).map_err(|e| format!("it is not JSON ({e})"))?;
        let t = LoginToken { doc };
        for k in ["clientId", "refreshToken", "dpopKey"] {
            if t.doc.str(k).is_none_or(str::is_empty) {
                return Err(format!("it has no {k}"));
            }
        }
        let a = t.doc.get("accessToken").ok_or("it has no accessToken")?;
        for k in [
            "accessKeyId",
            "secretAccessKey",
            "sessionToken",
            "expiresAt",
        ] {
            if a.str(k).is_none_or(str::is_empty) {
                return Err(format!("its accessToken has no {k}"));
            }
        }
        t.expires_at()
            .ok_or("its accessToken.expiresAt is not an RFC 3339 time")?;
        Ok(t)
    }

    fn access(&self, k: &str) -> &str {
        self.doc
            .get("accessToken")
            .and_then(|a| a.str(k))
            .unwrap_or_default()
    }

    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        parse_rfc3339(self.access("expiresAt"))
    }

    /// The credentials and when they expire.
    pub fn session(&self) -> Option<SessionCredentials> {
        Some(SessionCredentials {
            credentials: Credentials {
                access_key_id: self.access("accessKeyId").to_string(),
                secret_access_key: self.access("secretAccessKey").to_string(),
                session_token: Some(self.access("sessionToken").to_string()),
            },
            expiration: self.expires_at()?,
        })
    }

    pub fn client_id(&self) -> &str {
        self.doc.str("clientId").unwrap_or_default()
    }

    pub fn refresh_token(&self) -> &str {
        self.doc.str("refreshToken").unwrap_or_default()
    }

    pub fn dpop_pem(&self) -> &str {
        self.doc.str("dpopKey").unwrap_or_default()
    }

    /// When the sign-in ends, estimated as the id token's `iat` plus
    /// [`SESSION_HORIZON_SECS`]; `None` without an id token.
    pub fn horizon(&self) -> Option<OffsetDateTime> {
        let iat = jwt_claims(self.doc.str("idToken")?)?.get("iat")?.as_i64()?;
        OffsetDateTime::from_unix_timestamp(iat.checked_add(SESSION_HORIZON_SECS)?).ok()
    }

    /// Take a refresh's answer: new credentials and refresh token; `accountId` and
    /// everything else stay.
    pub fn refreshed(&mut self, out: &TokenOutput, now: OffsetDateTime) {
        let account = self.access("accountId").to_string();
        self.doc
            .set("accessToken", access_token(out, &account, now));
        self.doc
            .set("refreshToken", Value::String(out.refresh_token.clone()));
    }

    pub fn to_json(&self) -> String {
        self.doc.to_json()
    }
}

fn access_token(out: &TokenOutput, account_id: &str, now: OffsetDateTime) -> Value {
    let c = &out.credentials;
    let expires = now + time::Duration::seconds(out.expires_in);
    Value::object_of_strings(&[
        ("accessKeyId", &c.access_key_id),
        ("secretAccessKey", &c.secret_access_key),
        (
            "sessionToken",
            c.session_token.as_deref().unwrap_or_default(),
        ),
        ("accountId", account_id),
        ("expiresAt", &iso8601_utc(expires)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_and_errors() {
        let ok = r#"{"accessToken":{"accessKeyId":"ASIA1","secretAccessKey":"s","sessionToken":"t"},"tokenType":"aws_sigv4","expiresIn":900,"refreshToken":"ASOR1","idToken":"a.b.c"}"#;
        let t = parse_token_response(200, ok).unwrap();
        assert_eq!((t.expires_in, t.refresh_token.as_str()), (900, "ASOR1"));
        let Err(e) = parse_token_response(401, r#"{"error":"TOKEN_EXPIRED","message":"gone"}"#)
        else {
            panic!("an error answer was taken")
        };
        assert_eq!(e.exit_code(), 4);
        assert!(e.to_string().contains("aws-session login"), "{e}");
        assert!(parse_token_response(200, "{}").is_err());
        assert!(matches!(
            parse_token_response(502, "<html>"),
            Err(Error::NotAws(_))
        ));
    }

    #[test]
    fn record_round_trip_keeps_unknown_fields() {
        let text = r#"{"accessToken":{"accessKeyId":"A","secretAccessKey":"s","sessionToken":"t","accountId":"1","expiresAt":"2025-09-01T18:39:33Z"},"clientId":"c","refreshToken":"r","dpopKey":"k","extra":{"x":1}}"#;
        let mut t = LoginToken::parse(text).unwrap();
        let out = TokenOutput {
            credentials: Credentials {
                access_key_id: "B".into(),
                secret_access_key: "s2".into(),
                session_token: Some("t2".into()),
            },
            expires_in: 900,
            refresh_token: "r2".into(),
            id_token: None,
        };
        t.refreshed(&out, OffsetDateTime::from_unix_timestamp(0).unwrap());
        assert_eq!(
            t.to_json(),
            r#"{"accessToken":{"accessKeyId":"B","secretAccessKey":"s2","sessionToken":"t2","accountId":"1","expiresAt":"1970-01-01T00:15:00Z"},"clientId":"c","refreshToken":"r2","dpopKey":"k","extra":{"x":1}}"#
        );
        assert!(LoginToken::parse(r#"{"clientId":"c"}"#).is_err());
    }
}
