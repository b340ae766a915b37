//! Every bad input and fault of docs/errors.md, one test per row (or a few rows per
//! test, named in the table): the exit code, the key words of the message, and that
//! the message is one line.
//!
//! Faults that moto cannot produce come from [`Fake`], a tiny misbehaving HTTP
//! server on 127.0.0.1 in a thread of this process: it hangs, answers with an HTML
//! page, a 64 MiB body, a far-off Date header, throttles, resets connections, and
//! counts what it was sent so the retry rules can be checked.

use crate::common::{
    bare_command as bin, example_sandbox as sandbox, EXAMPLE_KEY as KEY, EXAMPLE_SECRET as SECRET,
    EXAMPLE_SERIAL as SERIAL,
};
use crate::common::{keys, stderr, Peer, Sandbox};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Assert the run failed with `code`, its stderr is one `aws-session: ` line holding
/// every word of `words`, and it does not hold the example secret key.
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
    // For docs/errors.md: `cargo test --test it errors:: -- --nocapture --test-threads 1`.
    eprintln!("MESSAGE {code}: {}", lines[0]);
    err
}

/// An endpoint nothing listens on (a port just released).
fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/xml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// The misbehaving server
// ---------------------------------------------------------------------------

/// What the fake does with one request.
enum Reply {
    /// An HTTP answer: status, extra headers, body.
    Http(u16, Vec<(String, String)>, Vec<u8>),
    /// Say nothing for this long, then close.
    Hang(Duration),
    /// Close the connection without a word.
    Close,
    /// 200 with a body of this many bytes, written until the client stops reading.
    Huge(usize),
}

fn xml(status: u16, body: &str) -> Reply {
    Reply::Http(
        status,
        vec![("Content-Type".into(), "text/xml".into())],
        body.as_bytes().to_vec(),
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

fn ok_list() -> Reply {
    xml(200, &fixture("iam_list_mfa_devices.xml"))
}

/// The recorded GetSessionToken answer, made to expire in an hour (so it is cached).
fn ok_session() -> Reply {
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let iso = later
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    xml(
        200,
        &fixture("sts_get_session_token.xml").replace("2011-07-11T19:55:29.611Z", &iso),
    )
}

/// The usual right answer to each action.
fn ok(action: &str) -> Reply {
    match action {
        "ListMFADevices" => ok_list(),
        "GetSessionToken" => ok_session(),
        _ => aws_error(400, "InvalidAction", "not faked"),
    }
}

/// One request the fake saw.
#[derive(Clone, Debug)]
struct Seen {
    action: String,
    body: String,
}

type Behaviour = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A misbehaving AWS on 127.0.0.1: one request per connection, answered by a
/// closure of (index of the request, the request). Lives until the test ends; each
/// connection's thread ends by itself within a minute.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn start(behaviour: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let count = Arc::new(AtomicUsize::new(0));
        let seen2 = Arc::clone(&seen);
        std::thread::spawn(move || {
            // Bounded: no test makes more than a few requests.
            for stream in listener.incoming().take(50) {
                let Ok(stream) = stream else { continue };
                let (seen, behaviour, count) = (
                    Arc::clone(&seen2),
                    Arc::clone(&behaviour),
                    Arc::clone(&count),
                );
                std::thread::spawn(move || serve(stream, &seen, &*behaviour, &count));
            }
        });
        Fake { url, seen }
    }

    fn actions(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.action.clone())
            .collect()
    }

    fn bodies(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.body.clone())
            .collect()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, behaviour: &Behaviour, count: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(&stream);
    let mut length = 0usize;
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
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
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
    let req = Seen { action, body };
    seen.lock().unwrap().push(req.clone());
    let n = count.fetch_add(1, Ordering::SeqCst);
    let mut out = &stream;
    match behaviour(n, &req) {
        Reply::Http(status, headers, body) => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            );
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")) {
                head.push_str(&format!("Date: {}\r\n", http_date(0)));
            }
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
            let _ = out.flush();
        }
        Reply::Hang(d) => std::thread::sleep(d),
        Reply::Close => {}
        Reply::Huge(size) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
            );
            let _ = out.write_all(head.as_bytes());
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < size {
                if out.write_all(&chunk).is_err() {
                    break; // the client stopped reading: what we want
                }
                sent += chunk.len();
            }
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Other",
    }
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

const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

// ---------------------------------------------------------------------------
// Arguments (exit 1)
// ---------------------------------------------------------------------------

fn usage(args: &[&str], env: &[(&str, &str)]) -> Output {
    let sb = sandbox(true);
    let fake = Fake::start(|_, s| ok(&s.action));
    let mut c = bin(&sb, &fake.url);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run");
    assert!(fake.actions().is_empty(), "no request for bad arguments");
    out
}

