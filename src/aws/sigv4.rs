//! AWS Signature Version 4, signed in headers (pure: no clock, env, files or network).
//!
//! One step of the algorithm per function, each a plain function of its inputs, so each
//! step can be checked against AWS's test suite on its own:
//!
//! 1. [`canonical_request`] (with [`signed_headers`]): the request in canonical form,
//! 2. [`credential_scope`] and [`string_to_sign`]: what gets signed,
//! 3. [`signing_key`]: the key derived from the secret, the date, region and service,
//! 4. [`signature`]: HMAC of the string to sign with that key.
//!
//! [`sign`] runs all four and returns the headers to add to the request.
//!
//! The time is passed in; the caller reads the clock. Secrets never reach any
//! `Debug`/`Display` output, and the derived keys are wiped once used.

use crate::credentials::Credentials;
use crate::encode::{hex_value, uri_encode};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;

/// The only algorithm this module speaks.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Headers that are never signed: a proxy or the HTTP client may change or add them
/// (same list as botocore), or [`sign`] itself produces them.
const UNSIGNED_HEADERS: &[&str] = &["authorization", "expect", "user-agent", "x-amzn-trace-id"];

/// The headers [`sign`] adds itself; a copy passed in by the caller is ignored so the
/// request never carries two different values.
const ADDED_HEADERS: &[&str] = &["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/// A request as it will be sent, borrowed from the caller.
///
/// ```
/// use aws_session::aws::sigv4::SignableRequest;
/// let headers = vec![("Host".to_string(), "sts.amazonaws.com".to_string())];
/// let req = SignableRequest {
///     method: "POST",
///     path: "/",
///     query: "",
///     headers: &headers,
///     body: b"Action=GetCallerIdentity&Version=2011-06-15",
/// };
/// assert_eq!(req.method, "POST");
/// ```
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, upper case (`GET`, `POST`).
    pub method: &'a str,
    /// Path as on the request line, without the query. It is URI-encoded once more
    /// here, which is what every service but S3 expects (S3 is not supported).
    pub path: &'a str,
    /// Query string without the `?` (empty when there is none). Parameters are
    /// decoded and re-encoded, so both `%E1%88%B4` and a raw `ሴ` sign the same.
    pub query: &'a str,
    /// Headers exactly as they will be sent, `Host` included (with `:port` when the
    /// port is not the scheme's default).
    pub headers: &'a [(String, String)],
    /// The body as sent.
    pub body: &'a [u8],
}

// Hand-written so a body carrying secrets (a form with a TokenCode) never shows.
impl fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Knobs of the signing algorithm, named as in AWS's test suite.
///
/// ```
/// use aws_session::aws::sigv4::SigningSettings;
/// let s = SigningSettings::default();
/// assert!(s.normalize_path && !s.sign_body && !s.omit_session_token);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningSettings {
    /// Remove `.` and `..` segments and empty segments (`//`) from the path before
    /// encoding it (every service but S3).
    pub normalize_path: bool,
    /// Add (and sign) an `x-amz-content-sha256` header with the body's SHA-256.
    pub sign_body: bool,
    /// Leave the session token out of the signature: the `X-Amz-Security-Token`
    /// header is still returned, but added after signing, unsigned. `false` (sign it)
    /// is what STS and IAM expect and what botocore does.
    pub omit_session_token: bool,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            normalize_path: true,
            sign_body: false,
            omit_session_token: false,
        }
    }
}

/// Who signs, for what, and when.
///
/// ```
/// use aws_session::credentials::Credentials;
/// use aws_session::aws::sigv4::{SigningParams, SigningSettings};
/// let creds = Credentials::long_term("AKIDEXAMPLE", "secret");
/// let params = SigningParams {
///     credentials: &creds,
///     region: "us-east-1",
///     service: "sts",
///     time: time::OffsetDateTime::UNIX_EPOCH,
///     settings: SigningSettings::default(),
/// };
/// assert_eq!(params.service, "sts");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The keys to sign with (`Debug` of [`Credentials`] redacts the secrets).
    pub credentials: &'a Credentials,
    /// Signing region (`us-east-1` for the global STS and IAM endpoints).
    pub region: &'a str,
    /// Signing service name (`sts`, `iam`).
    pub service: &'a str,
    /// When the request is signed; converted to UTC.
    pub time: OffsetDateTime,
    /// Algorithm knobs.
    pub settings: SigningSettings,
}

