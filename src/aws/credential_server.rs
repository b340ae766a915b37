//! The credential server of `exec --server` and `shell --server`: the AWS container
//! credentials protocol on loopback.
//!
//! Every AWS SDK and the AWS CLI read `AWS_CONTAINER_CREDENTIALS_FULL_URI` and send
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the `Authorization` header; they fetch again
//! before the credentials expire, so a long job keeps working while aws-session renews
//! the session behind the endpoint. The server binds 127.0.0.1 only, answers nothing
//! useful without the token (compared in constant time), reads at most a few KiB of a
//! request, serves each connection on its own thread with a read deadline, so a slow
//! client cannot block the others, and writes nothing to disk.

use crate::credentials::SessionCredentials;
use crate::json;
use crate::timefmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The path the credentials are served on.
pub const PATH: &str = "/credentials";
/// A request head larger than this is refused: the SDKs send a few hundred bytes.
pub const MAX_REQUEST: usize = 4096;
/// How long a client may take to send a whole request head, counted from the
/// connection (or the end of the answer before, on a kept-alive connection): a client
/// that sends a byte now and then is dropped at the deadline all the same.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once, each on a thread of its own; more wait in the listen
/// backlog until one ends (at most [`REQUEST_DEADLINE`] for an idle one), never refused.
pub const MAX_CONNECTIONS: usize = 512;
/// The stack of a connection's thread: it reads, matches and writes, nothing deeper.
const CONNECTION_STACK: usize = 64 * 1024;
/// How long a request waits for a renewal when nothing valid is left to serve.
pub const RENEWAL_WAIT: Duration = Duration::from_secs(10);
/// The first wait before a failed renewal is tried again; doubled per failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between renewal attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The SDKs' own refresh window: credentials are renewed when less than this is left.
pub const RENEW_MARGIN: Duration = Duration::from_secs(15 * 60);

/// Credentials as the endpoint hands them out.
#[derive(Clone, Debug)]
pub struct Served {
    pub session: SessionCredentials,
    /// The account id, where known (the SDKs use it for account-based endpoints).
    pub account_id: Option<String>,
}

/// Served credentials and their answer, rendered once (per renewal), sent as it is to
/// every request.
#[derive(Debug)]
pub struct Document {
    pub served: Served,
    /// The JSON document.
    pub body: String,
    /// The whole HTTP answer, keeping the connection open, and closing it.
    keep_alive: Vec<u8>,
    close: Vec<u8>,
}

impl Document {
    /// The document of `served`; `None` when its expiry cannot be written (RFC 3339).
    pub fn new(served: Served) -> Option<Document> {
        let body = credentials_json(&served)?;
        let head = |connection: &str| {
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: {connection}\r\nCache-Control: no-store\r\nContent-Type: application/json\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(body.as_bytes());
            out
        };
        Some(Document {
            keep_alive: head("keep-alive"),
            close: head("close"),
            served,
            body,
        })
    }
}

/// What the server asks for each authorised request.
pub trait Provider: Send + Sync {
    /// The credentials to hand out now, or a message the SDKs show to the user.
    fn credentials(&self) -> Result<Arc<Document>, String>;
}

/// A provider that keeps the current credentials and renews them through `renew` once
/// less than the margin is left, on a thread of its own: one renewal at a time, a
/// failed one tried again after a backoff (1 s, doubled up to 60 s). While a renewal
/// runs or fails, the current credentials are served as long as they are valid; only a
/// request that finds nothing valid waits for the renewal (at most [`RENEWAL_WAIT`]),
/// and then gets the renewal's error.
pub struct Renewing<F> {
    shared: Arc<Shared<F>>,
}

struct Shared<F> {
    renew: F,
    state: Mutex<RenewState>,
    changed: Condvar,
}

struct RenewState {
    current: Option<Current>,
    renewing: bool,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

struct Current {
    doc: Arc<Document>,
    renew_at: OffsetDateTime,
}

impl Current {
    fn new(served: Served, issued: OffsetDateTime) -> Result<Current, String> {
        let expiration = served.session.expiration;
        let margin = renew_margin(issued, expiration);
        let doc =
            Document::new(served).ok_or("the session's expiry cannot be written as RFC 3339")?;
        Ok(Current {
            doc: Arc::new(doc),
            renew_at: expiration - margin,
        })
    }