#[test]
fn args_unknown_option() {
    expect(
        &usage(&["--nope", "exec", "true"], &[]),
        1,
        &["unknown option --nope", "--help"],
    );
}

#[test]
fn args_missing_value() {
    expect(
        &usage(&["refresh", "--profile"], &[]),
        1,
        &["--profile needs a value"],
    );
}

#[test]
fn args_duration_not_a_number() {
    expect(
        &usage(&["--session-duration", "1h", "exec", "true"], &[]),
        1,
        &[
            "--session-duration must be a number of seconds from 900 to 129600",
            "\"1h\"",
        ],
    );
}

#[test]
fn args_duration_out_of_range() {
    expect(
        &usage(&["--session-duration", "899", "exec", "true"], &[]),
        1,
        &["--session-duration 899 is out of range", "900 to 129600"],
    );
}

#[test]
fn args_code_malformed_and_not_echoed() {
    let err = expect(
        &usage(&["--code", "12a45", "exec", "true"], &[]),
        1,
        &["--code must be the 6 digits"],
    );
    assert!(!err.contains("12a45"), "the code is never echoed: {err}");
}

#[test]
fn args_unknown_command() {
    expect(
        &usage(&["frobnicate"], &[]),
        1,
        &["unknown command \"frobnicate\"", "see aws-session --help"],
    );
    assert!(!stderr(&usage(&["frobnicate"], &[])).contains("did you mean"));
}

#[test]
fn args_mistyped_command_or_option_suggests_the_name() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["exce", "true"],
            "unknown command \"exce\": did you mean \"exec\"?",
        ),
        (&["stauts"], "did you mean \"status\"?"),
        (&["help", "expotr"], "did you mean \"export\"?"),
        (
            &["--profil", "dev", "exec", "true"],
            "unknown option --profil: did you mean --profile?",
        ),
        (
            &["export", "--fromat", "json"],
            "unknown option --fromat: did you mean --format?",
        ),
        (&["--no-cahce", "status"], "did you mean --no-cache?"),
    ];
    for (args, words) in cases {
        expect(&usage(args, &[]), 1, &[words]);
    }
}

#[test]
fn args_exec_without_command() {
    expect(&usage(&["exec"], &[]), 1, &["exec needs a command"]);
}

#[test]
fn args_option_after_exec() {
    // Before any code is asked for: the option was meant for aws-session.
    expect(
        &usage(&["exec", "--profile", "admin", "aws", "sts"], &[]),
        1,
        &[
            "--profile after exec is not a command",
            "options go before exec",
        ],
    );
}

#[test]
fn args_unexpected_argument() {
    expect(
        &usage(&["refresh", "extra"], &[]),
        1,
        &["unexpected argument \"extra\" (only exec takes arguments; see aws-session refresh --help)"],
    );
}

#[test]
fn args_non_utf8_value() {
    use std::os::unix::ffi::OsStrExt;
    let sb = sandbox(true);
    let out = bin(&sb, &dead_endpoint())
        .arg("--profile")
        .arg(std::ffi::OsStr::from_bytes(b"dev\xff"))
        .args(["exec", "true"])
        .output()
        .expect("run");
    expect(&out, 1, &["--profile value is not valid UTF-8"]);
}

#[test]
fn args_unknown_format() {
    expect(
        &usage(&["refresh", "--format", "yaml"], &[]),
        1,
        &["--format \"yaml\" is not known"],
    );
}

#[test]
fn env_bad_duration() {
    expect(
        &usage(&["exec", "true"], &[("AWS_SESSION_DURATION", "forever")]),
        1,
        &["AWS_SESSION_DURATION must be a number of seconds"],
    );
}

#[test]
fn env_bad_code() {
    expect(
        &usage(&["exec", "true"], &[("AWS_SESSION_MFA_CODE", "99")]),
        1,
        &["AWS_SESSION_MFA_CODE must be the 6 digits"],
    );
}

#[test]
fn env_bad_timeout() {
    for bad in ["0", "ten", "99999"] {
        expect(
            &usage(
                &["--code", "123456", "exec", "true"],
                &[("AWS_SESSION_TIMEOUT", bad)],
            ),
            1,
            &["AWS_SESSION_TIMEOUT must be whole seconds from 1 to 3600"],
        );
    }
}

