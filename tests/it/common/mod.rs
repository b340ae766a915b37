//! Shared harness for the integration tests (`mod common;` in each test file).
//!
//! - [`Peer`]: the AWS stand-in, tests/peer/aws_peer.py (moto's server with SigV4
//!   checking on from the first request, plus a real GetSessionToken), on 127.0.0.1.
//! - [`TestUser`]: an IAM user of the peer with long-term keys and, maybe, an MFA
//!   device whose TOTP codes the test can compute ([`totp`]).
//! - [`Sandbox`]: an empty HOME with its own ~/.aws/config and credentials, and a
//!   [`std::process::Command`] for the built binary that can only reach the peer.
//!
//! The peer runs from the venv that scripts/setup-peers makes. When it is missing
//! the tests fail and say so: they never skip.
#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod pty;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

/// How long the peer may take to print its port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The venv that holds the peers: `$AWS_SESSION_TEST_VENV`, else `<repo>/.venv`.
///
/// Panics (the test fails, it is not skipped) when its python or aws is missing.
///
/// ```ignore
/// let aws = common::venv().join("bin/aws");
/// ```
pub fn venv() -> PathBuf {
    let venv = match std::env::var_os("AWS_SESSION_TEST_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"),
    };
    for program in ["bin/python", "bin/aws"] {
        let path = venv.join(program);
        if !path.is_file() {
            panic!(
                "peer missing: run scripts/setup-peers (it installs moto and the AWS CLI \
                 into <repo>/.venv; {} does not exist; AWS_SESSION_TEST_VENV picks another venv)",
                path.display()
            );
        }
    }
    venv
}

/// The peer script, tests/peer/aws_peer.py.
pub fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/aws_peer.py")
}

/// A running tests/peer/aws_peer.py on 127.0.0.1.
///
/// It lives as long as its stdin pipe is open: dropping the `Peer` ends it, and so
/// does the end of the test process, whichever way it ends.
///
/// ```ignore
/// let peer = Peer::shared();
/// let user = peer.create_user("alice", true);
/// ```
pub struct Peer {
    /// The port it listens on.
    pub port: u16,
    /// `http://127.0.0.1:PORT`, the endpoint for AWS_ENDPOINT_URL.
    pub url: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr_path: PathBuf,
    agent: ureq::Agent,
}

/// What the peer saw of one AWS API request (`GET /_peer/log`).
///
/// Fields the request did not have are empty strings (an unsigned request has no
/// `access_key_id`; a REST call has no `action`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method, `POST` for the Query API.
    pub method: String,
    /// URL path, `/` for the Query API.
    pub path: String,
    /// Signing service from the credential scope: `sts`, `iam`, `s3`, ...
    pub service: String,
    /// Signing region from the credential scope.
    pub region: String,
    /// The Query API `Action`, like `GetSessionToken`.
    pub action: String,
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// Whether it carried X-Amz-Security-Token (temporary credentials).
    pub has_security_token: bool,
    /// Form and query parameters, but for the `X-Amz-*` ones.
    pub params: BTreeMap<String, String>,
    /// The HTTP status the peer answered with (0: still being answered).
    pub status: u16,
}

/// A virtual MFA device of the peer (`GET /_peer/devices`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Its serial number, an ARN like `arn:aws:iam::123456789012:mfa/alice`.
    pub serial: String,
    /// The user it is assigned to, if any.
    pub user: Option<String>,
    /// Whether EnableMFADevice succeeded for it.
    pub enabled: bool,
    /// Its base32 TOTP seed, to compute codes with [`totp`].
    pub seed: String,
}

/// Temporary credentials the peer issued (`GET /_peer/sessions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// `ASIA...`
    pub access_key_id: String,
    /// `session` (GetSessionToken) or `role` (AssumeRole).
    pub kind: String,
    /// Whose they are: the user's or the assumed role's ARN.
    pub arn: String,
    /// Whether a GetSessionToken session carried MFA (None for roles).
    pub mfa: Option<bool>,
    /// ISO 8601 UTC, like `2024-01-01T12:00:00Z`.
    pub expiration: String,
}

