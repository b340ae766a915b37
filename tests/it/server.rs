//! `exec --server` and `shell --server`: the container credentials endpoint on loopback,
//! renewing role sessions from the cached MFA session while real clients (boto3, the
//! AWS CLI, the JavaScript SDK v3) run for longer than one session lasts. The peer
//! issues sessions 50 times shorter than asked (`/_peer/lifetime`), so a role session
//! of 900 s lasts 18 s.

use crate::common::{
    self, keys, pty::Pty, run_within as run, stderr, stdout, Peer, Sandbox, TestRole, TestUser,
};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCALE: f64 = 0.02;

/// A peer of its own with short sessions, a user with MFA, a role it may assume, and
/// a sandbox whose `[default]` profile holds the user's long-term keys (which the child
/// must never use) and whose `role` profile rides on the MFA session.
fn setup() -> (Peer, TestUser, TestRole, Sandbox) {
    let peer = Peer::start();
    peer.set_lifetime_scale(SCALE);
    let user = peer.create_user("server", true);
    let role = peer.create_role("server-role", 3600, &[&user.arn]);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\n\n[profile role]\nregion = us-east-1\noutput = json\nrole_arn = {}\nsource_profile = default\nmfa_serial = {}\nduration_seconds = 900\n",
        role.arn,
        user.mfa_serial.as_deref().unwrap()
    ));
    (peer, user, role, sb)
}

fn python() -> String {
    common::venv().join("bin/python").display().to_string()
}

/// A boto3 client that calls GetCallerIdentity every `every` seconds for `secs`
/// seconds and prints each ARN (its default credential chain, nothing configured).
const BOTO3_LOOP: &str = r#"
import sys, time, boto3
secs, every = float(sys.argv[1]), float(sys.argv[2])
sts = boto3.client("sts")
end = time.time() + secs
while time.time() < end:
    print(sts.get_caller_identity()["Arn"], flush=True)
    time.sleep(every)
"#;

/// What the peer saw: (GetSessionToken count, AssumeRole count, the keys that signed
/// GetCallerIdentity, in order).
fn seen(peer: &Peer) -> (usize, usize, Vec<(String, bool)>) {
    let log = peer.log();
    let count = |a: &str| log.iter().filter(|r| r.action == a).count();
    let callers = log
        .iter()
        .filter(|r| r.action == "GetCallerIdentity")
        .map(|r| (r.access_key_id.clone(), r.has_security_token))
        .collect();
    (count("GetSessionToken"), count("AssumeRole"), callers)
}

/// Every call signed with a role session (never the long-term key), by at least
/// `renewals + 1` different session keys; one GetSessionToken, one AssumeRole per
/// session.
#[track_caller]
fn assert_renewed_without_a_code(peer: &Peer, user: &TestUser, renewals: usize) {
    let (gst, assume, callers) = seen(peer);
    assert_eq!(gst, 1, "one code, one MFA session");
    assert!(!callers.is_empty());
    for (key, token) in &callers {
        assert_ne!(key, &user.access_key_id, "the long-term key signed a call");
        assert!(token, "a call without a session token");
    }
    let mut distinct: Vec<&String> = callers.iter().map(|(k, _)| k).collect();
    distinct.dedup();
    assert!(
        distinct.len() > renewals,
        "{} session keys signed the calls, expected at least {}: {callers:?}",
        distinct.len(),
        renewals + 1
    );
    assert!(
        assume > renewals,
        "AssumeRole {assume} times, expected at least {}",
        renewals + 1
    );
}

