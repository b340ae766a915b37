//! Real AWS SDKs that no one here wrote use the session aws-session makes:
//! the AWS SDK for JavaScript v3 (its default chain and `fromProcess`), boto3's default
//! chain and the AWS CLI, each calling STS GetCallerIdentity against the peer, which
//! logs what signed every request (`credential_kind`: long-term, session or role).
//!
//! - inside `exec` with `--profile`, with `AWS_PROFILE` in the parent, with a role
//!   profile, and through `credential_process`: the call is signed with the session's
//!   (or the role session's) key and token, never with the long-term key;
//! - inside `shell` after `aws-session-refresh`: with the new session's key;
//! - no request, no file and no prompt before a usage error, for every command;
//! - one-line "not supported" errors for SSO and web identity profiles, and the "no AWS
//!   credentials" error names the credentials file actually read;
//! - one MFA session per (keys, device), whichever way the device was found;
//! - `credential-process` without a terminal hands out a cached session in its last
//!   five minutes (but one) and says how long it has left.
//!
//! The clients are tests/peer/sdk_clients/whoami.mjs and whoami.py and the venv's
//! `aws`; scripts/setup-peers installs them. A missing one fails the test, never skips it.

use crate::common::{keys, node_bin, node_dir, pty::Pty, sdk_client, stderr, stdout, venv};
use crate::common::{Peer, Sandbox, SignedRequest, TestUser};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_aws-session");
/// Per step on the pseudo-terminal: generous, the machine is busy.
const STEP: Duration = Duration::from_secs(40);
/// What aws-session asks on a terminal (the first words differ by caller).
const CODE_PROMPT: &str = "6 digit MFA code: ";

fn peer() -> &'static Peer {
    Peer::shared()
}

// ---------------------------------------------------------------------------
// Running things
// ---------------------------------------------------------------------------

/// Run `cmd` to its end; fail the test if it hangs.
fn run(cmd: Command) -> Output {
    crate::common::run_within(cmd, Duration::from_secs(120))
}

/// `program` in the sandbox's environment (as `Sandbox::command` builds it: nothing
/// of the machine's, no terminal) plus what the SDK clients need: node on PATH and a
/// region (AWS_REGION for JavaScript, AWS_DEFAULT_REGION for boto3 and the CLI).
fn sandboxed(sb: &Sandbox, peer: &Peer, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(sb.env(peer))
        .envs(client_env())
        .current_dir(sb.home.path())
        .stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd
}

fn client_env() -> Vec<(String, String)> {
    let node = node_bin();
    vec![
        (
            "PATH".into(),
            format!(
                "{}:{}:{}",
                venv().join("bin").display(),
                node.parent().expect("node's directory").display(),
                crate::common::system_path()
            ),
        ),
        (
            "AWS_SESSION_TEST_NODE".into(),
            node_dir().display().to_string(),
        ),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        // The pinned SDK warns on every run that releases after January 2027 need
        // node 22 (Debian's is 20): noise in every failure message.
        (
            "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED".into(),
            "true".into(),
        ),
    ]
}

/// `aws-session ARGS...` in the sandbox, with `code` as AWS_SESSION_MFA_CODE if given.
fn aws_session(sb: &Sandbox, code: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = sandboxed(sb, peer(), BIN);
    if let Some(c) = code {
        cmd.env("AWS_SESSION_MFA_CODE", c);
    }
    cmd.args(args);
    run(cmd)
}

#[track_caller]
fn ok(what: &str, o: &Output) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

// ---------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------

/// A real AWS client that calls STS GetCallerIdentity.
#[derive(Clone, Copy, Debug)]
enum Client {
    /// The JavaScript SDK v3's STSClient with no credentials option: its default chain.
    JsDefault,
    /// The JavaScript SDK v3 with `fromProcess({ profile })`.
    JsProcess(&'static str),
    /// boto3's default session.
    Boto3,
    /// The AWS CLI v1 of the venv.
    Cli,
}

impl Client {
    fn name(self) -> String {
        match self {
            Client::JsDefault => "the JavaScript SDK v3 default chain".into(),
            Client::JsProcess(p) => {
                format!("the JavaScript SDK v3 fromProcess({{profile: {p:?}}})")
            }
            Client::Boto3 => "boto3's default chain".into(),
            Client::Cli => "the AWS CLI".into(),
        }
    }

