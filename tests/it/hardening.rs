//! Hostile and broken surroundings: proxies, endpoints, deadlines, stdout, files that
//! are not what their names say, partial keys, booleans, times. Each test runs against
//! a real program on 127.0.0.1 (a misbehaving HTTP server in a thread of this process,
//! a tiny SOCKS5 relay, `openssl s_server`, bash/zsh/fish) and can fail. The rows of
//! docs/errors.md name them.
//!
//! The rules these tests hold the tool to:
//! - SOCKS proxies are used (ureq's `socks-proxy` feature: no new crate, +9 KiB).
//!   A proxy variable that is set but does not parse stops the run: exit 2 (config,
//!   like an unusable AWS_CA_BUNDLE), naming the variable, never its password.
//! - A failed write to stdout is exit 6 (local file: "could not write"), one line
//!   `cannot write to stdout: …`; a closed pipe (EPIPE) is a quiet exit 0.
//! - AWS_SESSION_TIMEOUT (default 30 s) is one deadline for all network work of a
//!   command, retries included; a run ends within it plus a second.
//! - Partial credentials in the environment are refused (exit 2) whenever the
//!   environment's keys would be used (no `--profile` on the command line), as the AWS
//!   CLI does.
//! - Booleans (AWS_SESSION_CACHE, _DEBUG, _COLOR, _COLORS, _PROMPT): 1/0, true/false,
//!   yes/no, on/off in any case; empty is unset; anything else is exit 1 naming the
//!   variable, for every command that reads it (`prompt` too).
//! - Times: an answer whose session has ended (by the answer's Date, else the local
//!   clock), or that lasts longer than AWS grants (36 h for GetSessionToken), is exit 5;
//!   when the Date header shows that the local clock is what is off, the message says
//!   so. A cache entry like that is a cache miss. `prompt` shows `(aws!exp) ` for an
//!   AWS_SESSION_EXPIRATION that is not a time between now and 36 h from now.

use crate::common::pty::Pty;
use crate::common::{
    bare_command as bin, example_sandbox as sandbox, EXAMPLE_KEY as KEY, EXAMPLE_SECRET as SECRET,
    EXAMPLE_SERIAL as SERIAL,
};
use crate::common::{stderr, stdout, Sandbox};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A password put in URLs: it must never be printed.
const URL_PASSWORD: &str = "s3cretPW";

/// Assert the run failed with `code`, its stderr is one `aws-session: ` line holding
/// every word of `words`, without the example secret key or a panic.
#[track_caller]
fn expect(o: &Output, code: i32, words: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit status; stderr: {err}");
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("aws-session: "), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} missing from: {err}");
    }
    assert!(!err.contains(SECRET), "a secret leaked: {err}");
    assert!(!err.contains("internal error"), "{err}");
    eprintln!("MESSAGE {code}: {}", lines[0]);
    err
}

#[track_caller]
fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
}

/// Run `c`, killing it after `limit`; the output (None when killed) and the time taken.
fn run_for(mut c: Command, limit: Duration) -> (Option<Output>, Duration) {
    let started = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    loop {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return (Some(out), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An unused port (bound, then released): nothing listens there.
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/xml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// RFC 3339 UTC `offset` seconds from now.
fn iso_in(offset: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset))
        .replace_nanosecond(0)
        .expect("ns")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// An HTTP Date header `offset` seconds from now.
fn http_date(offset: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    let fmt = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .expect("format");
    t.format(&fmt).expect("date")
}

fn cache_dir(sb: &Sandbox) -> PathBuf {
    sb.home.path().join(".cache/aws-session")
}

fn cache_entries(sb: &Sandbox) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(cache_dir(sb))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "json"));
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

// ---------------------------------------------------------------------------
// The misbehaving server
// ---------------------------------------------------------------------------

/// What the fake does with one request.
enum Reply {
    /// Status, extra headers, body.
    Http(u16, Vec<(String, String)>, String),
    /// Wait, then answer.
    After(Duration, Box<Reply>),
}

fn xml(status: u16, body: &str) -> Reply {
    Reply::Http(
        status,
        vec![("Content-Type".into(), "text/xml".into())],
        body.to_string(),
    )
}

fn aws_error(status: u16, code: &str, message: &str) -> Reply {
    xml(
        status,
        &format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>"
        ),
    )
}

/// The recorded GetSessionToken answer with `expiration`.
fn session_until(expiration: &str) -> Reply {
    xml(
        200,
        &fixture("sts_get_session_token.xml").replace("2011-07-11T19:55:29.611Z", expiration),
    )
}

/// The usual right answer to each action (a session of one hour).
fn ok_reply(action: &str) -> Reply {
    match action {
        "ListMFADevices" => mfa_page(&[SERIAL], None),
        "GetSessionToken" => session_until(&iso_in(3600)),
        _ => aws_error(400, "InvalidAction", "not faked"),
    }
}

/// One request the fake saw.
#[derive(Clone, Debug)]
struct Seen {
    action: String,
    body: String,
    /// Header names in lower case, with their values.
    headers: Vec<(String, String)>,
    peer: SocketAddr,
}

