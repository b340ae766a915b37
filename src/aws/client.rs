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
use crate::aws::endpoint::{resolve, Endpoint, EndpointSettings};
use crate::aws::http::{HttpRequest, HttpResponse, Transport, TransportError};
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
    /// AWS_SESSION_TIMEOUT, shared by every call of this client.
    deadline: Deadline,
    /// The credentials file as AWS errors' advice names it.
    credentials_file: Option<String>,
}

/// The network deadline of a run (AWS_SESSION_TIMEOUT): its budget and what the calls
/// since it began have used of it, in milliseconds (atomic: a `--server` renews from
/// its threads). Every call of a [`Client`] draws on the one deadline.
pub struct Deadline {
    budget: Duration,
    spent_ms: AtomicU64,
}

impl Deadline {
    /// A deadline of `budget`, nothing used yet.
    pub fn new(budget: Duration) -> Deadline {
        Deadline {
            budget,
            spent_ms: AtomicU64::new(0),
        }
    }

    /// The whole budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Begin anew: the calls from now on have the whole budget together.
    pub fn restart(&self) {
        self.spent_ms.store(0, Ordering::Relaxed);
    }

    /// What the calls before this one used.
    pub fn spent(&self) -> Duration {
        Duration::from_millis(self.spent_ms.load(Ordering::Relaxed))
    }

    /// What is left of the budget.
    pub fn left(&self) -> Duration {
        self.budget.saturating_sub(self.spent())
    }

