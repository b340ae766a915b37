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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use time::OffsetDateTime;

/// The path the credentials are served on.
pub const PATH: &str = "/credentials";
/// A request head larger than this is refused: the SDKs send a few hundred bytes.
pub const MAX_REQUEST: usize = 4096;
/// How long a client may take to send its request.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more are answered 503 at once.
const MAX_CONNECTIONS: usize = 64;
/// A session with less than this left is not handed out when it cannot be renewed.
const LAST_MINUTE: i64 = 60;
/// The SDKs' own refresh window: credentials are renewed when less than this is left.
pub const RENEW_MARGIN: Duration = Duration::from_secs(15 * 60);

/// Credentials as the endpoint hands them out.
#[derive(Clone, Debug)]
pub struct Served {
    pub session: SessionCredentials,
    /// The account id, where known (the SDKs use it for account-based endpoints).
    pub account_id: Option<String>,
}

/// What the server asks for each authorised request.
pub trait Provider: Send + Sync {
    /// The credentials to hand out now, or a message the SDKs show to the user.
    fn credentials(&self) -> Result<Served, String>;
}

/// A provider that keeps the current credentials and renews them through `renew` once
/// less than the margin is left. Concurrent requests during a renewal wait for that one
/// renewal; two never run at once.
pub struct Renewing<F> {
    renew: F,
    current: Mutex<Option<(Served, OffsetDateTime)>>,
}

impl<F> Renewing<F>
where
    F: Fn() -> Result<Served, String> + Send + Sync,
{
    /// Start with `initial` (made when the command started) and renew with `renew`.
    pub fn new(initial: Served, renew: F) -> Self {
        let now = OffsetDateTime::now_utc();
        Renewing {
            renew,
            current: Mutex::new(Some((initial, now))),
        }
    }
}

/// How long before its end a session is renewed: the SDKs' 15 minutes, or a quarter of
/// the session's life for sessions shorter than an hour (test peers issue short ones).
pub fn renew_margin(issued: OffsetDateTime, expiration: OffsetDateTime) -> Duration {
    let life = (expiration - issued).whole_seconds().max(0) as u64;
    RENEW_MARGIN.min(Duration::from_secs(life / 4))
}

impl<F> Provider for Renewing<F>
where
    F: Fn() -> Result<Served, String> + Send + Sync,
{
    fn credentials(&self) -> Result<Served, String> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let now = OffsetDateTime::now_utc();
        if let Some((served, issued)) = current.as_ref() {
            let left = served.session.expiration - now;
            let margin = renew_margin(*issued, served.session.expiration);
            if left.whole_seconds() > margin.as_secs() as i64 {
                return Ok(served.clone());
            }
        }
        match (self.renew)() {
            Ok(renewed) => {
                *current = Some((renewed.clone(), OffsetDateTime::now_utc()));
                Ok(renewed)
            }
            // Past the margin but still valid for a while: the SDKs will ask again.
            Err(e) => match current.as_ref() {
                Some((served, _))
                    if (served.session.expiration - now).whole_seconds() > LAST_MINUTE =>
                {
                    Ok(served.clone())
                }
                _ => Err(e),
            },
        }
    }
}

