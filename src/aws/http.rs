//! The only module that touches the network: POST a signed request, read the answer.
//!
//! No signing, no XML, no retries here: [`crate::aws::client`] decides what to send and
//! what to do with the answer. HTTPS goes through ureq + rustls with the Mozilla
//! roots (webpki-roots), or the PEM bundle named by `AWS_CA_BUNDLE`. The proxy comes
//! from `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` (lower case too), with `NO_PROXY`
//! honoured: [`proxy_from_env`] reads them itself, so that a value it cannot use stops
//! the run instead of being skipped (a request never goes direct when a proxy is set);
//! HTTP CONNECT and SOCKS4/4a/5/5h proxies are used.

use crate::encode::printable;
use crate::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use ureq::unversioned::resolver::{DefaultResolver, Resolver};
use ureq::unversioned::transport::{
    time as utime, ConnectionDetails, Connector, DefaultConnector, NextTimeout,
    Transport as Connection,
};

/// Largest response body accepted; AWS's answers to our calls are a few KiB.
pub const MAX_BODY: u64 = 1024 * 1024;

/// A request ready to send: every header already signed.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The `x-amzn-ErrorType` header of a JSON service's error (IAM Identity Center).
    pub error_type: Option<String>,
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
    /// No connection within the connect timeout.
    Timeout(String),
    /// The time left of the run's deadline ran out while waiting for the answer.
    Deadline,
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
            TransportError::Deadline => f.write_str("no complete answer in the time left"),
        }
    }
}

/// Timeouts of a run: `total` is the one deadline for all its network work (every
/// request, retries and their backoff included), `connect` the most one connection
/// may take.
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

/// An HTTP agent (connection pool) with our timeouts, built when the first request or
/// connection needs it: a run that sends nothing (a cache hit, `--version`) never reads
/// the CA bundle nor sets up TLS.
pub struct Transport {
    /// The agent and its connector chain, or why they cannot be made (a message for
    /// people, a config error).
    built: OnceLock<Result<Built, String>>,
    /// Where the trust roots come from: the built-in ones, or the PEM bundle the loader
    /// reads (AWS_CA_BUNDLE).
    ca_bundle: Option<CaBundleLoader>,
    /// Connections made ahead of a request ([`Transport::warm`]), handed to the agent
    /// when a request needs a new connection to their host.
    parked: Arc<Parked>,
    timeouts: Timeouts,
    /// The proxy from the environment, described without credentials.
    proxy: Option<ProxyInUse>,
}

/// Reads the PEM bytes of a CA bundle; its error is the whole message for people.
pub type CaBundleLoader = Box<dyn Fn() -> Result<Vec<u8>, String> + Send + Sync>;

/// What [`Transport`] builds on first use.
struct Built {
    agent: ureq::Agent,
    /// The agent's connector chain (proxy, TCP, TLS), for connections made ahead.
    connector: Arc<DefaultConnector>,
}

/// A proxy from the environment: where it is (no user or password) and its variable.
#[derive(Debug, Clone)]
pub struct ProxyInUse {
    proxy: ureq::Proxy,
    described: String,
}