    /// Count the time since `began` as used.
    pub fn charge(&self, began: Instant) {
        let ms = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.spent_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// What one attempt of a call came to ([`Client::classify`]).
enum Outcome {
    /// A 2xx answer.
    Done(Answer),
    /// Worth another attempt, for this reason (for the messages).
    Retry(String),
    /// The end of the call, with this error.
    Fail(Error),
    /// The deadline passed while the answer came; the words for "what went wrong".
    OutOfTime(&'static str),
}

/// `req` as the HTTP request to POST to `endpoint`, signed with `creds` at `now`: a pure
/// function of its inputs (the time is passed in, so a fixed time gives a fixed
/// signature).
pub fn signed_request(
    req: &QueryRequest,
    endpoint: &Endpoint,
    creds: &Credentials,
    now: OffsetDateTime,
) -> HttpRequest {
    let body = req.form_body();
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
    HttpRequest {
        url: endpoint.url.clone(),
        headers: all_headers,
        body,
    }
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
        let deadline = Deadline::new(transport.timeouts().total);
        Client {
            transport,
            endpoints,
            attempts: 3,
            backoff: Duration::from_millis(300),
            deadline,
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
        self.deadline.restart();
    }

    /// Send `req` signed with `creds`; the 2xx body, or the error AWS gave.
    pub fn call(&self, req: &QueryRequest, creds: &Credentials) -> Result<String> {
        self.call_dated(req, creds).map(|a| a.body)
    }

    /// Send `req` signed with `creds`; the 2xx body with the answer's Date, or the error.
    pub fn call_dated(&self, req: &QueryRequest, creds: &Credentials) -> Result<Answer> {
        let began = Instant::now();
        let result = self.call_within(req, creds, began);
        self.deadline.charge(began);
        result
    }

    fn call_within(
        &self,
        req: &QueryRequest,
        creds: &Credentials,
        began: Instant,
    ) -> Result<Answer> {
        let endpoint = resolve(req.service, &self.endpoints)?;
        let spent_before = self.deadline.spent();
        let time_left = || {
            self.deadline
                .budget()
                .saturating_sub(spent_before)
                .saturating_sub(began.elapsed())
        };
        let out_of_time = |attempts: u32, last: &str| {
            self.out_of_time(req, &endpoint.url, !spent_before.is_zero(), attempts, last)
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
            let http_req = signed_request(req, &endpoint, creds, now);
            let started = Instant::now();
            let result = self.transport.post(&http_req, left);
            let elapsed = started.elapsed().as_millis();
            let retry_reason =
                match self.classify(req, &endpoint.url, creds, result, now, elapsed, attempt) {
                    Outcome::Done(answer) => return Ok(answer),
                    Outcome::Fail(e) => return Err(e),
                    Outcome::OutOfTime(what) => {
                        return Err(out_of_time(attempt, &format!("{before}{what}")))
                    }
                    Outcome::Retry(reason) => reason,
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

    /// The error for a call that ran out of the run's deadline after `attempts`
    /// attempts, the last of which ended with `last`; `shared`: earlier calls of the
    /// run used part of the deadline.
    fn out_of_time(
        &self,
        req: &QueryRequest,
        url: &str,
        shared: bool,
        attempts: u32,
        last: &str,
    ) -> Error {
        let tries = match attempts {
            0 => "not sent: no time was left".to_string(),
            1 => format!("tried once, {last}"),
            n => format!("tried {n} times, last {last}"),
        };
        let scope = if shared { " for all its requests" } else { "" };
        Error::Network(format!(
            "{}: no answer from {url} within {} s, the run's deadline (AWS_SESSION_TIMEOUT){scope}: {tries}: try again, or raise AWS_SESSION_TIMEOUT (seconds){}",
            req.action,
            self.deadline.budget().as_secs(),
            if attempts > 0 { not_retried_note(req) } else { "" }
        ))
    }

    /// The classifier: what attempt `attempt` of `req` (signed with `creds` at `now`,
    /// answered after `elapsed` ms) came to: done, another attempt, or the end. Each
    /// attempt is traced under --debug.
    #[allow(clippy::too_many_arguments)]
    fn classify(
        &self,
        req: &QueryRequest,
        url: &str,
        creds: &Credentials,
        result: std::result::Result<HttpResponse, TransportError>,
        now: OffsetDateTime,
        elapsed: u128,
        attempt: u32,
    ) -> Outcome {
        let key = &creds.access_key_id;
        let session = if creds.session_token.is_some() {
            " (session)"
        } else {
            ""
        };
        let (service, action) = (req.service.name(), req.action);
        let resp = match result {
            Ok(resp) => resp,
            Err(TransportError::Deadline) => {
                self.trace(format_args!(
                    "POST {url} {service} {action} key={key}{session} -> no complete answer after {elapsed} ms (deadline)"
                ));
                return Outcome::OutOfTime("no complete answer");
            }
            Err(e) => {
                self.trace(format_args!(
                    "POST {url} {service} {action} key={key}{session} -> {e} after {elapsed} ms"
                ));
                return self.classify_lost(req, url, &e, attempt);
            }
        };
        if (200..300).contains(&resp.status) {
            self.trace(format_args!(
                "POST {url} {service} {action} key={key}{session} -> {} in {elapsed} ms",
                resp.status,
            ));
            return Outcome::Done(Answer {
                date: resp.date.as_deref().and_then(parse_http_date),
                body: resp.body,
            });
        }
        let aws = aws_error(
            req.service,
            action,
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
            "POST {url} {service} {action} key={key}{session} -> {} {} in {elapsed} ms{}",
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
        } && !req.sent_once
            && attempt < self.attempts;
        match aws {
            Some(e) if retryable => Outcome::Retry(format!("{} (HTTP {})", e.code, resp.status)),
            Some(e) => Outcome::Fail(crate::aws::advice::with_advice(e)),
            None => {
                let what = not_aws_answer(resp.status, &resp.body);
                if retryable {
                    return Outcome::Retry(what);
                }
                Outcome::Fail(Error::NotAws(format!(
                    "{action} to {url} got {what}: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network{}",
                    if resp.status >= 500 { not_retried_note(req) } else { "" }
                )))
            }
        }
    }

    /// [`Client::classify`] for a request that got no answer: lost connections are
    /// retried, but not a request that may have taken effect (a code spent, a key
    /// made); a refused one never carried anything. Timeouts are not retried: the user
    /// already waited the whole AWS_SESSION_TIMEOUT.
    fn classify_lost(
        &self,
        req: &QueryRequest,
        url: &str,
        e: &TransportError,
        attempt: u32,
    ) -> Outcome {
        let retryable = e.never_sent() || (matches!(e, TransportError::Lost(_)) && !req.sent_once);
        if retryable && attempt < self.attempts {
            return Outcome::Retry(e.to_string());
        }
        let note = if matches!(e, TransportError::Lost(_) | TransportError::Timeout(_)) {
            not_retried_note(req)
        } else {
            ""
        };
        Outcome::Fail(match transport_error(req.action, url, e, attempt) {
            Error::Network(m) => Error::Network(format!("{m}{note}")),
            other => other,
        })
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
        let result = self.transport.post(&req, self.deadline.left());
        self.deadline.charge(started);
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
        let result = self.transport.get(&url, self.deadline.left());
        let ms = started.elapsed().as_millis();
        self.deadline.charge(started);
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

/// Why a request that may have reached AWS is not sent again: it carried an MFA code
/// that AWS may have used (never sent again, and the user is told why), or it may have
/// been carried out. Empty for a request that may be repeated.
fn not_retried_note(req: &QueryRequest) -> &'static str {
    if req.carries_mfa_code {
        "; not retried because the request carried an MFA code that AWS may have used: wait for the next code and try again"
    } else if req.sent_once {
        "; not retried because AWS may have carried it out: check what exists before trying again"
    } else {
        ""
    }
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
    fn signing_is_a_function_of_the_time_passed_in() {
        let endpoint = Endpoint {
            url: "https://sts.amazonaws.com/".into(),
            host: "sts.amazonaws.com".into(),
            path: "/".into(),
            signing_region: "us-east-1".into(),
        };
        let creds =
            Credentials::long_term("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let req = crate::aws::sts::get_caller_identity();
        let t = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
        let a = signed_request(&req, &endpoint, &creds, t);
        assert_eq!(a, signed_request(&req, &endpoint, &creds, t));
        let header = |r: &HttpRequest, name: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(header(&a, "X-Amz-Date"), "20150830T123600Z");
        assert!(header(&a, "Authorization").starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
        ));
        let later = signed_request(&req, &endpoint, &creds, t + time::Duration::seconds(1));
        assert_ne!(header(&a, "Authorization"), header(&later, "Authorization"));
        assert_eq!(a.url, "https://sts.amazonaws.com/");
        assert_eq!(a.body, req.form_body());
    }

    #[test]
    fn a_deadline_is_shared_by_the_calls_that_draw_on_it() {
        let d = Deadline::new(Duration::from_secs(30));
        assert_eq!(d.left(), Duration::from_secs(30));
        d.charge(Instant::now() - Duration::from_secs(10));
        assert!(d.left() <= Duration::from_secs(20));
        d.restart();
        assert_eq!(d.left(), Duration::from_secs(30));
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