#[test]
fn nested_shell_is_refused() {
    let exp = (time::OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    expect(
        &usage(
            &["shell"],
            &[
                ("AWS_SESSION_EXPIRATION", exp.as_str()),
                ("AWS_SESSION_TOKEN", "token"),
            ],
        ),
        1,
        &["already inside an aws-session shell", "--force"],
    );
}

#[test]
fn role_duration_too_long() {
    let sb = sandbox(true);
    sb.write_config(&format!(
        "[default]\nmfa_serial = {SERIAL}\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = default\n"
    ));
    let out = bin(&sb, &dead_endpoint())
        .args([
            "--profile",
            "admin",
            "-d",
            "50000",
            "--code",
            "123456",
            "exec",
            "true",
        ])
        .output()
        .expect("run");
    expect(
        &out,
        1,
        &[
            "--session-duration 50000 is too long for role profile `admin`",
            "900 to 43200",
            "duration_seconds",
        ],
    );
    // From the environment (e.g. exported by a shell started with -d 50000 for an MFA
    // profile): the message names the variable.
    let out = bin(&sb, &dead_endpoint())
        .env("AWS_SESSION_DURATION", "50000")
        .args(["--profile", "admin", "--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        1,
        &["AWS_SESSION_DURATION 50000 is too long for role profile `admin`"],
    );
}

// ---------------------------------------------------------------------------
// Config and credentials files (exit 2)
// ---------------------------------------------------------------------------

#[test]
fn config_unknown_profile() {
    let sb = sandbox(true);
    let out = bin(&sb, &dead_endpoint())
        .args(["--profile", "prod", "--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        2,
        &["profile \"prod\" not found", "known: default", "--profile"],
    );
}

/// `status`, `clear` and `logout` filter on `--profile`: a name the files do not define
/// is refused as every other command refuses it, and nothing is removed.
#[test]
fn status_clear_logout_refuse_an_unknown_profile() {
    let sb = sandbox(true);
    for command in ["status", "clear", "logout"] {
        let out = bin(&sb, &dead_endpoint())
            .args(["--profile", "nope", command])
            .output()
            .expect("run");
        expect(
            &out,
            2,
            &[
                "profile \"nope\" not found in the AWS config or credentials file (known: default)",
                "check --profile / AWS_PROFILE",
            ],
        );
        assert!(
            out.stdout.is_empty(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // A profile that exists is fine, and AWS_PROFILE naming an unknown one is not
    // checked (status and clear do not filter on it).
    for command in ["status", "clear", "logout"] {
        let out = bin(&sb, &dead_endpoint())
            .args(["--profile", "default", command])
            .output()
            .expect("run");
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
    for command in ["status", "clear"] {
        let out = bin(&sb, &dead_endpoint())
            .env("AWS_PROFILE", "nope")
            .arg(command)
            .output()
            .expect("run");
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
}

#[test]
fn config_no_credentials_anywhere() {
    let sb = Sandbox::new();
    let out = bin(&sb, &dead_endpoint())
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        2,
        &["no AWS credentials", "AWS_ACCESS_KEY_ID", "--profile"],
    );
}

#[test]
fn config_sso_profile_without_a_sign_in_says_to_log_in() {
    let sb = Sandbox::new();
    sb.write_config(
        "[profile sso]\nsso_start_url = https://portal.example/start\nsso_region = us-east-1\n\
         sso_account_id = 123456789012\nsso_role_name = Admin\n",
    );
    let out = bin(&sb, &dead_endpoint())
        .args(["--profile", "sso", "--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let err = expect(
        &out,
        2,
        &[
            "profile \"sso\" is not signed in to IAM Identity Center",
            "run aws-session --profile sso login",
        ],
    );
    assert!(!err.contains("has no keys"), "{err}");
}

#[test]
fn config_file_syntax_error_has_line_number() {
    let sb = sandbox(false);
    sb.write_config("# mine\n[default]\nregion = us-east-1\n[profile dev\nregion = x\n");
    let out = bin(&sb, &dead_endpoint())
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(&out, 2, &["config line 4", "must end with ']'"]);
}

#[test]
fn credentials_file_syntax_error_has_line_number_and_no_secret() {
    let sb = Sandbox::new();
    sb.write_credentials(&format!("[default]\naws_access_key_id = {KEY}\n{SECRET}\n"));
    let out = bin(&sb, &dead_endpoint())
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(&out, 2, &["credentials line 3"]);
}

#[test]
fn credentials_key_without_secret() {
    let sb = Sandbox::new();
    sb.write_credentials(&format!("[default]\naws_access_key_id = {KEY}\n"));
    let out = bin(&sb, &dead_endpoint())
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        2,
        &["has aws_access_key_id but no aws_secret_access_key"],
    );
}

#[test]
fn credentials_file_unreadable() {
    let sb = sandbox(true);
    // A directory where the file should be: unreadable even for root.
    let dir = sb.home.path().join("creds-dir");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = bin(&sb, &dead_endpoint())
        .env("AWS_SHARED_CREDENTIALS_FILE", &dir)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        2,
        &["cannot read", "creds-dir", "AWS_SHARED_CREDENTIALS_FILE"],
    );
}

#[test]
fn ca_bundle_missing() {
    let sb = sandbox(true);
    let out = bin(&sb, &dead_endpoint())
        .env("AWS_CA_BUNDLE", sb.home.path().join("no-such.pem"))
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(&out, 2, &["cannot read AWS_CA_BUNDLE", "no-such.pem"]);
}

#[test]
fn ca_bundle_without_certificates() {
    let sb = sandbox(true);
    let pem = sb.home.path().join("empty.pem");
    std::fs::write(&pem, "not a certificate\n").expect("write");
    let out = bin(&sb, &dead_endpoint())
        .env("AWS_CA_BUNDLE", &pem)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        2,
        &[
            "cannot set up HTTPS",
            "AWS_CA_BUNDLE holds no PEM certificate (point AWS_CA_BUNDLE at a PEM file",
        ],
    );
}

// ---------------------------------------------------------------------------
// MFA codes and devices (exit 3, 10) — against the moto peer
// ---------------------------------------------------------------------------

#[test]
fn no_terminal_and_no_code() {
    let peer = Peer::shared();
    let user = peer.create_user("errnocode", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        3,
        &[
            "no MFA code",
            "no terminal",
            "--code",
            "AWS_SESSION_MFA_CODE",
        ],
    );
}

#[test]
fn wrong_code() {
    let peer = Peer::shared();
    let user = peer.create_user("errwrong", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let good: u32 = user.totp(0).parse().expect("digits");
    // Not a code of the three windows the peer accepts.
    let wrong = (1..)
        .map(|d| format!("{:06}", (good + d) % 1_000_000))
        .find(|c| ![user.totp(-1), user.totp(1)].contains(c))
        .expect("a wrong code");
    let out = sb
        .command(peer)
        .args(["--code", &wrong, "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        3,
        &[
            "AWS refused the MFA code",
            "AccessDenied",
            "not used before",
        ],
    );
}

#[test]
fn reused_code() {
    let peer = Peer::shared();
    let user = peer.create_user("errreuse", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let code = user.totp(0);
    // --no-cache: the second run must ask AWS again, not reuse the first session.
    let run = || {
        sb.command(peer)
            .args(["--no-cache", "--code", &code, "exec", "true"])
            .output()
            .expect("run")
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    let again = run();
    expect(&again, 3, &["AWS refused the MFA code", "not used before"]);
}

#[test]
fn user_without_mfa_device() {
    let peer = Peer::shared();
    let user = peer.create_user("errnomfa", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        10,
        &[
            &format!("IAM user '{}' has no MFA device", user.user_name),
            "provision-mfa",
            "mfa_serial",
        ],
    );
}

// ---------------------------------------------------------------------------
// AWS errors (exit 4)
// ---------------------------------------------------------------------------

#[test]
fn aws_signature_does_not_match() {
    let peer = Peer::shared();
    let user = peer.create_user("errsig", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}x\n",
        user.access_key_id, user.secret_access_key
    ));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let err = expect(
        &out,
        4,
        &[
            "ListMFADevices failed: SignatureDoesNotMatch",
            "secret access key",
            &user.access_key_id,
            "clock",
        ],
    );
    assert!(!err.contains(&user.secret_access_key), "{err}");
}

#[test]
fn aws_invalid_client_token_id() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    sb.write_credentials(
        "[default]\naws_access_key_id = AKIAUNKNOWNUNKNOWN12\naws_secret_access_key = nope\n",
    );
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "InvalidClientTokenId",
            "does not know access key id AKIAUNKNOWNUNKNOWN12",
            "deleted",
        ],
    );
}

#[test]
fn aws_expired_token() {
    let peer = Peer::shared();
    let user = peer.create_user("errexp", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--code", &user.fresh_code(), "exec", "env"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let env: std::collections::BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let session_key = env["AWS_ACCESS_KEY_ID"].clone();
    peer.expire(&session_key);
    // Session keys in the environment, as a user who exported them by hand.
    let out = sb
        .command(peer)
        .env("AWS_ACCESS_KEY_ID", &session_key)
        .env("AWS_SECRET_ACCESS_KEY", &env["AWS_SECRET_ACCESS_KEY"])
        .env("AWS_SESSION_TOKEN", &env["AWS_SESSION_TOKEN"])
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let err = expect(
        &out,
        4,
        &[
            "ExpiredToken",
            &session_key,
            "have expired",
            "unset AWS_SESSION_TOKEN",
        ],
    );
    assert!(
        !err.contains(&env["AWS_SESSION_TOKEN"]) && !err.contains(&env["AWS_SECRET_ACCESS_KEY"])
    );
}

#[test]
fn aws_access_denied_names_the_action() {
    let peer = Peer::shared();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"}]
    });
    let user = peer.create_user_with_policy("errdeny", true, &policy);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "ListMFADevices failed: AccessDenied",
            "may not call iam:ListMFADevices",
            "minimal policy",
            "mfa_serial",
        ],
    );
}

#[test]
fn aws_session_credentials_cannot_get_a_session() {
    // Fake: what AWS says to GetSessionToken signed with session credentials.
    let fake = Fake::start(|_, _| {
        aws_error(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        )
    });
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "GetSessionToken failed: AccessDenied",
            "long-term IAM user keys",
            "AWS_SESSION_TOKEN",
        ],
    );
}

