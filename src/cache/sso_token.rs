//! The AWS CLI v2's IAM Identity Center cache, `~/.aws/sso/cache/`, read and written as
//! the CLI and botocore do, so a sign-in made by either tool serves the other:
//!
//! - the token of an sso-session: `<sha1(session name)>.json` (legacy profiles:
//!   `<sha1(start URL)>.json`) with `startUrl`, `region`, `accessToken`, `expiresAt`
//!   (`YYYY-MM-DDTHH:MM:SSZ`), `clientId`, `clientSecret`, `registrationExpiresAt` and
//!   `refreshToken` (members this code does not know are kept in place);
//! - the client registration: `<sha1 of the CLI's registration key>.json` with
//!   `clientId`, `clientSecret`, `expiresAt`, `scopes`, `grantTypes`.
//!
//! Files are written atomically (temp file, rename) with mode 0600. Pure but for
//! [`read_json`] and [`write_json`].

use crate::encode::sha1_hex;
use crate::fsutil::{read_regular_file, write_atomic, AtSymlink, ReadError};
use crate::json::{self, Value};
use crate::timefmt::{iso8601_utc, parse_rfc3339};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// No cache file is larger (a token is a few KiB).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// `$HOME/.aws/sso/cache` (the CLI's fixed place).
///
/// ```
/// assert_eq!(aws_session::cache::sso_token::cache_dir(Some("/home/a")).unwrap(),
///            std::path::PathBuf::from("/home/a/.aws/sso/cache"));
/// assert!(aws_session::cache::sso_token::cache_dir(Some("rel")).is_none());
/// ```
pub fn cache_dir(home: Option<&str>) -> Option<PathBuf> {
    let home = home.filter(|h| h.starts_with('/'))?;
    Some(Path::new(home).join(".aws/sso/cache"))
}

/// The token file's name: SHA-1 of the session name, else of the start URL.
///
/// ```
/// use aws_session::cache::sso_token::token_file_name;
/// assert_eq!(token_file_name(Some("my-sso"), "https://d-1.awsapps.com/start"),
///            "0ad374308c5a4e22f723adf10145eafad7c4031c.json");
/// assert_eq!(token_file_name(None, "https://d-1.awsapps.com/start"),
///            "0c54b6c27e90660baa89eaad85ac1d5dae26cb7d.json");
/// ```
pub fn token_file_name(session_name: Option<&str>, start_url: &str) -> String {
    format!(
        "{}.json",
        sha1_hex(session_name.unwrap_or(start_url).as_bytes())
    )
}

