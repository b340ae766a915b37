//! One AWS call: resolve the endpoint, sign ([`crate::aws::sigv4`]), send ([`crate::aws::http`]),
//! turn an `<ErrorResponse>` into [`Error::Aws`], retry what is safe to retry.
//!
//! Retries (jittered exponential backoff, 3 attempts): throttling, HTTP 5xx/429 and lost
//! connections; never an auth error, never a timeout, and never a request carrying an
//! MFA code once it may have reached AWS (a TOTP code is accepted once; a resend would
//! be refused) — a refused connection carried nothing and is retried.
//!
//! AWS_SESSION_TIMEOUT is one deadline for all the network work of a run: every
//! request, retry and backoff sleep of this client draws on it (the time between
//! calls, when a person types a code, does not). A request gets what is left; a retry
//! whose backoff would not leave time is not made. docs/errors.md lists every failure.

use crate::aws::dpop::{random_bytes, DpopKey};
use crate::aws::endpoint::{resolve, EndpointSettings};
use crate::aws::http::{HttpRequest, Transport, TransportError};
use crate::aws::query::{QueryRequest, Service, CONTENT_TYPE};
use crate::aws::signin::{parse_token_response, token_url, uuid4, TokenOutput};
use crate::aws::sigv4;
use crate::credentials::Credentials;
use crate::error::{AwsError, Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Sends signed Query API requests.
pub struct Client {
    transport: Transport,
    endpoints: EndpointSettings,
    /// Attempts per request for retryable failures.
    attempts: u32,
    /// First backoff delay; doubled each retry, plus jitter.
    backoff: Duration,
    /// The network deadline (AWS_SESSION_TIMEOUT) and what calls used of it since the
    /// deadline began, in milliseconds (atomic: a `--server` renews from its threads).
    budget: Duration,
    spent_ms: AtomicU64,
    /// The credentials file as AWS errors' advice names it.
    credentials_file: Option<String>,
}

/// A 2xx answer: its body and, when it had a valid one, its `Date` header (AWS's
/// clock, to check the times in the answer against).
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: String,
    pub date: Option<OffsetDateTime>,
}

impl Client {
    /// A client for the given endpoints; under --debug each request is traced
    /// ([`crate::msg::debug`]).
    pub fn new(transport: Transport, endpoints: EndpointSettings) -> Self {
        let budget = transport.timeouts().total;
        Client {
            transport,
            endpoints,
            attempts: 3,
            backoff: Duration::from_millis(300),
            budget,
            spent_ms: AtomicU64::new(0),
            credentials_file: None,
        }
    }

    /// This client with `name` as the credentials file its errors' advice names (the
    /// file the keys were read from: AWS_SHARED_CREDENTIALS_FILE as set).
    pub fn naming_credentials_file(mut self, name: &str) -> Self {
        self.credentials_file = Some(name.to_string());
        self
    }

    /// Start a new deadline: the calls from now on have the whole AWS_SESSION_TIMEOUT
    /// together. A command starts one when it begins its network work (a `--server`
    /// each time it renews a session).
    pub fn restart_deadline(&self) {
        self.spent_ms.store(0, Ordering::Relaxed);
    }

    /// Send `req` signed with `creds`; the 2xx body, or the error AWS gave.
    pub fn call(&self, req: &QueryRequest, creds: &Credentials) -> Result<String> {
        self.call_dated(req, creds).map(|a| a.body)
    }

    /// Send `req` signed with `creds`; the 2xx body with the answer's Date, or the error.
    pub fn call_dated(&self, req: &QueryRequest, creds: &Credentials) -> Result<Answer> {
        let began = Instant::now();
        let result = self.call_within(req, creds, began);
        let ms = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.spent_ms.fetch_add(ms, Ordering::Relaxed);
        result
    }