/// A key derived by [`signing_key`]. Wiped when dropped; `Debug` shows nothing of it.
pub struct SigningKey([u8; 32]);

impl Drop for SigningKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// `20150830T123600Z`: the `X-Amz-Date` form of a time, in UTC.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// assert_eq!(aws_session::aws::sigv4::amz_date(t), "20150830T123600Z");
/// ```
pub use crate::timefmt::amz_date;

/// `20150830`: the date part of the credential scope, in UTC.
use crate::timefmt::date_stamp as short_date;

/// Step 1: the canonical request.
///
/// `req.headers` must already hold every header to sign, `X-Amz-Date` included
/// ([`sign`] adds it); `Authorization`, `User-Agent`, `Expect` and `X-Amzn-Trace-Id`
/// are left out. The payload hash is the SHA-256 of `req.body`.
///
/// ```
/// use aws_session::aws::sigv4::{canonical_request, SignableRequest};
/// let headers = vec![
///     ("Host".to_string(), "example.amazonaws.com".to_string()),
///     ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
/// ];
/// let req = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
/// assert_eq!(
///     canonical_request(&req, true),
///     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
///      host;x-amz-date\n\
///      e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn canonical_request(req: &SignableRequest<'_>, normalize_path: bool) -> String {
    let headers = canonical_headers(req.headers);
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_path(req.path, normalize_path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for (name, values) in &headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&join_names(&headers));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(req.body)));
    out
}

/// The `SignedHeaders` list of [`canonical_request`]: lower-cased names, sorted,
/// joined with `;`.
///
/// ```
/// let h = vec![
///     ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
///     ("Host".to_string(), "example.amazonaws.com".to_string()),
///     ("User-Agent".to_string(), "curl".to_string()),
/// ];
/// assert_eq!(aws_session::aws::sigv4::signed_headers(&h), "host;x-amz-date");
/// ```
pub fn signed_headers(headers: &[(String, String)]) -> String {
    join_names(&canonical_headers(headers))
}

/// Step 2a: `20150830/us-east-1/service/aws4_request`.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// assert_eq!(
///     aws_session::aws::sigv4::credential_scope(t, "us-east-1", "sts"),
///     "20150830/us-east-1/sts/aws4_request"
/// );
/// ```
pub fn credential_scope(time: OffsetDateTime, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}/aws4_request", short_date(time))
}

/// Step 2b: the string to sign, from the time, the [`credential_scope`] and the
/// [`canonical_request`].
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// let sts = aws_session::aws::sigv4::string_to_sign(t, "20150830/us-east-1/service/aws4_request", "");
/// assert!(sts.starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"));
/// ```
pub fn string_to_sign(time: OffsetDateTime, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        amz_date(time),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Step 3: the signing key, `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
/// service), "aws4_request")`. Every intermediate buffer is wiped.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// let key = aws_session::aws::sigv4::signing_key("secret", t, "us-east-1", "sts");
/// assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
/// ```
pub fn signing_key(
    secret_access_key: &str,
    time: OffsetDateTime,
    region: &str,
    service: &str,
) -> SigningKey {
    let mut secret = Vec::with_capacity(4 + secret_access_key.len());
    secret.extend_from_slice(b"AWS4");
    secret.extend_from_slice(secret_access_key.as_bytes());
    let mut k_date = hmac_sha256(&secret, short_date(time).as_bytes());
    wipe(&mut secret);
    let mut k_region = hmac_sha256(&k_date, region.as_bytes());
    wipe(&mut k_date);
    let mut k_service = hmac_sha256(&k_region, service.as_bytes());
    wipe(&mut k_region);
    let key = SigningKey(hmac_sha256(&k_service, b"aws4_request"));
    wipe(&mut k_service);
    key
}

/// Step 4: the hex signature of a [`string_to_sign`].
///
/// ```
/// use aws_session::aws::sigv4::{signature, signing_key};
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// let key = signing_key("secret", t, "us-east-1", "sts");
/// assert_eq!(signature(&key, "text").len(), 64);
/// ```
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(&key.0, string_to_sign.as_bytes()))
}

