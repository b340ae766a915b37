//! Secrets, identity and text from outside, tried by a peer that misbehaves on purpose:
//! error messages and pages full of terminal escapes, an id token whose `sub` would
//! rewrite the config, sign-in tokens others could read or plant, a symlinked token
//! at `logout`, and `rotate` against a symlinked file, a file edited under it, a lost
//! CreateAccessKey answer, a second profile with the same key and a concurrent rotate.
//! The rows of docs/errors.md name these tests.

use crate::common::{
    bare_command as bin, example_sandbox, run_within, stderr, stdout, venv, Peer, Sandbox,
    EXAMPLE_KEY as KEY,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Bytes a terminal acts on: ESC, BEL, CSI as one C1 character (UTF-8 C2 9B), OSC (C2 9D).
fn assert_printable(text: &[u8], what: &str) {
    let shown = String::from_utf8_lossy(text);
    assert!(!text.contains(&0x1b), "ESC in {what}: {shown:?}");
    assert!(!text.contains(&0x07), "BEL in {what}: {shown:?}");
    assert!(
        !text
            .windows(2)
            .any(|w| w == [0xc2, 0x9b] || w == [0xc2, 0x9d]),
        "a C1 control in {what}: {shown:?}"
    );
}

/// One `aws-session: ` line on stderr, exit `code`, holding `words`, printable.
#[track_caller]
fn one_line(o: &Output, code: i32, words: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit status; stderr: {err:?}");
    assert_printable(&o.stderr, "stderr");
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err:?}");
    assert!(lines[0].starts_with("aws-session: "), "{err}");
    for w in words {
        assert!(lines[0].contains(w), "{w:?} missing in: {err}");
    }
    err
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/xml")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn iso_in(offset: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset))
        .replace_nanosecond(0)
        .expect("ns")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// What the fake answers: status and body, or `None` to close the connection without
/// an answer (an answer lost on the way).
type Answer = Option<(u16, String)>;
type Behaviour = dyn Fn(&str) -> Answer + Send + Sync;

/// A fake AWS on 127.0.0.1 that answers each request (one per connection) by its
/// action; records the actions it saw.
struct Fake {
    url: String,
    actions: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(behaviour: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let actions: Arc<Mutex<Vec<String>>> = Arc::default();
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let seen = Arc::clone(&actions);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(200) {
                let Ok(stream) = stream else { continue };
                let (seen, behaviour) = (Arc::clone(&seen), Arc::clone(&behaviour));
                std::thread::spawn(move || answer(stream, &seen, &*behaviour));
            }
        });
        Fake { url, actions }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }
}