/// The proxy variables in the order they apply: the first set, non-empty one wins.
pub const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// The proxy the environment sets (`get` reads a variable), or `None` when none is set.
/// A value that does not parse as a proxy URL is a config error naming the variable,
/// with any password in it shown as `***`.
///
/// ```
/// use aws_session::aws::http::proxy_from_env;
/// let env = |k: &str| (k == "HTTPS_PROXY").then(|| "socks5://u:pw@127.0.0.1:1080".to_string());
/// assert_eq!(proxy_from_env(env).unwrap().unwrap().described(), "proxy 127.0.0.1:1080 from HTTPS_PROXY");
/// let bad = |k: &str| (k == "HTTPS_PROXY").then(|| "http://u:pw@h:99999".to_string());
/// let e = proxy_from_env(bad).unwrap_err().to_string();
/// assert!(e.contains("u:***@h") && !e.contains("pw"), "{e}");
/// ```
pub fn proxy_from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<ProxyInUse>, Error> {
    let Some((var, value)) = PROXY_VARIABLES
        .into_iter()
        .find_map(|v| get(v).filter(|x| !x.is_empty()).map(|x| (v, x)))
    else {
        return Ok(None);
    };
    let no_proxy = ["NO_PROXY", "no_proxy"].into_iter().find_map(&get);
    parse_proxy(&value, no_proxy.as_deref())
        .map(|(proxy, at)| {
            Some(ProxyInUse {
                proxy,
                described: format!("proxy {at} from {var}"),
            })
        })
        .map_err(|why| {
            Error::Config(format!(
                "{var} \"{}\" is not a usable proxy URL: {why} (use http://HOST:PORT or socks5://HOST:PORT, or unset {var})",
                crate::aws::url::redact_url(&value)
            ))
        })
}

impl ProxyInUse {
    /// `proxy HOST:PORT from VARIABLE`.
    pub fn described(&self) -> &str {
        &self.described
    }
}

/// Parse a proxy URL `[scheme://][user[:password]@]host[:port][/]` into a ureq proxy
/// honouring `no_proxy` (comma-separated hosts), and `HOST:PORT` for messages.
fn parse_proxy(value: &str, no_proxy: Option<&str>) -> Result<(ureq::Proxy, String), String> {
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("it holds a space or a control character".into());
    }
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), value),
    };
    let protocol = match scheme.as_str() {
        "http" => ureq::ProxyProtocol::Http,
        "https" => ureq::ProxyProtocol::Https,
        "socks4" => ureq::ProxyProtocol::Socks4,
        "socks4a" => ureq::ProxyProtocol::Socks4A,
        "socks" | "socks5" => ureq::ProxyProtocol::Socks5,
        "socks5h" => ureq::ProxyProtocol::Socks5h,
        _ => {
            return Err(format!(
                "the scheme \"{}\" is not http, https, socks4, socks4a, socks5 or socks5h",
                scheme.chars().take(20).collect::<String>()
            ))
        }
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("a path, query or fragment is not allowed".into());
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = crate::aws::url::split_host_port(hostport)?;
    let port = match port {
        Some(p) => p,
        None => match protocol {
            ureq::ProxyProtocol::Http => 80,
            ureq::ProxyProtocol::Https => 443,
            _ => 1080,
        },
    };
    let mut builder = ureq::Proxy::builder(protocol).host(&host).port(port);
    if let Some(u) = userinfo {
        let (user, password) = match u.split_once(':') {
            Some((user, pw)) => (user, Some(pw)),
            None => (u, None),
        };
        let decode = |s: &str| {
            crate::encode::percent_decode(s, false)
                .ok_or("the user info is not percent-encoded UTF-8")
        };
        builder = builder.username(&decode(user)?);
        if let Some(pw) = password {
            builder = builder.password(&decode(pw)?);
        }
    }
    for entry in no_proxy.unwrap_or("").split(',').map(str::trim) {
        if !entry.is_empty() {
            builder = builder.no_proxy(entry);
        }
    }
    let proxy = builder
        .build()
        .map_err(|_| "it does not parse as a URL".to_string())?;
    Ok((proxy, format!("{host}:{port}")))
}

impl Transport {
    /// A transport with the given timeouts; the bundle `ca_bundle` reads replaces the
    /// trust roots; `proxy` (from [`proxy_from_env`]) carries every request not excluded
    /// by NO_PROXY. Nothing is read or set up before [`Transport::prepare`] or the first
    /// request.
    pub fn new(
        timeouts: Timeouts,
        ca_bundle: Option<CaBundleLoader>,
        proxy: Option<ProxyInUse>,
    ) -> Self {
        Transport {
            built: OnceLock::new(),
            ca_bundle,
            parked: Arc::new(Parked::default()),
            timeouts,
            proxy,
        }
    }