/// An IAM role of the peer, made by [`Peer::create_role`].
#[derive(Clone, Debug)]
pub struct TestRole {
    pub role_name: String,
    pub arn: String,
    pub max_session_duration: u32,
}

/// An IAM user of the peer with an access key, made by [`Peer::create_user`].
#[derive(Debug)]
pub struct TestUser {
    pub user_name: String,
    pub arn: String,
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The ARN of its enabled virtual MFA device, when made with `mfa: true`.
    pub mfa_serial: Option<String>,
    /// That device's base32 seed.
    pub mfa_seed: Option<String>,
    used_steps: Mutex<HashSet<u64>>,
}

static NEXT_NAME: AtomicUsize = AtomicUsize::new(1);
static NEXT_PEER: AtomicUsize = AtomicUsize::new(1);

impl Peer {
    /// Starts a new peer of its own (its log holds only this test's requests).
    ///
    /// Panics with the peer's stderr if it does not come up.
    pub fn start() -> Peer {
        let venv = venv();
        // Named after the test binary, so each run overwrites its previous logs.
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".into());
        let stderr_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "aws-peer-{binary}-{}.stderr",
            NEXT_PEER.fetch_add(1, Ordering::Relaxed)
        ));
        let stderr = fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", stderr_path.display()));
        let mut child = Command::new(venv.join("bin/python"))
            .arg(peer_script())
            .env_remove("AWS_ENDPOINT_URL")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "peer missing: cannot run {}/bin/python: {e}",
                    venv.display()
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let result = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(result);
        });
        let started = Instant::now();
        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Ok(line)) if !line.is_empty() => line,
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the AWS peer ({}) did not start ({outcome:?} after {:?}); its stderr:\n{}",
                    peer_script().display(),
                    started.elapsed(),
                    fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        };
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("the AWS peer printed {line:?}, not {{\"port\": N}}"));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Peer {
            port,
            url: format!("http://127.0.0.1:{port}"),
            child,
            stdin,
            stderr_path,
            agent,
        }
    }

    /// The peer shared by all tests of this test binary, started on first use.
    ///
    /// It is never dropped: it ends with the test process (its stdin closes).
    /// Tests sharing it see each other's requests in [`Peer::log`]: filter by
    /// access key id, or use [`Peer::start`] for a log of one's own.
    pub fn shared() -> &'static Peer {
        static SHARED: OnceLock<Peer> = OnceLock::new();
        SHARED.get_or_init(Peer::start)
    }

    /// What the peer wrote on stderr so far (Python tracebacks of its errors).
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn control(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let url = format!("{}{path}", self.url);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            (_, Some(body)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            (_, None) => self.agent.post(&url).send_empty(),
        };
        let mut response =
            response.unwrap_or_else(|e| panic!("{method} {url} failed: {e}\n{}", self.stderr()));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {url}: unreadable body: {e}"));
        if status != 200 {
            panic!(
                "{method} {url} answered {status}: {text}\n{}",
                self.stderr()
            );
        }
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {url} answered {text:?}, not JSON: {e}"))
    }

    /// Creates a user named `<name_prefix>-<n>` (unique in this process) with an
    /// access key, the peer's default policy (what aws-session needs) and, when
    /// `mfa`, an enabled virtual MFA device.
    pub fn create_user(&self, name_prefix: &str, mfa: bool) -> TestUser {
        self.create_user_request(json!({ "name": unique_name(name_prefix), "mfa": mfa }))
    }

    /// Like [`Peer::create_user`], with `policy` (an IAM policy document) as the
    /// user's only policy.
    pub fn create_user_with_policy(
        &self,
        name_prefix: &str,
        mfa: bool,
        policy: &Value,
    ) -> TestUser {
        self.create_user_request(
            json!({ "name": unique_name(name_prefix), "mfa": mfa, "policy": policy }),
        )
    }

    fn create_user_request(&self, body: Value) -> TestUser {
        let v = self.control("POST", "/_peer/users", Some(&body));
        TestUser {
            user_name: string(&v, "user_name"),
            arn: string(&v, "arn"),
            account_id: string(&v, "account_id"),
            access_key_id: string(&v, "access_key_id"),
            secret_access_key: string(&v, "secret_access_key"),
            mfa_serial: v["mfa_serial"].as_str().map(str::to_owned),
            mfa_seed: v["mfa_seed"].as_str().map(str::to_owned),
            used_steps: Mutex::new(HashSet::new()),
        }
    }

    /// Creates a role named `<name_prefix>-<n>` that may do anything, with the
    /// given MaxSessionDuration, assumable by the `trusted` ARNs (empty: anyone).
    pub fn create_role(
        &self,
        name_prefix: &str,
        max_session_duration: u32,
        trusted: &[&str],
    ) -> TestRole {
        let mut body = json!({
            "name": unique_name(name_prefix),
            "max_session_duration": max_session_duration,
        });
        if !trusted.is_empty() {
            body["trusted"] = json!(trusted);
        }
        let v = self.control("POST", "/_peer/roles", Some(&body));
        TestRole {
            role_name: string(&v, "role_name"),
            arn: string(&v, "arn"),
            max_session_duration,
        }
    }

    /// Every AWS API request the peer received so far, oldest first.
    pub fn log(&self) -> Vec<LoggedRequest> {
        let v = self.control("GET", "/_peer/log", None);
        v.as_array()
            .expect("the log is a JSON list")
            .iter()
            .map(|e| LoggedRequest {
                method: string(e, "method"),
                path: string(e, "path"),
                service: string(e, "service"),
                region: string(e, "region"),
                action: string(e, "action"),
                access_key_id: string(e, "access_key_id"),
                has_security_token: e["has_security_token"].as_bool().unwrap_or(false),
                params: e["params"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
                status: e["status"].as_u64().unwrap_or(0) as u16,
            })
            .collect()
    }

    /// Empties the log (of everyone sharing this peer).
    pub fn clear_log(&self) {
        self.control("POST", "/_peer/log/clear", None);
    }

    /// The virtual MFA devices, assigned or not.
    pub fn devices(&self) -> Vec<Device> {
        let v = self.control("GET", "/_peer/devices", None);
        v.as_array()
            .expect("devices are a JSON list")
            .iter()
            .map(|d| Device {
                serial: string(d, "serial"),
                user: d["user"].as_str().map(str::to_owned),
                enabled: d["enabled"].as_bool().unwrap_or(false),
                seed: string(d, "seed"),
            })
            .collect()
    }

    /// The temporary credentials issued so far (GetSessionToken and AssumeRole).
    pub fn sessions(&self) -> Vec<IssuedCredentials> {
        let v = self.control("GET", "/_peer/sessions", None);
        v.as_array()
            .expect("sessions are a JSON list")
            .iter()
            .map(|s| IssuedCredentials {
                access_key_id: string(s, "access_key_id"),
                kind: string(s, "kind"),
                arn: string(s, "arn"),
                mfa: s["mfa"].as_bool(),
                expiration: string(s, "expiration"),
            })
            .collect()
    }

    /// Makes the next `count` requests for `action` by or about IAM user `user` fail
    /// with `code` (403); with `after`, only those after a request for that action.
    pub fn fail(&self, user: &str, action: &str, count: u32, after: Option<&str>, code: &str) {
        self.control(
            "POST",
            "/_peer/fail",
            Some(&json!({ "user": user, "action": action, "count": count, "after": after, "code": code })),
        );
    }

    /// Makes the temporary credentials `access_key_id` expire now: requests signed
    /// with them get ExpiredToken from then on.
    /// Temporary credentials issued from now on last `scale` times their duration
    /// (`POST /_peer/lifetime`), so a renewal test sees several sessions end.
    pub fn set_lifetime_scale(&self, scale: f64) {
        self.control("POST", "/_peer/lifetime", Some(&json!({ "scale": scale })));
    }

    pub fn expire(&self, access_key_id: &str) {
        self.control(
            "POST",
            "/_peer/expire",
            Some(&json!({ "access_key_id": access_key_id })),
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take()); // end of file: the peer exits by itself
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", NEXT_NAME.fetch_add(1, Ordering::Relaxed))
}

fn string(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

impl TestUser {
    /// The user's MFA code for now + `step_offset` × 30 s (the peer accepts
    /// offsets -1, 0 and 1, each once). Panics if the user has no device.
    pub fn totp(&self, step_offset: i64) -> String {
        let seed = self
            .mfa_seed
            .as_deref()
            .expect("this user has no MFA device");
        let time = unix_now() as i64 + step_offset * 30;
        totp(seed, u64::try_from(time).expect("time after 1970"))
    }

    /// A code this user has not had from `fresh_code` yet and that the peer will
    /// still accept when it arrives: the current step, the next one, then the
    /// previous one if it has time left; else it waits for the next 30 s window.
    /// For tests that log in several times.
    pub fn fresh_code(&self) -> String {
        let seed = self
            .mfa_seed
            .as_deref()
            .expect("this user has no MFA device");
        loop {
            let now = unix_now();
            let step = now / 30;
            let mut candidates = vec![step, step + 1];
            if now % 30 < 20 {
                candidates.push(step - 1);
            }
            let mut used = self.used_steps.lock().unwrap();
            if let Some(&s) = candidates.iter().find(|s| !used.contains(s)) {
                used.insert(s);
                return totp(seed, s * 30);
            }
            drop(used);
            std::thread::sleep(Duration::from_secs(30 - now % 30));
        }
    }
}

/// RFC 6238 TOTP as AWS virtual MFA devices use it: HMAC-SHA1 of the 30 s step
/// count, 6 digits.
///
/// ```ignore
/// let code = common::totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59); // "287082"
/// ```
pub fn totp(seed_base32: &str, unix_time: u64) -> String {
    let key = base32_decode(seed_base32).expect("a base32 TOTP seed");
    totp_digits(&key, unix_time, 6)
}

fn totp_digits(key: &[u8], unix_time: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&(unix_time / 30).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let number = u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7fff_ffff;
    format!(
        "{:0width$}",
        number % 10u32.pow(digits),
        width = digits as usize
    )
}

/// RFC 4648 base32, case-insensitive, padding optional.
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u64, 0u32);
    for c in text.trim_end_matches('=').chars() {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// An isolated HOME for one run of the binary: ~/.aws/config and credentials of
/// the test's own, and nothing else of the machine's environment.
///
/// ```ignore
/// let sb = Sandbox::new();
/// sb.write_credentials("[default]\naws_access_key_id = ...\n");
/// let out = sb.command(peer).args(["--code", &user.totp(0), "exec", "true"]).output().unwrap();
/// ```
pub struct Sandbox {
    /// The HOME directory; removed when the sandbox is dropped.
    pub home: TempDir,
    /// `<home>/.aws/config`, AWS_CONFIG_FILE.
    pub config_file: PathBuf,
    /// `<home>/.aws/credentials`, AWS_SHARED_CREDENTIALS_FILE.
    pub credentials_file: PathBuf,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A new empty HOME with an empty `~/.aws` (mode 0700).
    pub fn new() -> Sandbox {
        let home = tempfile::Builder::new()
            .prefix("aws-session-home-")
            .tempdir()
            .expect("a temporary HOME");
        let aws = home.path().join(".aws");
        fs::create_dir(&aws).expect("create ~/.aws");
        fs::set_permissions(&aws, fs::Permissions::from_mode(0o700)).expect("chmod ~/.aws");
        Sandbox {
            config_file: aws.join("config"),
            credentials_file: aws.join("credentials"),
            home,
        }
    }

    /// Writes (replaces) ~/.aws/config.
    pub fn write_config(&self, text: &str) {
        write_private(&self.config_file, text);
    }

    /// Writes (replaces) ~/.aws/credentials.
    pub fn write_credentials(&self, text: &str) {
        write_private(&self.credentials_file, text);
    }

    /// The environment every program run in the sandbox starts from: HOME, a PATH
    /// with the venv first (for `aws`), the AWS files, every endpoint pointing at
    /// the peer, and no terminal.
    pub fn env(&self, peer: &Peer) -> Vec<(String, String)> {
        let bin = venv().join("bin");
        vec![
            ("HOME".into(), self.home.path().display().to_string()),
            (
                "PATH".into(),
                format!("{}:{}", bin.display(), system_path()),
            ),
            (
                "AWS_CONFIG_FILE".into(),
                self.config_file.display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.credentials_file.display().to_string(),
            ),
            ("AWS_ENDPOINT_URL".into(), peer.url.clone()),
            // The AWS CLI must never ask an instance metadata service for keys.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("TERM".into(), "dumb".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]
    }

    /// A command for the built `aws-session` binary with only [`Sandbox::env`] in
    /// its environment (no AWS_REGION, no AWS_PROFILE) and stdin from /dev/null.
    pub fn command(&self, peer: &Peer) -> Command {
        self.command_for(env!("CARGO_BIN_EXE_aws-session"), peer)
    }

    /// The venv's AWS CLI in the same environment, with AWS_DEFAULT_REGION
    /// us-east-1 (the CLI refuses to run without a region).
    pub fn aws(&self, peer: &Peer) -> Command {
        let mut command = self.command_for(venv().join("bin/aws"), peer);
        command.env("AWS_DEFAULT_REGION", "us-east-1");
        command
    }

    /// `<shell> -c <script>` (bash, zsh, sh; fish takes `-c` too) in the same
    /// environment, with AWS_DEFAULT_REGION us-east-1 for the `aws` it may run:
    /// for checking that what the binary printed works in a real shell.
    ///
    /// ```ignore
    /// sb.shell_command(peer, "bash", &format!("{exports}\naws sts get-caller-identity"))
    /// ```
    pub fn shell_command(&self, peer: &Peer, shell: &str, script: &str) -> Command {
        let mut command = self.command_for(shell, peer);
        command
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .arg("-c")
            .arg(script);
        command
    }

    /// `program` with only [`Sandbox::env`] in its environment, stdin from /dev/null and
    /// no controlling terminal.
    pub fn command_for(&self, program: impl AsRef<std::ffi::OsStr>, peer: &Peer) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(self.env(peer))
            .current_dir(self.home.path())
            .stdin(Stdio::null());
        // A new session without a controlling terminal: /dev/tty cannot be opened,
        // as in CI, even when the tests run from a terminal (a prompt would hang).
        // SAFETY: setsid is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        command
    }
}

fn write_private(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// Small helpers the test files share
// ---------------------------------------------------------------------------

/// A credentials-file section `[name]` with `user`'s long-term keys.
pub fn keys(name: &str, user: &TestUser) -> String {
    format!(
        "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    )
}

/// A run's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A run's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `KEY=VALUE` lines of `env` output.
pub fn env_map(o: &Output) -> BTreeMap<String, String> {
    stdout(o)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The access key id in the parent stash a child's environment `env` names
/// (AWS_SESSION_PARENT_STASH); the keys themselves must not be in `env`.
pub fn stashed_key_id(env: &BTreeMap<String, String>) -> String {
    for name in ["AWS_SESSION_PARENT_KEY", "AWS_SESSION_PARENT_SECRET"] {
        assert!(!env.contains_key(name), "{name} in a child's environment");
    }
    let path = env
        .get("AWS_SESSION_PARENT_STASH")
        .expect("AWS_SESSION_PARENT_STASH in the child's environment");
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).expect("the stash is JSON");
    v["AccessKeyId"].as_str().expect("AccessKeyId").to_string()
}

/// Requests the peer saw signed with `key`, as action names, oldest first.
pub fn actions_by(peer: &Peer, key: &str) -> Vec<String> {
    peer.log()
        .into_iter()
        .filter(|r| r.access_key_id == key)
        .map(|r| r.action)
        .collect()
}

/// `openssl s_server` for one connection with `cert`/`key`, answering `response`.
pub fn tls_server(
    dir: &Path,
    cert: &str,
    key: &str,
    response: &str,
) -> (std::process::Child, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .args(["-cert", cert, "-key", key, "-naccept", "1"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let ready = lines
        .by_ref()
        .take(50)
        .any(|l| l.is_ok_and(|l| l.contains("ACCEPT")));
    assert!(ready, "openssl s_server did not start");
    std::thread::spawn(move || lines.for_each(drop));
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, response.as_bytes()).expect("response");
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        drop(stdin);
    });
    (child, format!("https://127.0.0.1:{port}"))
}

// ---------------------------------------------------------------------------
// AWS's documented example keys, and the binary without a peer
// ---------------------------------------------------------------------------

/// AWS's documented example access key id (no real credential).
pub const EXAMPLE_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// AWS's documented example secret access key.
pub const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
/// An MFA serial for the example user.
pub const EXAMPLE_SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

/// A sandbox whose default profile has the example keys and, when `known_serial`, a
/// known MFA serial (so the first request is GetSessionToken, carrying the code; else
/// ListMFADevices, which carries nothing to use up).
pub fn example_sandbox(known_serial: bool) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {EXAMPLE_KEY}\naws_secret_access_key = {EXAMPLE_SECRET}\n"
    ));
    if known_serial {
        sb.write_config(&format!("[default]\nmfa_serial = {EXAMPLE_SERIAL}\n"));
    }
    sb
}