/// Sign `req`: returns the headers to add to it, in this order: `X-Amz-Date`,
/// `X-Amz-Security-Token` (when the credentials carry a token; signed unless
/// `omit_session_token`), `x-amz-content-sha256` (when `sign_body`), `Authorization`.
///
/// The request must be sent with exactly `req.headers` plus these, and `req.body`.
/// Copies of the added headers already in `req.headers` are not signed: drop them
/// from the request.
///
/// ```
/// use aws_session::credentials::Credentials;
/// use aws_session::aws::sigv4::{sign, SignableRequest, SigningParams, SigningSettings};
/// let creds = Credentials::long_term("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
/// let headers = vec![("Host".to_string(), "example.amazonaws.com".to_string())];
/// let req = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
/// let params = SigningParams {
///     credentials: &creds,
///     region: "us-east-1",
///     service: "service",
///     time: time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap(),
///     settings: SigningSettings::default(),
/// };
/// let added = sign(&req, &params);
/// assert_eq!(added[0], ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()));
/// assert_eq!(
///     added[1].1,
///     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
///      SignedHeaders=host;x-amz-date, \
///      Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
/// );
/// ```
pub fn sign(req: &SignableRequest<'_>, params: &SigningParams<'_>) -> Vec<(String, String)> {
    let settings = params.settings;
    let mut added = vec![("X-Amz-Date".to_string(), amz_date(params.time))];
    let token = params.credentials.session_token.as_ref();
    if let Some(token) = token.filter(|_| !settings.omit_session_token) {
        added.push(("X-Amz-Security-Token".to_string(), token.clone()));
    }
    if settings.sign_body {
        added.push((
            "x-amz-content-sha256".to_string(),
            hex::encode(Sha256::digest(req.body)),
        ));
    }

    let mut to_sign: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(name, _)| !ADDED_HEADERS.contains(&name.trim().to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    to_sign.extend(added.iter().cloned());
    let signable = SignableRequest {
        headers: &to_sign,
        ..*req
    };

    let canonical = canonical_request(&signable, settings.normalize_path);
    let scope = credential_scope(params.time, params.region, params.service);
    let key = signing_key(
        &params.credentials.secret_access_key,
        params.time,
        params.region,
        params.service,
    );
    let sig = signature(&key, &string_to_sign(params.time, &scope, &canonical));
    drop(key);

    if let Some(token) = token.filter(|_| settings.omit_session_token) {
        added.push(("X-Amz-Security-Token".to_string(), token.clone()));
    }
    added.push((
        "Authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            params.credentials.access_key_id,
            signed_headers(&to_sign)
        ),
    ));
    added
}

/// Lower-cased names (sorted) to their values in order of appearance, each value
/// trimmed with inner whitespace runs (folded lines included) collapsed to one space.
fn canonical_headers(headers: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.trim().to_ascii_lowercase();
        if UNSIGNED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        map.entry(name).or_default().push(value);
    }
    map
}

fn join_names(headers: &BTreeMap<String, Vec<String>>) -> String {
    headers
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";")
}

/// The path, normalized when asked, URI-encoded with `/` kept.
fn canonical_path(path: &str, normalize: bool) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    if !normalize {
        return uri_encode(path, true);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    uri_encode(&out, true)
}