    /// The command line, programs by absolute path.
    fn argv(self) -> Vec<String> {
        let path = |p: PathBuf| p.display().to_string();
        match self {
            Client::JsDefault => vec![
                path(node_bin()),
                path(sdk_client("whoami.mjs")),
                "default".into(),
            ],
            Client::JsProcess(profile) => vec![
                path(node_bin()),
                path(sdk_client("whoami.mjs")),
                "process".into(),
                profile.into(),
            ],
            Client::Boto3 => vec![
                path(venv().join("bin/python")),
                path(sdk_client("whoami.py")),
            ],
            Client::Cli => vec![
                path(venv().join("bin/aws")),
                "sts".into(),
                "get-caller-identity".into(),
                "--output".into(),
                "json".into(),
            ],
        }
    }
}

/// What signs the client's call.
#[derive(Clone, Copy)]
enum Want<'a> {
    /// The user's GetSessionToken session (ARN: the user's).
    Session(&'a TestUser),
    /// A role session of `role` assumed for the user (ARN: assumed-role/ROLE/...).
    Role(&'a TestUser, &'a str),
}

impl Want<'_> {
    fn user(&self) -> &TestUser {
        match self {
            Want::Session(u) | Want::Role(u, _) => u,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Want::Session(_) => "session",
            Want::Role(..) => "role",
        }
    }

    /// The keys that may sign for this user: its long-term key and every temporary
    /// key the peer issued for it or for the role.
    fn keys(&self, peer: &Peer) -> BTreeSet<String> {
        let user = self.user();
        let mut keys: BTreeSet<String> = peer
            .sessions()
            .into_iter()
            .filter(|s| {
                s.arn == user.arn
                    || matches!(self, Want::Role(_, role) if s.arn.contains(&format!(":assumed-role/{role}/")))
            })
            .map(|s| s.access_key_id)
            .collect();
        keys.insert(user.access_key_id.clone());
        keys
    }
}

/// The ARN in a client's output: whoami's `arn`, the CLI's `Arn`.
fn printed_arn(out: &str) -> Option<(String, Option<String>)> {
    let v: Value = serde_json::from_str(out.trim()).ok()?;
    let arn = v["arn"].as_str().or(v["Arn"].as_str())?.to_string();
    Some((arn, v["access_key_id"].as_str().map(str::to_owned)))
}

/// Asserts that `client` succeeded, saw the identity `want` names, and that each of
/// its GetCallerIdentity requests since log entry `since` was signed with a temporary
/// key of that kind plus a token, not the long-term key. Returns the signing key.
#[track_caller]
fn assert_signed_with_session(
    peer: &Peer,
    how: &str,
    client: Client,
    want: Want,
    since: usize,
    out: &Output,
) -> String {
    let what = format!("{} {how}", client.name());
    let text = ok(&what, out);
    let (arn, resolved) = printed_arn(&text).unwrap_or_else(|| {
        panic!(
            "{what}: printed no JSON with an ARN:\n{text}\nstderr: {}",
            stderr(out)
        )
    });
    match want {
        Want::Session(user) => assert_eq!(
            arn,
            user.arn,
            "{what}: the call ran as {arn}, want the user {}\nstderr: {}",
            user.arn,
            stderr(out)
        ),
        Want::Role(_, role) => assert!(
            arn.contains(&format!(":assumed-role/{role}/")),
            "{what}: the call ran as {arn}, want the role {role}'s session\nstderr: {}",
            stderr(out)
        ),
    }
    let keys = want.keys(peer);
    let calls: Vec<SignedRequest> = peer.signed_log()[since..]
        .iter()
        .filter(|r| r.action == "GetCallerIdentity" && keys.contains(&r.access_key_id))
        .cloned()
        .collect();
    assert!(
        !calls.is_empty(),
        "{what}: no GetCallerIdentity of this user reached the peer"
    );
    for call in &calls {
        assert!(
            call.credential_kind == want.kind()
                && call.has_security_token
                && call.access_key_id != want.user().access_key_id,
            "{what}: GetCallerIdentity was signed with the {} key {} ({} session token), want \
             the {} key aws-session made, with its token (long-term key: {})\n\
             client stderr: {}",
            call.credential_kind,
            call.access_key_id,
            if call.has_security_token {
                "with a"
            } else {
                "without"
            },
            want.kind(),
            want.user().access_key_id,
            stderr(out)
        );
    }
    let key = calls[calls.len() - 1].access_key_id.clone();
    if let Some(resolved) = resolved {
        assert_eq!(
            resolved, key,
            "{what}: the SDK says it resolved {resolved} but the call was signed with {key}"
        );
    }
    key
}