#[test]
fn aws_request_expired_says_how_far_off_the_clock_is() {
    let fake = Fake::start(|_, _| {
        Reply::Http(
            400,
            vec![("Date".into(), http_date(7230))],
            b"<ErrorResponse><Error><Type>Sender</Type><Code>RequestExpired</Code>\
              <Message>Request has expired.</Message></Error></ErrorResponse>"
                .to_vec(),
        )
    });
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "GetSessionToken failed: RequestExpired",
            "local clock is 2 h 0 min",
            "behind AWS's",
            "NTP",
        ],
    );
    assert_eq!(fake.actions().len(), 1);
}

#[test]
fn aws_throttling_is_retried_then_reported() {
    let fake = Fake::start(|_, _| aws_error(400, "Throttling", "Rate exceeded"));
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "ListMFADevices failed: Throttling: Rate exceeded",
            "throttling",
        ],
    );
    assert_eq!(fake.actions(), ["ListMFADevices"; 3], "three attempts");
}

#[test]
fn throttled_once_then_success() {
    let fake = Fake::start(|n, s| {
        if n == 0 {
            aws_error(400, "Throttling", "Rate exceeded")
        } else {
            ok(&s.action)
        }
    });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fake.actions(),
        ["ListMFADevices", "ListMFADevices", "GetSessionToken"]
    );
}