    #[allow(clippy::too_many_lines)]
    fn call_within(
        &self,
        req: &QueryRequest,
        creds: &Credentials,
        began: Instant,
    ) -> Result<Answer> {
        let endpoint = resolve(req.service, &self.endpoints)?;
        let body = req.form_body();
        let spent_before = Duration::from_millis(self.spent_ms.load(Ordering::Relaxed));
        let time_left = || {
            self.budget
                .saturating_sub(spent_before)
                .saturating_sub(began.elapsed())
        };
        // A request that carried an MFA code may have used it up at AWS even when
        // no answer came back: it is never sent again, and the user is told why.
        let code_note = if req.carries_mfa_code {
            "; not retried because the request carried an MFA code that AWS may have used: wait for the next code and try again"
        } else if req.sent_once {
            "; not retried because AWS may have carried it out: check what exists before trying again"
        } else {
            ""
        };
        let out_of_time = |attempts: u32, last: &str| {
            let tries = match attempts {
                0 => "not sent: no time was left".to_string(),
                1 => format!("tried once, {last}"),
                n => format!("tried {n} times, last {last}"),
            };
            let scope = if spent_before.is_zero() {
                ""
            } else {
                " for all its requests"
            };
            Error::Network(format!(
                "{}: no answer from {} within {} s, the run's deadline (AWS_SESSION_TIMEOUT){scope}: {tries}: try again, or raise AWS_SESSION_TIMEOUT (seconds){}",
                req.action,
                endpoint.url,
                self.budget.as_secs(),
                if attempts > 0 { code_note } else { "" }
            ))
        };
        let mut attempt = 0;
        // What went wrong with the attempt before, for the deadline's message.
        let mut before = String::new();
        loop {
            let left = time_left();
            if left < Duration::from_millis(50) {
                return Err(out_of_time(attempt, &format!("{before}no answer")));
            }
            attempt += 1;
            let now = OffsetDateTime::now_utc();
            let headers = vec![
                ("Host".to_string(), endpoint.host.clone()),
                ("Content-Type".to_string(), CONTENT_TYPE.to_string()),
            ];
            let signable = sigv4::SignableRequest {
                method: "POST",
                path: &endpoint.path,
                query: "",
                headers: &headers,
                body: body.as_bytes(),
            };
            let params = sigv4::SigningParams {
                credentials: creds,
                region: &endpoint.signing_region,
                service: req.service.name(),
                time: now,
                settings: sigv4::SigningSettings {
                    normalize_path: true,
                    sign_body: false,
                    omit_session_token: false,
                },
            };
            let mut all_headers: Vec<(String, String)> = headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
                .cloned()
                .collect();
            all_headers.extend(sigv4::sign(&signable, &params));
            let http_req = HttpRequest {
                url: endpoint.url.clone(),
                headers: all_headers,
                body: body.clone(),
            };

            let started = Instant::now();
            let result = self.transport.post(&http_req, left);
            let elapsed = started.elapsed().as_millis();
            let key = &creds.access_key_id;
            let session = if creds.session_token.is_some() {
                " (session)"
            } else {
                ""
            };
            let retry_reason = match &result {
                Ok(resp) => {
                    if (200..300).contains(&resp.status) {
                        self.trace(format_args!(
                            "POST {} {} {} key={key}{session} -> {} in {elapsed} ms",
                            endpoint.url,
                            req.service.name(),
                            req.action,
                            resp.status,
                        ));
                        return Ok(Answer {
                            body: resp.body.clone(),
                            date: resp.date.as_deref().and_then(parse_http_date),
                        });
                    }
                    let aws = aws_error(
                        req.service,
                        req.action,
                        resp.status,
                        &resp.body,
                        resp.date.as_deref(),
                        now,
                    )
                    .map(|mut e| {
                        e.access_key_id = Some(key.clone());
                        e.session_token_sent = creds.session_token.is_some();
                        e.credentials_file = self.credentials_file.clone();
                        e
                    });
                    self.trace(format_args!(
                        "POST {} {} {} key={key}{session} -> {} {} in {elapsed} ms{}",
                        endpoint.url,
                        req.service.name(),
                        req.action,
                        resp.status,
                        aws.as_ref()
                            .map(|e| e.code.as_str())
                            .unwrap_or("(not an AWS error document)"),
                        aws.as_ref()
                            .and_then(|e| e.request_id.as_deref())
                            .map(|id| format!(", request id {id}"))
                            .unwrap_or_default(),
                    ));
                    let retryable = match &aws {
                        Some(e) => e.is_throttling() || resp.status >= 500,
                        None => resp.status >= 500 || resp.status == 429,
                    } && !req.sent_once;
                    match aws {
                        Some(e) if retryable && attempt < self.attempts => {
                            format!("{} (HTTP {})", e.code, resp.status)
                        }
                        Some(e) => return Err(crate::aws::advice::with_advice(e)),
                        None => {
                            let what = not_aws_answer(resp.status, &resp.body);
                            if retryable && attempt < self.attempts {
                                what
                            } else {
                                return Err(Error::Network(format!(
                                    "{} to {} got {what}: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network{}",
                                    req.action,
                                    endpoint.url,
                                    if resp.status >= 500 { code_note } else { "" }
                                )));
                            }
                        }
                    }
                }
                Err(TransportError::Deadline) => {
                    self.trace(format_args!(
                        "POST {} {} {} key={key}{session} -> no complete answer after {elapsed} ms (deadline)",
                        endpoint.url,
                        req.service.name(),
                        req.action,
                    ));
                    return Err(out_of_time(attempt, &format!("{before}no complete answer")));
                }
                Err(e) => {
                    self.trace(format_args!(
                        "POST {} {} {} key={key}{session} -> {e} after {elapsed} ms",
                        endpoint.url,
                        req.service.name(),
                        req.action,
                    ));
                    // Lost connections are retried, but not a request that may have taken
                    // effect (a code spent, a key made);
                    // a refused one never carried anything. Timeouts are not retried:
                    // the user already waited the whole AWS_SESSION_TIMEOUT.
                    let retryable =
                        e.never_sent() || (matches!(e, TransportError::Lost(_)) && !req.sent_once);
                    if !retryable || attempt >= self.attempts {
                        let note =
                            if matches!(e, TransportError::Lost(_) | TransportError::Timeout(_)) {
                                code_note
                            } else {
                                ""
                            };
                        let err = transport_error(req.action, &endpoint.url, e, attempt);
                        return Err(match err {
                            Error::Network(m) => Error::Network(format!("{m}{note}")),
                            other => other,
                        });
                    }
                    e.to_string()
                }
            };
            let delay = self.backoff * 2u32.pow(attempt - 1);
            let delay = delay + jitter(delay / 2);
            if delay + Duration::from_millis(50) >= time_left() {
                return Err(out_of_time(attempt, &retry_reason));
            }
            before = format!("{retry_reason}, then ");
            self.trace(format_args!(
                "retrying {} after {} ms: {retry_reason}",
                req.action,
                delay.as_millis()
            ));
            std::thread::sleep(delay);
        }
    }