/// The binary in `sb`, with every endpoint at `endpoint` (a misbehaving server, say),
/// no terminal, and nothing of this machine's environment (as [`Sandbox::command`],
/// without a peer).
pub fn bare_command(sb: &Sandbox, endpoint: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aws-session"));
    c.env_clear()
        .env("HOME", sb.home.path())
        .env("PATH", system_path())
        .env("AWS_CONFIG_FILE", &sb.config_file)
        .env("AWS_SHARED_CREDENTIALS_FILE", &sb.credentials_file)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("LANG", "C.UTF-8")
        .current_dir(sb.home.path())
        .stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe; no terminal means no prompt can hang.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    c
}

/// Run `cmd` to its end; fail the test after `limit` (a prompt that waits for a
/// terminal, or a credential_process calling itself, would hang).
pub fn run_within(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().expect("stdout thread"),
        stderr: t_err.join().expect("stderr thread"),
    }
}

#[cfg(test)]
mod harness_tests {
    use super::*;

    // RFC 6238 appendix B, SHA1: the secret is the ASCII "12345678901234567890".
    const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn totp_matches_rfc_6238_vectors() {
        let key = b"12345678901234567890";
        assert_eq!(base32_decode(RFC_SEED).unwrap(), key);
        assert_eq!(totp_digits(key, 59, 8), "94287082");
        assert_eq!(totp_digits(key, 1111111109, 8), "07081804");
        assert_eq!(totp_digits(key, 1234567890, 8), "89005924");
        assert_eq!(totp_digits(key, 20000000000, 8), "65353130");
        assert_eq!(totp(RFC_SEED, 59), "287082");
        assert_eq!(totp(&RFC_SEED.to_lowercase(), 1111111109), "081804");
    }