#[test]
fn throttling_of_a_request_with_a_code_is_not_retried() {
    let fake = Fake::start(|_, _| aws_error(400, "Throttling", "Rate exceeded"));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(&out, 4, &["GetSessionToken failed: Throttling"]);
    assert_eq!(fake.actions(), ["GetSessionToken"], "a code is sent once");
}

#[test]
fn server_error_on_a_request_with_a_code_is_not_retried() {
    let fake =
        Fake::start(|_, _| aws_error(500, "InternalFailure", "We encountered an internal error."));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &["GetSessionToken failed: InternalFailure", "next MFA code"],
    );
    assert_eq!(fake.actions(), ["GetSessionToken"], "never resent");
    assert!(fake.bodies()[0].contains("TokenCode=123456"));
}

#[test]
fn server_error_on_a_call_that_creates_is_not_retried() {
    // rotate's CreateAccessKey answered 500: AWS may have made the key, so it is not
    // asked for a second one; the credentials file keeps the key that works.
    let fake = Fake::start(|_, s| match s.action.as_str() {
        "GetSessionToken" => ok_session(),
        "GetCallerIdentity" => xml(200, &fixture("sts_get_caller_identity.xml")),
        "ListAccessKeys" => xml(
            200,
            &format!(
                "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata><member>\
                 <AccessKeyId>{KEY}</AccessKeyId><Status>Active</Status></member>\
                 </AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>"
            ),
        ),
        _ => aws_error(500, "InternalFailure", "We encountered an internal error."),
    });
    let sb = sandbox(true);
    let before = std::fs::read_to_string(&sb.credentials_file).expect("read");
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "rotate"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", stderr(&out));
    let creates = fake
        .actions()
        .iter()
        .filter(|a| *a == "CreateAccessKey")
        .count();
    assert_eq!(creates, 1, "sent once: {:?}", fake.actions());
    assert_eq!(
        std::fs::read_to_string(&sb.credentials_file).expect("read"),
        before
    );
}

#[test]
fn server_error_without_a_code_is_retried() {
    let fake = Fake::start(|n, s| {
        if n < 2 {
            aws_error(503, "ServiceUnavailable", "Service is unavailable.")
        } else {
            ok(&s.action)
        }
    });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fake.actions(),
        [
            "ListMFADevices",
            "ListMFADevices",
            "ListMFADevices",
            "GetSessionToken"
        ]
    );
}