    fn valid_at(&self, now: OffsetDateTime) -> bool {
        now < self.doc.served.session.expiration
    }
}

impl<F> Renewing<F>
where
    F: Fn() -> Result<Served, String> + Send + Sync + 'static,
{
    /// Start with `initial` (made when the command started) and renew with `renew`.
    pub fn new(initial: Served, renew: F) -> Self {
        let (current, last_error) = match Current::new(initial, OffsetDateTime::now_utc()) {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        };
        Renewing {
            shared: Arc::new(Shared {
                renew,
                state: Mutex::new(RenewState {
                    current,
                    renewing: false,
                    failures: 0,
                    retry_at: None,
                    last_error,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// Start a renewal on its own thread, unless one runs or the backoff is not over.
    fn start_renewal(&self, state: &mut RenewState) {
        if state.renewing || state.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        state.renewing = true;
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name("credential-renewal".into())
            .spawn(move || {
                let result = (shared.renew)();
                let issued = OffsetDateTime::now_utc();
                let mut state = shared.lock();
                state.renewing = false;
                match result.and_then(|served| Current::new(served, issued)) {
                    Ok(current) => {
                        state.current = Some(current);
                        state.failures = 0;
                        state.retry_at = None;
                        state.last_error = None;
                    }
                    Err(e) => {
                        state.failures = state.failures.saturating_add(1);
                        state.retry_at = Some(Instant::now() + backoff(state.failures));
                        state.last_error = Some(e);
                    }
                }
                shared.changed.notify_all();
            });
        if let Err(e) = spawned {
            state.renewing = false;
            state.last_error = Some(format!("cannot start a renewal of the session: {e}"));
        }
    }
}

impl<F> Shared<F> {
    fn lock(&self) -> MutexGuard<'_, RenewState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The wait before renewal attempt `failures + 1`: 1 s, 2 s, 4 s … at most 60 s.
pub fn backoff(failures: u32) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(MAX_BACKOFF)
}

/// How long before its end a session is renewed: the SDKs' 15 minutes, or a quarter of
/// the session's life for sessions shorter than an hour (test peers issue short ones).
pub fn renew_margin(issued: OffsetDateTime, expiration: OffsetDateTime) -> Duration {
    let life = (expiration - issued).whole_seconds().max(0) as u64;
    RENEW_MARGIN.min(Duration::from_secs(life / 4))
}

impl<F> Provider for Renewing<F>
where
    F: Fn() -> Result<Served, String> + Send + Sync + 'static,
{
    fn credentials(&self) -> Result<Arc<Document>, String> {
        let now = OffsetDateTime::now_utc();
        let mut state = self.shared.lock();
        if let Some(c) = &state.current {
            if now < c.renew_at {
                return Ok(Arc::clone(&c.doc));
            }
        }
        self.start_renewal(&mut state);
        let until = Instant::now() + RENEWAL_WAIT;
        loop {
            if let Some(c) = state
                .current
                .as_ref()
                .filter(|c| c.valid_at(OffsetDateTime::now_utc()))
            {
                return Ok(Arc::clone(&c.doc));
            }
            let left = until.saturating_duration_since(Instant::now());
            if !state.renewing || left.is_zero() {
                return Err(state.last_error.clone().unwrap_or_else(|| {
                    "the session is being renewed and no valid credentials are left meanwhile: try again in a few seconds".to_string()
                }));
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// A running endpoint. Dropping it (or [`Server::stop`]) closes the port.
pub struct Server {
    addr: SocketAddr,
    /// The listening socket's descriptor (owned by the accept loop's thread).
    fd: std::os::fd::RawFd,
    token: String,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Bind a random port on 127.0.0.1 with a fresh 256-bit token and serve `provider`.
    pub fn start(provider: Arc<dyn Provider>) -> io::Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
        let token = random_token()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let served = Arc::new(Endpoint {
                token: token.clone(),
                host: addr.to_string(),
                provider,
            });
            let stopping = Arc::clone(&stopping);
            std::thread::Builder::new()
                .name("credential-server".into())
                .spawn(move || accept_loop(listener, served, &stopping))?
        };
        Ok(Server {
            addr,
            fd,
            token,
            stopping,
            thread: Some(thread),
        })
    }

    /// The value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// The value for `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Let the processes started from now on inherit the listening socket, so that the
    /// port stays taken (by a socket nobody answers on) while any of them lives: a
    /// daemon left behind by the child, which holds the URL and the token, then cannot
    /// be answered by whoever binds the port after this process ends (it gets no answer
    /// and no credentials, rather than someone else's). The token itself is worthless
    /// once this process ends: no other endpoint accepts it.
    pub fn hold_port_in_children(&self) -> io::Result<()> {
        // SAFETY: fcntl on a descriptor this server owns until it is stopped.
        let flags = unsafe { libc::fcntl(self.fd, libc::F_GETFD) };
        if flags < 0
            // SAFETY: as above; only FD_CLOEXEC is cleared.
            || unsafe { libc::fcntl(self.fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Close the port and wait for the accept loop to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What every connection needs: the token, the Host the URL names, the credentials.
struct Endpoint {
    token: String,
    host: String,
    provider: Arc<dyn Provider>,
}

/// Connections being served, bounded by [`MAX_CONNECTIONS`].
#[derive(Default)]
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take a slot, waiting while all are used; false when the server is stopping.
    fn take(&self, stopping: &AtomicBool) -> bool {
        let mut used = self.lock();
        while *used >= MAX_CONNECTIONS {
            if stopping.load(Ordering::SeqCst) {
                return false;
            }
            used = self
                .freed
                .wait_timeout(used, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        *used += 1;
        true
    }

    fn give_back(&self) {
        *self.lock() -= 1;
        self.freed.notify_one();
    }
}

/// Accept connections while a slot is free; beyond that they wait in the kernel's
/// listen backlog (never answered 503 nor reset) until a connection ends.
fn accept_loop(listener: TcpListener, endpoint: Arc<Endpoint>, stopping: &AtomicBool) {
    let slots = Arc::new(Slots::default());
    loop {
        if !slots.take(stopping) {
            break;
        }
        let accepted = listener.accept();
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let mut stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors (or a connection gone before it was taken):
                // the pending ones wait in the backlog meanwhile.
                slots.give_back();
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let endpoint = Arc::clone(&endpoint);
        let thread_slots = Arc::clone(&slots);
        let spawned = std::thread::Builder::new()
            .name("credential-client".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                serve_connection(&mut stream, &endpoint);
                thread_slots.give_back();
            });
        if spawned.is_err() {
            slots.give_back();
        }
    }
}

/// Serve the requests of one connection, kept alive while the client asks for it and
/// gets credentials; each request head must come within [`REQUEST_DEADLINE`].
fn serve_connection(stream: &mut TcpStream, endpoint: &Endpoint) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let mut buf = Vec::with_capacity(1024);
    loop {
        let deadline = Instant::now() + REQUEST_DEADLINE;
        let end = match read_head(stream, &mut buf, deadline) {
            Ok(end) => end,
            Err(HeadError::TooLarge) => {
                let _ = stream.write_all(&Response::Status(431).bytes(false));
                return;
            }
            Err(HeadError::Io) => return,
        };
        let (response, keep_alive) = match parse_head(&buf[..end]) {
            Some(request) => (
                respond(
                    &request,
                    &endpoint.token,
                    &endpoint.host,
                    endpoint.provider.as_ref(),
                ),
                request.keep_alive,
            ),
            None => (Response::Status(400), false),
        };
        let keep_alive = keep_alive && matches!(response, Response::Credentials(_));
        if stream.write_all(&response.bytes(keep_alive)).is_err() || !keep_alive {
            return;
        }
        buf.drain(..end + 4);
    }
}

enum HeadError {
    TooLarge,
    Io,
}

/// Read into `buf` until it holds a request head (up to the blank line), at most
/// [`MAX_REQUEST`] bytes, all before `deadline`; where the head ends in `buf`. Bytes
/// after it (a pipelined request) stay in `buf`.
fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, HeadError> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            return Ok(end);
        }
        if buf.len() > MAX_REQUEST {
            return Err(HeadError::TooLarge);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::Io);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Io),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a request head the server looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub authorization: Option<&'a str>,
    pub host: Option<&'a str>,
    /// HTTP/1.1 without `Connection: close`, and no request body.
    pub keep_alive: bool,
}

/// Parse a request head (without its blank line); `None` when it is not HTTP/1.x.
pub fn parse_head(head: &[u8]) -> Option<Request<'_>> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target, version) = (
        request_line.next()?,
        request_line.next()?,
        request_line.next()?,
    );
    if !version.starts_with("HTTP/1.") || request_line.next().is_some() {
        return None;
    }
    let mut request = Request {
        method,
        target,
        authorization: None,
        host: None,
        keep_alive: version == "HTTP/1.1",
    };
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("authorization") {
            request.authorization = Some(value);
        } else if name.eq_ignore_ascii_case("host") {
            if request.host.is_some() {
                return None;
            }
            request.host = Some(value);
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                request.keep_alive = false;
            }
        } else if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            // A body is not read: the connection ends after the answer.
            request.keep_alive = false;
        }
    }
    Some(request)
}

/// An HTTP answer: a bare status, the credentials, or a 500 with a JSON message.
#[derive(Debug)]
pub enum Response {
    Status(u16),
    Credentials(Arc<Document>),
    Unavailable(String),
}

impl Response {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Response::Status(s) => *s,
            Response::Credentials(_) => 200,
            Response::Unavailable(_) => 500,
        }
    }

    /// The JSON body, if any.
    pub fn body(&self) -> Option<String> {
        match self {
            Response::Status(_) => None,
            Response::Credentials(doc) => Some(doc.body.clone()),
            Response::Unavailable(message) => Some(format!(
                "{{\"code\":\"CredentialsUnavailable\",\"message\":{}}}",
                json::string(message)
            )),
        }
    }

    fn bytes(&self, keep_alive: bool) -> std::borrow::Cow<'_, [u8]> {
        if let Response::Credentials(doc) = self {
            return if keep_alive {
                &doc.keep_alive
            } else {
                &doc.close
            }
            .as_slice()
            .into();
        }
        let status = self.status();
        let reason = match status {
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            421 => "Misdirected Request",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            _ => "Bad Request",
        };
        let body = self.body().unwrap_or_default();
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
            body.len()
        );
        if status == 405 {
            out.push_str("Allow: GET\r\n");
        }
        if !body.is_empty() {
            out.push_str("Content-Type: application/json\r\n");
        }
        out.push_str("\r\n");
        out.push_str(&body);
        out.into_bytes().into()
    }
}