/// A running endpoint. Dropping it (or [`Server::stop`]) closes the port.
pub struct Server {
    addr: SocketAddr,
    token: String,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Bind a random port on 127.0.0.1 with a fresh 256-bit token and serve `provider`.
    pub fn start(provider: Arc<dyn Provider>) -> io::Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let token = random_token()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let token = token.clone();
            let stopping = Arc::clone(&stopping);
            std::thread::Builder::new()
                .name("credential-server".into())
                .spawn(move || accept_loop(listener, &token, provider, &stopping))?
        };
        Ok(Server {
            addr,
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

fn accept_loop(
    listener: TcpListener,
    token: &str,
    provider: Arc<dyn Provider>,
    stopping: &AtomicBool,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else { continue };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = stream.write_all(&Response::status(503).bytes());
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let token = token.to_string();
        let provider = Arc::clone(&provider);
        let active_for_thread = Arc::clone(&active);
        let spawned = std::thread::Builder::new()
            .name("credential-client".into())
            .spawn(move || {
                serve_connection(&mut stream, &token, provider.as_ref());
                active_for_thread.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn serve_connection(stream: &mut TcpStream, token: &str, provider: &dyn Provider) {
    let _ = stream.set_read_timeout(Some(READ_DEADLINE));
    let _ = stream.set_write_timeout(Some(READ_DEADLINE));
    let response = match read_head(stream) {
        Ok(head) => respond(&head, token, provider),
        Err(HeadError::TooLarge) => Response::status(431),
        Err(HeadError::Io) => return,
    };
    let _ = stream.write_all(&response.bytes());
    let _ = stream.flush();
}

enum HeadError {
    TooLarge,
    Io,
}

/// Read a request head (up to the blank line), at most [`MAX_REQUEST`] bytes.
fn read_head(stream: &mut impl Read) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    loop {
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_REQUEST {
            return Err(HeadError::TooLarge);
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return Err(HeadError::Io),
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An HTTP response: a status and an optional JSON body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Option<String>,
}

impl Response {
    fn status(status: u16) -> Self {
        Response { status, body: None }
    }

    fn bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Bad Request",
        };
        let body = self.body.as_deref().unwrap_or("");
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
            self.status,
            body.len()
        );
        if self.status == 405 {
            out.push_str("Allow: GET\r\n");
        }
        if !body.is_empty() {
            out.push_str("Content-Type: application/json\r\n");
        }
        out.push_str("\r\n");
        out.push_str(body);
        out.into_bytes()
    }
}

/// Answer one request head. The token is checked before anything else, so a caller
/// without it learns nothing about paths or methods.
pub fn respond(head: &[u8], token: &str, provider: &dyn Provider) -> Response {
    let Ok(head) = std::str::from_utf8(head) else {
        return Response::status(400);
    };
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Response::status(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Response::status(400);
    }
    let authorization = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("authorization")
            .then(|| value.trim())
    });
    match authorization {
        None => return Response::status(401),
        Some(given) if !constant_time_eq(given.as_bytes(), token.as_bytes()) => {
            return Response::status(403)
        }
        Some(_) => {}
    }
    let path = target.split('?').next().unwrap_or(target);
    if path != PATH {
        return Response::status(404);
    }
    if method != "GET" {
        return Response::status(405);
    }
    match provider.credentials() {
        Ok(served) => match credentials_json(&served) {
            Some(body) => Response {
                status: 200,
                body: Some(body),
            },
            None => error_response("the session's expiry cannot be written as RFC 3339"),
        },
        Err(message) => error_response(&message),
    }
}

fn error_response(message: &str) -> Response {
    Response {
        status: 500,
        body: Some(format!(
            "{{\"code\":\"CredentialsUnavailable\",\"message\":{}}}",
            json::string(message)
        )),
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

    struct Fixed(Result<Served, String>);
    impl Provider for Fixed {
        fn credentials(&self) -> Result<Served, String> {
            self.0.clone()
        }
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

    fn head(lines: &[&str]) -> Vec<u8> {
        lines.join("\r\n").into_bytes()
    }

    #[test]
    fn the_token_is_checked_before_path_and_method() {
        let p = Fixed(Ok(served(3600)));
        let r = respond(&head(&["POST /other HTTP/1.1", "Host: x"]), "tok", &p);
        assert_eq!(r, Response::status(401));
        let r = respond(
            &head(&["GET /credentials HTTP/1.1", "Authorization: nope"]),
            "tok",
            &p,
        );
        assert_eq!(r, Response::status(403));
        let r = respond(
            &head(&["GET /other HTTP/1.1", "authorization: tok"]),
            "tok",
            &p,
        );
        assert_eq!(r, Response::status(404));
        let r = respond(
            &head(&["PUT /credentials HTTP/1.1", "Authorization: tok"]),
            "tok",
            &p,
        );
        assert_eq!(r, Response::status(405));
    }

    #[test]
    fn an_authorised_get_gets_the_document() {
        let p = Fixed(Ok(served(3600)));
        let r = respond(
            &head(&["GET /credentials HTTP/1.1", "Authorization:  tok "]),
            "tok",
            &p,
        );
        assert_eq!(r.status, 200);
        let body = r.body.unwrap();
        assert!(body.starts_with("{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"secret\\\"x\",\"Token\":\"token\",\"Expiration\":\""), "{body}");
        assert!(body.ends_with(",\"AccountId\":\"123456789012\"}"), "{body}");
    }

    #[test]
    fn a_provider_error_is_a_500_with_a_json_message() {
        let p = Fixed(Err("MFA session ended; run \"aws-session-refresh\"".into()));
        let r = respond(
            &head(&["GET /credentials HTTP/1.1", "Authorization: tok"]),
            "tok",
            &p,
        );
        assert_eq!(r.status, 500);
        assert_eq!(
            r.body.unwrap(),
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
    fn renewing_hands_out_the_current_session_until_the_margin() {
        let calls = AtomicUsize::new(0);
        let fresh = Renewing::new(served(3600), || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(served(3600))
        });
        fresh.credentials().unwrap();
        fresh.credentials().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let calls = AtomicUsize::new(0);
        let ending = Renewing::new(served(1), || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(served(3600))
        });
        ending.credentials().unwrap();
        ending.credentials().unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "renewed once, then the renewed one is kept"
        );
    }

    #[test]
    fn a_request_head_over_the_limit_is_refused() {
        let big = vec![b'a'; MAX_REQUEST + 600];
        assert!(matches!(
            read_head(&mut big.as_slice()),
            Err(HeadError::TooLarge)
        ));
        let ok = b"GET / HTTP/1.1\r\nA: b\r\n\r\n".to_vec();
        assert_eq!(
            read_head(&mut ok.as_slice()).ok().unwrap(),
            b"GET / HTTP/1.1\r\nA: b"
        );
    }

    #[test]
    fn the_server_serves_loopback_and_closes_its_port_when_stopped() {
        let server = Server::start(Arc::new(Fixed(Ok(served(3600))))).unwrap();
        assert!(server.url().starts_with("http://127.0.0.1:"));
        assert_eq!(server.token().len(), 64);
        let addr = server.addr;
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /credentials HTTP/1.1\r\nAuthorization: {}\r\n\r\n",
            server.token()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        server.stop();
        assert!(TcpStream::connect(addr).is_err(), "the port is closed");
    }
}