type Behaviour = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A misbehaving AWS on 127.0.0.1: one request per connection. Counts connections
/// (also those that never send a request) and records requests.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Fake {
    fn start(behaviour: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let port = listener.local_addr().expect("addr").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let count = Arc::new(AtomicUsize::new(0));
        let (seen2, conns2) = (Arc::clone(&seen), Arc::clone(&connections));
        std::thread::spawn(move || {
            for stream in listener.incoming().take(500) {
                let Ok(stream) = stream else { continue };
                conns2.fetch_add(1, Ordering::SeqCst);
                let (seen, behaviour, count) = (
                    Arc::clone(&seen2),
                    Arc::clone(&behaviour),
                    Arc::clone(&count),
                );
                std::thread::spawn(move || serve(stream, &seen, &*behaviour, &count));
            }
        });
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            seen,
            connections,
        }
    }

    /// Answers every action rightly.
    fn ok() -> Fake {
        Fake::start(|_, s| ok_reply(&s.action))
    }

    fn actions(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.action).collect()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, behaviour: &Behaviour, count: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let peer = stream.peer_addr().expect("peer");
    let mut reader = BufReader::new(&stream);
    let mut length = 0usize;
    let mut headers = Vec::new();
    let mut first = true;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if std::mem::take(&mut first) {
            continue; // the request line
        }
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or("")
        .to_string();
    let req = Seen {
        action,
        body,
        headers,
        peer,
    };
    seen.lock().unwrap().push(req.clone());
    let n = count.fetch_add(1, Ordering::SeqCst);
    let mut reply = behaviour(n, &req);
    while let Reply::After(d, next) = reply {
        std::thread::sleep(d);
        reply = *next;
    }
    let mut out = &stream;
    if let Reply::Http(status, extra, body) = reply {
        let mut head = format!(
            "HTTP/1.1 {status} Status\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")) {
            head.push_str(&format!("Date: {}\r\n", http_date(0)));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(body.as_bytes());
        let _ = out.flush();
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------
// 1. A configured proxy is used, or the run stops with a clear error; never direct
// ---------------------------------------------------------------------------

/// A run with `var=proxy` against an endpoint that must see no connection at all.
fn run_with_proxy(var: &str, proxy: &str) -> (Output, Fake) {
    let fake = Fake::ok();
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .env(var, proxy)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    (out, fake)
}

#[track_caller]
fn assert_never_direct(fake: &Fake, out: &Output) {
    assert_eq!(
        fake.connections(),
        0,
        "the endpoint was reached directly, bypassing the proxy (actions {:?}); stderr: {}",
        fake.actions(),
        stderr(out)
    );
}

#[test]
fn socks5_proxy_is_never_bypassed() {
    let port = dead_port();
    let (out, fake) = run_with_proxy(
        "HTTPS_PROXY",
        &format!("socks5://user:{URL_PASSWORD}@127.0.0.1:{port}"),
    );
    assert_never_direct(&fake, &out);
    let err = expect(
        &out,
        5,
        &[
            "cannot reach",
            &format!("via proxy 127.0.0.1:{port} from HTTPS_PROXY"),
        ],
    );
    assert!(!err.contains(URL_PASSWORD), "proxy password shown: {err}");
}

#[test]
fn socks5h_proxy_is_never_bypassed() {
    let port = dead_port();
    let (out, fake) = run_with_proxy("HTTPS_PROXY", &format!("socks5h://127.0.0.1:{port}"));
    assert_never_direct(&fake, &out);
    expect(
        &out,
        5,
        &[&format!("via proxy 127.0.0.1:{port} from HTTPS_PROXY")],
    );
}

#[test]
fn socks4_proxy_is_never_bypassed() {
    let port = dead_port();
    let (out, fake) = run_with_proxy("HTTPS_PROXY", &format!("socks4://127.0.0.1:{port}"));
    assert_never_direct(&fake, &out);
    expect(
        &out,
        5,
        &[&format!("via proxy 127.0.0.1:{port} from HTTPS_PROXY")],
    );
}

#[test]
fn all_proxy_socks_is_never_bypassed() {
    let port = dead_port();
    let (out, fake) = run_with_proxy("ALL_PROXY", &format!("socks5://127.0.0.1:{port}"));
    assert_never_direct(&fake, &out);
    expect(
        &out,
        5,
        &[&format!("via proxy 127.0.0.1:{port} from ALL_PROXY")],
    );
}

/// A SOCKS5 relay (no authentication, CONNECT only) on 127.0.0.1; records the local
/// address of every connection it makes onwards.
struct Socks5 {
    port: u16,
    outbound: Arc<Mutex<Vec<SocketAddr>>>,
}

impl Socks5 {
    fn start() -> Socks5 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let outbound: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let out2 = Arc::clone(&outbound);
        std::thread::spawn(move || {
            for client in listener.incoming().take(50) {
                let Ok(client) = client else { continue };
                let out = Arc::clone(&out2);
                std::thread::spawn(move || {
                    let _ = socks5_session(client, &out);
                });
            }
        });
        Socks5 { port, outbound }
    }
}

fn socks5_session(mut c: TcpStream, outbound: &Mutex<Vec<SocketAddr>>) -> std::io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = [0u8; 2];
    c.read_exact(&mut head)?;
    let mut methods = vec![0u8; head[1] as usize];
    c.read_exact(&mut methods)?;
    c.write_all(&[5, 0])?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req)?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a)?;
            std::net::Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut n = [0u8; 1];
            c.read_exact(&mut n)?;
            let mut name = vec![0u8; n[0] as usize];
            c.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(()),
    };
    let mut p = [0u8; 2];
    c.read_exact(&mut p)?;
    let port = u16::from_be_bytes(p);
    let target = TcpStream::connect((host.as_str(), port))?;
    outbound.lock().unwrap().push(target.local_addr()?);
    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    let (mut c2, mut t2) = (c.try_clone()?, target.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut t2);
        let _ = t2.shutdown(std::net::Shutdown::Write);
    });
    let mut t = target;
    let _ = std::io::copy(&mut t, &mut c);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
    Ok(())
}

