//! The one-shot loopback listener of `login`'s same-device flow. The browser is opened
//! on `http://127.0.0.1:PORT/start/RANDOM` (any local user can read a process's
//! arguments, so they must not hold the state or the PKCE challenge), which this
//! answers, once, with a redirect to the authorize URL; the sign-in page then sends
//! the browser to `http://127.0.0.1:PORT/oauth/callback?code=…&state=…`, and this
//! answers that request with a short page and hands the code on. Bound to 127.0.0.1
//! only. Only the request carrying this sign-in's state (which only the redirect
//! carried) ends the wait: other paths (a browser's `/favicon.ico`, the start path
//! again) get a 404, callbacks with another state or without a code get a 400, and
//! the wait goes on until the deadline.

use crate::aws::signin::{parse_callback, Callback, CallbackRequest};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Largest request head read (a callback URL is well under 4 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// A listener on 127.0.0.1 and an OS-chosen port.
pub struct CallbackServer {
    listener: TcpListener,
    port: u16,
}

/// Where the browser starts: the random path it is opened on, and the authorize URL
/// that path redirects to (once).
pub struct Start {
    pub path: String,
    pub location: String,
}

impl CallbackServer {
    pub fn bind() -> Result<CallbackServer> {
        let fail = |e: std::io::Error| {
            Error::Local(format!(
                "cannot listen on 127.0.0.1 for the sign-in callback: {e}; use aws-session login --remote"
            ))
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(fail)?;
        let port = listener.local_addr().map_err(fail)?.port();
        listener.set_nonblocking(true).map_err(fail)?;
        Ok(CallbackServer { listener, port })
    }

    /// The `redirect_uri` of the authorization request.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/oauth/callback", self.port)
    }

    /// The URL the browser is opened on for `start`.
    pub fn start_url(&self, start: &Start) -> String {
        format!("http://127.0.0.1:{}{}", self.port, start.path)
    }

    /// Wait until `deadline` for the callback of the sign-in whose state is `state`,
    /// redirecting the first request for `start`'s path to its authorize URL (once,
    /// whichever connection asks first). Each connection is read on a thread of its own
    /// within [`HEAD_DEADLINE`] (and never past `deadline`), so a slow or silent client
    /// delays neither the browser's answer nor the end of the wait; at most
    /// [`MAX_READERS`] are read at once, more wait in the listen backlog.
    pub fn wait(&self, deadline: Instant, state: &str, start: Option<Start>) -> Result<Callback> {
        let (found, answers) = mpsc::channel();
        let readers = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Mutex::new(start));
        loop {
            match answers.try_recv() {
                Ok(cb) => return Ok(cb),
                Err(_) if Instant::now() >= deadline => {
                    return Err(Error::Network(
                        "no sign-in came back from the browser in time; run aws-session login again (or login --remote to paste a code)".into(),
                    ));
                }
                Err(_) => {}
            }
            if readers.load(Ordering::SeqCst) >= MAX_READERS {
                std::thread::sleep(POLL);
                continue;
            }
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let (found, mine, state, start) = (
                        found.clone(),
                        Arc::clone(&readers),
                        state.to_string(),
                        Arc::clone(&start),
                    );
                    readers.fetch_add(1, Ordering::SeqCst);
                    let spawned = std::thread::Builder::new()
                        .name("login-callback".into())
                        .spawn(move || {
                            if let Some(cb) = answer(stream, &state, deadline, &start) {
                                let _ = found.send(cb);
                            }
                            mine.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        readers.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Ok(cb) = answers.recv_timeout(POLL) {
                        return Ok(cb);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Local(format!(
                        "the sign-in callback listener failed: {e}; run aws-session login again"
                    )))
                }
            }
        }
    }
}

/// How long a client may take to send its whole request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// Connections read at once.
const MAX_READERS: usize = 32;
/// How often the wait looks for a new connection or the end of its deadline.
const POLL: Duration = Duration::from_millis(20);

/// The target of a request head that is a GET (`GET /oauth/callback?… HTTP/1.1`), if it
/// is one. Pure: the listener's request parser, fuzzed.
///
/// ```
/// use aws_session::aws::callback::get_target;
/// assert_eq!(get_target(b"GET /x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n").as_deref(), Some("/x?a=1"));
/// assert_eq!(get_target(b"POST /x HTTP/1.1\r\n\r\n"), None);
/// assert_eq!(get_target(b""), None);
/// ```
pub fn get_target(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let mut words = text.lines().next().unwrap_or_default().split(' ');
    match (words.next(), words.next()) {
        (Some("GET"), Some(target)) => Some(target.to_string()),
        _ => None,
    }
}

/// Read one request and answer it; the callback it carried, if it was this sign-in's.
/// The first request for the start path is redirected to the authorize URL, and the
/// start is used up.
fn answer(
    mut stream: TcpStream,
    state: &str,
    deadline: Instant,
    start: &Mutex<Option<Start>>,
) -> Option<Callback> {
    let _ = stream.set_nonblocking(false);
    let until = deadline.min(Instant::now() + HEAD_DEADLINE);
    let _ = stream.set_write_timeout(Some(HEAD_DEADLINE));
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        // The deadline is the whole head's, however the bytes trickle in.
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let target = get_target(&head);
    let target = target.as_deref();
    // Taken under the lock: of two connections asking for the start path, one is
    // redirected and the other gets a 404.
    let taken = start
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take_if(|s| target == Some(s.path.as_str()));
    if let Some(s) = taken {
        let _ = write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\r\n",
            s.location
        );
        let _ = stream.flush();
        return None;
    }
    let request = target.map_or(CallbackRequest::OtherPath, |t| parse_callback(t, state));
    let (status, page) = match &request {
        CallbackRequest::Answer(Callback::Code { .. }) => (
            "200 OK",
            "Signed in. You can close this tab and return to the terminal.\n",
        ),
        CallbackRequest::Answer(Callback::Refused(_)) => (
            "200 OK",
            "The sign-in did not complete. Return to the terminal.\n",
        ),
        CallbackRequest::Stray => (
            "400 Bad Request",
            "This is not the answer to the sign-in aws-session is waiting for; it was ignored.\n",
        ),
        CallbackRequest::OtherPath => ("404 Not Found", "Not found.\n"),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.flush();
    match request {
        CallbackRequest::Answer(cb) => Some(cb),
        _ => None,
    }
}