/// Answer one request. The token is checked before anything else, so a caller
/// without it learns nothing about paths or methods; then the Host must be the
/// address the URL names (`host`, `127.0.0.1:PORT`): a request made through a
/// name that points at loopback (DNS rebinding) is refused with 421.
pub fn respond(request: &Request, token: &str, host: &str, provider: &dyn Provider) -> Response {
    match request.authorization {
        None => return Response::Status(401),
        Some(given) if !constant_time_eq(given.as_bytes(), token.as_bytes()) => {
            return Response::Status(403)
        }
        Some(_) => {}
    }
    match request.host {
        None => return Response::Status(400),
        Some(given) if !given.eq_ignore_ascii_case(host) => return Response::Status(421),
        Some(_) => {}
    }
    let path = request.target.split('?').next().unwrap_or(request.target);
    if path != PATH {
        return Response::Status(404);
    }
    if request.method != "GET" {
        return Response::Status(405);
    }
    match provider.credentials() {
        Ok(doc) => Response::Credentials(doc),
        Err(message) => Response::Unavailable(message),
    }
}

/// The container credentials document.
pub fn credentials_json(served: &Served) -> Option<String> {
    let creds = &served.session.credentials;
    let mut out = format!(
        "{{\"AccessKeyId\":{},\"SecretAccessKey\":{},\"Token\":{},\"Expiration\":\"{}\"",
        json::string(&creds.access_key_id),
        json::string(&creds.secret_access_key),
        json::string(creds.session_token.as_deref().unwrap_or("")),
        timefmt::rfc3339_utc(served.session.expiration)?,
    );
    if let Some(account) = &served.account_id {
        out.push_str(&format!(",\"AccountId\":{}", json::string(account)));
    }
    out.push('}');
    Some(out)
}