    #[test]
    fn base32_refuses_other_alphabets() {
        assert_eq!(base32_decode("MZXW6==="), Some(b"foo".to_vec()));
        assert_eq!(base32_decode("MZXW6"), Some(b"foo".to_vec()));
        assert_eq!(base32_decode("01"), None);
    }
}

// ---------------------------------------------------------------------------
// Real SDKs (tests/sdk_interop.rs): the JavaScript SDK v3 and boto3 clients
// ---------------------------------------------------------------------------

/// One request of the peer's log with what signed it (`credential_kind` of
/// `GET /_peer/log`): `long-term`, `session`, `role`, `unknown`, or empty (unsigned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    pub action: String,
    pub access_key_id: String,
    pub has_security_token: bool,
    pub credential_kind: String,
    pub status: u16,
}

impl Peer {
    /// [`Peer::log`] with the kind of credentials that signed each request.
    pub fn signed_log(&self) -> Vec<SignedRequest> {
        let v = self.control("GET", "/_peer/log", None);
        v.as_array()
            .expect("the log is a JSON list")
            .iter()
            .map(|e| SignedRequest {
                action: string(e, "action"),
                access_key_id: string(e, "access_key_id"),
                has_security_token: e["has_security_token"].as_bool().unwrap_or(false),
                credential_kind: string(e, "credential_kind"),
                status: e["status"].as_u64().unwrap_or(0) as u16,
            })
            .collect()
    }
}