/// A sandbox whose profile `mfa` has `user`'s keys and MFA device, and `extra_config`.
fn mfa_sandbox(user: &TestUser, extra_config: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&keys("mfa", user));
    sb.write_config(&format!(
        "[profile mfa]\nregion = us-east-1\nmfa_serial = {}\n{extra_config}",
        user.mfa_serial.as_deref().expect("an MFA user")
    ));
    sb
}

/// Makes (and caches) the session of `profile` with the user's current code.
fn prime(sb: &Sandbox, user: &TestUser, profile: &str) -> Value {
    let out = aws_session(
        sb,
        Some(&user.fresh_code()),
        &["--profile", profile, "export", "--format", "json"],
    );
    serde_json::from_str(&ok(&format!("export of profile {profile}"), &out))
        .expect("export --format json prints JSON")
}

// ---------------------------------------------------------------------------
// a. exec --profile with an MFA-session profile
// ---------------------------------------------------------------------------

fn exec_with_profile_flag(client: Client) {
    let peer = peer();
    let user = peer.create_user("sdk-exec", true);
    let sb = mfa_sandbox(&user, "");
    prime(&sb, &user, "mfa");
    let since = peer.signed_log().len();
    let mut args = vec!["--profile".to_string(), "mfa".into(), "exec".into()];
    args.extend(client.argv());
    let mut cmd = sandboxed(&sb, peer, BIN);
    cmd.args(&args);
    let out = run(cmd);
    assert_signed_with_session(
        peer,
        "inside `aws-session --profile mfa exec`",
        client,
        Want::Session(&user),
        since,
        &out,
    );
}

#[test]
fn exec_with_profile_flag_js_default_chain_signs_with_the_session() {
    exec_with_profile_flag(Client::JsDefault);
}

#[test]
fn exec_with_profile_flag_boto3_signs_with_the_session() {
    exec_with_profile_flag(Client::Boto3);
}

#[test]
fn exec_with_profile_flag_aws_cli_signs_with_the_session() {
    exec_with_profile_flag(Client::Cli);
}

// ---------------------------------------------------------------------------
// b. exec with AWS_PROFILE in the parent environment
// ---------------------------------------------------------------------------

fn exec_with_aws_profile_env(client: Client) {
    let peer = peer();
    let user = peer.create_user("sdk-envprof", true);
    let sb = mfa_sandbox(&user, "");
    prime(&sb, &user, "mfa");
    let since = peer.signed_log().len();
    let mut cmd = sandboxed(&sb, peer, BIN);
    cmd.env("AWS_PROFILE", "mfa")
        .arg("exec")
        .args(client.argv());
    let out = run(cmd);
    assert_signed_with_session(
        peer,
        "inside `AWS_PROFILE=mfa aws-session exec`",
        client,
        Want::Session(&user),
        since,
        &out,
    );
}

#[test]
fn exec_with_aws_profile_env_js_default_chain_signs_with_the_session() {
    exec_with_aws_profile_env(Client::JsDefault);
}

#[test]
fn exec_with_aws_profile_env_boto3_signs_with_the_session() {
    exec_with_aws_profile_env(Client::Boto3);
}

#[test]
fn exec_with_aws_profile_env_aws_cli_signs_with_the_session() {
    exec_with_aws_profile_env(Client::Cli);
}

// ---------------------------------------------------------------------------
// c. exec with a role profile (role_arn + source_profile + mfa_serial)
// ---------------------------------------------------------------------------

fn exec_with_role_profile(client: Client) {
    let peer = peer();
    let user = peer.create_user("sdk-role", true);
    let role = peer.create_role("sdk-role", 3600, &[]);
    let sb = mfa_sandbox(
        &user,
        &format!(
            "[profile role]\nrole_arn = {}\nsource_profile = mfa\nmfa_serial = {}\nregion = us-east-1\n",
            role.arn,
            user.mfa_serial.as_deref().unwrap()
        ),
    );
    prime(&sb, &user, "role");
    let since = peer.signed_log().len();
    let mut cmd = sandboxed(&sb, peer, BIN);
    cmd.args(["--profile", "role", "exec"]).args(client.argv());
    let out = run(cmd);
    assert_signed_with_session(
        peer,
        "inside `aws-session --profile role exec` (a role profile)",
        client,
        Want::Role(&user, &role.role_name),
        since,
        &out,
    );
}