#[test]
fn aws_validation_error_on_duration() {
    let fake = Fake::start(|_, _| {
        aws_error(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roots.",
        )
    });
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args([
            "--code",
            "123456",
            "--session-duration",
            "7200",
            "exec",
            "true",
        ])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "ValidationError",
            "DurationSeconds",
            "--session-duration between 900 and 129600",
        ],
    );
}

#[test]
fn aws_unknown_error_code_is_shown_as_is() {
    let fake = Fake::start(|_, _| aws_error(400, "SomethingNew", "A message\n  over two lines."));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &["GetSessionToken failed: SomethingNew: A message over two lines."],
    );
}

// ---------------------------------------------------------------------------
// Network and answers that are not AWS's (exit 5)
// ---------------------------------------------------------------------------

#[test]
fn connection_refused() {
    let sb = sandbox(false);
    let url = dead_endpoint();
    let out = bin(&sb, &url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &[
            "ListMFADevices: cannot reach",
            &url,
            "connection refused",
            "tried 3 times",
            "HTTPS_PROXY",
        ],
    );
}

#[test]
fn hanging_server_times_out() {
    let fake = Fake::start(|_, _| Reply::Hang(Duration::from_secs(20)));
    let sb = sandbox(false);
    let started = Instant::now();
    let out = bin(&sb, &fake.url)
        .env("AWS_SESSION_TIMEOUT", "2")
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let took = started.elapsed();
    expect(
        &out,
        5,
        &[
            "ListMFADevices: no answer from",
            "within 2 s",
            "AWS_SESSION_TIMEOUT",
        ],
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(fake.actions().len(), 1, "a timeout is not retried");
}

#[test]
fn html_502_page_is_retried_then_named() {
    let fake = Fake::start(|_, _| {
        Reply::Http(
            502,
            vec![("Content-Type".into(), "text/html".into())],
            HTML_502.into(),
        )
    });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &[
            "HTTP 502 with an HTML page (\"502 Bad Gateway\")",
            "AWS_ENDPOINT_URL",
        ],
    );
    assert_eq!(
        fake.actions().len(),
        3,
        "5xx without a code: three attempts"
    );
}

#[test]
fn html_502_page_on_a_request_with_a_code_is_not_retried() {
    let fake = Fake::start(|_, _| {
        Reply::Http(
            502,
            vec![("Content-Type".into(), "text/html".into())],
            HTML_502.into(),
        )
    });
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &[
            "HTTP 502 with an HTML page",
            "not retried",
            "wait for the next code",
        ],
    );
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

#[test]
fn huge_body_is_refused() {
    let fake = Fake::start(|_, _| Reply::Huge(64 << 20));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &[
            "GetSessionToken: the answer from",
            "larger than 1048576 bytes",
        ],
    );
    assert_eq!(fake.actions().len(), 1);
}

#[test]
fn connection_reset_is_retried_without_a_code() {
    let fake = Fake::start(|n, s| if n == 0 { Reply::Close } else { ok(&s.action) });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fake.actions(),
        ["ListMFADevices", "ListMFADevices", "GetSessionToken"]
    );
}

#[test]
fn connection_reset_with_a_code_is_not_retried() {
    let fake = Fake::start(|_, _| Reply::Close);
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &["GetSessionToken: cannot reach", "not retried", "MFA code"],
    );
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

fn answer_200(body: &'static str) -> Output {
    let fake = Fake::start(move |_, _| xml(200, body));
    let sb = sandbox(true);
    bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run")
}

#[test]
fn xml_truncated() {
    let out = answer_200(
        "<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>ASIA",
    );
    expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "truncated XML",
            "ends inside <AccessKeyId>",
        ],
    );
}

#[test]
fn xml_wrong_root() {
    let out = answer_200("<AssumeRoleResponse/>");
    expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "root element <AssumeRoleResponse>, expected <GetSessionTokenResponse>",
        ],
    );
}

#[test]
fn xml_missing_field() {
    let out = answer_200(
        "<GetSessionTokenResponse><GetSessionTokenResult><Credentials>\
         <AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>SECRETVALUE</SecretAccessKey>\
         <Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></GetSessionTokenResult>\
         </GetSessionTokenResponse>",
    );
    let err = expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "missing <GetSessionTokenResult><Credentials><SessionToken>",
        ],
    );
    assert!(!err.contains("SECRETVALUE"));
}