fn answer(stream: TcpStream, seen: &Mutex<Vec<String>>, behaviour: &Behaviour) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut reader = BufReader::new(&stream);
    let mut length = 0usize;
    for _ in 0..200 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
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
    seen.lock().unwrap().push(action.clone());
    let mut out = &stream;
    if let Some((status, body)) = behaviour(&action) {
        let kind = if body.starts_with("<html") {
            "text/html"
        } else {
            "text/xml"
        };
        let head = format!(
            "HTTP/1.1 {status} Status\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(body.as_bytes());
        let _ = out.flush();
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn error_doc(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    )
}

/// Text a hostile server puts in a message: retitle (OSC 0), clear (CSI 2J), recolour
/// with a one-character CSI (C1), a new line that starts a fake second message.
const HOSTILE: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31mred\naws-session: paste this";

// ---------------------------------------------------------------------------
// Text from outside reaching the terminal
// ---------------------------------------------------------------------------

/// An STS error whose code and message carry escapes and a line break: one printable
/// line, the escapes shown as `\x1b`.
#[test]
fn outside_text_sts_error_message_is_made_printable() {
    let fake = Fake::start(|_| Some((403, error_doc("AccessDenied\u{1b}[5m", HOSTILE))));
    let sb = example_sandbox(true);
    let o = run_within(
        {
            let mut c = bin(&sb, &fake.url);
            c.args(["--code", "123456", "exec", "true"]);
            c
        },
        Duration::from_secs(20),
    );
    let err = one_line(&o, 4, &["GetSessionToken failed", "\\x1b]0;owned"]);
    assert!(err.contains("\\u{9b}31m"), "{err}");
}

/// An HTML error page (a proxy's) whose title carries escapes.
#[test]
fn outside_text_html_title_is_made_printable() {
    let page = format!("<html><head><title>Bad {HOSTILE}</title></head><body/></html>");
    let fake = Fake::start(move |_| Some((403, page.clone())));
    let sb = example_sandbox(true);
    let o = run_within(
        {
            let mut c = bin(&sb, &fake.url);
            c.args(["--code", "123456", "exec", "true"]);
            c
        },
        Duration::from_secs(20),
    );
    one_line(&o, 5, &["HTML page", "\\x1b]0;owned"]);
}

/// The same escapes under `--debug`: no log line carries them either.
#[test]
fn outside_text_is_printable_in_debug_lines() {
    let fake = Fake::start(|_| Some((403, error_doc("AccessDenied", HOSTILE))));
    let sb = example_sandbox(true);
    let o = run_within(
        {
            let mut c = bin(&sb, &fake.url);
            c.args(["--debug", "--code", "123456", "exec", "true"]);
            c
        },
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_printable(&o.stderr, "stderr with --debug");
}

// ---------------------------------------------------------------------------
// The sign-in: the id token's sub, the token's mode and owner, logout
// ---------------------------------------------------------------------------

/// A browser that records its arguments (in `browser-argv`), then follows the
/// redirects to our callback.
fn fake_browser(sb: &Sandbox) -> PathBuf {
    let path = sb.home.path().join("browser");
    let script = format!(
        "#!{py}\nimport sys, urllib.request\n\
         open(sys.argv[0] + '-argv', 'w').write('\\n'.join(sys.argv[1:]))\n\
         urllib.request.urlopen(sys.argv[1]).read()\n",
        py = venv().join("bin/python").display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The id token's `sub` holds escapes and a line that would be a second setting: the
/// login is refused (nothing written to the config or the cache), in one printable line.
#[test]
fn login_sub_that_is_no_arn_is_never_written() {
    let peer = Peer::start();
    let name = "alice\u{1b}]0;owned\u{7}\nlogin_session = arn:aws:iam::999999999999:user/evil";
    peer.control("POST", "/_peer/signin/user", Some(&json!({ "name": name })));
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    let browser = fake_browser(&sb);
    let o = sb
        .command(&peer)
        .env("BROWSER", &browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "30")
        .args(["--profile", "dev", "login"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert_printable(&o.stderr, "stderr");
    assert!(
        err.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("no principal ARN"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&sb.config_file).unwrap(),
        "[profile dev]\nregion = us-east-1\n"
    );
    let cache = sb.home.path().join(".aws/login/cache");
    assert!(
        !cache.exists() || fs::read_dir(&cache).unwrap().next().is_none(),
        "a token was written"
    );
}

/// The browser is opened on a loopback URL of ours: its arguments (readable by every
/// local user in /proc) hold no state and no PKCE challenge, and the sign-in works.
#[test]
fn login_browser_argv_holds_no_state_or_challenge() {
    let peer = Peer::start();
    let user = peer.create_user("argv", false);
    peer.control(
        "POST",
        "/_peer/signin/user",
        Some(&json!({ "name": user.user_name })),
    );
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    let browser = fake_browser(&sb);
    let o = sb
        .command(&peer)
        .env("BROWSER", &browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "30")
        .args(["--profile", "dev", "login"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let argv = fs::read_to_string(sb.home.path().join("browser-argv")).unwrap();
    for word in ["state", "code_challenge", "authorize", "client_id"] {
        assert!(!argv.contains(word), "{word} in the browser's argv: {argv}");
    }
    let url = argv.trim();
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{url}"));
    let random = rest
        .split_once("/start/")
        .map(|(_, r)| r)
        .unwrap_or_default();
    assert!(
        random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()),
        "{url}"
    );
    assert!(fs::read_to_string(&sb.config_file)
        .unwrap()
        .contains(&user.arn));
}

const SESSION: &str = "arn:aws:iam::123456789012:user/alice";

/// A profile signed in as SESSION, its token at `dir` (AWS_LOGIN_CACHE_DIRECTORY)
/// with `mode`. The token's content does not matter: it is refused before it is read.
fn token_sandbox(dir_mode: u32, mode: u32) -> (Sandbox, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    sb.write_config(&format!("[profile dev]\nlogin_session = {SESSION}\n"));
    let dir = sb.home.path().join("tokens");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(dir_mode)).unwrap();
    let token = dir.join(format!(
        "{}.json",
        hex::encode(Sha256::digest(SESSION.as_bytes()))
    ));
    fs::write(&token, "{}").unwrap();
    fs::set_permissions(&token, fs::Permissions::from_mode(mode)).unwrap();
    (sb, dir, token)
}

fn run_token(sb: &Sandbox, dir: &Path, fake: &Fake) -> Output {
    let mut c = bin(sb, &fake.url);
    c.env("AWS_LOGIN_CACHE_DIRECTORY", dir)
        .args(["--profile", "dev", "exec", "true"]);
    run_within(c, Duration::from_secs(20))
}

#[test]
fn login_token_readable_by_others_is_refused() {
    let fake = Fake::start(|_| None);
    let (sb, dir, token) = token_sandbox(0o700, 0o644);
    let o = run_token(&sb, &dir, &fake);
    one_line(
        &o,
        6,
        &[
            "is not used",
            "mode 0644",
            &format!("chmod 600 {}", token.display()),
        ],
    );
    assert!(fake.actions().is_empty());
}

#[test]
fn login_token_of_another_user_is_refused() {
    let fake = Fake::start(|_| None);
    let (sb, dir, token) = token_sandbox(0o700, 0o600);
    let c = std::ffi::CString::new(token.to_str().unwrap()).unwrap();
    // As root (the test machine) the file goes to nobody; as another user chown fails
    // and the test says so.
    // SAFETY: a valid C string; chown has no other preconditions.
    let rc = unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
    assert_eq!(rc, 0, "chown to nobody (needs root)");
    let o = run_token(&sb, &dir, &fake);
    one_line(&o, 6, &["is not used", "owned by uid 65534", "remove it"]);
    assert!(fake.actions().is_empty());
}

#[test]
fn login_token_in_a_directory_others_can_write_is_refused() {
    let fake = Fake::start(|_| None);
    let (sb, dir, _) = token_sandbox(0o777, 0o600);
    let o = run_token(&sb, &dir, &fake);
    one_line(
        &o,
        6,
        &[
            "is not used",
            "mode 0777",
            "lets other users put files in it",
        ],
    );
    assert!(fake.actions().is_empty());
}

/// `logout` on a token that is a symlink: refused, naming the file the link points
/// to; both stay, and nothing says the token is gone.
#[test]
fn logout_on_a_symlinked_token_is_refused_and_names_the_target() {
    let (sb, dir, token) = token_sandbox(0o700, 0o600);
    let real = sb.home.path().join("real-token.json");
    fs::rename(&token, &real).unwrap();
    std::os::unix::fs::symlink(&real, &token).unwrap();
    let mut c = bin(&sb, "http://127.0.0.1:9");
    c.env("AWS_LOGIN_CACHE_DIRECTORY", &dir)
        .args(["--profile", "dev", "logout"]);
    let o = run_within(c, Duration::from_secs(20));
    one_line(
        &o,
        6,
        &[
            "symbolic link",
            &real.display().to_string(),
            "nothing was removed",
        ],
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(real.exists() && fs::symlink_metadata(&token).is_ok());
}

// ---------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------

const NEW_KEY: &str = "AKIANEWKEYEXAMPLE000";

/// The usual answers of a rotate, CreateAccessKey's from `create`.
fn rotate_fake(create: impl Fn() -> Answer + Send + Sync + 'static) -> Fake {
    Fake::start(move |action| {
        match action {
        "GetSessionToken" => Some((
            200,
            fixture("sts_get_session_token.xml").replace("2011-07-11T19:55:29.611Z", &iso_in(3600)),
        )),
        "GetCallerIdentity" => Some((200, fixture("sts_get_caller_identity.xml"))),
        "ListAccessKeys" => Some((
            200,
            format!("<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata><member><AccessKeyId>{KEY}</AccessKeyId></member></AccessKeyMetadata></ListAccessKeysResult></ListAccessKeysResponse>"),
        )),
        "CreateAccessKey" => create(),
        "DeleteAccessKey" => Some((200, "<DeleteAccessKeyResponse/>".into())),
        _ => Some((400, error_doc("InvalidAction", "not faked"))),
    }
    })
}

fn created() -> Answer {
    Some((
        200,
        format!("<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><AccessKeyId>{NEW_KEY}</AccessKeyId><SecretAccessKey>newsecret</SecretAccessKey></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>"),
    ))
}

fn rotate(sb: &Sandbox, fake: &Fake) -> Output {
    let mut c = bin(sb, &fake.url);
    c.args(["--no-cache", "--code", "123456", "rotate"]);
    run_within(c, Duration::from_secs(40))
}

/// A symlinked credentials file: refused before any request, naming the variable
/// that points at the credentials file.
#[test]
fn rotate_symlinked_credentials_file_is_refused_before_any_request() {
    let fake = rotate_fake(created);
    let sb = example_sandbox(true);
    let real = sb.home.path().join("dotfiles-credentials");
    fs::rename(&sb.credentials_file, &real).unwrap();
    std::os::unix::fs::symlink(&real, &sb.credentials_file).unwrap();
    let o = rotate(&sb, &fake);
    let err = one_line(
        &o,
        6,
        &[
            "symbolic link",
            "AWS_SHARED_CREDENTIALS_FILE",
            "no request was sent",
        ],
    );
    assert!(!err.contains("AWS_CONFIG_FILE"), "{err}");
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

/// The key is changed in the file while the rotate runs (between CreateAccessKey and
/// the write): not overwritten; the new key is deleted again, the old one kept.
#[test]
fn rotate_key_changed_in_the_file_meanwhile_is_not_overwritten() {
    let sb = example_sandbox(true);
    let file = sb.credentials_file.clone();
    let theirs =
        "[default]\naws_access_key_id = AKIATHEIRS0000000000\naws_secret_access_key = theirs\n";
    let fake = rotate_fake(move || {
        fs::write(&file, theirs).unwrap();
        created()
    });
    let o = rotate(&sb, &fake);
    one_line(
        &o,
        6,
        &[
            "changed during the rotate",
            "not overwritten",
            "deleted again",
        ],
    );
    assert_eq!(fs::read_to_string(&sb.credentials_file).unwrap(), theirs);
    let deletes = fake
        .actions()
        .iter()
        .filter(|a| *a == "DeleteAccessKey")
        .count();
    assert_eq!(
        deletes,
        1,
        "only the new key is deleted: {:?}",
        fake.actions()
    );
}

/// CreateAccessKey's answer is lost: the message names the possible second key and
/// how to find it, and never advises deleting the key in use.
#[test]
fn rotate_lost_create_answer_names_the_possible_second_key() {
    let fake = rotate_fake(|| None);
    let sb = example_sandbox(true);
    let before = fs::read_to_string(&sb.credentials_file).unwrap();
    let o = rotate(&sb, &fake);
    let err = one_line(
        &o,
        5,
        &["list-access-keys", "second key", &format!("not {KEY}")],
    );
    assert!(
        !err.contains(&format!("--access-key-id {KEY}")),
        "advises deleting the key in use: {err}"
    );
    assert_eq!(fs::read_to_string(&sb.credentials_file).unwrap(), before);
    let creates = fake
        .actions()
        .iter()
        .filter(|a| *a == "CreateAccessKey")
        .count();
    assert_eq!(creates, 1, "{:?}", fake.actions());
}

/// A profile of the config file holds the same key: rotate (which edits only the
/// credentials file) refuses before any request, naming it.
#[test]
fn rotate_key_also_in_the_config_file_is_refused_with_the_list() {
    let fake = rotate_fake(created);
    let sb = example_sandbox(false);
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n[profile old-copy]\naws_access_key_id = {KEY}\naws_secret_access_key = {}\n",
        crate::common::EXAMPLE_SERIAL,
        crate::common::EXAMPLE_SECRET
    ));
    let before = fs::read_to_string(&sb.credentials_file).unwrap();
    let o = rotate(&sb, &fake);
    one_line(&o, 2, &["old-copy", "config file", "nothing was changed"]);
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
    assert_eq!(fs::read_to_string(&sb.credentials_file).unwrap(), before);
}

/// Two profiles of the credentials file hold the same key: both get the new one
/// (the old one is deleted, so a profile left with it would fail).
#[test]
fn rotate_updates_every_profile_holding_the_key() {
    let peer = Peer::shared();
    let user = peer.create_user("rotdup", true);
    let sb = Sandbox::new();
    let pair = format!(
        "aws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    );
    sb.write_credentials(&format!("[me]\n{pair}[copy]\n{pair}"));
    sb.write_config(&format!(
        "[profile me]\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", &user.fresh_code(), "rotate"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&sb.credentials_file).unwrap();
    assert!(!text.contains(&user.access_key_id), "{text}");
    for p in ["me", "copy"] {
        let o = sb
            .aws(peer)
            .args(["--profile", p, "sts", "get-caller-identity"])
            .output()
            .unwrap();
        assert!(o.status.success(), "profile {p}: {}", stderr(&o));
    }
}

/// Two rotates at once: one waits for the other and rotates the key it wrote; the
/// file ends with the one key AWS has, and no advice names the key in the file.
#[test]
fn rotate_concurrent_runs_are_serialised() {
    let peer = Peer::shared();
    let user = peer.create_user("rotcc", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[me]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    sb.write_config(&format!(
        "[profile me]\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    let runs: Vec<_> = [user.fresh_code(), user.fresh_code()]
        .into_iter()
        .map(|code| {
            let mut c = sb.command(peer);
            c.args(["--profile", "me", "--code", &code, "rotate"]);
            std::thread::spawn(move || run_within(c, Duration::from_secs(60)))
        })
        .collect();
    let outs: Vec<Output> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let text = fs::read_to_string(&sb.credentials_file).unwrap();
    let in_file = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap()
        .to_string();
    for o in &outs {
        assert!(
            !stderr(o).contains(&format!("--access-key-id {in_file}")),
            "advice names the key in use: {}",
            stderr(o)
        );
    }
    assert!(outs[0].status.success(), "{}", stderr(&outs[0]));
    assert!(outs[1].status.success(), "{}", stderr(&outs[1]));
    let o = sb
        .aws(peer)
        .args([
            "--profile",
            "me",
            "iam",
            "list-access-keys",
            "--user-name",
            &user.user_name,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&str> = listed["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [in_file.as_str()]);
}

// ---------------------------------------------------------------------------
// The parent stash: long-term keys never in a child's environment
// ---------------------------------------------------------------------------

/// `exec` and `exec --server` with keys from the environment: the child's environment
/// holds neither the secret nor AWS_SESSION_PARENT_KEY/_SECRET/_TOKEN, only the path
/// of a 0600 stash; `--server` removes its stash when the child ends.
#[test]
fn parent_keys_never_reach_a_child_of_exec_or_the_server() {
    let fake = rotate_fake(created);
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        crate::common::EXAMPLE_SERIAL
    ));
    let tmp = sb.home.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    for server in [false, true] {
        let mut c = bin(&sb, &fake.url);
        c.env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", "parent/secret/of/the/env")
            .env("AWS_SESSION_TOKEN", "parent-token-of-the-env")
            .env("TMPDIR", &tmp)
            .args(["--no-cache", "--code", "123456", "exec"]);
        if server {
            c.arg("--server");
        }
        c.arg("env");
        let o = run_within(c, Duration::from_secs(30));
        assert!(o.status.success(), "server {server}: {}", stderr(&o));
        let out = stdout(&o);
        for secret in ["parent/secret/of/the/env", "parent-token-of-the-env"] {
            assert!(
                !out.contains(secret),
                "server {server}: the parent's secret reached the child"
            );
        }
        for name in [
            "AWS_SESSION_PARENT_KEY=",
            "AWS_SESSION_PARENT_SECRET=",
            "AWS_SESSION_PARENT_TOKEN=",
        ] {
            assert!(
                !out.contains(name),
                "server {server}: {name} in the child's environment"
            );
        }
        let path = out
            .lines()
            .find_map(|l| l.strip_prefix("AWS_SESSION_PARENT_STASH="))
            .unwrap_or_else(|| panic!("server {server}: no stash named: {out}"))
            .to_string();
        let dir = Path::new(&path).parent().unwrap();
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        assert_eq!(dir, tmp.join(format!("aws-session-{uid}")));
        if server {
            assert!(
                !Path::new(&path).exists(),
                "the server's stash outlived its child"
            );
        } else {
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let text = fs::read_to_string(&path).unwrap();
            assert!(text.contains("parent/secret/of/the/env"), "{text}");
        }
    }
}

/// A stash named in the environment that is not one of ours (a file planted elsewhere)
/// is refused with the fix, not used.
#[test]
fn parent_stash_outside_the_private_directory_is_refused() {
    let fake = rotate_fake(created);
    let sb = example_sandbox(true);
    let planted = sb.home.path().join("parent-1-0123456789abcdef.json");
    fs::write(
        &planted,
        r#"{"AccessKeyId":"AKIAPLANTED","SecretAccessKey":"x"}"#,
    )
    .unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = bin(&sb, &fake.url);
    c.env("AWS_SESSION_PARENT_STASH", &planted)
        .env("TMPDIR", sb.home.path())
        .args(["--code", "123456", "exec", "true"]);
    let o = run_within(c, Duration::from_secs(20));
    one_line(
        &o,
        6,
        &[
            "AWS_SESSION_PARENT_STASH",
            "not a stash in aws-session's private directory",
        ],
    );
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

/// In a sub-shell made from keys of the environment (bash, zsh, fish):
/// `aws-session-refresh` renews from the stash, no child sees the secret, and the
/// stash is removed when the shell exits.
fn stash_in_shell(shell: &str) {
    use crate::common::pty::Pty;
    const STEP: Duration = Duration::from_secs(30);
    let peer = Peer::shared();
    let user = peer.create_user("stash", true);
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    let tmp = sb.home.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let mut c = sb.command(peer);
    c.env("SHELL", shell)
        .env("TMPDIR", &tmp)
        .env("AWS_ACCESS_KEY_ID", &user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key)
        .args(["--code", &user.fresh_code(), "shell"]);
    let mut pty = Pty::spawn(c, 160, 40);
    pty.expect("(aws", STEP);
    pty.send_line("env | grep -c PARENT_SECRET; echo COUNT-DONE");
    let seen = pty.expect("COUNT-DONE", STEP);
    assert!(
        !seen.contains(&user.secret_access_key),
        "{shell}: the secret in env"
    );
    pty.send_line("echo STASH-$AWS_SESSION_PARENT_STASH-END");
    pty.expect("STASH-/", STEP);
    let rest = pty.expect("-END", STEP);
    let path = format!("/{}", &rest[..rest.len() - 4]);
    assert!(Path::new(&path).exists(), "{shell}: no stash at {path}");
    pty.send_line(&format!(
        "AWS_SESSION_MFA_CODE={} aws-session-refresh && echo REFRESHED-OK",
        user.fresh_code()
    ));
    pty.expect("REFRESHED-OK", STEP);
    pty.send_line("exit 0");
    assert_eq!(pty.wait(STEP).code(), Some(0), "{}", pty.output());
    assert!(
        !Path::new(&path).exists(),
        "{shell}: the stash outlived the shell"
    );
}

#[test]
fn parent_stash_in_bash_refreshes_and_goes_at_exit() {
    stash_in_shell("/bin/bash");
}

#[test]
fn parent_stash_in_zsh_refreshes_and_goes_at_exit() {
    stash_in_shell("/bin/zsh");
}

#[test]
fn parent_stash_in_fish_refreshes_and_goes_at_exit() {
    stash_in_shell("/usr/bin/fish");
}