#[test]
fn exec_with_role_profile_js_default_chain_signs_with_the_role_session() {
    exec_with_role_profile(Client::JsDefault);
}

#[test]
fn exec_with_role_profile_boto3_signs_with_the_role_session() {
    exec_with_role_profile(Client::Boto3);
}

#[test]
fn exec_with_role_profile_aws_cli_signs_with_the_role_session() {
    exec_with_role_profile(Client::Cli);
}

// ---------------------------------------------------------------------------
// d. credential_process = aws-session --profile mfa credential-process
// ---------------------------------------------------------------------------

/// `client` with the profile `cp` (credential_process = aws-session --profile mfa
/// credential-process) selected the way that client selects a profile: AWS_PROFILE
/// for the default chains and the CLI, the option for fromProcess.
fn through_credential_process(client: Client) {
    let peer = peer();
    let user = peer.create_user("sdk-cp", true);
    let sb = mfa_sandbox(
        &user,
        &format!("[profile cp]\nregion = us-east-1\ncredential_process = {BIN} --profile mfa credential-process\n"),
    );
    prime(&sb, &user, "mfa");
    let since = peer.signed_log().len();
    let argv = client.argv();
    let mut cmd = sandboxed(&sb, peer, &argv[0]);
    cmd.args(&argv[1..]);
    if !matches!(client, Client::JsProcess(_)) {
        cmd.env("AWS_PROFILE", "cp");
    }
    let out = run(cmd);
    assert_signed_with_session(
        peer,
        "with profile cp: credential_process = aws-session --profile mfa credential-process",
        client,
        Want::Session(&user),
        since,
        &out,
    );
}

#[test]
fn credential_process_js_from_process_signs_with_the_session() {
    through_credential_process(Client::JsProcess("cp"));
}

#[test]
fn credential_process_js_default_chain_signs_with_the_session() {
    through_credential_process(Client::JsDefault);
}

#[test]
fn credential_process_boto3_signs_with_the_session() {
    through_credential_process(Client::Boto3);
}

#[test]
fn credential_process_aws_cli_signs_with_the_session() {
    through_credential_process(Client::Cli);
}

// ---------------------------------------------------------------------------
// e. inside `aws-session shell` (bash on a terminal) after aws-session-refresh
// ---------------------------------------------------------------------------

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn inside_shell_after_refresh_every_client_signs_with_the_new_session() {
    let peer = peer();
    let user = peer.create_user("sdk-shell", true);
    let sb = mfa_sandbox(&user, "");
    fs::write(sb.home.path().join(".bashrc"), "PS1='$ '\n").expect("write .bashrc");
    let tmp = sb.home.path().join("tmp");
    fs::create_dir(&tmp).expect("create TMPDIR");
    let mut cmd = sandboxed(&sb, peer, BIN);
    cmd.env("SHELL", crate::common::tool("bash"))
        .env("TERM", "xterm")
        .env("TMPDIR", &tmp)
        .args(["--profile", "mfa", "shell"]);
    let mut pty = Pty::spawn(cmd, 200, 50);
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    pty.send_line("echo STARTED-$((40+2))");
    pty.expect("STARTED-42", STEP);
    pty.send_line("aws-session-refresh; echo REFRESHED-$?");
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    pty.expect("REFRESHED-0", STEP);
    let sessions: Vec<String> = peer
        .sessions()
        .into_iter()
        .filter(|s| s.arn == user.arn && s.kind == "session")
        .map(|s| s.access_key_id)
        .collect();
    assert_eq!(
        sessions.len(),
        2,
        "two GetSessionToken sessions (the shell's, the refresh's), got {sessions:?}\n{}",
        pty.output()
    );
    let newest = &sessions[1];

    let mut failures = Vec::new();
    for (n, client) in [Client::JsDefault, Client::Boto3, Client::Cli]
        .into_iter()
        .enumerate()
    {
        let since = peer.signed_log().len();
        let line: Vec<String> = client.argv().iter().map(|a| shell_quote(a)).collect();
        let out_file = sb.home.path().join(format!("client-{n}.out"));
        let err_file = sb.home.path().join(format!("client-{n}.err"));
        pty.send_line(&format!(
            "{} >{} 2>{}; s=$?; echo \"DO\"\"NE-{n}-$s-\"",
            line.join(" "),
            shell_quote(&out_file.display().to_string()),
            shell_quote(&err_file.display().to_string())
        ));
        pty.expect(&format!("DONE-{n}-"), STEP);
        let code: i32 = pty
            .expect("-", STEP)
            .trim_end_matches('-')
            .parse()
            .unwrap_or(-1);
        let out = Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: fs::read(&out_file).unwrap_or_default(),
            stderr: fs::read(&err_file).unwrap_or_default(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_signed_with_session(
                peer,
                "inside `aws-session --profile mfa shell` after aws-session-refresh",
                client,
                Want::Session(&user),
                since,
                &out,
            )
        }));
        match result {
            Ok(key) if &key == newest => {}
            Ok(key) => failures.push(format!(
                "{}: signed with {key}, the shell's first session, not the refreshed {newest}",
                client.name()
            )),
            Err(e) => failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
        }
    }
    pty.send_line("exit 0");
    let _ = pty.wait(STEP);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// f. No request, no file and no prompt before a usage error
