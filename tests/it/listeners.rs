//! The two loopback listeners under load and under attack: the credential endpoint of
//! `exec --server` (a burst of 256 clients, keep-alive, silent and trickling clients,
//! the Host check, a renewal that fails while valid credentials are still served, the
//! port held while the child's processes live) and `login`'s callback (slow clients
//! cannot keep it past its deadline); and the CA bundle, read only when a request is
//! needed, still refused before a code is asked. Every wait is bounded; nothing here is timed for
//! speed (scripts/bench measures that).

use crate::common::{keys, run_within, stderr, venv, Peer, Sandbox, TestUser};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// A peer whose sessions last 50 times less than asked (a role session of 900 s lasts
/// 18 s), a user with MFA, a role, and a sandbox whose `role` profile rides on the
/// user's MFA session.
fn setup() -> (Peer, TestUser, Sandbox) {
    let peer = Peer::start();
    peer.set_lifetime_scale(0.02);
    let user = peer.create_user("listener", true);
    let role = peer.create_role("listener-role", 3600, &[&user.arn]);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\n\n[profile role]\nregion = us-east-1\nrole_arn = {}\nsource_profile = default\nmfa_serial = {}\nduration_seconds = 900\n",
        role.arn,
        user.mfa_serial.as_deref().unwrap()
    ));
    (peer, user, sb)
}

/// `exec --server` with a child that writes the endpoint's URL and token to a file and
/// waits until the test is done (the file `done` appears).
struct Endpoint {
    child: Child,
    done: PathBuf,
    url: String,
    token: String,
    /// `127.0.0.1:PORT`, the Host the URL names.
    host: String,
}

impl Endpoint {
    fn start(peer: &Peer, user: &TestUser, sb: &Sandbox, child_script: &str) -> Endpoint {
        Self::start_with(peer, user, sb, child_script, &peer.url)
    }