    /// Make the connection to `service`'s endpoint in the background while a person
    /// types a code, so that only the request is left once the code is there (see
    /// [`Transport::warm`]: nothing is sent on it); it stops when the guard is dropped.
    pub fn warm(&self, service: Service) -> Option<crate::aws::http::Warm> {
        let endpoint = resolve(service, &self.endpoints).ok()?;
        self.trace(format_args!(
            "connecting to {} while the code is typed",
            endpoint.url
        ));
        Some(self.transport.warm(&endpoint.url))
    }

    /// The base URL of the AWS Sign-In service for this run's endpoints.
    pub fn signin_base(&self) -> Result<String> {
        crate::aws::endpoint::signin_base(&self.endpoints)
    }

    /// `CreateOAuth2Token` with `body` ([`crate::aws::signin`]), authenticated by a
    /// fresh DPoP proof of `key` (no SigV4). Sent once: an authorization code is used
    /// up by the first attempt, and a refresh token is replaced by each answer.
    pub fn signin_token(&self, body: &str, key: &DpopKey) -> Result<TokenOutput> {
        let action = "CreateOAuth2Token";
        let url = token_url(&self.signin_base()?);
        let jti = random_bytes::<16>().map(uuid4);
        let proof =
            jti.and_then(|jti| key.proof(&url, OffsetDateTime::now_utc().unix_timestamp(), &jti));
        let proof = proof.ok_or_else(|| {
            Error::Local("cannot sign the DPoP proof: the system gave no random bytes".into())
        })?;
        let req = HttpRequest {
            url: url.clone(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("DPoP".into(), proof),
            ],
            body: body.to_string(),
        };
        let started = Instant::now();
        let spent = Duration::from_millis(self.spent_ms.load(Ordering::Relaxed));
        let result = self.transport.post(&req, self.budget.saturating_sub(spent));
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.spent_ms.fetch_add(ms, Ordering::Relaxed);
        let resp = result.map_err(|e| transport_error(action, &url, &e, 1))?;
        self.trace(format_args!(
            "POST {url} signin {action} -> {} in {} ms",
            resp.status,
            started.elapsed().as_millis()
        ));
        parse_token_response(resp.status, &resp.body)
    }

    /// The base URL of the federation endpoint (`console`) for this run's endpoints.
    pub fn federation_base(&self) -> Result<String> {
        crate::aws::endpoint::federation_base(&self.endpoints)
    }