// ---------------------------------------------------------------------------

/// Runs each bad invocation twice against a peer of its own: without a terminal but
/// with a valid code in AWS_SESSION_MFA_CODE (so that a run that goes on sends
/// requests), and on a terminal without a code (so that a run that goes on asks for
/// one). Each must exit 1 having sent nothing, written no cache and asked nothing.
fn usage_errors_send_nothing(invocations: &[&[&str]]) {
    let peer = Peer::start();
    let user = peer.create_user("sdk-usage", true);
    let sb = mfa_sandbox(&user, "");
    let cache = sb.home.path().join(".cache/aws-session");
    let mut failures = Vec::new();
    for args in invocations {
        let shown = format!("aws-session {}", args.join(" "));
        // 1. No terminal, a code at hand.
        let mut cmd = sandboxed(&sb, &peer, BIN);
        cmd.env("AWS_SESSION_MFA_CODE", user.totp(0)).args(*args);
        let out = run(cmd);
        let err = stderr(&out);
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{shown} (no terminal): exit {:?}, want 1 (usage)\nstderr: {err}",
                out.status.code()
            ));
        }
        if !err.starts_with("aws-session: ") || err.trim_end().lines().count() != 1 {
            failures.push(format!(
                "{shown} (no terminal): want one line `aws-session: ...` on stderr, got {err:?}"
            ));
        }
        let log = peer.log();
        if !log.is_empty() {
            let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
            failures.push(format!(
                "{shown} (no terminal): sent {actions:?} before its usage error\nstderr: {err}"
            ));
            peer.clear_log();
        }
        if cache.exists() {
            failures.push(format!(
                "{shown} (no terminal): wrote {} before its usage error",
                cache.display()
            ));
            let _ = fs::remove_dir_all(&cache);
        }

        // 2. On a terminal, no code: nothing may be asked.
        let mut cmd = sandboxed(&sb, &peer, BIN);
        cmd.env("SHELL", crate::common::tool("bash"))
            .env("TERM", "xterm")
            .args(*args);
        let mut pty = Pty::spawn(cmd, 120, 40);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pty.has_exited() && !pty.output().contains("MFA code") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let screen = pty.output();
        if screen.contains("MFA code") || !pty.has_exited() {
            failures.push(format!("{shown} (terminal): asked for a code or kept running instead of a usage error:\n{screen}"));
            drop(pty);
        } else {
            let status = pty.wait(STEP);
            let screen = pty.output();
            if status.code() != Some(1) {
                failures.push(format!(
                    "{shown} (terminal): exit {:?}, want 1\n{screen}",
                    status.code()
                ));
            }
        }
        let log = peer.log();
        if !log.is_empty() {
            let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
            failures.push(format!(
                "{shown} (terminal): sent {actions:?} before its usage error"
            ));
            peer.clear_log();
        }
        if cache.exists() {
            failures.push(format!(
                "{shown} (terminal): wrote {} before its usage error",
                cache.display()
            ));
            let _ = fs::remove_dir_all(&cache);
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in {} runs of bad invocations (each should be only a usage error):\n\n{}",
        failures.len(),
        invocations.len() * 2,
        failures.join("\n\n")
    );
}

#[test]
fn usage_errors_of_shell_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "--format", "bogus", "shell"],
        &["--profile", "mfa", "shell", "--bogus"],
        &["--profile", "mfa", "--session-duration", "60", "shell"],
        &["--profile", "mfa", "--code", "12345", "shell"],
        &["--profile", "mfa", "--code", "abcdef", "shell"],
        &["--profile", "mfa", "shell", "--save"],
        &["--profile", "mfa", "shell", "--format", "json"],
    ]);
}