/// Where scripts/setup-peers installs the AWS SDK for JavaScript v3:
/// `$AWS_SESSION_TEST_NODE`, else `<repo>/.node`.
///
/// Panics (the test fails, it is not skipped) when node or the SDK is missing.
pub fn node_dir() -> PathBuf {
    let dir = match std::env::var_os("AWS_SESSION_TEST_NODE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".node"),
    };
    for package in ["@aws-sdk/client-sts", "@aws-sdk/credential-providers"] {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        if !manifest.is_file() {
            panic!(
                "peer missing: run scripts/setup-peers (it installs the AWS SDK for JavaScript \
                 v3 into <repo>/.node; {} does not exist; AWS_SESSION_TEST_NODE picks another)",
                manifest.display()
            );
        }
    }
    node_bin();
    dir
}

/// `name` (a shell or a tool the tests run) found on the test's PATH, never at a
/// fixed path: bash is /bin/bash on Linux and macOS but /usr/local/bin/bash on
/// FreeBSD, zsh /usr/bin/zsh on Debian and /bin/zsh on macOS. Panics, naming it, when
/// there is none (scripts/setup-peers installs the shells).
pub fn tool(name: &str) -> PathBuf {
    find_on_path(name).unwrap_or_else(|| {
        panic!("peer missing: no {name} on PATH (scripts/setup-peers installs the shells the tests run)")
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The PATH of a sandboxed program: the directories of the system's shells and
/// tools as the test's PATH finds them (wherever the system keeps them), then
/// /usr/bin and /bin; nothing else of this machine's PATH.
pub fn system_path() -> String {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let found = ["sh", "env", "bash", "zsh", "fish", "dash", "date", "true"]
        .iter()
        .filter_map(|name| find_on_path(name))
        .filter_map(|p| p.parent().map(Path::to_path_buf));
    for dir in found.chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")]) {
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    std::env::join_paths(dirs)
        .expect("directories of PATH join")
        .to_string_lossy()
        .into_owned()
}

/// The `node` on the test's PATH (Debian's /usr/bin/node when scripts/setup-peers
/// installed it). Panics when there is none.
pub fn node_bin() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("node"))
        .find(|node| node.is_file())
        .unwrap_or_else(|| {
            panic!("peer missing: run scripts/setup-peers (it installs Debian's nodejs): no node on PATH")
        })
}

/// A client script of tests/peer/sdk_clients/ (whoami.mjs, whoami.py).
pub fn sdk_client(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peer/sdk_clients")
        .join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}