/// Equal bytes, compared without an early exit (the time does not tell how much of a
/// guessed token was right).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes from the kernel, hex-encoded.
fn random_token() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use std::sync::atomic::AtomicUsize;

    struct Fixed(Result<Arc<Document>, String>);
    impl Provider for Fixed {
        fn credentials(&self) -> Result<Arc<Document>, String> {
            self.0.clone()
        }
    }

    fn fixed(expires_in: i64) -> Fixed {
        Fixed(Ok(Arc::new(Document::new(served(expires_in)).unwrap())))
    }

    fn served(expires_in: i64) -> Served {
        Served {
            session: SessionCredentials {
                credentials: Credentials {
                    access_key_id: "ASIAEXAMPLE".into(),
                    secret_access_key: "secret\"x".into(),
                    session_token: Some("token".into()),
                },
                expiration: OffsetDateTime::now_utc() + time::Duration::seconds(expires_in),
            },
            account_id: Some("123456789012".into()),
        }
    }

    const HOST: &str = "127.0.0.1:4000";

    fn answer(lines: &[&str], p: &dyn Provider) -> Response {
        let head = lines.join("\r\n").into_bytes();
        match parse_head(&head) {
            Some(request) => respond(&request, "tok", HOST, p),
            None => Response::Status(400),
        }
    }

    #[test]
    fn the_token_is_checked_before_host_path_and_method() {
        let p = fixed(3600);
        let r = answer(&["POST /other HTTP/1.1", "Host: x"], &p);
        assert_eq!(r.status(), 401);
        let r = answer(&["GET /credentials HTTP/1.1", "Authorization: nope"], &p);
        assert_eq!(r.status(), 403);
        let r = answer(
            &[
                "GET /other HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "authorization: tok",
            ],
            &p,
        );
        assert_eq!(r.status(), 404);
        let r = answer(
            &[
                "PUT /credentials HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "Authorization: tok",
            ],
            &p,
        );
        assert_eq!(r.status(), 405);
    }

    #[test]
    fn the_host_must_be_the_address_of_the_url() {
        let p = fixed(3600);
        let ok = answer(
            &[
                "GET /credentials HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "Authorization: tok",
            ],
            &p,
        );
        assert_eq!(ok.status(), 200);
        for host in [
            "evil.example:4000",
            "localhost:4000",
            "127.0.0.1:4001",
            "127.0.0.1",
        ] {
            let r = answer(
                &[
                    "GET /credentials HTTP/1.1",
                    &format!("Host: {host}"),
                    "Authorization: tok",
                ],
                &p,
            );
            assert_eq!(r.status(), 421, "{host}");
        }
        let r = answer(&["GET /credentials HTTP/1.1", "Authorization: tok"], &p);
        assert_eq!(r.status(), 400, "no Host");
        let two = [
            "GET /credentials HTTP/1.1",
            "Host: 127.0.0.1:4000",
            "Host: evil:1",
            "Authorization: tok",
        ];
        assert_eq!(answer(&two, &p).status(), 400, "two Hosts");
    }

    #[test]
    fn an_authorised_get_gets_the_document_rendered_once() {
        let p = fixed(3600);
        let r = answer(
            &[
                "GET /credentials HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "Authorization:  tok ",
            ],
            &p,
        );
        assert_eq!(r.status(), 200);
        let body = r.body().unwrap();
        assert!(body.starts_with("{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"secret\\\"x\",\"Token\":\"token\",\"Expiration\":\""), "{body}");
        assert!(body.ends_with(",\"AccountId\":\"123456789012\"}"), "{body}");
        let again = answer(
            &[
                "GET /credentials HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "Authorization: tok",
            ],
            &p,
        );
        let (Response::Credentials(a), Response::Credentials(b)) = (&r, &again) else {
            panic!("not the document");
        };
        assert!(Arc::ptr_eq(a, b), "the same rendered answer");
        let bytes = r.bytes(true);
        assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(bytes.ends_with(body.as_bytes()));
        assert!(String::from_utf8_lossy(&bytes).contains("Connection: keep-alive\r\n"));
        assert!(String::from_utf8_lossy(&r.bytes(false)).contains("Connection: close\r\n"));
    }

    #[test]
    fn keep_alive_is_for_http_1_1_without_close_or_body() {
        let p = |lines: &[&str]| {
            parse_head(lines.join("\r\n").as_bytes())
                .unwrap()
                .keep_alive
        };
        assert!(p(&["GET / HTTP/1.1", "Host: a"]));
        assert!(!p(&["GET / HTTP/1.0", "Host: a"]));
        assert!(!p(&["GET / HTTP/1.1", "Connection: Close"]));
        assert!(!p(&["GET / HTTP/1.1", "Content-Length: 3"]));
        assert!(parse_head(b"GET / HTTP/2").is_none());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon").is_none());
    }

    #[test]
    fn a_provider_error_is_a_500_with_a_json_message() {
        let p = Fixed(Err("MFA session ended; run \"aws-session-refresh\"".into()));
        let r = answer(
            &[
                "GET /credentials HTTP/1.1",
                "Host: 127.0.0.1:4000",
                "Authorization: tok",
            ],
            &p,
        );
        assert_eq!(r.status(), 500);
        assert_eq!(
            r.body().unwrap(),
            "{\"code\":\"CredentialsUnavailable\",\"message\":\"MFA session ended; run \\\"aws-session-refresh\\\"\"}"
        );
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn the_margin_is_fifteen_minutes_or_a_quarter_of_a_short_life() {
        let t = OffsetDateTime::now_utc();
        assert_eq!(renew_margin(t, t + time::Duration::hours(12)), RENEW_MARGIN);
        assert_eq!(
            renew_margin(t, t + time::Duration::seconds(40)),
            Duration::from_secs(10)
        );
        assert_eq!(
            renew_margin(t, t - time::Duration::seconds(40)),
            Duration::ZERO
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(7), Duration::from_secs(60));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(60));
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < until, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn renewing_hands_out_the_current_session_until_the_margin() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let fresh = Renewing::new(served(3600), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(served(3600))
        });
        fresh.credentials().unwrap();
        fresh.credentials().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let ending = Renewing::new(served(0), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(served(3600))
        });
        let renewed = ending.credentials().unwrap();
        assert!(
            renewed.served.session.expiration
                > OffsetDateTime::now_utc() + time::Duration::minutes(50)
        );
        ending.credentials().unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "renewed once, then the renewed one is kept"
        );
    }

    #[test]
    fn a_hanging_or_failing_renewal_serves_the_valid_session_and_backs_off() {
        // Past the margin (a quarter of 40 s) but valid: served while the renewal hangs.
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let calls = Arc::new(AtomicUsize::new(0));
        let (gate, counted) = (Arc::clone(&release), Arc::clone(&calls));
        let initial = served(40);
        let p = Renewing::new(initial.clone(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let (lock, cv) = &*gate;
            let mut open = lock.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            Err("STS answered 503".to_string())
        });
        // Force the session past its margin: renew_at is 30 s ahead; pretend by asking
        // with a session whose margin has begun.
        p.shared.lock().current.as_mut().unwrap().renew_at = OffsetDateTime::now_utc();
        for _ in 0..50 {
            let doc = p.credentials().expect("the valid session is served");
            assert_eq!(doc.served.session.expiration, initial.session.expiration);
        }
        wait_until("one renewal started", || calls.load(Ordering::SeqCst) == 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one renewal at a time");
        *release.0.lock().unwrap() = true;
        release.1.notify_all();
        wait_until("the renewal failed", || !p.shared.lock().renewing);
        // Failed: still the valid session, and no new attempt before the backoff.
        for _ in 0..50 {
            p.credentials().expect("still valid");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "backoff before the next attempt"
        );
        // Once nothing is valid, the renewal's error is the answer.
        p.shared.lock().current = None;
        assert_eq!(p.credentials().unwrap_err(), "STS answered 503");
    }

    #[test]
    fn a_request_head_over_the_limit_or_past_the_deadline_is_refused() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&vec![b'a'; MAX_REQUEST + 600]).unwrap();
        let mut buf = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(matches!(
            read_head(&mut server, &mut buf, deadline),
            Err(HeadError::TooLarge)
        ));
        // A head trickled in byte by byte is cut at the deadline of the whole head.
        let mut client = TcpStream::connect(addr).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let trickle = std::thread::spawn(move || {
            for _ in 0..40 {
                if client.write_all(b"a").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let began = Instant::now();
        let mut buf = Vec::new();
        let r = read_head(&mut server, &mut buf, began + Duration::from_millis(500));
        assert!(matches!(r, Err(HeadError::Io)));
        assert!(
            began.elapsed() < Duration::from_millis(1500),
            "{:?}",
            began.elapsed()
        );
        drop(server);
        trickle.join().unwrap();
    }

    #[test]
    fn the_server_keeps_connections_alive_and_closes_its_port_when_stopped() {
        let server = Server::start(Arc::new(fixed(3600))).unwrap();
        assert!(server.url().starts_with("http://127.0.0.1:"));
        assert_eq!(server.token().len(), 64);
        let addr = server.addr;
        let mut s = TcpStream::connect(addr).unwrap();
        let request = format!(
            "GET /credentials HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\r\n",
            server.token()
        );
        let one = Document::new(served(0)).unwrap().keep_alive.len();
        for _ in 0..2 {
            s.write_all(request.as_bytes()).unwrap();
            let mut answer = vec![0u8; one];
            s.read_exact(&mut answer).unwrap();
            assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
        }
        server.stop();
        assert!(TcpStream::connect(addr).is_err(), "the port is closed");
    }
}