#[test]
fn usage_errors_of_exec_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "--format", "bogus", "exec", "true"],
        &["--profile", "mfa", "--bogus", "exec", "true"],
        &[
            "--profile",
            "mfa",
            "--session-duration",
            "abc",
            "exec",
            "true",
        ],
        &["--profile", "mfa", "--code", "12345", "exec", "true"],
        &["--profile", "mfa", "--code", "abcdef", "exec", "true"],
        &["--profile", "mfa", "--save", "exec", "true"],
        &["--profile", "mfa", "--format", "json", "exec", "true"],
        &["--profile", "mfa", "exec"],
    ]);
}

#[test]
fn usage_errors_of_refresh_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "refresh", "--format", "json"],
        &["--profile", "mfa", "refresh", "--format", "bogus"],
        &["--profile", "mfa", "refresh", "--bogus"],
        &[
            "--profile",
            "mfa",
            "refresh",
            "--session-duration",
            "129601",
        ],
        &["--profile", "mfa", "refresh", "--code", "12345"],
        &["--profile", "mfa", "refresh", "--code", "abcdef"],
        &["--profile", "mfa", "refresh", "--save"],
    ]);
}

#[test]
fn usage_errors_of_export_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "export", "--format", "bogus"],
        &["--profile", "mfa", "export", "--bogus"],
        &["--profile", "mfa", "export", "--session-duration", "899"],
        &["--profile", "mfa", "export", "--code", "12345"],
        &["--profile", "mfa", "export", "--code", "abcdef"],
        &["--profile", "mfa", "export", "--qr-ansi"],
    ]);
}

#[test]
fn usage_errors_of_credential_process_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &[
            "--profile",
            "mfa",
            "credential-process",
            "--format",
            "bogus",
        ],
        &["--profile", "mfa", "credential-process", "--format", "env"],
        &["--profile", "mfa", "credential-process", "--bogus"],
        &[
            "--profile",
            "mfa",
            "credential-process",
            "--session-duration",
            "60",
        ],
        &["--profile", "mfa", "credential-process", "--code", "12345"],
        &["--profile", "mfa", "credential-process", "--code", "abcdef"],
        &["--profile", "mfa", "credential-process", "--save"],
    ]);
}

#[test]
fn usage_errors_of_status_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "status", "--bogus"],
        &["--profile", "mfa", "status", "--format", "bogus"],
        &["--profile", "mfa", "status", "--session-duration", "60"],
        &["--profile", "mfa", "status", "--code", "12345"],
        &["--profile", "mfa", "status", "--save"],
    ]);
}

#[test]
fn usage_errors_of_clear_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "clear", "--bogus"],
        &["--profile", "mfa", "clear", "--format", "bogus"],
        &["--profile", "mfa", "clear", "--session-duration", "60"],
        &["--profile", "mfa", "clear", "--code", "abcdef"],
        &["--profile", "mfa", "clear", "--reuse-mfa"],
    ]);
}

#[test]
fn usage_errors_of_prompt_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["prompt", "--bogus"],
        &["prompt", "--format", "bogus"],
        &["prompt", "--session-duration", "60"],
        &["prompt", "--code", "abcdef"],
        &["prompt", "--save"],
    ]);
}

#[test]
fn usage_errors_of_provision_mfa_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["--profile", "mfa", "provision-mfa", "--bogus"],
        &["--profile", "mfa", "provision-mfa", "--format", "bogus"],
        &[
            "--profile",
            "mfa",
            "provision-mfa",
            "--session-duration",
            "60",
        ],
        &["--profile", "mfa", "provision-mfa", "--code", "12345"],
        &["--profile", "mfa", "provision-mfa", "--reuse-mfa"],
    ]);
}

#[test]
fn usage_errors_of_completions_come_before_any_request_or_prompt() {
    usage_errors_send_nothing(&[
        &["completions"],
        &["completions", "tcsh"],
        &["completions", "bash", "--bogus"],
        &["completions", "bash", "--format", "bogus"],
        &["completions", "bash", "--save"],
    ]);
}

// ---------------------------------------------------------------------------
// g. What we don't do: one line naming the feature; the files actually read
// ---------------------------------------------------------------------------