#[test]
fn boto3_loop_runs_through_role_renewals_with_one_code() {
    let (peer, user, role, sb) = setup();
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args([
                "--profile",
                "role",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args([python().as_str(), "-c", BOTO3_LOOP, "55", "1.5"]);
            c
        },
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let arns = stdout(&out);
    assert!(arns.lines().count() >= 20, "{arns}");
    for arn in arns.lines() {
        assert!(
            arn.contains(&format!(":assumed-role/{}/", role.role_name)),
            "{arns}"
        );
    }
    assert_renewed_without_a_code(&peer, &user, 3);
}

#[test]
fn javascript_sdk_loop_runs_through_role_renewals_with_one_code() {
    let (peer, user, role, sb) = setup();
    let node = common::node_bin();
    let sdk = common::node_dir();
    let out = run(
        {
            let mut c = sb.command(&peer);
            // The sandbox's environment is cleared: loop.mjs finds the SDK through this.
            c.env("AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED", "true")
                .env("AWS_SESSION_TEST_NODE", &sdk)
                .args([
                    "--profile",
                    "role",
                    "--code",
                    &user.fresh_code(),
                    "exec",
                    "--server",
                ])
                .arg(&node)
                .arg(common::sdk_client("loop.mjs"))
                .args(["55", "1.5"]);
            c
        },
        Duration::from_secs(150),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let arns = stdout(&out);
    assert!(arns.lines().count() >= 20, "{arns}");
    for arn in arns.lines() {
        assert!(
            arn.contains(&format!(":assumed-role/{}/", role.role_name)),
            "{arns}"
        );
    }
    assert_renewed_without_a_code(&peer, &user, 3);
}

#[test]
fn aws_cli_loop_runs_through_role_renewals_with_one_code() {
    let (peer, user, role, sb) = setup();
    let script = "end=$((SECONDS+55)); while [ $SECONDS -lt $end ]; do aws sts get-caller-identity --query Arn --output text || exit 9; sleep 2; done";
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args([
                "--profile",
                "role",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args(["bash", "-c", script]);
            c
        },
        Duration::from_secs(150),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for arn in stdout(&out).lines() {
        assert!(
            arn.contains(&format!(":assumed-role/{}/", role.role_name)),
            "{arn}"
        );
    }
    assert_renewed_without_a_code(&peer, &user, 3);
}

#[test]
fn the_child_finds_no_keys_and_no_profile_only_the_endpoint() {
    let (peer, user, _role, sb) = setup();
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args(["--profile", "role", "--code", &user.fresh_code(), "exec", "--server"])
                .args(["sh", "-c", "env; echo CONFIG; cat \"$AWS_CONFIG_FILE\"; echo CREDS; cat \"$AWS_SHARED_CREDENTIALS_FILE\""]);
            c
        },
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (env, files) = text.split_once("CONFIG\n").unwrap();
    let (config, creds) = files.split_once("CREDS\n").unwrap();
    for gone in [
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "AWS_SECURITY_TOKEN=",
        "AWS_PROFILE=",
        "AWS_DEFAULT_PROFILE=",
    ] {
        assert!(
            !env.lines().any(|l| l.starts_with(gone)),
            "{gone} in the child: {env}"
        );
    }
    assert!(
        env.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:"),
        "{env}"
    );
    let token = env
        .lines()
        .find_map(|l| l.strip_prefix("AWS_CONTAINER_AUTHORIZATION_TOKEN="))
        .unwrap();
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert!(!text.contains(&user.secret_access_key));
    assert!(
        config.contains("[default]\n") && config.contains("region = us-east-1"),
        "{config}"
    );
    assert!(config.contains("output = json"), "{config}");
    for setting in [
        "role_arn",
        "source_profile",
        "mfa_serial",
        "aws_access_key_id",
    ] {
        assert!(
            !config.contains(setting),
            "{setting} in the child's config: {config}"
        );
    }
    assert!(creds.is_empty(), "{creds}");
}

/// A child that reports what the endpoint answers to requests it should refuse, and
/// writes the endpoint's address for the test to try after the child ended.
const PROBE: &str = r#"
import os, sys, urllib.request, urllib.error
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
open(sys.argv[1], "w").write(url)
def status(u, headers, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(u, headers=headers, method=method)) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
print("none", *status(url, {}))
print("wrong", *status(url, {"Authorization": "x" * len(token)}))
print("path", *status(url.rsplit("/", 1)[0] + "/other", {"Authorization": token}))
print("post", *status(url, {"Authorization": token}, "POST"))
code, body = status(url, {"Authorization": token})
print("good", code, "AccessKeyId" in body and "Expiration" in body and "Token" in body)
"#;

#[test]
fn the_endpoint_refuses_what_is_not_an_authorised_get_and_closes_with_the_child() {
    let (peer, user, _role, sb) = setup();
    let addr_file = sb.home.path().join("endpoint");
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args([
                "--profile",
                "role",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args([python().as_str(), "-c", PROBE, addr_file.to_str().unwrap()]);
            c
        },
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("none 401 \n"), "{text}");
    assert!(text.contains("wrong 403 \n"), "{text}");
    assert!(text.contains("path 404 \n"), "{text}");
    assert!(text.contains("post 405 \n"), "{text}");
    assert!(text.contains("good 200 True"), "{text}");
    let url = std::fs::read_to_string(&addr_file).unwrap();
    let hostport = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        TcpStream::connect(&hostport).is_err(),
        "the port {hostport} is still open after the child ended"
    );
}

#[test]
fn exit_status_and_signals_are_the_childs() {
    let (peer, user, _role, sb) = setup();
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args([
                "--profile",
                "role",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args(["sh", "-c", "exit 7"]);
            c
        },
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));

    // The child killed by a signal: 128 + n, as a shell reports it.
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args(["--profile", "role", "exec", "--server"])
                .args(["sh", "-c", "kill -TERM $$"]);
            c
        },
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));

    // SIGTERM to aws-session goes to the child, which decides: here it exits 5.
    let ready = sb.home.path().join("ready");
    let mut c = sb.command(&peer);
    c.args(["--profile", "role", "exec", "--server"])
        .args([
            "sh",
            "-c",
            &format!(
                "trap 'exit 5' TERM; touch {}; while :; do sleep 0.1; done",
                ready.display()
            ),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the child never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: a signal to our own child; kill(2) takes plain integers.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}

#[test]
fn the_end_of_the_mfa_session_without_a_terminal_is_an_error_the_sdk_shows() {
    let peer = Peer::start();
    // An MFA session of 43200 s lasts 43 s here.
    peer.set_lifetime_scale(0.001);
    let user = peer.create_user("server-end", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config("[default]\nregion = us-east-1\n");
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args(["--code", &user.fresh_code(), "exec", "--server"])
                .args([python().as_str(), "-c", BOTO3_LOOP, "70", "2"]);
            c
        },
        Duration::from_secs(120),
    );
    assert!(
        !out.status.success(),
        "the loop must fail once the session ended"
    );
    let err = stderr(&out);
    assert!(
        err.contains("MFA session of aws-session has ended"),
        "the SDK shows the server's message: {err}"
    );
    assert!(!err.contains(&user.secret_access_key));
    let (gst, _, callers) = seen(&peer);
    assert_eq!(gst, 1, "no second GetSessionToken without a code");
    assert!(callers.iter().all(|(k, _)| k != &user.access_key_id));
}

