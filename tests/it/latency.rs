//! The connection to STS is made while the code is typed (tests/peer/tls_front.py in
//! front of the peer sees the TLS handshake while the prompt still waits), no request
//! more is sent than before, calls to one host share one connection, and nothing at all
//! reaches the network before the code when the command line or configuration is bad.
//! Not timed: `scripts/bench --latency` measures.

use crate::common::pty::Pty;
use crate::common::{actions_by, keys, venv, Peer, Sandbox};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const PROMPT: &str = "Please enter your 6 digit MFA code: ";
const WAIT: Duration = Duration::from_secs(30);

/// The TLS front (no delay) and the events it reported.
struct Front {
    url: String,
    ca: String,
    child: Child,
    events: Arc<(Mutex<Vec<Value>>, Condvar)>,
    _dir: tempfile::TempDir,
}

impl Front {
    fn start(peer: &Peer) -> Front {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/tls_front.py");
        let mut child = Command::new(venv().join("bin/python"))
            .arg(script)
            .arg(peer.port.to_string())
            .arg("0")
            .arg(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tls_front.py");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first: Value = serde_json::from_str(&lines.next().expect("a line").expect("read"))
            .expect("JSON from tls_front.py");
        let events = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.0.lock().unwrap_or_else(|p| p.into_inner()).push(v);
                    sink.1.notify_all();
                }
            }
        });
        Front {
            url: format!("https://127.0.0.1:{}", first["port"]),
            ca: first["ca"].as_str().expect("ca").to_string(),
            child,
            events,
            _dir: dir,
        }
    }

    fn count(&self, event: &str) -> usize {
        let events = self.events.0.lock().unwrap();
        events.iter().filter(|e| e["event"] == event).count()
    }

    /// Wait until `n` events of kind `event` were reported; panics after WAIT.
    fn wait_for(&self, event: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        let (lock, cv) = &*self.events;
        let mut events = lock.lock().unwrap();
        while events.iter().filter(|e| e["event"] == event).count() < n {
            let now = Instant::now();
            assert!(now < deadline, "no {n} {event} events: {events:?}");
            events = cv.wait_timeout(events, deadline - now).unwrap().0;
        }
    }

    /// Let events already under way arrive (the front reports asynchronously).
    fn settle(&self) {
        std::thread::sleep(Duration::from_millis(300));
    }

    fn command(&self, sb: &Sandbox, peer: &Peer) -> Command {
        let mut c = sb.command(peer);
        c.env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_CA_BUNDLE", &self.ca);
        c
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Type `code` at the prompt of `pty` once the front has seen `handshakes` finished
/// TLS handshakes and no request; returns the exit status.
fn type_code_after_handshake(
    pty: &mut Pty,
    front: &Front,
    handshakes: usize,
    code: &str,
) -> std::process::ExitStatus {
    pty.expect(PROMPT, WAIT);
    front.wait_for("handshake", handshakes);
    front.settle();
    pty.send_line(code);
    pty.wait(WAIT)
}

#[test]
fn the_sts_connection_is_made_while_the_code_is_typed() {
    let peer = Peer::shared();
    let front = Front::start(peer);
    let user = peer.create_user("warm-known", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let mut c = front.command(&sb, peer);
    c.args(["--no-cache", "exec", "true"]);
    let mut pty = Pty::spawn(c, 200, 40);
    pty.expect(PROMPT, WAIT);
    front.wait_for("handshake", 1);
    front.settle();
    // The prompt still waits: the connection is there, and nothing was sent on it.
    assert_eq!(front.count("request"), 0);
    assert!(actions_by(peer, &user.access_key_id).is_empty());
    pty.send_line(&user.fresh_code());
    let status = pty.wait(WAIT);
    assert!(status.success(), "{}", pty.output());
    front.settle();
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    assert_eq!(front.count("accept"), 1, "one connection");
    assert_eq!(front.count("request"), 1, "one request");
}

#[test]
fn a_device_is_discovered_while_the_code_is_typed() {
    let peer = Peer::shared();
    let front = Front::start(peer);
    let user = peer.create_user("warm-discover", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut c = front.command(&sb, peer);
    c.args(["--no-cache", "exec", "true"]);
    let mut pty = Pty::spawn(c, 200, 40);
    pty.expect(PROMPT, WAIT);
    // Discovery and the STS connection, both while the prompt waits (here IAM and STS
    // are one host, so discovery may take the connection made ahead; on AWS they are
    // two).
    front.wait_for("handshake", 1);
    front.wait_for("request", 1);
    front.settle();
    assert_eq!(actions_by(peer, &user.access_key_id), ["ListMFADevices"]);
    pty.send_line(&user.fresh_code());
    let status = pty.wait(WAIT);
    assert!(status.success(), "{}", pty.output());
    front.settle();
    // The requests of a `--code` run, no more.
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
    assert_eq!(front.count("request"), 2);
    assert!(front.count("accept") <= 2, "{}", front.count("accept"));
}

#[test]
fn a_failed_discovery_is_reported_after_the_code_and_spends_nothing() {
    let peer = Peer::shared();
    let front = Front::start(peer);
    let user = peer.create_user("warm-nodevice", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut c = front.command(&sb, peer);
    c.args(["--no-cache", "exec", "true"]);
    let mut pty = Pty::spawn(c, 200, 40);
    let status = type_code_after_handshake(&mut pty, &front, 1, "123456");
    assert_eq!(status.code(), Some(10), "{}", pty.output());
    assert!(pty.output().contains("no MFA device"), "{}", pty.output());
    let actions = actions_by(peer, &user.access_key_id);
    assert!(
        !actions.iter().any(|a| a == "GetSessionToken"),
        "{actions:?}"
    );
}

#[test]
fn a_role_behind_an_mfa_session_uses_one_connection() {
    let peer = Peer::shared();
    let user = peer.create_user("warm-role", true);
    let role = peer.create_role("warm-role", 3600, &[]);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("base", &user));
    sb.write_config(&format!(
        "[profile r]\nrole_arn = {}\nsource_profile = base\nmfa_serial = {}\n",
        role.arn,
        user.mfa_serial.as_deref().unwrap()
    ));
    // Typed at the prompt: the warm connection carries both calls.
    let front = Front::start(peer);
    let mut c = front.command(&sb, peer);
    c.args(["--no-cache", "--profile", "r", "exec", "true"]);
    let mut pty = Pty::spawn(c, 200, 40);
    let status = type_code_after_handshake(&mut pty, &front, 1, &user.fresh_code());
    assert!(status.success(), "{}", pty.output());
    front.settle();
    assert_eq!(front.count("accept"), 1);
    assert_eq!(front.count("request"), 2, "GetSessionToken, AssumeRole");
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);

    // With --code: no connection ahead, one connection for both calls all the same.
    let front = Front::start(peer);
    let out = front
        .command(&sb, peer)
        .args(["--no-cache", "--profile", "r", "--code", &user.fresh_code()])
        .args(["exec", "true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    front.settle();
    assert_eq!(front.count("accept"), 1);
    assert_eq!(front.count("request"), 2);
}

#[test]
fn nothing_is_sent_before_the_code_when_the_input_is_bad() {
    let peer = Peer::shared();
    let front = Front::start(peer);
    let user = peer.create_user("warm-bad", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n[profile badregion]\nregion = EU West\nmfa_serial = {}\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.mfa_serial.as_deref().unwrap(),
        user.mfa_serial.as_deref().unwrap(),
        user.access_key_id,
        user.secret_access_key
    ));
    let cases: [(&[&str], i32); 3] = [
        (
            &["--no-cache", "--session-duration", "soon", "exec", "true"],
            1,
        ),
        (&["--no-cache", "--bogus", "exec", "true"], 1),
        (&["--no-cache", "--profile", "badregion", "exec", "true"], 2),
    ];
    for (args, code) in cases {
        let mut c = front.command(&sb, peer);
        c.args(args);
        let mut pty = Pty::spawn(c, 200, 40);
        let status = pty.wait(WAIT);
        assert_eq!(status.code(), Some(code), "{args:?}: {}", pty.output());
        assert!(!pty.output().contains(PROMPT), "{args:?}: {}", pty.output());
    }
    front.settle();
    assert_eq!(front.count("accept"), 0, "no connection");
    assert!(actions_by(peer, &user.access_key_id).is_empty());
}