#[test]
fn xml_bad_timestamp() {
    let out = answer_200(
        "<GetSessionTokenResponse><GetSessionTokenResult><Credentials>\
         <AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>S</SecretAccessKey>\
         <SessionToken>T</SessionToken><Expiration>tomorrow</Expiration></Credentials>\
         </GetSessionTokenResult></GetSessionTokenResponse>",
    );
    expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "<Expiration> is not an RFC 3339 time",
        ],
    );
}

#[test]
fn not_xml_at_all() {
    let out = answer_200("{\"Credentials\": {}}");
    expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "not XML (a JSON document)",
        ],
    );
}

#[test]
fn html_page_with_status_200() {
    let out =
        answer_200("<!DOCTYPE html><html><head><title>Hotel WiFi login</title></head></html>");
    expect(
        &out,
        5,
        &[
            "GetSessionToken answered with an unusable document",
            "check AWS_ENDPOINT_URL",
            "an HTML page (\"Hotel WiFi login\")",
        ],
    );
}

#[test]
fn error_status_with_empty_body() {
    let fake = Fake::start(|_, _| Reply::Http(403, vec![], vec![]));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        5,
        &["GetSessionToken to", "HTTP 403 with an empty body"],
    );
}

#[test]
fn dead_proxy_is_named_and_no_proxy_bypasses_it() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let proxy = dead_endpoint();
    let port = proxy.rsplit(':').next().expect("port").to_string();
    let out = bin(&sb, &fake.url)
        .env("HTTPS_PROXY", format!("http://user:pw@127.0.0.1:{port}"))
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let err = expect(
        &out,
        5,
        &[
            "cannot reach",
            &format!("via proxy 127.0.0.1:{port} from HTTPS_PROXY"),
        ],
    );
    assert!(!err.contains("pw"), "no proxy password in messages: {err}");
    assert!(fake.actions().is_empty());
    // NO_PROXY sends the same request straight to the endpoint.
    let out = bin(&sb, &fake.url)
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))
        .env("NO_PROXY", "127.0.0.1")
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fake.actions(), ["GetSessionToken"]);
}

// ---------------------------------------------------------------------------
// The command to run (126, 127)
// ---------------------------------------------------------------------------

#[test]
fn exec_command_not_found() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "no-such-command-xyz"])
        .output()
        .expect("run");
    expect(
        &out,
        127,
        &["command not found: no-such-command-xyz", "PATH"],
    );
}

#[test]
fn exec_command_not_executable() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let script = sb.home.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec"])
        .arg(&script)
        .output()
        .expect("run");
    expect(&out, 126, &["cannot execute", "script.sh"]);
}

// ---------------------------------------------------------------------------
// The session cache (a note, and the run goes on: exit 0)
// ---------------------------------------------------------------------------

fn cache_dir(sb: &Sandbox) -> std::path::PathBuf {
    sb.home.path().join(".cache/aws-session")
}

fn cache_entries(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(cache_dir(sb))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "json"));
    v
}

#[test]
fn cache_corrupt_entry_is_ignored_and_replaced() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let run = || {
        bin(&sb, &fake.url)
            .args(["--code", "123456", "exec", "true"])
            .output()
            .expect("run")
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = cache_entries(&sb);
    assert_eq!(entries.len(), 1, "one cached session");
    std::fs::write(&entries[0], "{\"version\": 1, \"kind\": \"mfa-sess").expect("corrupt");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("note: ignoring session cache entry"), "{err}");
    assert!(err.contains("it will be replaced"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    eprintln!("MESSAGE 0: {}", err.trim_end());
    assert_eq!(fake.actions(), ["GetSessionToken", "GetSessionToken"]);
    let text = std::fs::read_to_string(&entries[0]).expect("replaced");
    assert!(
        text.trim_end().ends_with('}'),
        "a whole entry again: {text}"
    );
}

#[test]
fn cache_entry_symlink_is_not_followed() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let run = || {
        bin(&sb, &fake.url)
            .args(["--code", "123456", "exec", "true"])
            .output()
            .expect("run")
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = cache_entries(&sb);
    assert_eq!(entries.len(), 1);
    // The entry is replaced by a symlink to a file of the user's.
    let victim = sb.home.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").expect("write");
    std::fs::remove_file(&entries[0]).expect("rm");
    std::os::unix::fs::symlink(&victim, &entries[0]).expect("symlink");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ignoring session cache entry") && err.contains("symlink"),
        "{err}"
    );
    eprintln!("MESSAGE 0: {}", err.trim_end());
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "keep me\n"
    );
    let meta = std::fs::symlink_metadata(&entries[0]).expect("entry");
    assert!(meta.is_file(), "the symlink was replaced by a file of ours");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn cache_dir_symlink_is_refused() {
    let fake = Fake::start(|_, s| ok(&s.action));
    let sb = sandbox(true);
    let elsewhere = sb.home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::create_dir_all(sb.home.path().join(".cache")).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, cache_dir(&sb)).expect("symlink");
    let out = bin(&sb, &fake.url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("is not a directory owned by you"), "{err}");
    assert!(err.contains("without the session cache"), "{err}");
    eprintln!("MESSAGE 0: {}", err.trim_end());
    assert_eq!(
        std::fs::read_dir(&elsewhere).expect("dir").count(),
        0,
        "nothing written through the symlink"
    );
}

