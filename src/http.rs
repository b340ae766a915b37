//! The only module that touches the network: POST a signed request, read the answer.
//!
//! No signing, no XML, no retries here: [`crate::client`] decides what to send and
//! what to do with the answer. HTTPS goes through ureq + rustls with the Mozilla
//! roots (webpki-roots), or the PEM bundle named by `AWS_CA_BUNDLE`; proxies come from
//! `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`, with `NO_PROXY` honoured (ureq reads them).

use std::time::Duration;

/// Largest response body accepted; AWS's answers to our calls are a few KiB.
pub const MAX_BODY: u64 = 1024 * 1024;

/// A request ready to send: every header already signed.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub url: String,
    /// Headers to send, in order (`Host` is set by the transport from the URL).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// The `Date` header, used to tell the user how far off the local clock is.
    pub date: Option<String>,
    pub body: String,
}

/// Why no response could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// DNS failure, refused or reset connection: safe to retry when nothing was consumed.
    Connect(String),
    /// Connect or total timeout.
    Timeout(String),
    /// The body was larger than [`MAX_BODY`].
    TooLarge,
    /// TLS or protocol failure, bad proxy, anything else.
    Other(String),
}

/// Timeouts for every request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(30),
        }
    }
}

/// An HTTP agent (connection pool) with our timeouts.
pub struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    /// A transport with the given timeouts; `ca_bundle_pem` replaces the trust roots.
    pub fn new(timeouts: Timeouts, ca_bundle_pem: Option<&[u8]>) -> Result<Self, TransportError> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeouts.connect))
            .timeout_global(Some(timeouts.total))
            .max_redirects(0)
            .user_agent(concat!("aws-session/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_bundle_pem {
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(TransportError::Other(
                    "AWS_CA_BUNDLE holds no PEM certificate".into(),
                ));
            }
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build();
            config = config.tls_config(tls);
        }
        Ok(Transport {
            agent: config.build().into(),
        })
    }

    /// POST `req` and read the whole answer (at most [`MAX_BODY`] bytes).
    pub fn post(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self.agent.post(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let mut response = builder.send(req.body.as_str()).map_err(map_error)?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(map_error)?;
        Ok(HttpResponse {
            status,
            date,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

fn map_error(e: ureq::Error) -> TransportError {
    use ureq::Error as E;
    match e {
        E::Timeout(t) => TransportError::Timeout(format!("{t}")),
        E::BodyExceedsLimit(_) => TransportError::TooLarge,
        E::HostNotFound => TransportError::Connect("host not found".into()),
        E::ConnectionFailed => TransportError::Connect("connection failed".into()),
        E::Io(io) => {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => TransportError::Connect("connection refused".into()),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    TransportError::Connect(format!("connection lost ({io})"))
                }
                K::TimedOut | K::WouldBlock => TransportError::Timeout(io.to_string()),
                _ => TransportError::Other(io.to_string()),
            }
        }
        other => TransportError::Other(other.to_string()),
    }
}