    /// As [`Endpoint::start`], with AWS reached at `aws_url`.
    fn start_with(
        peer: &Peer,
        user: &TestUser,
        sb: &Sandbox,
        child_script: &str,
        aws_url: &str,
    ) -> Endpoint {
        let dir = sb.home.path();
        let (file, done) = (dir.join("endpoint"), dir.join("done"));
        let script = format!(
            "printf '%s %s' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\" > {f}.tmp && mv {f}.tmp {f}; {child_script}; while [ ! -e {d} ]; do sleep 0.1; done",
            f = file.display(),
            d = done.display(),
        );
        let mut c = sb.command(peer);
        c.env("AWS_ENDPOINT_URL", aws_url)
            .args([
                "--profile",
                "role",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args(["sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("run aws-session");
        let began = Instant::now();
        let text = loop {
            if let Ok(t) = std::fs::read_to_string(&file) {
                break t;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("exec --server ended ({status}) before serving: {err}");
            }
            assert!(began.elapsed() < Duration::from_secs(60), "no endpoint");
            std::thread::sleep(Duration::from_millis(50));
        };
        let (url, token) = text.split_once(' ').expect("url and token");
        let host = url.trim_start_matches("http://").split('/').next().unwrap();
        Endpoint {
            child,
            done,
            url: url.to_string(),
            token: token.to_string(),
            host: host.to_string(),
        }
    }

    fn request(&self, host: &str, token: &str, connection: &str) -> String {
        format!(
            "GET /credentials HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\nConnection: {connection}\r\nUser-Agent: test\r\n\r\n"
        )
    }

    /// One request on a connection of its own: (status, body).
    fn get(&self, host: &str, token: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.host).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(self.request(host, token, "close").as_bytes())
            .expect("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read the answer");
        parse_answer(&answer)
    }

    fn good(&self) -> (u16, String) {
        self.get(&self.host, &self.token)
    }

    /// Let the child end, and wait for aws-session to end with it.
    fn finish(mut self) -> String {
        std::fs::write(&self.done, "").unwrap();
        let began = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            if began.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("exec --server did not end with its child");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut err = String::new();
        let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
        err
    }
}

/// (status, body) of a whole HTTP answer.
fn parse_answer(answer: &str) -> (u16, String) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// Read one answer of a kept-alive connection (by its Content-Length).
fn read_one(s: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).expect("read"), 1, "closed mid-answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("body");
    let (status, _) = parse_answer(&head);
    (status, String::from_utf8(body).unwrap())
}

/// The credentials of a 200 body, checked: a session key that expires in the future.
fn credentials(body: &str) -> (String, String, String) {
    let v: Value = serde_json::from_str(body).expect("JSON");
    let key = v["AccessKeyId"].as_str().expect("AccessKeyId").to_string();
    assert!(key.starts_with("ASIA"), "{key}");
    let expiration = v["Expiration"].as_str().expect("Expiration");
    let end =
        time::OffsetDateTime::parse(expiration, &time::format_description::well_known::Rfc3339)
            .expect("RFC 3339");
    assert!(
        end > time::OffsetDateTime::now_utc(),
        "expired: {expiration}"
    );
    (
        key,
        v["SecretAccessKey"].as_str().unwrap().to_string(),
        v["Token"].as_str().unwrap().to_string(),
    )
}

/// The AWS CLI signs a call with the served credentials and the peer accepts it.
fn assert_accepted_by_the_peer(sb: &Sandbox, peer: &Peer, creds: &(String, String, String)) {
    let out = run_within(
        {
            let mut c = sb.aws(peer);
            c.env("AWS_ACCESS_KEY_ID", &creds.0)
                .env("AWS_SECRET_ACCESS_KEY", &creds.1)
                .env("AWS_SESSION_TOKEN", &creds.2)
                .args(["sts", "get-caller-identity", "--output", "text"]);
            c
        },
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(":assumed-role/"), "{text}");
}

#[test]
fn a_burst_of_256_concurrent_requests_all_get_valid_credentials() {
    let (peer, user, sb) = setup();
    let ep = Arc::new(Endpoint::start(&peer, &user, &sb, "true"));
    let start = Arc::new(Barrier::new(256));
    let threads: Vec<_> = (0..256)
        .map(|_| {
            let (ep, start) = (Arc::clone(&ep), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                ep.good()
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let first = credentials(&answers[0].1);
    for (_, body) in &answers {
        assert_eq!(credentials(body), first, "one session for the burst");
    }
    assert_accepted_by_the_peer(&sb, &peer, &first);
    let ep = Arc::into_inner(ep).unwrap();
    ep.finish();
}

#[test]
fn two_requests_share_one_kept_alive_connection_and_a_wrong_host_is_refused() {
    let (peer, user, sb) = setup();
    let ep = Endpoint::start(&peer, &user, &sb, "true");
    let mut s = TcpStream::connect(&ep.host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = ep.request(&ep.host, &ep.token, "keep-alive");
    s.write_all(request.as_bytes()).unwrap();
    let (status, first) = read_one(&mut s);
    assert_eq!(status, 200, "{first}");
    s.write_all(request.as_bytes()).unwrap();
    let (status, second) = read_one(&mut s);
    assert_eq!(status, 200, "the second request on the same connection");
    assert_eq!(credentials(&first), credentials(&second));
    // The token answers are as they were; then the Host must be the URL's.
    assert_eq!(ep.get(&ep.host, "").0, 403);
    assert_eq!(ep.get(&ep.host, &"x".repeat(64)).0, 403);
    let mut s = TcpStream::connect(&ep.host).unwrap();
    write!(s, "GET /credentials HTTP/1.1\r\nHost: {}\r\n\r\n", ep.host).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert_eq!(parse_answer(&answer).0, 401);
    let port = ep.host.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("attacker.example:{port}"),
        format!("localhost:{port}"),
        "127.0.0.1:1".to_string(),
    ] {
        let (status, body) = ep.get(&host, &ep.token);
        assert_eq!(status, 421, "Host {host}: {body}");
        assert!(!body.contains("AccessKeyId"));
    }
    assert!(ep.url.ends_with("/credentials"));
    ep.finish();
}

#[test]
fn silent_and_trickling_clients_neither_block_others_nor_stay_past_their_deadline() {
    let (peer, user, sb) = setup();
    let ep = Endpoint::start(&peer, &user, &sb, "true");
    let mut silent: Vec<TcpStream> = (0..32)
        .map(|_| TcpStream::connect(&ep.host).unwrap())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let trickling: Vec<_> = (0..32)
        .map(|_| {
            let mut s = TcpStream::connect(&ep.host).unwrap();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                // A byte every 200 ms: each read is quick, the whole head never comes.
                let began = Instant::now();
                while !stop.load(Ordering::SeqCst) && began.elapsed() < Duration::from_secs(20) {
                    if s.write_all(b"G").is_err() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                false
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..10 {
        let (status, body) = ep.good();
        assert_eq!(status, 200, "with 64 idle connections open: {body}");
        credentials(&body);
    }
    // The silent ones are closed by the server at their deadline (a few seconds).
    for s in &mut silent {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("a silent client got {n} bytes"),
            Err(e) => assert!(
                e.kind() == std::io::ErrorKind::ConnectionReset,
                "the server did not close a silent connection: {e}"
            ),
        }
    }
    // The trickling ones too, though each sent a byte well within any per-read timeout.
    let cut: usize = trickling
        .into_iter()
        .map(|t| usize::from(t.join().unwrap()))
        .sum();
    stop.store(true, Ordering::SeqCst);
    assert_eq!(
        cut, 32,
        "every trickling client was cut off at its deadline"
    );
    assert_eq!(ep.good().0, 200);
    ep.finish();
}

/// A proxy in front of the peer that forwards each request, or answers 503
/// ServiceUnavailable while `failing` is set; counts what it refused.
struct FlakyFront {
    url: String,
    failing: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
}

impl FlakyFront {
    fn start(peer_url: &str) -> FlakyFront {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = peer_url.trim_start_matches("http://").to_string();
        let failing = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let (f, r) = (Arc::clone(&failing), Arc::clone(&refused));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (f, r, upstream) = (Arc::clone(&f), Arc::clone(&r), upstream.clone());
                std::thread::spawn(move || forward(client, &upstream, &f, &r));
            }
        });
        FlakyFront {
            url,
            failing,
            refused,
        }
    }
}

/// Read one whole HTTP message (head, then Content-Length bytes); `None` at the end.
fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut msg = Vec::new();
    let mut byte = [0u8; 1];
    while !msg.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        msg.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&msg).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    msg.extend_from_slice(&body);
    Some(msg)
}

fn forward(mut client: TcpStream, upstream: &str, failing: &AtomicBool, refused: &AtomicUsize) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    while let Some(request) = read_message(&mut client) {
        let answer = if failing.load(Ordering::SeqCst) {
            refused.fetch_add(1, Ordering::SeqCst);
            let body = "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>injected by the test</Message></Error></ErrorResponse>";
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        } else {
            let Ok(mut up) = TcpStream::connect(upstream) else {
                return;
            };
            let _ = up.set_read_timeout(Some(Duration::from_secs(30)));
            if up.write_all(&request).is_err() {
                return;
            }
            let Some(answer) = read_message(&mut up) else {
                return;
            };
            answer
        };
        if client.write_all(&answer).is_err() {
            return;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
}

#[test]
fn while_sts_answers_503_the_valid_session_is_served_and_renewed_once_sts_is_back() {
    let (peer, user, sb) = setup();
    let front = FlakyFront::start(&peer.url);
    let ep = Endpoint::start_with(&peer, &user, &sb, "true", &front.url);
    let (status, body) = ep.good();
    assert_eq!(status, 200, "{body}");
    let initial = credentials(&body);
    front.failing.store(true, Ordering::SeqCst);
    // The role session lasts 18 s and is renewed in its last quarter: poll through
    // the renewal attempts STS refuses, up to shortly before it ends.
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(16) {
        let (status, body) = ep.good();
        assert_eq!(status, 200, "after {:?}: {body}", began.elapsed());
        assert_eq!(credentials(&body), initial, "the still-valid session");
        std::thread::sleep(Duration::from_millis(250));
    }
    let refused = front.refused.load(Ordering::SeqCst);
    assert!(refused >= 1, "no renewal was attempted");
    front.failing.store(false, Ordering::SeqCst);
    // STS is back: a later attempt (after its backoff) renews the session.
    let renewed = loop {
        let (status, body) = ep.good();
        if status == 200 && credentials(&body) != initial {
            break credentials(&body);
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "never renewed: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_accepted_by_the_peer(&sb, &peer, &renewed);
    // One renewal at a time, with backoff: a handful of attempts (each retried by the
    // client), not one per request.
    assert!(
        refused <= 30,
        "{refused} requests refused: renewals were not spaced out"
    );
    ep.finish();
}

#[test]
fn a_process_left_by_the_child_keeps_the_port_from_being_taken_over() {
    let (peer, user, sb) = setup();
    let pid_file = sb.home.path().join("daemon.pid");
    let ep = Endpoint::start(
        &peer,
        &user,
        &sb,
        &format!(
            "sleep 60 >/dev/null 2>&1 </dev/null & echo $! > {}",
            pid_file.display()
        ),
    );
    let host = ep.host.clone();
    let err = ep.finish();
    assert!(!err.contains("panicked"), "{err}");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // aws-session has ended; the daemon still holds the listening socket.
    let taken = TcpListener::bind(&host);
    let still_held = taken.is_err();
    // SAFETY: a plain kill of the child's own background process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(
        still_held,
        "another listener could bind {host} while a process holding the token lived"
    );
    let began = Instant::now();
    loop {
        if TcpListener::bind(&host).is_ok() {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the port stays taken after the last process ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// login's callback
// ---------------------------------------------------------------------------

/// A browser that starts `slow` clients on the callback's port (each sends a byte
/// every 200 ms for 20 s and never a whole request; half send nothing), then, when
/// `follow`, the sign-in's real redirect.
fn browser_with_slow_clients(sb: &Sandbox, slow: usize, follow: bool) -> PathBuf {
    let path = sb.home.path().join("browser");
    let py = venv().join("bin/python").display().to_string();
    let script = format!(
        r#"#!{py}
import os, socket, subprocess, sys, time, urllib.error, urllib.parse, urllib.request
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
try:
    urllib.request.build_opener(NoRedirect).open(sys.argv[1])
    sys.exit('no redirect')
except urllib.error.HTTPError as e:
    loc = e.headers['Location']
port = urllib.parse.urlsplit(loc).port
slow = '''
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
end = time.time() + 20
while time.time() < end:
    for s in socks[::2]:
        try: s.send(b"G")
        except OSError: pass
    time.sleep(0.2)
'''
subprocess.Popen([sys.executable, "-c", slow, str(port), "{slow}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
if {follow}:
    urllib.request.urlopen(loc).read()
"#,
        follow = if follow { "True" } else { "False" },
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

fn signin_peer() -> Peer {
    let peer = Peer::start();
    let user = peer.create_user("login-slow", false);
    peer.control(
        "POST",
        "/_peer/signin/user",
        Some(&json!({ "name": user.user_name })),
    );
    peer.control(
        "POST",
        "/_peer/signin/settings",
        Some(&json!({ "expires_in": 900 })),
    );
    peer
}

#[test]
fn slow_clients_on_the_login_callback_delay_neither_the_sign_in_nor_the_deadline() {
    let peer = signin_peer();
    // The browser's answer comes through while 40 slow clients hold connections.
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    let mut c = sb.command(&peer);
    c.env("BROWSER", browser_with_slow_clients(&sb, 40, true))
        .env("AWS_SESSION_LOGIN_TIMEOUT", "15")
        .args(["--profile", "dev", "login"]);
    let out = run_within(c, Duration::from_secs(30));
    assert!(out.status.success(), "{}", stderr(&out));
    // No answer at all: the wait ends at AWS_SESSION_LOGIN_TIMEOUT (3 s) + 1 s,
    // however the slow clients behave (they go on for 20 s).
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    let mut c = sb.command(&peer);
    c.env("BROWSER", browser_with_slow_clients(&sb, 40, false))
        .env("AWS_SESSION_LOGIN_TIMEOUT", "3")
        .args(["--profile", "dev", "login"]);
    let began = Instant::now();
    let out = run_within(c, Duration::from_secs(30));
    let took = began.elapsed();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no sign-in came back from the browser in time"),
        "{}",
        stderr(&out)
    );
    assert!(
        took < Duration::from_secs(5),
        "the wait took {took:?} for a 3 s limit"
    );
}

// ---------------------------------------------------------------------------
// What is read only when a request is needed, and still refused before a code
// ---------------------------------------------------------------------------

/// The CA bundle is parsed only when a request is about to be made; a bundle without a
/// certificate is still a config error before the code is asked on the terminal.
#[test]
fn a_ca_bundle_without_certificates_is_refused_before_the_code_is_asked() {
    let peer = Peer::shared();
    let user = peer.create_user("lazy-ca", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let pem = sb.home.path().join("empty.pem");
    std::fs::write(&pem, "not a certificate\n").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aws-session"));
    cmd.env_clear()
        .envs(sb.env(peer))
        .env("AWS_CA_BUNDLE", &pem)
        .current_dir(sb.home.path())
        .args(["exec", "true"]);
    let mut pty = crate::common::pty::Pty::spawn(cmd, 120, 40);
    let status = pty.wait(Duration::from_secs(30));
    let out = pty.output();
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(
        out.contains("cannot set up HTTPS: AWS_CA_BUNDLE holds no PEM certificate"),
        "{out}"
    );
    assert!(!out.contains("MFA code"), "the code was asked for: {out}");
    assert!(peer
        .log()
        .iter()
        .all(|r| r.access_key_id != user.access_key_id));
}