// ---------------------------------------------------------------------------
// HTTPS: AWS_CA_BUNDLE is the trust root (openssl makes a CA and serves TLS)
// ---------------------------------------------------------------------------

/// `openssl` with `args` in `dir`; panics with its stderr on failure.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl (Debian package openssl) is needed: {e}"));
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A CA (ca.pem) and a server certificate for 127.0.0.1 it signed (leaf.pem, leaf.key).
fn make_ca(dir: &std::path::Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=aws-session test CA",
    ]);
    openssl(dir, &args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &args);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext.cnf");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[test]
fn ca_bundle_is_the_trust_root() {
    let sb = sandbox(true);
    let dir = sb.home.path().join("tls");
    std::fs::create_dir(&dir).expect("mkdir");
    make_ca(&dir);
    let Reply::Http(_, _, body) = ok_session() else {
        unreachable!()
    };
    let body = String::from_utf8(body).expect("utf-8");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // Without the bundle the test CA is unknown: the certificate is refused.
    let (mut server, url) = crate::common::tls_server(&dir, "leaf.pem", "leaf.key", &response);
    let out = bin(&sb, &url)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    let _ = server.kill();
    let _ = server.wait();
    expect(
        &out,
        5,
        &[
            "GetSessionToken: request to https://127.0.0.1:",
            "certificate is not trusted (invalid peer certificate: UnknownIssuer)",
            "AWS_CA_BUNDLE",
        ],
    );
    // With AWS_CA_BUNDLE naming the CA, the same server is trusted.
    let (mut server, url) = crate::common::tls_server(&dir, "leaf.pem", "leaf.key", &response);
    let out = bin(&sb, &url)
        .env("AWS_CA_BUNDLE", dir.join("ca.pem"))
        .args([
            "--code",
            "123456",
            "exec",
            "sh",
            "-c",
            "echo $AWS_ACCESS_KEY_ID",
        ])
        .output()
        .expect("run");
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ASIAIOSFODNN7EXAMPLE"
    );
}

/// Every row of docs/errors.md names a test that exists in this file or in the files
/// of the features whose errors it lists (a renamed or deleted test cannot leave its row
/// behind).
#[test]
fn every_row_of_the_table_names_a_test_here() {
    let table = include_str!("../../docs/errors.md")
        .split_once("## The table")
        .map_or("", |(_, t)| t);
    let this = [
        include_str!("errors.rs"),
        include_str!("hardening.rs"),
        include_str!("hardening3.rs"),
        include_str!("keys.rs"),
        include_str!("latency.rs"),
        include_str!("login.rs"),
        include_str!("sso.rs"),
        include_str!("console.rs"),
        include_str!("listeners.rs"),
        include_str!("hardening_faults.rs"),
        include_str!("daily.rs"),
    ]
    .concat();
    let mut rows = 0;
    for line in table.lines().filter(|l| {
        l.starts_with("| ")
            && l[2..]
                .split(' ')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
    }) {
        let Some(name) = line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .and_then(|c| c.split('`').nth(1))
        else {
            continue;
        };
        rows += 1;
        assert!(
            this.contains(&format!("fn {name}(")),
            "docs/errors.md names `{name}`, which is no test in the files of tests/it listed here"
        );
    }
    assert!(rows >= 61, "only {rows} rows found");
}

#[test]
fn sts_deactivated_in_the_region_names_the_setting() {
    let fake = Fake::start(|_, _| {
        aws_error(
            403,
            "RegionDisabledException",
            "STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.",
        )
    });
    let sb = sandbox(false);
    let out = bin(&sb, &fake.url)
        .env("AWS_SESSION_MFADEVICE", "arn:aws:iam::123456789012:mfa/x")
        .args(["--code", "123456", "exec", "true"])
        .output()
        .expect("run");
    expect(
        &out,
        4,
        &[
            "GetSessionToken failed: RegionDisabledException",
            "STS is not activated in this region",
            "sts_regional_endpoints = legacy",
            "AWS_STS_REGIONAL_ENDPOINTS=legacy",
        ],
    );
    assert_eq!(fake.actions(), ["GetSessionToken"], "not retried");
}
