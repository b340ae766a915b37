//! One AWS call: resolve the endpoint, sign ([`crate::sigv4`]), send ([`crate::http`]),
//! turn an `<ErrorResponse>` into [`Error::Aws`], retry what is safe to retry.
//!
//! Retries (jittered exponential backoff, 3 attempts): throttling, HTTP 5xx and lost
//! connections, never an auth error, and never a request carrying an MFA code once it
//! may have reached AWS (a TOTP code is accepted once; a resend would be refused).

use crate::credentials::Credentials;
use crate::endpoint::{resolve, EndpointSettings};
use crate::error::{AwsError, Error, Result};
use crate::http::{HttpRequest, Transport, TransportError};
use crate::query::{QueryRequest, CONTENT_TYPE};
use crate::sigv4;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Sends signed Query API requests.
pub struct Client {
    transport: Transport,
    endpoints: EndpointSettings,
    debug: bool,
    /// Attempts per request for retryable failures.
    attempts: u32,
    /// First backoff delay; doubled each retry, plus jitter.
    backoff: Duration,
}

impl Client {
    /// A client for the given endpoints; `debug` traces each request on stderr.
    pub fn new(transport: Transport, endpoints: EndpointSettings, debug: bool) -> Self {
        Client {
            transport,
            endpoints,
            debug,
            attempts: 3,
            backoff: Duration::from_millis(300),
        }
    }

    /// Send `req` signed with `creds`; the 2xx body, or the error AWS gave.
    pub fn call(&self, req: &QueryRequest, creds: &Credentials) -> Result<String> {
        let endpoint = resolve(req.service, &self.endpoints)?;
        let body = req.form_body();
        let mut attempt = 0;
        loop {
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
            let result = self.transport.post(&http_req);
            let elapsed = started.elapsed().as_millis();

            let retry_reason = match &result {
                Ok(resp) => {
                    self.trace(format_args!(
                        "POST {} {} {} key={}{} -> {} in {} ms",
                        endpoint.url,
                        req.service.name(),
                        req.action,
                        creds.access_key_id,
                        if creds.session_token.is_some() {
                            " (session)"
                        } else {
                            ""
                        },
                        resp.status,
                        elapsed
                    ));
                    if (200..300).contains(&resp.status) {
                        return Ok(resp.body.clone());
                    }
                    let aws = aws_error(
                        req.action,
                        resp.status,
                        &resp.body,
                        resp.date.as_deref(),
                        now,
                    );
                    match aws {
                        Some(e) if is_throttling(&e.code) && !req.carries_mfa_code => {
                            if attempt >= self.attempts {
                                return Err(Error::Aws(e));
                            }
                            format!("{} ({})", e.code, resp.status)
                        }
                        Some(e) if resp.status >= 500 && !req.carries_mfa_code => {
                            if attempt >= self.attempts {
                                return Err(Error::Aws(e));
                            }
                            format!("{} ({})", e.code, resp.status)
                        }
                        Some(e) => return Err(Error::Aws(e)),
                        None => {
                            let what = not_aws_answer(resp.status, &resp.body);
                            if resp.status >= 500
                                && !req.carries_mfa_code
                                && attempt < self.attempts
                            {
                                what
                            } else {
                                return Err(Error::Network(format!(
                                    "{} to {} got {what}: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network",
                                    req.action, endpoint.url
                                )));
                            }
                        }
                    }
                }
                Err(e) => {
                    self.trace(format_args!(
                        "POST {} {} {} key={} -> {:?} after {} ms",
                        endpoint.url,
                        req.service.name(),
                        req.action,
                        creds.access_key_id,
                        e,
                        elapsed
                    ));
                    let safe = match e {
                        TransportError::Connect(m) => {
                            !req.carries_mfa_code
                                || m.contains("refused")
                                || m.contains("not found")
                        }
                        _ => false,
                    };
                    if !safe || attempt >= self.attempts {
                        return Err(transport_error(req.action, &endpoint.url, e));
                    }
                    format!("{e:?}")
                }
            };
            let delay = self.backoff * 2u32.pow(attempt - 1);
            let delay = delay + jitter(delay / 2);
            self.trace(format_args!(
                "retrying {} after {} ms: {retry_reason}",
                req.action,
                delay.as_millis()
            ));
            std::thread::sleep(delay);
        }
    }

    fn trace(&self, args: std::fmt::Arguments) {
        if self.debug {
            eprintln!("aws-session: debug: {args}");
        }
    }
}

fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
    )
}

/// Parse an AWS error answer; `None` when the body is not one (an HTML page, say).
fn aws_error(
    action: &str,
    status: u16,
    body: &str,
    date: Option<&str>,
    now: OffsetDateTime,
) -> Option<AwsError> {
    let parsed = crate::xml::parse_error_response(body)?;
    Some(AwsError {
        action: action.to_string(),
        status,
        code: parsed.code,
        message: parsed.message,
        request_id: parsed.request_id,
        clock_skew_secs: date
            .and_then(parse_http_date)
            .map(|d| (d - now).whole_seconds()),
    })
}

/// Describe a non-AWS answer in a few words (status and a page title if any).
fn not_aws_answer(status: u16, body: &str) -> String {
    let title = body
        .find("<title>")
        .and_then(|i| body[i + 7..].split("</title>").next())
        .map(|t| t.trim().chars().take(60).collect::<String>());
    match title {
        Some(t) if !t.is_empty() => format!("HTTP {status} that is not an AWS answer (\"{t}\")"),
        _ if body.trim().is_empty() => format!("HTTP {status} with an empty body"),
        _ => format!("HTTP {status} that is not an AWS answer"),
    }
}

fn transport_error(action: &str, url: &str, e: &TransportError) -> Error {
    Error::Network(match e {
        TransportError::Connect(m) => format!(
            "{action}: cannot reach {url}: {m} (check the network, HTTPS_PROXY, AWS_ENDPOINT_URL)"
        ),
        TransportError::Timeout(m) => format!(
            "{action}: no answer from {url} in time ({m}); try again, or raise AWS_SESSION_TIMEOUT"
        ),
        TransportError::TooLarge => format!(
            "{action}: the answer from {url} is larger than {} bytes, which no AWS answer is: check AWS_ENDPOINT_URL",
            crate::http::MAX_BODY
        ),
        TransportError::Other(m) => format!("{action}: request to {url} failed: {m}"),
    })
}

/// Parse an HTTP `Date` header (IMF-fixdate, e.g. `Wed, 25 Nov 2026 09:04:44 GMT`).
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let fmt = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .ok()?;
    time::PrimitiveDateTime::parse(s.trim(), &fmt)
        .ok()
        .map(|p| p.assume_utc())
}

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
        assert!(not_aws_answer(502, page).contains("502 Bad Gateway"));
        assert!(not_aws_answer(502, "").contains("empty"));
    }
}