/// A string as Python's `json.dumps` writes it (ASCII only: `\uXXXX` escapes).
fn py_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The registration file's name, as the CLI computes it: SHA-1 of
/// `json.dumps({"region", "scopes", "session_name", "startUrl", "tool": "botocore"},
/// sort_keys=True)`; `scopes` is `null` when the sso-session names none.
///
/// ```
/// use aws_session::cache::sso_token::registration_file_name;
/// let n = registration_file_name("https://d-1.awsapps.com/start", "us-east-1", None, Some("corp"));
/// assert_eq!(n, format!("{}.json", aws_session::encode::sha1_hex(
///     br#"{"region": "us-east-1", "scopes": null, "session_name": "corp", "startUrl": "https://d-1.awsapps.com/start", "tool": "botocore"}"#)));
/// ```
pub fn registration_file_name(
    start_url: &str,
    region: &str,
    scopes: Option<&[String]>,
    session_name: Option<&str>,
) -> String {
    let scopes = match scopes {
        None => "null".to_string(),
        Some(list) => format!(
            "[{}]",
            list.iter()
                .map(|s| py_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let session = session_name.map_or("null".to_string(), py_string);
    let key = format!(
        "{{\"region\": {}, \"scopes\": {scopes}, \"session_name\": {session}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
        py_string(region),
        py_string(start_url)
    );
    format!("{}.json", sha1_hex(key.as_bytes()))
}

/// A time as the cache files hold it: RFC 3339, or the CLI's older
/// `2026-12-08T04:00:00UTC`.
pub fn parse_cache_time(s: &str) -> Option<OffsetDateTime> {
    parse_rfc3339(s).or_else(|| parse_rfc3339(&format!("{}Z", s.strip_suffix("UTC")?)))
}

/// A cached token (no Debug: it holds the access token, refresh token and client
/// secret). The document is kept whole, so unknown members survive a refresh.
#[derive(Clone)]
pub struct SsoToken {
    doc: Value,
}

impl SsoToken {
    /// Parse a token file. The error says what is wrong, never a value.
    pub fn parse(text: &str) -> Result<SsoToken, String> {
        let doc = json::parse(text).map_err(|e| format!("it is not JSON ({e})"))?;
        if !matches!(doc, Value::Object(_)) {
            return Err("it is not a JSON object".into());
        }
        let t = SsoToken { doc };
        if t.access_token().is_empty() {
            return Err("it has no accessToken".into());
        }
        if t.expires_at().is_none() {
            return Err("its expiresAt is missing or not a time".into());
        }
        Ok(t)
    }

    /// A new token of `start_url` in `region` from a CreateToken answer at `now`,
    /// with the registration it was made with.
    pub fn new(
        start_url: &str,
        region: &str,
        access_token: &str,
        expires_at: OffsetDateTime,
        registration: (&str, &str, OffsetDateTime),
        refresh_token: Option<&str>,
    ) -> SsoToken {
        let (id, secret, reg_expires) = registration;
        let mut doc = Value::object_of_strings(&[
            ("startUrl", start_url),
            ("region", region),
            ("accessToken", access_token),
            ("expiresAt", &iso8601_utc(expires_at)),
            ("clientId", id),
            ("clientSecret", secret),
            ("registrationExpiresAt", &iso8601_utc(reg_expires)),
        ]);
        if let Some(r) = refresh_token {
            doc.set("refreshToken", Value::String(r.to_string()));
        }
        SsoToken { doc }
    }

    fn member(&self, k: &str) -> Option<&str> {
        self.doc.str(k).filter(|s| !s.is_empty())
    }

    pub fn access_token(&self) -> &str {
        self.member("accessToken").unwrap_or_default()
    }

    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.member("expiresAt").and_then(parse_cache_time)
    }

    pub fn start_url(&self) -> Option<&str> {
        self.member("startUrl")
    }

    pub fn refresh_token(&self) -> Option<&str> {
        self.member("refreshToken")
    }

    /// The client registration cached with the token: id, secret, expiry.
    pub fn registration(&self) -> Option<(&str, &str, OffsetDateTime)> {
        Some((
            self.member("clientId")?,
            self.member("clientSecret")?,
            self.member("registrationExpiresAt")
                .and_then(parse_cache_time)?,
        ))
    }

    /// Take a refresh's answer: a new access token and expiry, and the new refresh
    /// token when the service sent one.
    pub fn refreshed(
        &mut self,
        access_token: &str,
        expires_at: OffsetDateTime,
        refresh: Option<&str>,
    ) {
        self.doc
            .set("accessToken", Value::String(access_token.to_string()));
        self.doc
            .set("expiresAt", Value::String(iso8601_utc(expires_at)));
        if let Some(r) = refresh {
            self.doc.set("refreshToken", Value::String(r.to_string()));
        }
    }

    pub fn to_json(&self) -> String {
        self.doc.to_json()
    }
}

/// A client registration as the CLI caches it (no Debug: the client secret).
#[derive(Clone)]
pub struct CachedRegistration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: OffsetDateTime,
    /// `grantTypes` holds `authorization_code` (a client of the PKCE flow).
    pub auth_code: bool,
}

impl CachedRegistration {
    /// Parse a registration file; `None` when it is not one.
    pub fn parse(text: &str) -> Option<CachedRegistration> {
        let doc = json::parse(text).ok()?;
        let s = |k: &str| doc.str(k).filter(|s| !s.is_empty()).map(str::to_string);
        let auth_code = match doc.get("grantTypes") {
            Some(Value::Array(items)) => items
                .iter()
                .any(|g| g.as_str() == Some("authorization_code")),
            _ => false,
        };
        Some(CachedRegistration {
            client_id: s("clientId")?,
            client_secret: s("clientSecret")?,
            expires_at: s("expiresAt").as_deref().and_then(parse_cache_time)?,
            auth_code,
        })
    }

    /// The file's JSON: what the CLI writes (`scopes`, and `grantTypes` for PKCE).
    pub fn to_json(&self, scopes: &[&str]) -> String {
        let mut doc = Value::object_of_strings(&[
            ("clientId", &self.client_id),
            ("clientSecret", &self.client_secret),
            ("expiresAt", &iso8601_utc(self.expires_at)),
        ]);
        let list =
            |v: &[&str]| Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect());
        if !scopes.is_empty() {
            doc.set("scopes", list(scopes));
        }
        if self.auth_code {
            doc.set("grantTypes", list(&["authorization_code", "refresh_token"]));
        }
        doc.to_json()
    }
}