#[test]
fn the_end_of_the_mfa_session_asks_for_a_code_on_the_terminal_and_the_child_goes_on() {
    let peer = Peer::start();
    peer.set_lifetime_scale(0.001);
    let user = peer.create_user("server-tty", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config("[default]\nregion = us-east-1\n");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aws-session"));
    cmd.env_clear()
        .envs(sb.env(&peer))
        .current_dir(sb.home.path())
        .args(["--code", &user.fresh_code(), "exec", "--server"])
        .args([python().as_str(), "-c", BOTO3_LOOP, "60", "2"]);
    let mut pty = Pty::spawn(cmd, 120, 40);
    pty.expect("6 digit MFA code", Duration::from_secs(60));
    pty.send_line(&user.fresh_code());
    let status = pty.wait(Duration::from_secs(90));
    let out = pty.output();
    assert_eq!(status.code(), Some(0), "{out}");
    let (gst, _, callers) = seen(&peer);
    assert_eq!(gst, 2, "a second MFA session with the typed code");
    let mut distinct: Vec<&String> = callers.iter().map(|(k, _)| k).collect();
    distinct.dedup();
    assert!(
        distinct.len() >= 2,
        "the child used the new session: {callers:?}"
    );
}

#[test]
fn shell_server_prompt_shows_the_mfa_session_and_refresh_renews_it() {
    let (peer, user, role, sb) = setup();
    std::fs::write(sb.home.path().join(".bashrc"), "PS1='srv$ '\n").unwrap();
    let tmp = sb.home.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut cmd = sb.command(&peer);
    cmd.env("SHELL", "/bin/bash")
        .env("TERM", "xterm")
        .env("TMPDIR", &tmp)
        .env("AWS_SESSION_COLOR", "0")
        .args([
            "--profile",
            "role",
            "--code",
            &user.fresh_code(),
            "shell",
            "--server",
        ]);
    let mut pty = Pty::spawn(cmd, 160, 40);
    // 43200 s * 0.02: the MFA session lasts 864 s, shown as 14m; the role only 18 s.
    pty.expect("(aws+14m) srv$ ", Duration::from_secs(60));
    pty.send_line("aws sts get-caller-identity --query Arn --output text; echo A-$((40+2))");
    let out = pty.expect("A-42", Duration::from_secs(60));
    assert!(
        out.contains(&format!(":assumed-role/{}/", role.role_name)),
        "{out}"
    );
    // A second between: the new session's end (whole seconds) then lies after the old one's.
    pty.send_line(
        "echo before=$AWS_SESSION_EXPIRATION; sleep 1; aws-session-refresh; echo R-$?-$((40+2))",
    );
    let before = pty.expect("6 digit MFA code: ", Duration::from_secs(30));
    pty.send_line(&user.fresh_code());
    let out = pty.expect("-42", Duration::from_secs(60));
    assert!(out.contains("R-0-"), "aws-session-refresh succeeded: {out}");
    pty.send_line("echo after=$AWS_SESSION_EXPIRATION; env | grep -c '^AWS_SECRET_ACCESS_KEY=' ; echo E-$((40+2))");
    let out = pty.expect("E-42", Duration::from_secs(10));
    let exp = |text: &str, tag: &str| -> i64 {
        text.rsplit(tag)
            .next()
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {tag} in {text:?}"))
    };
    assert!(
        exp(&out, "after=") > exp(&before, "before="),
        "the prompt's time is the new MFA session's: {before} {out}"
    );
    assert!(
        out.contains("\n0\r\n") || out.contains("\n0\n"),
        "no keys in the shell: {out}"
    );
    let (gst, _, _) = seen(&peer);
    assert_eq!(gst, 2);
    pty.send_line("exit 3");
    assert_eq!(pty.wait(Duration::from_secs(30)).code(), Some(3));
}

#[test]
fn a_chained_role_renews_too() {
    let (peer, user, role, sb) = setup();
    let second = peer.create_role("server-second", 3600, &[]);
    let mut config = std::fs::read_to_string(&sb.config_file).unwrap();
    config.push_str(&format!(
        "\n[profile chained]\nregion = us-east-1\nrole_arn = {}\nsource_profile = role\nduration_seconds = 900\n",
        second.arn
    ));
    sb.write_config(&config);
    let out = run(
        {
            let mut c = sb.command(&peer);
            c.args([
                "--profile",
                "chained",
                "--code",
                &user.fresh_code(),
                "exec",
                "--server",
            ])
            .args([python().as_str(), "-c", BOTO3_LOOP, "40", "1.5"]);
            c
        },
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for arn in stdout(&out).lines() {
        assert!(
            arn.contains(&format!(":assumed-role/{}/", second.role_name)),
            "{arn}"
        );
    }
    let _ = role;
    assert_renewed_without_a_code(&peer, &user, 2);
}
