//! AWS SigV4 test suite (awslabs/aws-c-auth, Apache-2.0), header-signing cases.
//!
//! The suite is kept in `fixtures/conformance/sigv4` (see the NOTICE there). One trial
//! per case directory, named after it: each step of
//! `aws_session::aws::sigv4` is compared byte for byte with the case's expected files.
//! A missing suite is a failure, never a skip.

use aws_session::aws::sigv4::{
    canonical_request, credential_scope, sign, signature, signed_headers, signing_key,
    string_to_sign, SignableRequest, SigningParams, SigningSettings,
};
use aws_session::credentials::Credentials;
use libtest_mimic::{Arguments, Failed, Trial};
use std::fs;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/conformance/sigv4");
const MIN_CASES: usize = 30;

/// Files a header-signed case carries.
const HEADER_FILES: &[&str] = &[
    "header-canonical-request.txt",
    "header-string-to-sign.txt",
    "header-signature.txt",
    "header-signed-request.txt",
];

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit();
}

fn trials() -> Vec<Trial> {
    let suite = PathBuf::from(SUITE);
    let entries = match fs::read_dir(&suite) {
        Ok(entries) => entries,
        Err(e) => {
            let message = format!(
                "SigV4 conformance suite not found at {} ({e}): it is part of \
                 the repository: restore fixtures/conformance/sigv4 from git",
                suite.display()
            );
            return vec![Trial::test("sigv4_suite_present", move || {
                Err(message.into())
            })];
        }
    };

    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();

    let mut trials = Vec::new();
    let mut header_cases = 0;
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let has_header_files = HEADER_FILES.iter().all(|f| dir.join(f).is_file());
        if !has_header_files && dir.join("query-signature.txt").is_file() {
            // Query-string signing only (presigned URLs): not a context this crate
            // signs in, so there is nothing to compare.
            continue;
        }
        // A directory with neither set of files still gets a trial: it fails,
        // saying which file is missing.
        header_cases += usize::from(has_header_files);
        trials.push(Trial::test(name, move || run_case(&dir)));
    }

    let suite_display = suite.display().to_string();
    trials.push(Trial::test("suite_has_at_least_30_cases", move || {
        if header_cases >= MIN_CASES {
            Ok(())
        } else {
            Err(format!(
                "only {header_cases} header-signed cases in {suite_display}, \
                 expected at least {MIN_CASES}"
            )
            .into())
        }
    }));
    trials
}

/// One case: context.json + request.txt in, four expected files to match.
fn run_case(dir: &Path) -> Result<(), Failed> {
    let context: serde_json::Value = serde_json::from_str(&read(dir, "context.json")?)
        .map_err(|e| format!("{}/context.json: {e}", dir.display()))?;
    let case =
        Context::from_json(&context).map_err(|e| format!("{}/context.json: {e}", dir.display()))?;
    let request = read(dir, "request.txt")?;
    let parsed =
        HttpRequest::parse(&request).map_err(|e| format!("{}/request.txt: {e}", dir.display()))?;

    let req = parsed.signable();
    let params = SigningParams {
        credentials: &case.credentials,
        region: &case.region,
        service: &case.service,
        time: case.time,
        settings: case.settings,
    };
    let added = sign(&req, &params);

    // Step by step, on the headers the request is signed with: the request's own
    // plus the added ones, less a token that is appended after signing.
    let token_unsigned = case.settings.omit_session_token;
    let mut signed_with = parsed.headers.clone();
    signed_with.extend(
        added
            .iter()
            .filter(|(n, _)| n != "Authorization")
            .filter(|(n, _)| !(token_unsigned && n.eq_ignore_ascii_case("x-amz-security-token")))
            .cloned(),
    );
    let creq = canonical_request(
        &SignableRequest {
            headers: &signed_with,
            ..req
        },
        case.settings.normalize_path,
    );
    same(
        "canonical request",
        &read(dir, "header-canonical-request.txt")?,
        &creq,
    )?;

    let scope = credential_scope(case.time, &case.region, &case.service);
    let sts = string_to_sign(case.time, &scope, &creq);
    same(
        "string to sign",
        &read(dir, "header-string-to-sign.txt")?,
        &sts,
    )?;

    let key = signing_key(
        &case.credentials.secret_access_key,
        case.time,
        &case.region,
        &case.service,
    );
    let sig = signature(&key, &sts);
    same(
        "signature",
        read(dir, "header-signature.txt")?.trim_end(),
        &sig,
    )?;

    // The signed request: the headers `sign` added are exactly the lines the
    // expected request has beyond request.txt's, Authorization included.
    let expected = HttpRequest::parse(&read(dir, "header-signed-request.txt")?)
        .map_err(|e| format!("{}/header-signed-request.txt: {e}", dir.display()))?;
    let expected_auth = header(&expected.headers, "authorization")
        .ok_or("header-signed-request.txt has no Authorization header")?;
    let actual_auth = header(&added, "authorization").ok_or("sign added no Authorization")?;
    same("Authorization header", expected_auth, actual_auth)?;
    let signed_list = format!("SignedHeaders={},", signed_headers(&signed_with));
    if !actual_auth.contains(&signed_list) {
        return Err(format!("Authorization {actual_auth:?} lacks {signed_list:?}").into());
    }

    let mut expected_added: Vec<(String, String)> = expected
        .headers
        .iter()
        .filter(|h| !parsed.headers.contains(h))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    let mut actual_added: Vec<(String, String)> = added
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    expected_added.sort();
    actual_added.sort();
    same(
        "headers added by sign",
        &format!("{expected_added:#?}"),
        &format!("{actual_added:#?}"),
    )
}