    /// Read the CA bundle and set up the agent now (once): a caller about to spend a
    /// one-time resource (an MFA code, a browser sign-in) learns first that no request
    /// could be sent. The error is a message for people (a config error).
    pub fn prepare(&self) -> Result<(), String> {
        self.built().map(|_| ())
    }

    fn built(&self) -> Result<&Built, String> {
        self.built
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(String::clone)
    }

    fn build(&self) -> Result<Built, String> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(self.timeouts.connect))
            .timeout_global(Some(self.timeouts.total))
            .max_redirects(0)
            .user_agent(concat!("aws-session/", env!("CARGO_PKG_VERSION")));
        if let Some(load) = &self.ca_bundle {
            let pem = load()?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err("cannot set up HTTPS: AWS_CA_BUNDLE holds no PEM certificate (point AWS_CA_BUNDLE at a PEM file of CA certificates, or unset it)".into());
            }
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build();
            config = config.tls_config(tls);
        }
        // Always set, also to None: ureq would otherwise read the variables itself.
        config = config.proxy(self.proxy.as_ref().map(|p| p.proxy.clone()));
        let connector = Arc::new(DefaultConnector::new());
        let agent = ureq::Agent::with_parts(
            config.build(),
            ParkingConnector {
                inner: connector.clone(),
                parked: self.parked.clone(),
            },
            DefaultResolver::default(),
        );
        Ok(Built { agent, connector })
    }

    /// The timeouts this transport was made with.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The proxy a request to `url` goes through, described for messages
    /// (`proxy HOST:PORT from HTTPS_PROXY`), or `None` when it goes direct.
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let p = self.proxy.as_ref()?;
        let uri: ureq::http::Uri = url.parse().ok()?;
        (!p.proxy.is_no_proxy(&uri)).then_some(p.described.as_str())
    }

    /// POST `req` and read the whole answer (at most [`MAX_BODY`] bytes), all within
    /// `time_left` (the rest of the run's deadline).
    pub fn post(
        &self,
        req: &HttpRequest,
        time_left: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let mut builder = self
            .built()
            .map_err(TransportError::Other)?
            .agent
            .post(&req.url)
            .config()
            .timeout_global(Some(time_left))
            .timeout_connect(Some(self.timeouts.connect.min(time_left)))
            .build();
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = builder
            .send(req.body.as_str())
            .map_err(|e| self.map_error(e, &req.url, time_left))?;
        self.read_response(response, &req.url, time_left)
    }

    /// GET `req.url` with `req.headers` (no body), as [`Transport::post`] otherwise: the
    /// IAM Identity Center portal's calls are GETs.
    pub fn get_with_headers(
        &self,
        req: &HttpRequest,
        time_left: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let mut builder = self
            .built()
            .map_err(TransportError::Other)?
            .agent
            .get(&req.url)
            .config()
            .timeout_global(Some(time_left))
            .timeout_connect(Some(self.timeouts.connect.min(time_left)))
            .build();
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = builder
            .call()
            .map_err(|e| self.map_error(e, &req.url, time_left))?;
        self.read_response(response, &req.url, time_left)
    }

    fn read_response(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        url: &str,
        time_left: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let date = header("date");
        let error_type = header("x-amzn-errortype");
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.map_error(e, url, time_left))?;
        Ok(HttpResponse {
            status,
            date,
            error_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

impl Transport {
    /// GET `url` (no redirects followed: a 3xx is an answer) and read the whole answer
    /// (at most [`MAX_BODY`] bytes) within `time_left`. The URL's query may hold
    /// credentials (the federation endpoint's `Session`): an error's text never
    /// shows more of the URL than its part before the `?`.
    pub fn get(&self, url: &str, time_left: Duration) -> Result<HttpResponse, TransportError> {
        let shown = url.split('?').next().unwrap_or_default();
        let scrub = |e: TransportError| scrub_error(e, url, shown);
        let mut response = self
            .built()
            .map_err(TransportError::Other)?
            .agent
            .get(url)
            .config()
            .timeout_global(Some(time_left))
            .timeout_connect(Some(self.timeouts.connect.min(time_left)))
            .build()
            .call()
            .map_err(|e| scrub(self.map_error(e, shown, time_left)))?;
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
            .map_err(|e| scrub(self.map_error(e, shown, time_left)))?;
        Ok(HttpResponse {
            status,
            date,
            error_type: None,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// `e` with every mention of `url`'s query removed (only `shown`, the part before
/// the `?`, is kept), and a text that still holds a query parameter replaced.
fn scrub_error(e: TransportError, url: &str, shown: &str) -> TransportError {
    let clean = |m: String| {
        let m = m.replace(url, shown);
        if m.contains("Session=") || m.contains("SigninToken=") {
            "the request failed (details withheld: the URL holds credentials)".to_string()
        } else {
            m
        }
    };
    match e {
        TransportError::Unreached(m) => TransportError::Unreached(clean(m)),
        TransportError::Lost(m) => TransportError::Lost(clean(m)),
        TransportError::Timeout(m) => TransportError::Timeout(clean(m)),
        TransportError::Untrusted(m) => TransportError::Untrusted(clean(m)),
        TransportError::Other(m) => TransportError::Other(clean(m)),
        other => other,
    }
}

impl Transport {
    /// Open the connection a request to `url` will need, in the background, while a
    /// person types a code: DNS, TCP (through the proxy, if any) and the TLS handshake,
    /// and not one byte of HTTP. The request that next needs a new connection to that
    /// host takes it (waiting for it when it is still being made) after checking that
    /// the server has not closed it; a connection not taken within [`REWARM`] is
    /// replaced by a fresh one, for at most [`WARM_FOR`]. Dropping the returned guard
    /// stops this and closes a connection not taken. A failure is silent: the request
    /// then connects as usual and reports what goes wrong.
    pub fn warm(&self, url: &str) -> Warm {
        let stop = Arc::new(AtomicBool::new(false));
        let guard = Warm {
            parked: self.parked.clone(),
            stop: stop.clone(),
        };
        let Ok(uri) = url.parse::<ureq::http::Uri>() else {
            return guard;
        };
        let Some(key) = pool_key(&uri) else {
            return guard;
        };
        let Ok(built) = self.built() else {
            return guard;
        };
        if !self.parked.begin(&key) {
            return guard;
        }
        let agent = built.agent.clone();
        let connector = built.connector.clone();
        let parked = self.parked.clone();
        let connect = self.timeouts.connect;
        let thread_key = key.clone();
        let spawned = std::thread::Builder::new()
            .name("warm".into())
            .spawn(move || {
                let key = thread_key;
                let began = Instant::now();
                loop {
                    let made = connect_ahead(&agent, &connector, &uri, connect).ok();
                    let failed = made.is_none();
                    if !parked.finish(&key, made) || failed {
                        return;
                    }
                    let made_at = Instant::now();
                    while made_at.elapsed() < REWARM {
                        if stop.load(Ordering::Relaxed) || !parked.holds(&key) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    if began.elapsed() > WARM_FOR {
                        parked.forget(&key);
                        return;
                    }
                }
            });
        if spawned.is_err() {
            self.parked.forget(&key);
        }
        guard
    }
}

/// How long a connection made ahead waits to be taken before a fresh one replaces it
/// (servers close idle connections; ureq's own pool keeps one 15 s).
pub const REWARM: Duration = Duration::from_secs(15);

/// How long connections are made ahead for one prompt.
pub const WARM_FOR: Duration = Duration::from_secs(300);

/// While it lives, connections are made ahead (see [`Transport::warm`]).
pub struct Warm {
    parked: Arc<Parked>,
    stop: Arc<AtomicBool>,
}

impl Drop for Warm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.parked.clear();
    }
}

/// `scheme://authority` of `uri`: which connections may serve it.
fn pool_key(uri: &ureq::http::Uri) -> Option<String> {
    Some(format!(
        "{}://{}",
        uri.scheme_str()?,
        uri.authority()?.as_str()
    ))
}

/// A connection made ahead for one host, or being made.
#[derive(Debug)]
struct Slot {
    key: String,
    conn: Option<Box<dyn Connection>>,
}

/// Connections made ahead, by host; a waiting request is woken when one is ready.
#[derive(Debug, Default)]
struct Parked {
    slots: Mutex<Vec<Slot>>,
    changed: Condvar,
}

impl Parked {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Mark a connection to `key` as being made; false when one already is.
    fn begin(&self, key: &str) -> bool {
        let mut slots = self.lock();
        if slots.iter().any(|s| s.key == key) {
            return false;
        }
        slots.push(Slot {
            key: key.to_string(),
            conn: None,
        });
        true
    }

    /// Put the connection made (`None`: it failed); false when nobody wants it any
    /// more (it was taken, or the warming was stopped), and then it is closed.
    fn finish(&self, key: &str, made: Option<Box<dyn Connection>>) -> bool {
        let mut slots = self.lock();
        let Some(i) = slots.iter().position(|s| s.key == key) else {
            return false;
        };
        match made {
            Some(conn) => slots[i].conn = Some(conn),
            None if slots[i].conn.is_none() => {
                slots.remove(i);
            }
            None => {}
        }
        self.changed.notify_all();
        true
    }

    fn holds(&self, key: &str) -> bool {
        self.lock().iter().any(|s| s.key == key)
    }

    fn forget(&self, key: &str) {
        self.lock().retain(|s| s.key != key);
        self.changed.notify_all();
    }

    fn clear(&self) {
        self.lock().clear();
        self.changed.notify_all();
    }

    /// The connection to `key` made ahead, waiting up to `wait` while it is being made;
    /// `None` when there is none (or it came too late, or the server closed it).
    fn take(&self, key: &str, wait: Duration) -> Option<Box<dyn Connection>> {
        let until = Instant::now() + wait;
        let mut slots = self.lock();
        loop {
            let i = slots.iter().position(|s| s.key == key)?;
            if slots[i].conn.is_some() {
                let mut conn = slots.remove(i).conn?;
                drop(slots);
                return still_open(&mut conn).then_some(conn);
            }
            let left = until.checked_duration_since(Instant::now())?;
            slots = self
                .changed
                .wait_timeout(slots, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// Whether a connection made a while ago is still usable: a short read finds nothing
/// to read (the TLS layer takes in what the server sent after its handshake, such as
/// session tickets). End of stream, an error or stray bytes: the server closed it or it
/// is not ours to use.
fn still_open(conn: &mut Box<dyn Connection>) -> bool {
    let probe = NextTimeout {
        after: utime::Duration::from_millis(3),
        reason: ureq::Timeout::Global,
        per_read: None,
        per_write: None,
    };
    matches!(conn.await_input(probe), Err(ureq::Error::Timeout(_)))
}

/// The agent's connector: a connection made ahead to the request's host when there is
/// one, else a new one from the default chain.
#[derive(Debug)]
struct ParkingConnector {
    inner: Arc<DefaultConnector>,
    parked: Arc<Parked>,
}

impl Connector<()> for ParkingConnector {
    type Out = Box<dyn Connection>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(key) = pool_key(details.uri) {
            let wait = (*details.timeout.after).min(Duration::from_secs(30));
            if let Some(conn) = self.parked.take(&key, wait) {
                return Ok(Some(conn));
            }
        }
        self.inner.connect(details, chained)
    }
}

/// Make a connection to `uri` the way the agent would for a request (name lookup,
/// proxy, TCP, TLS), without sending anything on it.
fn connect_ahead(
    agent: &ureq::Agent,
    connector: &Arc<DefaultConnector>,
    uri: &ureq::http::Uri,
    connect: Duration,
) -> Result<Box<dyn Connection>, ureq::Error> {
    let config = agent.config();
    let resolver = DefaultResolver::default();
    let timeout = NextTimeout {
        after: utime::Duration::Exact(connect),
        reason: ureq::Timeout::Connect,
        per_read: None,
        per_write: None,
    };
    // As ureq does: the proxy looks the name up, unless it is a SOCKS4 one or the
    // host is excluded by NO_PROXY.
    let addrs = match config.proxy() {
        Some(p) if !p.is_no_proxy(uri) && !p.resolve_target() => resolver.empty(),
        _ => resolver.resolve(uri, config, timeout)?,
    };
    let chain = connector.clone();
    let details = ConnectionDetails {
        uri,
        addrs,
        resolver: &resolver,
        config,
        request_level: false,
        now: utime::Instant::now(),
        timeout,
        current_time: Arc::new(utime::Instant::now),
        run_connector: Arc::new(move |d: &ConnectionDetails| {
            chain.connect(d, None)?.ok_or(ureq::Error::ConnectionFailed)
        }),
        register_shutdown: Arc::new(|_| Ok(())),
    };
    connector
        .connect(&details, None)?
        .ok_or(ureq::Error::ConnectionFailed)
}

impl Transport {
    /// ureq's error in words, with the proxy when one is in the way.
    /// A connect timeout cut short by the deadline (`time_left`) is the deadline's.
    fn map_error(&self, e: ureq::Error, url: &str, time_left: Duration) -> TransportError {
        use ureq::Error as E;
        let via = match self.proxy_for(url) {
            Some(p) => format!(" (via {p})"),
            None => String::new(),
        };
        match e {
            E::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve)
                if self.timeouts.connect < time_left =>
            {
                TransportError::Timeout(format!(
                    "no connection within {} s{via}",
                    self.timeouts.connect.as_secs()
                ))
            }
            E::Timeout(_) => TransportError::Deadline,
            E::BodyExceedsLimit(_) => TransportError::TooLarge,
            E::HostNotFound => TransportError::Unreached(format!("host not found{via}")),
            E::ConnectionFailed => TransportError::Unreached(format!("connection failed{via}")),
            E::ConnectProxyFailed(m) => TransportError::Other(format!(
                "the proxy refused the tunnel: {}{via}",
                printable(&m)
            )),
            E::Io(io) => {
                use std::io::ErrorKind as K;
                match io.kind() {
                    K::ConnectionRefused => {
                        TransportError::Unreached(format!("connection refused{via}"))
                    }
                    K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof => TransportError::Lost(format!(
                        "connection lost ({}){via}",
                        printable(&io.to_string())
                    )),
                    K::TimedOut | K::WouldBlock => TransportError::Deadline,
                    _ => other_error(printable(&io.to_string()), &via, self.ca_bundle.is_some()),
                }
            }
            other => other_error(
                printable(&other.to_string()),
                &via,
                self.ca_bundle.is_some(),
            ),
        }
    }
}

/// Any other failure; a refused certificate (rustls says so in words) gets advice:
/// a CA certificate used as the server's own is named as such (webpki refuses it and
/// has no switch for it), and AWS_CA_BUNDLE is advised only when it is not set.
fn other_error(text: String, via: &str, own_roots: bool) -> TransportError {
    if text.contains("CaUsedAsEndEntity") {
        TransportError::Untrusted(format!(
            "the server's certificate is a CA certificate (CA:TRUE) used as the server's own certificate, which aws-session refuses (the AWS CLI accepts it): give the server a certificate signed by that CA (CA:FALSE, with the server's name){via}"
        ))
    } else if text.contains("certificate") && own_roots {
        TransportError::Untrusted(format!(
            "the server's certificate is not trusted ({text}){via}; check that AWS_CA_BUNDLE holds the CA that signed it"
        ))
    } else if text.contains("certificate") {
        TransportError::Untrusted(format!(
            "the server's certificate is not trusted ({text}){via}; if the endpoint or a proxy uses its own CA, point AWS_CA_BUNDLE at that CA's PEM file"
        ))
    } else {
        TransportError::Other(format!("{text}{via}"))
    }
}