#[test]
fn signed_out_sso_and_web_identity_profiles_say_what_to_do_in_one_line() {
    let sb = Sandbox::new();
    let token = sb.home.path().join("web-identity-token");
    fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").expect("write the token file");
    sb.write_credentials("");
    sb.write_config(&format!(
        "[profile sso]\nsso_start_url = https://my-sso-portal.example/start\nsso_region = us-east-1\n\
         sso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n\
         [profile ssosession]\nsso_session = corp\nsso_account_id = 123456789012\n\
         sso_role_name = Admin\nregion = us-east-1\n\
         [sso-session corp]\nsso_start_url = https://my-sso-portal.example/start\nsso_region = us-east-1\n\
         [profile webid]\nrole_arn = arn:aws:iam::123456789012:role/ci\n\
         web_identity_token_file = {}\nregion = us-east-1\n",
        token.display()
    ));
    let mut failures = Vec::new();
    for (profile, feature, words) in [
        ("sso", "SSO (sso_start_url)", &["--profile sso login"][..]),
        (
            "ssosession",
            "SSO (sso_session)",
            &["--profile ssosession login"][..],
        ),
        (
            "webid",
            "web identity",
            &["web identity", "web_identity_token_file"][..],
        ),
    ] {
        for command in [
            &["exec", "true"][..],
            &["credential-process"][..],
            &["export"][..],
        ] {
            let mut args = vec!["--profile", profile];
            args.extend_from_slice(command);
            let out = aws_session(&sb, Some("123456"), &args);
            let err = stderr(&out);
            let lower = err.to_lowercase();
            let shown = format!("aws-session {}", args.join(" "));
            let want = if profile == "webid" {
                "not support"
            } else {
                "is not signed in to iam identity center"
            };
            if out.status.code() != Some(2)
                || err.trim_end().lines().count() != 1
                || !lower.contains(want)
                || !words.iter().any(|w| lower.contains(w))
                || lower.contains("has no keys")
            {
                failures.push(format!(
                    "{shown}: want exit 2 and one line about {feature} saying \"{want}\" \
                     (not \"has no keys\"), got exit {:?}, stderr {err:?}",
                    out.status.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_credentials_error_names_the_credentials_file_actually_read() {
    let peer = peer();
    let sb = Sandbox::new();
    let elsewhere = sb.home.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    let file = elsewhere.join("aws-credentials");
    fs::write(
        &file,
        "[unrelated]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\naws_secret_access_key = x\n",
    )
    .expect("write credentials");
    sb.write_config("");
    let mut cmd = sandboxed(&sb, peer, BIN);
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &file)
        .args(["exec", "true"]);
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no credentials is a config error (2): {err}"
    );
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(
        err.contains(&file.display().to_string()),
        "the error should name AWS_SHARED_CREDENTIALS_FILE ({}), the file it read: {err}",
        file.display()
    );
    assert!(
        !err.contains("~/.aws/credentials"),
        "the error names ~/.aws/credentials, a file it did not read: {err}"
    );
}

// ---------------------------------------------------------------------------
// h. One MFA session per (keys, device)
// ---------------------------------------------------------------------------

#[test]
fn a_session_made_through_mfa_serial_is_found_again_by_discovery_in_credential_process() {
    let peer = peer();
    let user = peer.create_user("sdk-onesession", true);
    let sb = Sandbox::new();
    // The same keys twice: as profile `me` (with mfa_serial) and as the default
    // profile (without: its device is discovered).
    sb.write_credentials(&format!("{}{}", keys("me", &user), keys("default", &user)));
    sb.write_config(&format!(
        "[profile me]\nregion = us-east-1\nmfa_serial = {}\n[default]\nregion = us-east-1\n\
         [profile cpd]\nregion = us-east-1\ncredential_process = {BIN} credential-process\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let made = prime(&sb, &user, "me");
    let session_key = made["AWS_ACCESS_KEY_ID"]
        .as_str()
        .expect("a key")
        .to_string();
    let count_gst = || {
        peer.log()
            .iter()
            .filter(|r| r.access_key_id == user.access_key_id && r.action == "GetSessionToken")
            .count()
    };
    assert_eq!(count_gst(), 1);

    // credential-process without --profile: the default profile's keys, no
    // mfa_serial, no code, no terminal.
    let out = aws_session(&sb, None, &["credential-process"]);
    let text = ok(
        "`aws-session credential-process` (default profile, same keys, device by discovery, no code)",
        &out,
    );
    let v: Value = serde_json::from_str(&text).expect("credential_process JSON");
    assert_eq!(
        v["AccessKeyId"].as_str(),
        Some(session_key.as_str()),
        "the session made through profile me (mfa_serial) should be handed out again"
    );
    assert_eq!(
        count_gst(),
        1,
        "no second GetSessionToken for the same keys and device"
    );

    // And so through the AWS CLI's credential_process line.
    let since = peer.signed_log().len();
    let argv = Client::Cli.argv();
    let mut cmd = sandboxed(&sb, peer, &argv[0]);
    cmd.args(&argv[1..]).env("AWS_PROFILE", "cpd");
    let out = run(cmd);
    let key = assert_signed_with_session(
        peer,
        "with credential_process = aws-session credential-process (no --profile)",
        Client::Cli,
        Want::Session(&user),
        since,
        &out,
    );
    assert_eq!(key, session_key);
    assert_eq!(
        count_gst(),
        1,
        "no second GetSessionToken for the same keys and device"
    );
}

// ---------------------------------------------------------------------------
// i. credential-process in the last five minutes of a cached session
// ---------------------------------------------------------------------------

fn cache_dir(sb: &Sandbox) -> PathBuf {
    sb.home.path().join(".cache/aws-session")
}

/// Sets the expiration of the cache entries holding `access_key_id` to now + `secs`.
fn set_cached_expiration(dir: &Path, access_key_id: &str, secs: i64) -> usize {
    let when = time::OffsetDateTime::from_unix_timestamp(unix_now() + secs)
        .expect("a time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let mut changed = 0;
    for entry in fs::read_dir(dir).expect("the cache directory").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("read a cache entry");
        let v: Value = serde_json::from_str(&text).expect("a cache entry is JSON");
        if v["access_key_id"].as_str() == Some(access_key_id) {
            let old = v["expiration"].as_str().expect("an expiration");
            let from = format!("\"expiration\":\"{old}\"");
            assert!(
                text.contains(&from),
                "{} has no {from}: {text}",
                path.display()
            );
            // Only the value changes, in place: fs::write keeps the file's owner and
            // its mode 0600, and the entry's field order.
            let text = text.replace(&from, &format!("\"expiration\":\"{when}\""));
            fs::write(&path, text).expect("rewrite a cache entry");
            changed += 1;
        }
    }
    changed
}

/// Whether `text` has a duration like "3 min", "3m", "200 s", "199s", "3 minutes".
fn names_a_duration(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        b[i].is_ascii_digit() && {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let rest = text[j..].trim_start_matches(' ');
            rest.starts_with('m') || rest.starts_with('s')
        }
    })
}

#[test]
fn credential_process_without_terminal_hands_out_a_session_with_under_five_minutes_left() {
    let peer = peer();
    let user = peer.create_user("sdk-lastmin", true);
    let sb = mfa_sandbox(&user, "");
    let made = prime(&sb, &user, "mfa");
    let key = made["AWS_ACCESS_KEY_ID"]
        .as_str()
        .expect("a key")
        .to_string();
    assert_eq!(
        set_cached_expiration(&cache_dir(&sb), &key, 200),
        1,
        "one cache entry holds the session {key}"
    );
    let out = aws_session(&sb, None, &["--profile", "mfa", "credential-process"]);
    let text = ok(
        "credential-process with 200 s left on the cached session, no terminal, no code",
        &out,
    );
    let v: Value = serde_json::from_str(&text).expect("credential_process JSON");
    assert_eq!(
        v["AccessKeyId"].as_str(),
        Some(key.as_str()),
        "the cached session"
    );
    let err = stderr(&out);
    assert!(
        err.contains("left") && names_a_duration(&err),
        "stderr should say how long the session has left (about 3 minutes), got {err:?}"
    );
    let gst = peer
        .log()
        .iter()
        .filter(|r| r.access_key_id == user.access_key_id && r.action == "GetSessionToken")
        .count();
    assert_eq!(gst, 1, "no new session was asked for");

    // Under a minute left: not handed out (exit 3, a code is needed).
    assert_eq!(set_cached_expiration(&cache_dir(&sb), &key, 30), 1);
    let out = aws_session(&sb, None, &["--profile", "mfa", "credential-process"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "with 30 s left the session is not handed out: stdout {}\nstderr {}",
        stdout(&out),
        stderr(&out)
    );
}