#[test]
fn socks5_proxy_relays_the_request() {
    for scheme in ["socks5", "socks5h"] {
        let proxy = Socks5::start();
        let fake = Fake::ok();
        let sb = sandbox(true);
        let out = bin(&sb, &fake.url)
            .env(
                "HTTPS_PROXY",
                format!("{scheme}://127.0.0.1:{}", proxy.port),
            )
            .args(["--code", "123456", "exec", "true"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{scheme}: {}", stderr(&out));
        let via: Vec<SocketAddr> = proxy.outbound.lock().unwrap().clone();
        assert_eq!(fake.actions(), ["GetSessionToken"]);
        for s in fake.seen() {
            assert!(
                via.contains(&s.peer),
                "{scheme}: a request from {} did not come through the proxy (its connections: {via:?})",
                s.peer
            );
        }
    }
}

#[test]
fn unparsable_proxy_url_stops_the_run() {
    let port = dead_port();
    for (var, value) in [
        (
            "HTTPS_PROXY",
            format!("http://user:{URL_PASSWORD}@127.0.0.1:notaport"),
        ),
        ("HTTPS_PROXY", format!("ftp://127.0.0.1:{port}")),
        ("ALL_PROXY", "http://[::1".to_string()),
        ("https_proxy", "http://exa mple:8080".to_string()),
    ] {
        let (out, fake) = run_with_proxy(var, &value);
        assert_never_direct(&fake, &out);
        let err = expect(&out, 2, &[var, "proxy"]);
        assert!(!err.contains(URL_PASSWORD), "password shown: {err}");
    }
}

// ---------------------------------------------------------------------------
// 2. Every part of an endpoint URL is checked before anything is sent (exit 2)
// ---------------------------------------------------------------------------

fn endpoint_refused(var: &str, url: &str, words: &[&str]) {
    let fake = Fake::ok();
    let sb = sandbox(true);
    let mut c = bin(&sb, &fake.url);
    c.env(var, url).args(["--code", "123456", "exec", "true"]);
    let (out, took) = run_for(c, Duration::from_secs(20));
    let out = out.unwrap_or_else(|| panic!("{var}={url}: still running after {took:?}"));
    let mut all = vec![var];
    all.extend(words);
    let err = expect(&out, 2, &all);
    assert!(
        !stdout(&out).contains(URL_PASSWORD) && !err.contains(URL_PASSWORD),
        "{err}"
    );
    assert_eq!(fake.connections(), 0, "{var}={url}: something was sent");
}

#[test]
fn endpoint_port_out_of_range_is_refused() {
    for url in [
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:65536",
        "http://127.0.0.1:0/",
        "https://127.0.0.1:18446744073709551617/",
    ] {
        endpoint_refused("AWS_ENDPOINT_URL", url, &["port"]);
    }
    endpoint_refused("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:70000/", &["port"]);
}

#[test]
fn endpoint_port_out_of_range_in_the_profile_is_refused() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    sb.write_config(&format!(
        "[default]\nmfa_serial = {SERIAL}\nendpoint_url = http://127.0.0.1:99999/\n"
    ));
    let mut c = bin(&sb, &fake.url);
    c.env_remove("AWS_ENDPOINT_URL")
        .args(["--code", "123456", "exec", "true"]);
    let (out, _) = run_for(c, Duration::from_secs(20));
    let out = out.expect("finished");
    expect(&out, 2, &["endpoint_url", "port"]);
}

#[test]
fn endpoint_malformed_parts_are_refused() {
    for url in [
        "http://:8080/",             // no host
        "http://127.0.0.1:80:80/",   // two ports
        "http://[::1/",              // unclosed IPv6 literal
        "http://127.0.0.1:/",        // empty port
        "http://127.0.0.1:+80/",     // signed port
        "http://exa\u{7f}mple.com/", // control character
        "http://127.0.0.1\t/",       // tab
        "http://ex%41mple.com/",     // percent sign in the host
        "http://[127.0.0.1]:8080/",  // IPv4 in brackets
    ] {
        endpoint_refused("AWS_ENDPOINT_URL", url, &["is not a usable endpoint URL"]);
    }
}

#[test]
fn endpoint_password_is_never_echoed() {
    let port = dead_port();
    let url = format!("http://user:{URL_PASSWORD}@127.0.0.1:{port}/");
    endpoint_refused("AWS_ENDPOINT_URL", &url, &[]);
    // --debug prints nothing of it either.
    let fake = Fake::ok();
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .env("AWS_ENDPOINT_URL_STS", &url)
        .args(["--debug", "--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(URL_PASSWORD) && !stdout(&out).contains(URL_PASSWORD),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// 3. One overall network deadline per command, retries included
// ---------------------------------------------------------------------------

const DEADLINE: u64 = 4;

#[test]
fn retries_share_one_deadline() {
    // Every answer is a 503 after 3 s: three attempts would take 9 s and more.
    let fake = Fake::start(|_, _| {
        Reply::After(
            Duration::from_secs(3),
            Box::new(aws_error(503, "ServiceUnavailable", "Service Unavailable")),
        )
    });
    let sb = sandbox(false);
    let mut c = bin(&sb, &fake.url);
    c.env("AWS_SESSION_TIMEOUT", DEADLINE.to_string())
        .args(["--code", "123456", "exec", "true"]);
    let (out, took) = run_for(c, Duration::from_secs(30));
    let out = out.expect("finished");
    assert!(
        took <= Duration::from_secs(DEADLINE + 1),
        "took {took:?}, more than the {DEADLINE} s deadline plus a second; stderr: {}",
        stderr(&out)
    );
    expect(
        &out,
        5,
        &[
            "ListMFADevices",
            &fake.url,
            &format!("{DEADLINE} s"),
            "AWS_SESSION_TIMEOUT",
        ],
    );
}

#[test]
fn requests_share_one_deadline() {
    // Each answer is right but takes 3 s; ListMFADevices then GetSessionToken
    // would take 6 s together.
    let fake =
        Fake::start(|_, s| Reply::After(Duration::from_secs(3), Box::new(ok_reply(&s.action))));
    let sb = sandbox(false);
    let mut c = bin(&sb, &fake.url);
    c.env("AWS_SESSION_TIMEOUT", DEADLINE.to_string())
        .args(["--code", "123456", "exec", "true"]);
    let (out, took) = run_for(c, Duration::from_secs(30));
    let out = out.expect("finished");
    assert!(
        took <= Duration::from_secs(DEADLINE + 1),
        "took {took:?}: the requests of one command share the {DEADLINE} s deadline; stderr: {}",
        stderr(&out)
    );
    expect(&out, 5, &["GetSessionToken", &format!("{DEADLINE} s")]);
}

// ---------------------------------------------------------------------------
// 4. Every write to stdout is checked
// ---------------------------------------------------------------------------

/// The commands that print to stdout, each with what it needs.
/// A command that prints: its name, its arguments, its extra environment.
type Printing = (&'static str, Vec<&'static str>, Vec<(&'static str, String)>);

fn printing_commands() -> Vec<Printing> {
    let exp = (unix_now() + 3600).to_string();
    vec![
        ("export", vec!["--code", "123456", "export"], vec![]),
        (
            "export --format json",
            vec!["--code", "123456", "export", "--format", "json"],
            vec![],
        ),
        (
            "credential-process",
            vec!["--code", "123456", "credential-process"],
            vec![],
        ),
        ("refresh", vec!["--code", "123456", "refresh"], vec![]),
        ("status", vec!["status"], vec![]),
        ("completions bash", vec!["completions", "bash"], vec![]),
        ("--help", vec!["--help"], vec![]),
        ("--version", vec!["--version"], vec![]),
        (
            "prompt",
            vec!["prompt"],
            vec![("AWS_SESSION_EXPIRATION", exp)],
        ),
    ]
}

fn run_printing(name: &str, args: &[&str], env: &[(&str, String)], out: Stdio) -> Output {
    let fake = Fake::ok();
    let sb = sandbox(true);
    let mut c = bin(&sb, &fake.url);
    c.args(args).stdout(out).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
    child.wait_with_output().expect("wait")
}

/// Linux's /dev/full: every write gets ENOSPC. macOS and FreeBSD have none; the
/// portable form of a failing stdout is [`over_the_file_size_limit`].
#[cfg(target_os = "linux")]
fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

#[cfg(target_os = "linux")]
fn full_stdout(which: &str) {
    let (name, args, env) = printing_commands()
        .into_iter()
        .find(|(n, _, _)| *n == which)
        .expect("known command");
    let out = run_printing(name, &args, &env, dev_full());
    eprintln!("{name} >/dev/full:");
    expect(
        &out,
        6,
        &["cannot write to stdout", "No space left on device"],
    );
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_export() {
    full_stdout("export");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_export_json() {
    full_stdout("export --format json");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_credential_process() {
    full_stdout("credential-process");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_refresh() {
    full_stdout("refresh");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_status() {
    full_stdout("status");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_completions() {
    full_stdout("completions bash");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_help() {
    full_stdout("--help");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_version() {
    full_stdout("--version");
}

#[test]
#[cfg(target_os = "linux")]
fn full_stdout_prompt() {
    full_stdout("prompt");
}

/// Stdout is a regular file and the file-size limit is 0 bytes (SIGXFSZ ignored, so
/// the write fails with EFBIG instead of killing the process): a write error on
/// stdout on every Unix. Only for commands that write no file of their own (the
/// limit holds for the session cache too).
fn over_the_file_size_limit(which: &str) {
    let (name, args, env) = printing_commands()
        .into_iter()
        .find(|(n, _, _)| *n == which)
        .expect("known command");
    let fake = Fake::ok();
    let sb = sandbox(true);
    let stdout_file = sb.home.path().join("stdout");
    let file = std::fs::File::create(&stdout_file).expect("create the stdout file");
    let mut c = bin(&sb, &fake.url);
    c.args(&args).stdout(file).stderr(Stdio::piped());
    for (k, v) in &env {
        c.env(k, v);
    }
    // SAFETY: signal and setrlimit are async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &none) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = c.output().unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!("{name} over the file-size limit:");
    expect(&out, 6, &["cannot write to stdout", "File too large"]);
    assert_eq!(std::fs::metadata(&stdout_file).unwrap().len(), 0);
}

#[test]
fn stdout_over_the_file_size_limit() {
    for which in [
        "status",
        "completions bash",
        "--help",
        "--version",
        "prompt",
    ] {
        over_the_file_size_limit(which);
    }
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    // std's pipe is close-on-exec on every Unix (pipe2 is not everywhere: macOS).
    let (read, write) = std::io::pipe().expect("pipe");
    drop(read);
    Stdio::from(write)
}

#[test]
fn closed_stdout_is_a_quiet_success() {
    let mut failed = Vec::new();
    for (name, args, env) in printing_commands() {
        let out = run_printing(name, &args, &env, closed_pipe());
        let err = stderr(&out);
        if out.status.code() != Some(0) || !err.is_empty() {
            failed.push(format!("{name}: {:?} {err:?}", out.status));
        }
    }
    assert!(failed.is_empty(), "not a quiet success: {failed:#?}");
}

// ---------------------------------------------------------------------------
// 5. Completion never evaluates profile names, in any shell
// ---------------------------------------------------------------------------

/// Profile names that run commands if a shell evaluates them (each would create a
/// file `pwnedN` in the current directory), and a plain one.
const HOSTILE: &[&str] = &[
    "$(touch pwned1)",
    "`touch pwned2`",
    "x;touch${IFS}pwned3",
    "$(touch${IFS}pwned4)",
    "y&&touch${IFS}pwned5",
    "dev",
];

fn completion_sandbox(shell: &str) -> (Sandbox, PathBuf) {
    let sb = Sandbox::new();
    let mut config = String::new();
    for name in HOSTILE {
        config.push_str(&format!("[profile {name}]\nregion = us-east-1\n"));
    }
    sb.write_config(&config);
    sb.write_credentials("");
    let out = Command::new(env!("CARGO_BIN_EXE_aws-session"))
        .args(["completions", shell])
        .output()
        .expect("completions");
    ok(&out);
    let script = sb.home.path().join(format!("completion.{shell}"));
    std::fs::write(&script, &out.stdout).expect("write");
    (sb, script)
}

fn shell_in(sb: &Sandbox, shell: &str, script: &str) -> Output {
    let (out, took) = run_for(
        {
            let mut c = Command::new(shell);
            c.env_clear()
                .env("HOME", sb.home.path())
                .env("PATH", crate::common::system_path())
                .env("AWS_CONFIG_FILE", &sb.config_file)
                .env("AWS_SHARED_CREDENTIALS_FILE", &sb.credentials_file)
                .env("LANG", "C.UTF-8")
                .current_dir(sb.home.path())
                .stdin(Stdio::null());
            if shell == "zsh" {
                c.arg("-f");
            } else if shell == "bash" {
                c.arg("--norc");
            } else {
                c.arg("--no-config");
            }
            c.arg("-c").arg(script);
            c
        },
        Duration::from_secs(30),
    );
    out.unwrap_or_else(|| panic!("{shell} still running after {took:?}"))
}

#[track_caller]
fn assert_nothing_ran(sb: &Sandbox, shell: &str, out: &Output) {
    let made: Vec<String> = std::fs::read_dir(sb.home.path())
        .expect("home")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pwned"))
        .collect();
    assert!(
        made.is_empty(),
        "{shell} completion ran a profile name: made {made:?}; stdout {}; stderr {}",
        stdout(out),
        stderr(out)
    );
}

/// bash's `printf %q` of each name (how a name must reach the command line).
fn bash_quoted(names: &[&str]) -> Vec<String> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"printf '%q\n' "$@""#)
        .arg("_")
        .args(names)
        .output()
        .expect("bash");
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_never_evaluates_profile_names() {
    let (sb, script) = completion_sandbox("bash");
    let out = shell_in(
        &sb,
        "bash",
        &format!(
            "source '{}'\nCOMP_WORDS=(aws-session --profile '')\nCOMP_CWORD=2\n_aws_session\nprintf '<%s>\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ),
    );
    assert_nothing_ran(&sb, "bash", &out);
    let offered: BTreeSet<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .map(str::to_string)
        .collect();
    let quoted = bash_quoted(HOSTILE);
    for (name, q) in HOSTILE.iter().zip(&quoted) {
        assert!(
            offered.contains(*name) || offered.contains(q),
            "bash does not offer {name:?} (as is or as {q}): offered {offered:?}"
        );
    }
}

#[test]
fn zsh_completion_never_evaluates_profile_names() {
    let (sb, script) = completion_sandbox("zsh");
    // compsys needs a terminal; the profile lister runs on its own with `_describe`
    // standing in (it prints the candidates it is given).
    let out = shell_in(
        &sb,
        "zsh",
        &format!(
            "compdef() {{ : }}\nsource '{}'\n_describe() {{ local n=${{@[-1]}} x; for x in \"${{(@P)n}}\"; do print -r -- \"<$x>\"; done }}\n_aws_session_profiles",
            script.display()
        ),
    );
    assert_nothing_ran(&sb, "zsh", &out);
    let offered: BTreeSet<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .map(|l| l.replace("\\:", ":"))
        .collect();
    for name in HOSTILE {
        assert!(
            offered.contains(*name),
            "zsh does not offer {name:?}: offered {offered:?}; stderr {}",
            stderr(&out)
        );
    }
}

#[test]
fn fish_completion_never_evaluates_profile_names() {
    let (sb, script) = completion_sandbox("fish");
    let out = shell_in(
        &sb,
        "fish",
        &format!(
            "source '{}'\nfor c in (complete -C 'aws-session --profile ')\n  printf '<%s>\\n' (string split -f1 \\t -- $c)\nend",
            script.display()
        ),
    );
    assert_nothing_ran(&sb, "fish", &out);
    let offered: BTreeSet<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .map(str::to_string)
        .collect();
    for name in HOSTILE {
        assert!(
            offered.contains(*name),
            "fish does not offer {name:?}: offered {offered:?}; stderr {}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------
// 6. Partial credentials in the environment are refused (exit 2), before any request
// ---------------------------------------------------------------------------

fn partial(env: &[(&str, &str)], args: &[&str]) -> (Output, Fake) {
    let fake = Fake::ok();
    // The profile has other keys: a run that fell back to them would hide the mistake.
    let sb = sandbox(true);
    let mut c = bin(&sb, &fake.url);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.args(args).output().expect("run");
    (out, fake)
}

#[test]
fn partial_env_credentials_key_without_secret() {
    let (out, fake) = partial(
        &[("AWS_ACCESS_KEY_ID", "AKIAOTHERIDENTITY123")],
        &["--code", "123456", "exec", "true"],
    );
    expect(
        &out,
        2,
        &[
            "Partial credentials found in env",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ],
    );
    assert!(fake.actions().is_empty(), "a request was sent");
}

#[test]
fn partial_env_credentials_secret_without_key() {
    let other_secret = "otherSECRETotherSECRETotherSECRET12345678";
    let (out, fake) = partial(
        &[
            ("AWS_SECRET_ACCESS_KEY", other_secret),
            ("AWS_PROFILE", "default"),
        ],
        &["--code", "123456", "export"],
    );
    let err = expect(
        &out,
        2,
        &["Partial credentials found in env", "AWS_ACCESS_KEY_ID"],
    );
    assert!(!err.contains(other_secret), "the secret was shown: {err}");
    assert!(fake.actions().is_empty(), "a request was sent");
}

/// As with the AWS CLI, `--profile` on the command line means the profile's keys:
/// the environment's keys are not looked at, partial or not.
#[test]
fn partial_env_credentials_do_not_matter_with_an_explicit_profile() {
    let (out, fake) = partial(
        &[("AWS_ACCESS_KEY_ID", "AKIAOTHERIDENTITY123")],
        &["--profile", "default", "--code", "123456", "exec", "true"],
    );
    ok(&out);
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

// ---------------------------------------------------------------------------
// 7. One parser for every boolean variable
// ---------------------------------------------------------------------------

const TRUE_VALUES: &[&str] = &["1", "true", "TRUE", "True", "yes", "YES", "on", "On"];
const FALSE_VALUES: &[&str] = &["0", "false", "FALSE", "no", "No", "NO", "off", "OFF"];
const BAD_VALUES: &[&str] = &["maybe", "2", "-1", "yes please", "enabled", "00", "y"];

#[test]
fn boolean_cache_switch_reads_every_spelling() {
    let mut wrong = Vec::new();
    for (values, cached) in [(TRUE_VALUES, true), (FALSE_VALUES, false)] {
        for v in values {
            let fake = Fake::ok();
            let sb = sandbox(true);
            let out = bin(&sb, &fake.url)
                .env("AWS_SESSION_CACHE", v)
                .args(["--code", "123456", "exec", "true"])
                .output()
                .expect("run");
            ok(&out);
            if cache_entries(&sb).is_empty() == cached {
                wrong.push(format!("AWS_SESSION_CACHE={v}: cache used: {}", !cached));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn boolean_debug_switch_reads_every_spelling() {
    let mut wrong = Vec::new();
    for (values, on) in [(TRUE_VALUES, true), (FALSE_VALUES, false)] {
        for v in values {
            let fake = Fake::ok();
            let sb = sandbox(true);
            let out = bin(&sb, &fake.url)
                .env("AWS_SESSION_DEBUG", v)
                .args(["--code", "123456", "exec", "true"])
                .output()
                .expect("run");
            if out.status.code() != Some(0) || stderr(&out).contains("aws-session: debug:") != on {
                wrong.push(format!(
                    "AWS_SESSION_DEBUG={v}: {:?} {}",
                    out.status,
                    stderr(&out)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn boolean_color_switch_reads_every_spelling() {
    let mut wrong = Vec::new();
    for var in ["AWS_SESSION_COLOR", "AWS_SESSION_COLORS"] {
        for (values, on) in [(TRUE_VALUES, true), (FALSE_VALUES, false)] {
            for v in values {
                let sb = Sandbox::new();
                // Two minutes left: coloured yellow when colour is on.
                let out = bin(&sb, "http://127.0.0.1:9/")
                    .env(var, v)
                    .env("TERM", "xterm")
                    .env("AWS_SESSION_EXPIRATION", (unix_now() + 150).to_string())
                    .arg("prompt")
                    .output()
                    .expect("run");
                if out.status.code() != Some(0) || stdout(&out).contains("\x1b[33m") != on {
                    wrong.push(format!("{var}={v}: {:?} {:?}", out.status, stdout(&out)));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn boolean_variables_refuse_other_values() {
    let mut wrong = Vec::new();
    let cases: &[(&str, &[&str])] = &[
        ("AWS_SESSION_CACHE", &["--code", "123456", "exec", "true"]),
        ("AWS_SESSION_DEBUG", &["--code", "123456", "exec", "true"]),
        ("AWS_SESSION_COLOR", &["prompt"]),
        ("AWS_SESSION_COLORS", &["prompt"]),
        // Read by the shell's prompt hook: checked when the shell starts.
        ("AWS_SESSION_PROMPT", &["--code", "123456", "shell"]),
    ];
    for (var, args) in cases {
        for v in BAD_VALUES {
            let fake = Fake::ok();
            let sb = sandbox(true);
            let out = bin(&sb, &fake.url)
                .env(var, v)
                .env("SHELL", "/bin/sh")
                .env("AWS_SESSION_EXPIRATION", (unix_now() + 150).to_string())
                .args(*args)
                .output()
                .expect("run");
            let err = stderr(&out);
            if out.status.code() != Some(1)
                || !err.contains(var)
                || err.trim_end().lines().count() != 1
                || !fake.actions().is_empty()
            {
                wrong.push(format!(
                    "{var}={v:?}: {:?}, requests {:?}, stderr {err:?}",
                    out.status,
                    fake.actions()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// AWS_SESSION_PROMPT is read by the prompt hook of the session shell at every prompt:
/// it must read the same spellings.
#[test]
fn boolean_prompt_switch_in_the_shell_reads_every_spelling() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    std::fs::write(sb.home.path().join(".bashrc"), "PS1='$ '\n").expect("bashrc");
    let mut c = bin(&sb, &fake.url);
    c.env("SHELL", crate::common::tool("bash"))
        .env("TERM", "dumb")
        .args(["--code", "123456", "shell"]);
    let mut pty = Pty::spawn(c, 200, 40);
    pty.expect("$ ", Duration::from_secs(20));
    let all: Vec<&str> = TRUE_VALUES.iter().chain(FALSE_VALUES).copied().collect();
    pty.send_line(&format!(
        "for v in {}; do AWS_SESSION_PROMPT=$v; aws-session-prompt; printf '<%s|%s>\\n' \"$v\" \"$PS1\"; done; echo DONE-$((6*7))",
        all.join(" ")
    ));
    let text = pty.expect("DONE-42", Duration::from_secs(20));
    pty.send_line("exit 0");
    let _ = pty.wait(Duration::from_secs(10));
    let mut wrong = Vec::new();
    for line in text.lines() {
        let Some(inner) = line
            .trim_end()
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix('>'))
        else {
            continue;
        };
        let Some((v, ps1)) = inner.split_once('|') else {
            continue;
        };
        let on = TRUE_VALUES.contains(&v);
        if ps1.contains("(aws") != on {
            wrong.push(format!("AWS_SESSION_PROMPT={v}: PS1 {ps1:?}"));
        }
    }
    assert!(
        text.matches("<").count() >= all.len(),
        "the loop did not run: {text}"
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------
// 8. Times from outside are checked
// ---------------------------------------------------------------------------

fn one_session(reply: Reply) -> Output {
    let reply = Arc::new(Mutex::new(Some(reply)));
    let fake = Fake::start(move |_, _| reply.lock().unwrap().take().expect("one request"));
    let sb = sandbox(true);
    bin(&sb, &fake.url)
        .args([
            "--code",
            "123456",
            "exec",
            "sh",
            "-c",
            "echo $AWS_SESSION_EXPIRATION",
        ])
        .output()
        .expect("run")
}

#[test]
fn session_already_over_is_refused() {
    let out = one_session(session_until("2001-01-01T00:00:00Z"));
    let err = expect(
        &out,
        5,
        &["GetSessionToken", "2001-01-01T00:00:00Z", "ended"],
    );
    assert!(stdout(&out).is_empty(), "the child ran: {}", stdout(&out));
    assert!(
        !err.contains("local clock"),
        "the Date header is right: {err}"
    );
}

#[test]
fn session_of_year_9999_is_refused() {
    let out = one_session(session_until("9999-12-31T23:59:59Z"));
    expect(
        &out,
        5,
        &["GetSessionToken", "9999-12-31", "longer than AWS allows"],
    );
    assert!(stdout(&out).is_empty(), "the child ran: {}", stdout(&out));
}

#[test]
fn session_longer_than_36_hours_is_refused() {
    let out = one_session(session_until(&iso_in(7 * 86400)));
    expect(&out, 5, &["GetSessionToken", "longer than AWS allows"]);
}

/// The answer is right by its own Date header (the session ends a day after it), but
/// the local clock is two days ahead: the message says the clock is what is off.
#[test]
fn local_clock_ahead_is_told_from_the_date_header() {
    let Reply::Http(status, _, body) = session_until(&iso_in(-86400)) else {
        unreachable!()
    };
    let reply = Reply::Http(
        status,
        vec![
            ("Content-Type".into(), "text/xml".into()),
            ("Date".into(), http_date(-2 * 86400)),
        ],
        body,
    );
    let out = one_session(reply);
    expect(&out, 5, &["local clock", "ahead", "Date"]);
}

#[test]
fn cache_entry_of_year_9999_is_a_miss() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    let run = || {
        bin(&sb, &fake.url)
            .args([
                "--code",
                "123456",
                "exec",
                "sh",
                "-c",
                "echo $AWS_SESSION_EXPIRATION",
            ])
            .output()
            .expect("run")
    };
    ok(&run());
    let entries = cache_entries(&sb);
    assert_eq!(entries.len(), 1);
    for forged in ["9999-12-31T23:59:59Z".to_string(), iso_in(30 * 86400)] {
        let text = std::fs::read_to_string(&entries[0]).expect("entry");
        let start = text.find("\"expiration\":\"").expect("expiration") + 14;
        let end = start + text[start..].find('"').expect("end");
        std::fs::write(
            &entries[0],
            format!("{}{forged}{}", &text[..start], &text[end..]),
        )
        .expect("forge");
        let before = fake.actions().len();
        let out = run();
        ok(&out);
        assert_eq!(
            fake.actions().len(),
            before + 1,
            "an entry lasting until {forged} was believed"
        );
        let exp: i64 = stdout(&out).trim().parse().expect("a number");
        assert!(exp < unix_now() + 2 * 3600, "the child got {exp}");
    }
}

#[test]
fn extreme_expiration_in_env_never_overflows() {
    let mut wrong = Vec::new();
    for v in [
        "-9223372036854775808",
        "-1",
        "0",
        "9223372036854775807",
        "99999999999999999999",
        &(unix_now() + 10 * 365 * 86400).to_string(),
    ] {
        let sb = Sandbox::new();
        let run = |cmd: &str| {
            bin(&sb, "http://127.0.0.1:9/")
                .env("AWS_SESSION_EXPIRATION", v)
                .env("AWS_SESSION_TOKEN", "token")
                .env("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
                .env("AWS_SECRET_ACCESS_KEY", "x")
                .arg(cmd)
                .output()
                .expect("run")
        };
        let out = run("prompt");
        if out.status.code() != Some(0) || stdout(&out) != "(aws!exp) " {
            wrong.push(format!(
                "prompt with {v}: {:?} {:?} {:?}",
                out.status,
                stdout(&out),
                stderr(&out)
            ));
        }
        let out = run("status");
        if out.status.code() != Some(0) || stderr(&out).contains("internal error") {
            wrong.push(format!(
                "status with {v}: {:?} {:?}",
                out.status,
                stderr(&out)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------
// 9. No lock is held while a person types a code
// ---------------------------------------------------------------------------

#[test]
fn cache_lock_not_held_while_a_person_types() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    // The first run waits at the terminal for a code.
    let mut first = bin(&sb, &fake.url);
    first.env("TERM", "dumb").args(["exec", "true"]);
    let mut pty = Pty::spawn(first, 100, 30);
    pty.expect("6 digit MFA code: ", Duration::from_secs(20));
    // The second, with its code, must not wait for the first.
    let mut second = bin(&sb, &fake.url);
    second.args([
        "--code",
        "654321",
        "exec",
        "sh",
        "-c",
        "echo $AWS_ACCESS_KEY_ID",
    ]);
    let (out, took) = run_for(second, Duration::from_secs(15));
    pty.send_line("123456");
    let _ = pty.wait(Duration::from_secs(20));
    let out = out.unwrap_or_else(|| {
        panic!("the second run waited {took:?} for the first one's person to type a code")
    });
    ok(&out);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(stdout(&out).trim(), "ASIAIOSFODNN7EXAMPLE");
    let codes: Vec<String> = fake
        .seen()
        .iter()
        .filter(|s| s.action == "GetSessionToken")
        .map(|s| s.body.clone())
        .collect();
    assert!(
        codes
            .first()
            .is_some_and(|b| b.contains("TokenCode=654321")),
        "the second run sent its own code first: {codes:?}"
    );
}

// ---------------------------------------------------------------------------
// 10. The config reader reads only regular files, up to 16 MiB; chains in linear time
// ---------------------------------------------------------------------------

/// The binary with a 1 GiB address-space limit (a reader that grows forever fails
/// fast instead of taking the machine's memory), killed after 10 s. Linux and FreeBSD
/// enforce RLIMIT_AS; macOS takes it and does not, where the 10 s end the run and
/// the time check below fails it.
fn limited(mut c: Command) -> (Option<Output>, Duration) {
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    run_for(c, Duration::from_secs(10))
}

#[track_caller]
fn config_refused(var: &str, path: &Path, words: &[&str]) {
    let fake = Fake::ok();
    let sb = sandbox(true);
    let mut c = bin(&sb, &fake.url);
    c.env(var, path).args(["--code", "123456", "exec", "true"]);
    let (out, took) = limited(c);
    let out =
        out.unwrap_or_else(|| panic!("{var}={}: still reading after {took:?}", path.display()));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let mut all = vec![path.to_str().expect("utf-8")];
    all.extend(words);
    expect(&out, 2, &all);
    assert!(fake.actions().is_empty());
}

#[test]
fn config_file_dev_zero_is_refused_quickly() {
    config_refused(
        "AWS_CONFIG_FILE",
        Path::new("/dev/zero"),
        &["not a regular file"],
    );
    config_refused(
        "AWS_SHARED_CREDENTIALS_FILE",
        Path::new("/dev/zero"),
        &["not a regular file"],
    );
}

#[test]
fn config_file_fifo_is_refused_quickly() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("config.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("cstring");
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    config_refused("AWS_CONFIG_FILE", &fifo, &["not a regular file"]);
}

#[test]
fn config_file_over_16_mib_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let big = dir.path().join("config");
    let mut text = format!("[default]\nmfa_serial = {SERIAL}\n");
    let comment = format!("# {}\n", "x".repeat(1022));
    while text.len() <= 16 * 1024 * 1024 {
        text.push_str(&comment);
    }
    std::fs::write(&big, text).expect("write");
    config_refused("AWS_CONFIG_FILE", &big, &["16 MiB"]);
}

/// AWS_CA_BUNDLE follows the rule of the AWS files: a FIFO cannot hang the run,
/// /dev/zero cannot fill memory, a file over 4 MiB is refused; each names the variable.
#[test]
fn ca_bundle_that_is_no_regular_file_or_too_large_is_refused_quickly() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("ca.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("cstring");
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let words = ["cannot read AWS_CA_BUNDLE", "not a regular file (a FIFO)"];
    config_refused("AWS_CA_BUNDLE", &fifo, &words);
    let words = ["cannot read AWS_CA_BUNDLE", "not a regular file"];
    config_refused("AWS_CA_BUNDLE", Path::new("/dev/zero"), &words);
    let big = dir.path().join("ca.pem");
    std::fs::write(&big, vec![b'#'; 4 * 1024 * 1024 + 1]).expect("write");
    config_refused(
        "AWS_CA_BUNDLE",
        &big,
        &["cannot read AWS_CA_BUNDLE", "4 MiB"],
    );
}

/// The sign-in token of a `login_session` profile follows the same rule: a FIFO in
/// its place (AWS_LOGIN_CACHE_DIRECTORY may name any directory) is refused at once.
#[test]
fn login_token_that_is_a_fifo_is_refused_quickly() {
    use sha2::{Digest, Sha256};
    let fake = Fake::ok();
    let sb = Sandbox::new();
    let session = "arn:aws:iam::123456789012:user/alice";
    sb.write_config(&format!("[profile dev]\nlogin_session = {session}\n"));
    let dir = sb.home.path().join("tokens");
    std::fs::create_dir(&dir).expect("mkdir");
    let fifo = dir.join(format!(
        "{}.json",
        hex::encode(Sha256::digest(session.as_bytes()))
    ));
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("cstring");
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let mut c = bin(&sb, &fake.url);
    c.env("AWS_LOGIN_CACHE_DIRECTORY", &dir)
        .args(["--profile", "dev", "exec", "true"]);
    let (out, took) = limited(c);
    let out = out.unwrap_or_else(|| panic!("still reading the token after {took:?}"));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    expect(
        &out,
        6,
        &[
            "cannot read the sign-in token",
            "not a regular file (a FIFO)",
        ],
    );
    assert!(fake.actions().is_empty());
}

/// The limits do not refuse what people do: a config that is a symlink to a regular
/// file (dotfile managers) is read as before.
#[test]
fn config_file_symlink_to_a_regular_file_is_read() {
    let fake = Fake::ok();
    let sb = sandbox(false);
    let real = sb.home.path().join("dotfiles-config");
    std::fs::write(&real, format!("[default]\nmfa_serial = {SERIAL}\n")).expect("write");
    let _ = std::fs::remove_file(&sb.config_file);
    std::os::unix::fs::symlink(&real, &sb.config_file).expect("symlink");
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    ok(&out);
    assert_eq!(fake.actions(), ["GetSessionToken"], "mfa_serial was read");
}

#[test]
fn long_source_profile_chain_is_resolved_fast() {
    const N: usize = 50_000;
    let fake = Fake::ok();
    let sb = Sandbox::new();
    let mut config = String::with_capacity(N * 40);
    for i in 0..N - 1 {
        config.push_str(&format!("[profile p{i}]\nsource_profile = p{}\n", i + 1));
    }
    config.push_str(&format!("[profile p{}]\nmfa_serial = {SERIAL}\n", N - 1));
    sb.write_config(&config);
    sb.write_credentials(&format!(
        "[p{}]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n",
        N - 1
    ));
    let mut c = bin(&sb, &fake.url);
    c.args(["--profile", "p0", "--code", "123456", "exec", "true"]);
    let (out, took) = run_for(c, Duration::from_secs(60));
    let out = out.unwrap_or_else(|| panic!("a {N}-profile chain took more than {took:?}"));
    ok(&out);
    assert_eq!(fake.actions(), ["GetSessionToken"]);
    assert!(
        took < Duration::from_secs(5),
        "a chain of {N} profiles took {took:?} (quadratic?)"
    );
}

// ---------------------------------------------------------------------------
// 11. The smaller ones
// ---------------------------------------------------------------------------

/// Long-term keys with a stale AWS_SESSION_TOKEN beside them: the token is the problem.
#[test]
fn stale_session_token_next_to_long_term_keys_is_named() {
    let fake = Fake::start(|_, s| {
        if s.headers.iter().any(|(k, _)| k == "x-amz-security-token") {
            xml(403, &fixture("error_invalid_client_token_id.xml"))
        } else {
            ok_reply(&s.action)
        }
    });
    let sb = Sandbox::new();
    let out = bin(&sb, &fake.url)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEStaleToken")
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let err = expect(&out, 4, &["InvalidClientTokenId", "AWS_SESSION_TOKEN"]);
    assert!(
        !err.contains("deleted, deactivated or mistyped"),
        "blames the key, not the token: {err}"
    );
}

#[test]
fn clear_deletes_only_our_entries_and_counts_them() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    ok(&bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run"));
    let dir = cache_dir(&sb);
    let corrupt = dir.join(format!("{}.json", "a".repeat(64)));
    std::fs::write(&corrupt, "{").expect("write");
    std::fs::set_permissions(&corrupt, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let theirs = ["notes.json", "backup.tmp", "README"];
    for f in theirs {
        std::fs::write(dir.join(f), "the user's own\n").expect("write");
    }
    let out = bin(&sb, &fake.url).arg("clear").output().expect("run");
    ok(&out);
    for f in theirs {
        assert!(dir.join(f).exists(), "clear deleted {f}, which is not ours");
    }
    let left: Vec<_> = cache_entries(&sb)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.len() == 69))
        .collect();
    assert!(left.is_empty(), "entries left: {left:?}");
    let text = stdout(&out);
    assert!(
        text.contains("removed 1 cached session and 1 unusable entry"),
        "{text}"
    );
}

#[test]
fn world_readable_cache_entry_is_fixed_even_when_the_run_fails() {
    let fake = Fake::ok();
    let sb = sandbox(true);
    ok(&bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run"));
    let entry = cache_entries(&sb).pop().expect("an entry");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    // The next run finds it, then fails: nothing listens at the endpoint.
    let out = bin(&sb, &format!("http://127.0.0.1:{}", dead_port()))
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        !entry.exists() || mode(&entry) == 0o600,
        "the entry is still {:o} after the run",
        mode(&entry)
    );
}

fn shell_note(xdg_runtime_dir: &Path) -> Output {
    let fake = Fake::ok();
    let sb = sandbox(true);
    bin(&sb, &fake.url)
        .env("SHELL", crate::common::tool("bash"))
        .env("XDG_RUNTIME_DIR", xdg_runtime_dir)
        .env("TMPDIR", sb.home.path())
        .args(["--code", "123456", "shell"])
        .output()
        .expect("run")
}

#[test]
fn rc_dir_note_names_xdg_runtime_dir() {
    // XDG_RUNTIME_DIR/aws-session is taken by a file.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("aws-session"), "not a directory\n").expect("write");
    // And XDG_RUNTIME_DIR where nothing can be made (even by root).
    for xdg in [dir.path(), Path::new("/sys")] {
        let out = shell_note(xdg);
        let err = stderr(&out);
        let note = err
            .lines()
            .find(|l| l.contains("note:"))
            .unwrap_or_else(|| panic!("no note for {}: {err}", xdg.display()));
        assert!(
            note.contains("XDG_RUNTIME_DIR"),
            "the note does not name XDG_RUNTIME_DIR: {note}"
        );
    }
}

#[test]
fn code_in_non_ascii_digits_gets_a_clear_message() {
    for code in ["١٢٣٤٥٦", "１２３４５６", "۱۲۳۴۵۶"] {
        for how in ["--code", "AWS_SESSION_MFA_CODE"] {
            let fake = Fake::ok();
            let sb = sandbox(true);
            let mut c = bin(&sb, &fake.url);
            if how == "--code" {
                c.args(["--code", code]);
            } else {
                c.env("AWS_SESSION_MFA_CODE", code);
            }
            let out = c.args(["exec", "true"]).output().expect("run");
            let err = expect(&out, 1, &[how, "0-9"]);
            assert!(!err.contains(code), "the code was echoed: {err}");
            assert!(fake.actions().is_empty());
        }
    }
}

fn mfa_page(members: &[&str], next: Option<&str>) -> Reply {
    let members: String = members
        .iter()
        .map(|s| {
            format!(
                "<member><UserName>alice</UserName><SerialNumber>{s}</SerialNumber>\
                 <EnableDate>2024-01-15T12:00:00Z</EnableDate></member>"
            )
        })
        .collect();
    let (truncated, marker) = match next {
        Some(m) => ("true", format!("<Marker>{m}</Marker>")),
        None => ("false", String::new()),
    };
    xml(
        200,
        &format!(
            "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListMFADevicesResult>\
             <IsTruncated>{truncated}</IsTruncated>{marker}<MFADevices>{members}</MFADevices>\
             </ListMFADevicesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListMFADevicesResponse>"
        ),
    )
}

#[test]
fn list_mfa_devices_follows_pagination() {
    let phone = "arn:aws:iam::123456789012:mfa/alice-phone";
    let fake = Fake::start(move |_, s| match s.action.as_str() {
        "ListMFADevices" if s.body.contains("Marker=page2") => mfa_page(&[phone], None),
        "ListMFADevices" => mfa_page(
            &["arn:aws:iam::123456789012:u2f/user/alice/yubikey-ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
            Some("page2"),
        ),
        other => ok_reply(other),
    });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    ok(&out);
    assert_eq!(
        fake.actions(),
        ["ListMFADevices", "ListMFADevices", "GetSessionToken"]
    );
    let gst = fake.seen().pop().expect("GetSessionToken");
    assert!(
        gst.body
            .contains("SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice-phone"),
        "{}",
        gst.body
    );
}

/// A server that pages forever: the run stops on its own, soon.
#[test]
fn list_mfa_devices_endless_pages_stop() {
    let fake = Fake::start(|n, s| match s.action.as_str() {
        "ListMFADevices" => mfa_page(&[], Some(&format!("page{}", n + 2))),
        other => ok_reply(other),
    });
    let sb = sandbox(false);
    let mut c = bin(&sb, &fake.url);
    c.args(["--code", "123456", "exec", "true"]);
    let (out, took) = run_for(c, Duration::from_secs(30));
    let out = out.unwrap_or_else(|| panic!("still paging after {took:?}"));
    expect(&out, 5, &["ListMFADevices"]);
    let pages = fake.actions().len();
    assert!((2..=20).contains(&pages), "{pages} pages asked for");
}

/// `openssl` with `args` in `dir`; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed: {e}"));
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A self-signed CA:TRUE certificate used directly as the server's certificate, and
/// named in AWS_CA_BUNDLE: accepted (as by the AWS CLI), or refused with a message
/// that says exactly that, and no advice to set AWS_CA_BUNDLE (it is set).
#[test]
fn self_signed_ca_server_certificate_is_named() {
    let sb = sandbox(true);
    let dir = sb.home.path().join("tls");
    std::fs::create_dir(&dir).expect("mkdir");
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
    );
    let Reply::Http(_, _, body) = session_until(&iso_in(3600)) else {
        unreachable!()
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (mut server, url) = crate::common::tls_server(&dir, "self.pem", "self.key", &response);
    let out = bin(&sb, &url)
        .env("AWS_CA_BUNDLE", dir.join("self.pem"))
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let _ = server.kill();
    let _ = server.wait();
    if out.status.success() {
        return; // accepted, as the AWS CLI does
    }
    let err = expect(&out, 5, &["CA certificate", "CA:TRUE"]);
    assert!(
        !err.contains("point AWS_CA_BUNDLE at that CA"),
        "advises what is already done: {err}"
    );
}
