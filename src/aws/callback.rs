//! The one-shot loopback listener of `login`'s same-device flow: the sign-in page sends
//! the browser to `http://127.0.0.1:PORT/oauth/callback?code=…&state=…`, and this
//! answers that request with a short page and hands the code on. Bound to 127.0.0.1
//! only. Only the request carrying this sign-in's state ends the wait: other paths (a
//! browser's `/favicon.ico`) get a 404, callbacks with another state or without a code
//! get a 400, and the wait goes on until the deadline.

use crate::aws::signin::{parse_callback, Callback, CallbackRequest};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Largest request head read (a callback URL is well under 4 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// A listener on 127.0.0.1 and an OS-chosen port.
pub struct CallbackServer {
    listener: TcpListener,
    port: u16,
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

    /// Wait until `deadline` for the callback of the sign-in whose state is `state`.
    pub fn wait(&self, deadline: Instant, state: &str) -> Result<Callback> {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(cb) = answer(stream, state) {
                        return Ok(cb);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(Error::Network(
                            "no sign-in came back from the browser in time; run aws-session login again (or login --remote to paste a code)".into(),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
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

/// Read one request and answer it; the callback it carried, if it was this sign-in's.
fn answer(mut stream: TcpStream, state: &str) -> Option<Callback> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or_default().split(' ');
    let request = match (words.next(), words.next()) {
        (Some("GET"), Some(target)) => parse_callback(target, state),
        _ => CallbackRequest::OtherPath,
    };
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