/// The parts of context.json the header-signing cases use.
struct Context {
    credentials: Credentials,
    region: String,
    service: String,
    time: OffsetDateTime,
    settings: SigningSettings,
}

impl Context {
    fn from_json(v: &serde_json::Value) -> Result<Context, String> {
        let text = |path: &[&str]| -> Result<String, String> {
            path.iter()
                .try_fold(v, |v, k| v.get(k))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("missing string {}", path.join(".")))
        };
        let flag = |key: &str| -> Result<bool, String> {
            match v.get(key) {
                None => Ok(false),
                Some(b) => b.as_bool().ok_or_else(|| format!("{key} is not a boolean")),
            }
        };
        let token = match v.get("credentials").and_then(|c| c.get("token")) {
            None => None,
            Some(t) => Some(
                t.as_str()
                    .ok_or("credentials.token is not a string")?
                    .to_string(),
            ),
        };
        let timestamp = text(&["timestamp"])?;
        let time = OffsetDateTime::parse(&timestamp, &Rfc3339)
            .map_err(|e| format!("timestamp {timestamp:?}: {e}"))?;
        Ok(Context {
            credentials: Credentials {
                access_key_id: text(&["credentials", "access_key_id"])?,
                secret_access_key: text(&["credentials", "secret_access_key"])?,
                session_token: token,
            },
            region: text(&["region"])?,
            service: text(&["service"])?,
            time,
            settings: SigningSettings {
                // Every case states it; the AWS default is on.
                normalize_path: v.get("normalize").and_then(|b| b.as_bool()).unwrap_or(true),
                sign_body: flag("sign_body")?,
                omit_session_token: flag("omit_session_token")?,
            },
        })
    }
}

/// An HTTP/1.1 request in the suite's text form.
struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    /// `METHOD target HTTP/1.1`, then `Name:value` lines (a line starting with
    /// white space continues the previous value, kept with its line break: the
    /// signer folds it), then an empty line and the body. The target may contain
    /// spaces (`/example space/`), so it runs up to the last space.
    fn parse(text: &str) -> Result<HttpRequest, String> {
        let (head, body) = match text.split_once("\n\n") {
            Some((head, body)) => (head, body),
            None => (text.trim_end_matches('\n'), ""),
        };
        let mut lines = head.lines();
        let request_line = lines.next().ok_or("empty request")?;
        let (method, rest) = request_line
            .split_once(' ')
            .ok_or_else(|| format!("bad request line {request_line:?}"))?;
        let (target, _version) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("bad request line {request_line:?}"))?;
        let (path, query) = target.split_once('?').unwrap_or((target, ""));

        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers
                    .last_mut()
                    .ok_or_else(|| format!("continuation line {line:?} before any header"))?;
                last.1.push('\n');
                last.1.push_str(line);
            } else {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("bad header line {line:?}"))?;
                headers.push((name.to_string(), value.to_string()));
            }
        }
        Ok(HttpRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            body: body.as_bytes().to_vec(),
        })
    }

    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn read(dir: &Path, file: &str) -> Result<String, Failed> {
    let path = dir.join(file);
    fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

fn same(what: &str, expected: &str, actual: &str) -> Result<(), Failed> {
    if expected == actual {
        Ok(())
    } else {
        Err(
            format!("{what} differs\n--- expected ---\n{expected}\n--- actual ---\n{actual}\n---")
                .into(),
        )
    }
}