    /// `getSigninToken` for the temporary credentials `creds`, with `duration` as
    /// `SessionDuration` ([`crate::aws::federation`]): `Ok(Ok(token))`, or
    /// `Ok(Err(reason))` when the endpoint refused them. Sent once (a refusal is an
    /// answer). Neither the trace nor an error shows the URL's query (the credentials).
    pub fn federation_signin_token(
        &self,
        creds: &Credentials,
        duration: Option<u32>,
    ) -> Result<std::result::Result<String, String>> {
        use crate::aws::federation::{parse_signin_token, signin_token_url};
        let action = "getSigninToken";
        let base = self.federation_base()?;
        let shown = format!("{base}/federation");
        let url = signin_token_url(&base, creds, duration);
        let started = Instant::now();
        let spent = Duration::from_millis(self.spent_ms.load(Ordering::Relaxed));
        let result = self.transport.get(&url, self.budget.saturating_sub(spent));
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.spent_ms.fetch_add(ms, Ordering::Relaxed);
        let resp = result.map_err(|e| transport_error(action, &shown, &e, 1))?;
        self.trace(format_args!(
            "GET {shown}?Action={action} key={}{} -> {} in {ms} ms",
            creds.access_key_id,
            duration
                .map(|d| format!(" SessionDuration={d}"))
                .unwrap_or_default(),
            resp.status,
        ));
        Ok(parse_signin_token(resp.status, &resp.body))
    }

    fn trace(&self, args: std::fmt::Arguments) {
        crate::msg::debug(args);
    }
}

/// Parse an AWS error answer; `None` when the body is not one (an HTML page, say).
fn aws_error(
    service: Service,
    action: &str,
    status: u16,
    body: &str,
    date: Option<&str>,
    now: OffsetDateTime,
) -> Option<AwsError> {
    let parsed = crate::aws::xml::parse_error_response(body)?;
    Some(AwsError {
        action: action.to_string(),
        service: service.name(),
        status,
        code: parsed.code,
        message: parsed.message,
        request_id: parsed.request_id,
        clock_skew_secs: date
            .and_then(parse_http_date)
            .map(|d| (d - now).whole_seconds()),
        access_key_id: None,
        session_token_sent: false,
        credentials_file: None,
        advice: None,
    })
}

/// Describe a non-AWS answer in a few words (status, and what the body is instead).
fn not_aws_answer(status: u16, body: &str) -> String {
    match crate::aws::xml::Document::parse(body) {
        Ok(doc) => format!(
            "HTTP {status} with an XML document <{}> that is not an AWS error",
            doc.root().name().chars().take(60).collect::<String>()
        ),
        Err(e) => format!("HTTP {status} with {e}, not an AWS answer"),
    }
}

fn transport_error(action: &str, url: &str, e: &TransportError, attempts: u32) -> Error {
    let tries = if attempts > 1 {
        format!(" (tried {attempts} times)")
    } else {
        String::new()
    };
    Error::Network(match e {
        TransportError::Unreached(m) | TransportError::Lost(m) => format!(
            "{action}: cannot reach {url}: {m}{tries}: check the network, HTTPS_PROXY/NO_PROXY and AWS_ENDPOINT_URL"
        ),
        TransportError::Timeout(m) => format!(
            "{action}: no answer from {url} in time: {m}: try again, or raise AWS_SESSION_TIMEOUT (seconds)"
        ),
        TransportError::Deadline => format!(
            "{action}: no complete answer from {url} within the deadline: try again, or raise AWS_SESSION_TIMEOUT (seconds)"
        ),
        TransportError::TooLarge => format!(
            "{action}: the answer from {url} is larger than {} bytes, which no AWS answer is: check AWS_ENDPOINT_URL and HTTPS_PROXY",
            crate::aws::http::MAX_BODY
        ),
        TransportError::Untrusted(m) => format!("{action}: request to {url} failed: {m}"),
        TransportError::Other(m) => format!(
            "{action}: request to {url} failed: {m}: check AWS_ENDPOINT_URL, AWS_CA_BUNDLE and HTTPS_PROXY"
        ),
    })
}

pub use crate::timefmt::parse_http_date;

/// A pseudo-random duration below `max`, from the clock (good enough for spreading retries).
fn jitter(max: Duration) -> Duration {
    let nanos = OffsetDateTime::now_utc().nanosecond() as u64;
    let max_ms = max.as_millis() as u64;
    if max_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(nanos.wrapping_mul(2_654_435_761) % max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date() {
        let d = parse_http_date("Wed, 25 Nov 2026 09:04:44 GMT").unwrap();
        assert_eq!(d.unix_timestamp(), 1_795_597_484);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn html_pages_are_described() {
        let page = "<html><head><title>502 Bad Gateway</title></head></html>";
        assert_eq!(
            not_aws_answer(502, page),
            "HTTP 502 with an HTML page (\"502 Bad Gateway\"), not an AWS answer"
        );
        assert!(not_aws_answer(502, "").contains("empty"));
        assert!(not_aws_answer(500, "<Foo/>").contains("<Foo>"));
    }
}
