//! The only module that touches the network: POST a signed request, read the answer.
//!
//! No signing, no XML, no retries here: [`crate::aws::client`] decides what to send and
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

/// Why no response could be read. The texts are for people and never hold a
/// header value, a body or a proxy password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No connection was made (the host does not resolve, the connection was refused
    /// or failed): nothing was sent, so a retry is always safe.
    Unreached(String),
    /// The connection broke (reset, aborted, cut short): the request may have reached
    /// the server, and a code it carried may be spent.
    Lost(String),
    /// Connect or total timeout.
    Timeout(String),
    /// The body was larger than [`MAX_BODY`].
    TooLarge,
    /// The server's certificate is not trusted; the text says what to do about it.
    Untrusted(String),
    /// Protocol failure, bad proxy, anything else.
    Other(String),
}

impl TransportError {
    /// Whether the request certainly never reached the server (nothing to consume).
    ///
    /// ```
    /// use aws_session::aws::http::TransportError;
    /// assert!(TransportError::Unreached("connection refused".into()).never_sent());
    /// assert!(!TransportError::Lost("connection lost (reset)".into()).never_sent());
    /// ```
    pub fn never_sent(&self) -> bool {
        matches!(self, TransportError::Unreached(_))
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unreached(m)
            | TransportError::Lost(m)
            | TransportError::Timeout(m)
            | TransportError::Untrusted(m)
            | TransportError::Other(m) => f.write_str(m),
            TransportError::TooLarge => write!(f, "the answer is larger than {MAX_BODY} bytes"),
        }
    }
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
    timeouts: Timeouts,
    /// The proxy ureq took from the environment, described without credentials.
    proxy: Option<ProxyInUse>,
}

/// A proxy from the environment: where it is (no user or password) and its variable.
#[derive(Debug, Clone)]
struct ProxyInUse {
    proxy: ureq::Proxy,
    described: String,
}

/// The proxy ureq reads from the environment (ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, in
/// that order, lower case too; NO_PROXY honoured), and which variable named it.
fn proxy_from_env() -> Option<ProxyInUse> {
    let proxy = ureq::Proxy::try_from_env()?;
    let var = [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ]
    .into_iter()
    .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    .unwrap_or("the environment");
    let described = format!("proxy {}:{} from {var}", proxy.host(), proxy.port());
    Some(ProxyInUse { proxy, described })
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
        let proxy = proxy_from_env();
        config = config.proxy(proxy.as_ref().map(|p| p.proxy.clone()));
        Ok(Transport {
            agent: config.build().into(),
            timeouts,
            proxy,
        })
    }

    /// The proxy a request to `url` goes through, described for messages
    /// (`proxy HOST:PORT from HTTPS_PROXY`), or `None` when it goes direct.
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let p = self.proxy.as_ref()?;
        let uri: ureq::http::Uri = url.parse().ok()?;
        (!p.proxy.is_no_proxy(&uri)).then_some(p.described.as_str())
    }

    /// POST `req` and read the whole answer (at most [`MAX_BODY`] bytes).
    pub fn post(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = self.agent.post(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let mut response = builder
            .send(req.body.as_str())
            .map_err(|e| self.map_error(e, &req.url))?;
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
            .map_err(|e| self.map_error(e, &req.url))?;
        Ok(HttpResponse {
            status,
            date,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

impl Transport {
    /// ureq's error in words, with the proxy when one is in the way.
    fn map_error(&self, e: ureq::Error, url: &str) -> TransportError {
        use ureq::Error as E;
        let via = match self.proxy_for(url) {
            Some(p) => format!(" (via {p})"),
            None => String::new(),
        };
        match e {
            E::Timeout(t) => {
                let (what, secs) = match t {
                    ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                        ("no connection", self.timeouts.connect.as_secs())
                    }
                    _ => ("no complete answer", self.timeouts.total.as_secs()),
                };
                TransportError::Timeout(format!("{what} within {secs} s{via}"))
            }
            E::BodyExceedsLimit(_) => TransportError::TooLarge,
            E::HostNotFound => TransportError::Unreached(format!("host not found{via}")),
            E::ConnectionFailed => TransportError::Unreached(format!("connection failed{via}")),
            E::ConnectProxyFailed(m) => {
                TransportError::Other(format!("the proxy refused the tunnel: {m}{via}"))
            }
            E::Io(io) => {
                use std::io::ErrorKind as K;
                match io.kind() {
                    K::ConnectionRefused => {
                        TransportError::Unreached(format!("connection refused{via}"))
                    }
                    K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof => {
                        TransportError::Lost(format!("connection lost ({io}){via}"))
                    }
                    K::TimedOut | K::WouldBlock => TransportError::Timeout(format!(
                        "no answer within {} s{via}",
                        self.timeouts.total.as_secs()
                    )),
                    _ => other_error(io.to_string(), &via),
                }
            }
            other => other_error(other.to_string(), &via),
        }
    }
}

/// Any other failure; a refused certificate (rustls says so in words) gets advice.
fn other_error(text: String, via: &str) -> TransportError {
    if text.contains("certificate") {
        TransportError::Untrusted(format!(
            "the server's certificate is not trusted ({text}){via}; if the endpoint or a proxy uses its own CA, point AWS_CA_BUNDLE at that CA's PEM file"
        ))
    } else {
        TransportError::Other(format!("{text}{via}"))
    }
}