/// Why a cache file could not be read.
pub enum ReadFailure {
    /// Not a regular file, too large, or unreadable: the reason, for a message.
    Unreadable(String),
}

/// The text of cache file `path`; `Ok(None)` when there is none.
pub fn read_json(path: &Path) -> Result<Option<String>, ReadFailure> {
    match read_regular_file(path, MAX_FILE_BYTES) {
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| ReadFailure::Unreadable("it is not UTF-8 text".into())),
        Ok(None) => Ok(None),
        Err(ReadError::NotRegular(what)) => Err(ReadFailure::Unreadable(format!(
            "it is not a regular file ({what})"
        ))),
        Err(ReadError::TooLarge(n)) => Err(ReadFailure::Unreadable(format!(
            "{n} bytes, more than the 1 MiB a token file may have"
        ))),
        Err(ReadError::Io(e)) => Err(ReadFailure::Unreadable(e.to_string())),
    }
}

/// Write `text` to `path` atomically with mode 0600, making the directory (0700) first.
pub fn write_json(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    write_atomic(path, text.as_bytes(), 0o600, AtSymlink::Replace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_escapes_non_ascii() {
        assert_eq!(py_string("é😀\"x"), "\"\\u00e9\\ud83d\\ude00\\\"x\"");
    }

    #[test]
    fn token_round_trip_keeps_unknown_members() {
        let text = r#"{"startUrl":"https://s","region":"us-east-1","accessToken":"at","expiresAt":"2026-12-08T04:00:00Z","clientId":"c","clientSecret":"cs","registrationExpiresAt":"2027-03-01T00:00:00UTC","refreshToken":"rt","extra":{"k":1}}"#;
        let mut t = SsoToken::parse(text).ok().unwrap();
        assert_eq!(t.registration().unwrap().2.unix_timestamp(), 1_803_859_200);
        let later = t.expires_at().unwrap() + time::Duration::hours(1);
        t.refreshed("at2", later, None);
        let back = t.to_json();
        assert!(back.contains(r#""extra":{"k":1}"#) && back.contains(r#""refreshToken":"rt""#));
        assert!(
            back.contains(r#""expiresAt":"2026-12-08T05:00:00Z""#),
            "{back}"
        );
        assert!(SsoToken::parse(r#"{"accessToken":"a"}"#).is_err());
        assert!(SsoToken::parse(r#"{"accessToken":"a","expiresAt":"tomorrow"}"#).is_err());
        assert!(SsoToken::parse("{\"accessToken\":\"a\",").is_err());
    }
}