/// Parameters split on `&` and the first `=`, each side decoded and re-encoded,
/// sorted by key then value.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p.split_once('=').unwrap_or((p, ""));
            (reencode(key), reencode(value))
        })
        .collect();
    params.sort();
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `uri_encode(percent_decode(raw))`, without going through bytes that might not be
/// UTF-8: valid `%XX` escapes are kept (upper-cased, or turned back into the
/// unreserved character they stand for), everything else is encoded.
fn reencode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let escape = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escape {
            Some(byte) => {
                out.push_str(&uri_encode(&raw[plain_start..i], false));
                if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                    out.push(char::from(byte));
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
                i += 3;
                plain_start = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&uri_encode(&raw[plain_start..], false));
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` never fails for it.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 accepts keys of any length")
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Overwrite key material with zeros; `black_box` keeps the writes from being
/// optimised away as dead stores.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's documented example (suite case get-vanilla): GET / on example.amazonaws.com,
    // 2015-08-30T12:36:00Z, us-east-1, service "service".
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const CANONICAL: &str = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
                             host;x-amz-date\n\
                             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const STRING_TO_SIGN: &str = "AWS4-HMAC-SHA256\n20150830T123600Z\n\
                                  20150830/us-east-1/service/aws4_request\n\
                                  bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
    const SIGNATURE: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn time() -> OffsetDateTime {
        match OffsetDateTime::from_unix_timestamp(1_440_938_160) {
            Ok(t) => t,
            Err(e) => panic!("bad test time: {e}"),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn formats_dates_in_utc() {
        assert_eq!(amz_date(time()), "20150830T123600Z");
        let later =
            time().to_offset(time::UtcOffset::from_hms(14, 0, 0).unwrap_or(time::UtcOffset::UTC));
        assert_eq!(amz_date(later), "20150830T123600Z");
        assert_eq!(short_date(later), "20150830");
    }

    #[test]
    fn canonical_request_of_get_vanilla() {
        let h = headers(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ]);
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &h,
            body: b"",
        };
        assert_eq!(canonical_request(&req, true), CANONICAL);
        assert_eq!(signed_headers(&h), "host;x-amz-date");
    }

    #[test]
    fn string_to_sign_of_get_vanilla() {
        let scope = credential_scope(time(), "us-east-1", "service");
        assert_eq!(scope, "20150830/us-east-1/service/aws4_request");
        assert_eq!(string_to_sign(time(), &scope, CANONICAL), STRING_TO_SIGN);
    }

    #[test]
    fn signing_key_of_aws_docs() {
        // AWS's "derive a signing key" documentation example: 20120215, us-east-1, iam.
        let day = match OffsetDateTime::from_unix_timestamp(1_329_264_000) {
            Ok(t) => t,
            Err(e) => panic!("bad test time: {e}"),
        };
        let key = signing_key(SECRET, day, "us-east-1", "iam");
        assert_eq!(
            hex::encode(key.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }

    #[test]
    fn signature_of_get_vanilla() {
        let key = signing_key(SECRET, time(), "us-east-1", "service");
        assert_eq!(signature(&key, STRING_TO_SIGN), SIGNATURE);
    }

    #[test]
    fn wipe_zeroes_key_material() {
        let mut buf = hmac_sha256(b"AWS4secret", b"20150830");
        assert_ne!(buf, [0; 32]);
        wipe(&mut buf);
        assert_eq!(buf, [0; 32]);
    }

    #[test]
    fn sign_get_vanilla() {
        let creds = Credentials::long_term("AKIDEXAMPLE", SECRET);
        let h = headers(&[("Host", "example.amazonaws.com")]);
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &h,
            body: b"",
        };
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "service",
            time: time(),
            settings: SigningSettings::default(),
        };
        assert_eq!(
            sign(&req, &params),
            headers(&[
                ("X-Amz-Date", "20150830T123600Z"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                     SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                ),
            ])
        );
    }

    #[test]
    fn sign_signs_the_session_token_and_ignores_caller_copies() {
        let mut creds = Credentials::long_term("AKIDEXAMPLE", SECRET);
        creds.session_token = Some("TOKEN".to_string());
        let h = headers(&[
            ("Host", "sts.amazonaws.com"),
            ("X-Amz-Date", "19700101T000000Z"),
            ("User-Agent", "aws-session"),
        ]);
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &h,
            body: b"Action=GetCallerIdentity&Version=2011-06-15",
        };
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "sts",
            time: time(),
            settings: SigningSettings::default(),
        };
        let added = sign(&req, &params);
        assert_eq!(added.len(), 3);
        assert_eq!(added[1], ("X-Amz-Security-Token".into(), "TOKEN".into()));
        assert!(added[2]
            .1
            .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    }

    #[test]
    fn paths_are_normalized_then_encoded() {
        assert_eq!(canonical_path("//example//", true), "/example/");
        assert_eq!(canonical_path("/example1/example2/../..", true), "/");
        assert_eq!(canonical_path("/./example", true), "/example");
        assert_eq!(canonical_path("/a/b/..", true), "/a");
        assert_eq!(canonical_path("/example space/", true), "/example%20space/");
        assert_eq!(canonical_path("//example//", false), "//example//");
        assert_eq!(canonical_path("/a%2Fb", false), "/a%252Fb");
        assert_eq!(canonical_path("", true), "/");
    }

    #[test]
    fn queries_are_reencoded_and_sorted() {
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(canonical_query("ሴ=bar"), "%E1%88%B4=bar");
        assert_eq!(
            canonical_query("b=2&a&a=1&&c=%zz%41%e1"),
            "a=&a=1&b=2&c=%25zzA%E1"
        );
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn header_values_are_trimmed_folded_and_joined() {
        let h = headers(&[
            ("My-Header1", " value1\n  value2\t value3 "),
            ("my-header1", "\"a   b\""),
            ("Host", "h"),
        ]);
        let c = canonical_headers(&h);
        assert_eq!(c["my-header1"], vec!["value1 value2 value3", "\"a b\""]);
        assert_eq!(join_names(&c), "host;my-header1");
    }
}
