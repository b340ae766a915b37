//! The core against a real peer: moto's server with signature checking on (and the
//! extensions in tests/peer), the real AWS CLI inside `exec`.

use crate::common;
use crate::common::{actions_by, env_map, keys, stashed_key_id, stderr, stdout, Peer, Sandbox};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

fn peer() -> &'static Peer {
    Peer::shared()
}

#[test]
fn exec_runs_the_aws_cli_with_session_credentials_known_serial_costs_one_request() {
    let peer = peer();
    let user = peer.create_user("known", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {} # my phone\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let out = sb
        .command(peer)
        .args([
            "--code",
            &user.totp(0),
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains(&user.arn),
        "the CLI should see the user: {}",
        stdout(&out)
    );
    // Exactly one request with the long-term key: GetSessionToken.
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    // The CLI signed with a session key and token.
    let cli: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| {
            r.action == "GetCallerIdentity"
                && r.access_key_id.starts_with("ASIA")
                && r.has_security_token
        })
        .filter(|r| r.status == 200)
        .collect();
    assert!(
        !cli.is_empty(),
        "no GetCallerIdentity signed with session credentials"
    );
}

#[test]
fn discovery_costs_two_requests_and_sets_the_environment_contract() {
    let peer = peer();
    let user = peer.create_user("disc", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("dev", &user));
    sb.write_config("[profile dev]\nregion = eu-west-1\n");
    let out = sb
        .command(peer)
        .args([
            "--profile",
            "dev",
            "--code",
            &user.totp(0),
            "--session-duration",
            "900",
            "exec",
            "env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
    let env = env_map(&out);
    let key = &env["AWS_ACCESS_KEY_ID"];
    assert!(key.starts_with("ASIA"), "{key}");
    assert_ne!(env["AWS_SECRET_ACCESS_KEY"], user.secret_access_key);
    assert_eq!(env["AWS_SESSION_TOKEN"], env["AWS_SECURITY_TOKEN"]);
    assert_eq!(
        env["AWS_SESSION_MFADEVICE"],
        user.mfa_serial.clone().unwrap()
    );
    // The child gets the profile for aws-session only (AWS_SESSION_PROFILE); no
    // variable that would make an SDK read the profile's long-term keys.
    assert_eq!(env["AWS_SESSION_PROFILE"], "dev");
    for unset in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SDK_LOAD_CONFIG"] {
        assert!(!env.contains_key(unset), "{unset} is set in the child");
    }
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(
        env["AWS_SESSION_DURATION"], "900",
        "a command-line option becomes the child's default"
    );
    assert!(
        !env.contains_key("AWS_SESSION_MFA_CODE"),
        "the code is never passed on"
    );
    assert!(
        !env.contains_key("AWS_SESSION_PARENT_SECRET"),
        "keys from a profile are not stashed"
    );
    assert!(std::path::Path::new(&env["AWS_SESSION"]).is_absolute());
    // 900 s session: epoch and ISO forms agree and lie ~15 minutes ahead.
    let exp: i64 = env["AWS_SESSION_EXPIRATION"].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (exp - now - 900).abs() < 60,
        "expiration {exp} vs now {now}"
    );
    let iso = &env["AWS_CREDENTIAL_EXPIRATION"];
    assert!(iso.ends_with('Z') && iso.len() == 20, "{iso}");
}

/// `--session-duration 0` asks for AWS's default: no DurationSeconds is sent even when
/// AWS_SESSION_DURATION says otherwise, and the child does not inherit that default
/// (a refresh inside it asks for AWS's default too).
#[test]
fn session_duration_zero_means_the_aws_default_here_and_in_the_child() {
    let peer = peer();
    let user = peer.create_user("dzero", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let out = sb
        .command(peer)
        .env("AWS_SESSION_DURATION", "7200")
        .args([
            "-d",
            "0",
            "--no-cache",
            "--code",
            &user.totp(0),
            "exec",
            "env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let env = env_map(&out);
    assert!(
        !env.contains_key("AWS_SESSION_DURATION"),
        "the child keeps no duration default: {:?}",
        env.get("AWS_SESSION_DURATION")
    );
    let sent: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id && r.action == "GetSessionToken")
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].params.contains_key("DurationSeconds"),
        "{:?}",
        sent[0].params
    );
}

#[test]
fn profile_from_aws_profile_and_credentials_from_the_environment() {
    let peer = peer();
    let user = peer.create_user("envp", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = nope\n{}",
        keys("work", &user)
    ));
    let out = sb
        .command(peer)
        .env("AWS_PROFILE", "work")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_SESSION_MFA_CODE", user.totp(0))
        .args(["exec", "aws", "sts", "get-caller-identity"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains(&user.arn));

    // Keys from the environment win over the (wrong) default profile, and are stashed.
    let user2 = peer.create_user("envk", true);
    let out = sb
        .command(peer)
        .env("AWS_ACCESS_KEY_ID", &user2.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &user2.secret_access_key)
        .args(["--code", &user2.totp(0), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let env = env_map(&out);
    assert_eq!(stashed_key_id(&env), user2.access_key_id);
    assert_ne!(env["AWS_ACCESS_KEY_ID"], user2.access_key_id);
}

#[test]
fn exit_status_and_signals_pass_through() {
    let peer = peer();
    let user = peer.create_user("status", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--code", &user.totp(0), "exec", "sh", "-c", "exit 42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(42), "stderr: {}", stderr(&out));
    let out = sb
        .command(peer)
        .env("AWS_SESSION_MFADEVICE", user.mfa_serial.as_deref().unwrap())
        .args(["--code", &user.totp(1), "exec", "sh", "-c", "kill -TERM $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(15), "stderr: {}", stderr(&out));
    // A command that does not exist: 127, as shells say.
    let out = sb
        .command(peer)
        .args(["--code", &user.totp(-1), "exec", "no-such-command-xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("no-such-command-xyz"));
}

#[test]
fn session_duration_is_validated_before_any_request() {
    let peer = peer();
    let user = peer.create_user("dur", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    for bad in ["899", "129601", "abc", "-1"] {
        let out = sb
            .command(peer)
            .args([
                "--code",
                "123456",
                "--session-duration",
                bad,
                "exec",
                "true",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--session-duration"),
            "{}",
            stderr(&out)
        );
    }
    let out = sb
        .command(peer)
        .env("AWS_SESSION_DURATION", "100000000")
        .args(["--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("AWS_SESSION_DURATION"));
    assert!(
        actions_by(peer, &user.access_key_id).is_empty(),
        "no request for bad input"
    );
    // The longest AWS allows works.
    let out = sb
        .command(peer)
        .args([
            "--code",
            &user.totp(0),
            "--session-duration",
            "129600",
            "exec",
            "true",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
}

#[test]
fn wrong_code_is_refused_once_without_a_terminal() {
    let peer = peer();
    let user = peer.create_user("wrong", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let good = user.totp(0);
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let out = sb
        .command(peer)
        .args(["--code", &wrong, "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("refused the MFA code"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // The code went out once: never resent.
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
    // Malformed codes never reach AWS.
    let out = sb
        .command(peer)
        .args(["--code", "12345", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(actions_by(peer, &user.access_key_id).len(), 2);
}

#[test]
fn no_code_and_no_terminal_asks_for_one() {
    let peer = peer();
    let user = peer.create_user("nocode", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb.command(peer).args(["exec", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("--code"), "{}", stderr(&out));
}

#[test]
fn a_user_without_mfa_device_gets_exit_10() {
    let peer = peer();
    let user = peer.create_user("nomfa", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains(&user.user_name), "{}", stderr(&out));
}

#[test]
fn unknown_profile_and_bad_secret_are_named() {
    let peer = peer();
    let user = peer.create_user("bad", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--profile", "prod", "--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"prod\"") && stderr(&out).contains("default"));

    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}x\n",
        user.access_key_id, user.secret_access_key
    ));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("SignatureDoesNotMatch"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(&user.secret_access_key));
}

#[test]
fn refresh_prints_exports_that_work_in_bash() {
    let peer = peer();
    let user = peer.create_user("refresh", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["refresh", "--code", &user.totp(0)])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let exports = stdout(&out);
    assert!(exports.contains("export AWS_SESSION_TOKEN="));
    let script = format!("{exports}\naws sts get-caller-identity --output text --query Arn");
    let out = sb.shell_command(peer, "bash", &script).output().unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), user.arn);
}

#[test]
fn debug_traces_requests_without_secrets() {
    let peer = peer();
    let user = peer.create_user("debug", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .args(["--debug", "--code", &user.totp(0), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("GetSessionToken") && err.contains(&user.access_key_id),
        "{err}"
    );
    assert!(err.contains("-> 200 in"), "{err}");
    let env = env_map(&out);
    for secret in [
        &user.secret_access_key,
        &env["AWS_SECRET_ACCESS_KEY"],
        &env["AWS_SESSION_TOKEN"],
    ] {
        assert!(
            !err.contains(secret.as_str()),
            "a secret leaked into --debug output"
        );
    }
    assert_eq!(env["AWS_SESSION_DEBUG"], "1");
}

/// Runs of the binary with an environment `env` (e.g. a child's from `exec env`) on top of
/// the sandbox's: what a command run inside that session sees.
fn inside(sb: &Sandbox, peer: &Peer, env: &BTreeMap<String, String>) -> std::process::Command {
    let mut cmd = sb.command(peer);
    cmd.envs(env);
    cmd
}

#[test]
fn an_inherited_mfa_device_is_only_used_with_the_keys_it_belongs_to() {
    let peer = peer();
    let alice = peer.create_user("inh-alice", true);
    let bob = peer.create_user("inh-bob", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!("{}{}", keys("alice", &alice), keys("bob", &bob)));
    // No mfa_serial: alice's device is discovered and passed on to her session.
    let out = sb
        .command(peer)
        .args([
            "--profile",
            "alice",
            "--code",
            &alice.totp(0),
            "exec",
            "env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let shell = env_map(&out);
    assert_eq!(
        shell["AWS_SESSION_MFADEVICE"],
        alice.mfa_serial.clone().unwrap()
    );

    // Inside alice's session, a command for bob: bob's keys and bob's device, found
    // anew — alice's serial would be refused and bob's code burnt.
    let out = inside(&sb, peer, &shell)
        .args(["--profile", "bob", "--code", &bob.totp(0), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(
        actions_by(peer, &bob.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
    let sent: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == bob.access_key_id && r.action == "GetSessionToken")
        .collect();
    assert_eq!(
        sent[0].params["SerialNumber"],
        bob.mfa_serial.clone().unwrap()
    );
    let bobs = env_map(&out);
    assert_eq!(
        bobs["AWS_SESSION_MFADEVICE"],
        bob.mfa_serial.clone().unwrap()
    );
    assert_eq!(bobs["AWS_SESSION_SOURCE_KEY_ID"], bob.access_key_id);

    // The session says which keys its device belongs to (an id, not a secret), and with
    // those keys the device is used as it is: no ListMFADevices.
    assert_eq!(shell["AWS_SESSION_SOURCE_KEY_ID"], alice.access_key_id);
    let out = inside(&sb, peer, &shell)
        .args([
            "--profile",
            "alice",
            "--no-cache",
            "--code",
            &alice.totp(1),
            "exec",
            "true",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(
        actions_by(peer, &alice.access_key_id),
        ["ListMFADevices", "GetSessionToken", "GetSessionToken"]
    );
}

#[test]
fn an_explicit_profile_wins_over_keys_in_the_environment() {
    let peer = peer();
    let alice = peer.create_user("expl-alice", true);
    let bob = peer.create_user("expl-bob", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("bob", &bob));
    sb.write_config(&format!(
        "[profile bob]\nmfa_serial = {}\n",
        bob.mfa_serial.as_deref().unwrap()
    ));
    let alice_keys = [
        ("AWS_ACCESS_KEY_ID", alice.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", alice.secret_access_key.as_str()),
    ];

    // --profile bob with alice's keys exported: bob's keys, as the AWS CLI does.
    let out = sb
        .command(peer)
        .envs(alice_keys)
        .args(["--profile", "bob", "--code", &bob.totp(0), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(actions_by(peer, &bob.access_key_id), ["GetSessionToken"]);
    assert!(actions_by(peer, &alice.access_key_id).is_empty());
    let env = env_map(&out);
    assert!(
        !env.contains_key("AWS_SESSION_PARENT_STASH"),
        "the profile's keys are not stashed"
    );

    // A session made from alice's exported keys (no profile): they win over the default
    // profile, and are stashed for its refreshes.
    let out = sb
        .command(peer)
        .envs(alice_keys)
        .args(["--code", &alice.totp(0), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let shell = env_map(&out);
    assert_eq!(stashed_key_id(&shell), alice.access_key_id);
    // Inside it, --profile bob is bob's: the stash is the session's own keys, not bob's
    // (bob's session of the first run is cached: no code needed).
    let out = inside(&sb, peer, &shell)
        .args(["--profile", "bob", "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let bobs = env_map(&out);
    assert_eq!(bobs["AWS_ACCESS_KEY_ID"], env["AWS_ACCESS_KEY_ID"]);
    assert_eq!(bobs["AWS_SESSION_SOURCE_KEY_ID"], bob.access_key_id);
    assert!(!bobs.contains_key("AWS_SESSION_PARENT_STASH"));
    assert_eq!(actions_by(peer, &bob.access_key_id), ["GetSessionToken"]);
    // AWS_PROFILE from the environment still loses to them (AWS's order).
    let out = inside(&sb, peer, &shell)
        .env("AWS_PROFILE", "bob")
        .args(["--no-cache", "--code", &alice.totp(1), "exec", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(stashed_key_id(&env_map(&out)), alice.access_key_id);
    assert_eq!(
        actions_by(peer, &bob.access_key_id).len(),
        1,
        "nothing more signed with bob's keys"
    );
}

/// A user of the peer with its enabled virtual device (when `mfa`) and `extra` devices
/// ("u2f": a FIDO security key listed before it; "totp": another virtual device listed
/// after it), as `POST /_peer/users` answers: the JSON object.
fn create_user_with_devices(
    peer: &Peer,
    prefix: &str,
    mfa: bool,
    extra: &[&str],
) -> serde_json::Value {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let name = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let body = serde_json::json!({ "name": name, "mfa": mfa, "extra_devices": extra });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent
        .post(&format!("{}/_peer/users", peer.url))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("POST /_peer/users");
    let text = resp.body_mut().read_to_string().expect("body");
    assert_eq!(resp.status().as_u16(), 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        v["extra_devices"].as_array().map(Vec::len),
        Some(extra.len()),
        "{text}"
    );
    v
}

/// A code of the device with base32 `seed`, `offset` × 30 s from now.
fn code_of(seed: &str, offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    common::totp(seed, (now + offset * 30) as u64)
}

#[test]
fn discovery_skips_security_keys_and_names_the_device_it_picks() {
    let peer = peer();
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let credentials = |v: &serde_json::Value| {
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            text(v, "access_key_id"),
            text(v, "secret_access_key")
        )
    };

    // A session for `user` with its virtual device's code: it must be made with that
    // device; gives the run's stderr.
    let session_with_virtual_device = |user: &serde_json::Value| {
        let sb = Sandbox::new();
        sb.write_credentials(&credentials(user));
        let code = code_of(&text(user, "mfa_seed"), 0);
        let out = sb
            .command(peer)
            .args(["--code", &code, "exec", "env"])
            .output()
            .unwrap();
        assert!(out.status.success(), "stderr: {}", stderr(&out));
        assert_eq!(
            env_map(&out)["AWS_SESSION_MFADEVICE"],
            text(user, "mfa_serial")
        );
        stderr(&out)
    };

    // A FIDO key listed first: GetSessionToken cannot take it, the virtual device is used.
    let user = create_user_with_devices(peer, "u2f-first", true, &["u2f"]);
    let u2f = text(&user["extra_devices"][0], "serial");
    assert!(u2f.contains(":u2f/"), "{u2f}");
    let err = session_with_virtual_device(&user);
    assert!(!err.contains("note"), "{err}");

    // Several devices that take codes: the first, and a note that names them all and
    // how to pick one.
    let user = create_user_with_devices(peer, "two-totp", true, &["u2f", "totp"]);
    let other = text(&user["extra_devices"][1], "serial");
    let err = session_with_virtual_device(&user);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("aws-session: note:")
            && err.contains(&text(&user, "mfa_serial"))
            && err.contains(&other)
            && err.contains("mfa_serial")
            && !err.contains(&u2f),
        "{err}"
    );

    // Only a security key: no device for codes, said as such (exit 10), no code sent.
    let user = create_user_with_devices(peer, "u2f-only", false, &["u2f"]);
    let sb = Sandbox::new();
    sb.write_credentials(&credentials(&user));
    let out = sb
        .command(peer)
        .args(["--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("security key") && err.contains(&text(&user, "user_name")),
        "{err}"
    );
    assert!(
        !actions_by(peer, &text(&user, "access_key_id")).contains(&"GetSessionToken".to_string())
    );
}

#[test]
fn an_ignored_config_section_is_named_when_its_profile_is_not_found() {
    let peer = peer();
    let user = peer.create_user("warn", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    // `[dev]` in the config file needs the `profile` prefix: the reader ignores it.
    sb.write_config("[default]\nregion = us-east-1\n\n[dev]\nregion = eu-west-1\n");
    let out = sb
        .command(peer)
        .args(["--profile", "dev", "--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("\"dev\" not found")
            && err.contains(&format!("{} line 4", sb.config_file.display()))
            && err.contains("[profile dev]"),
        "{err}"
    );

    // With --debug every warning is a note, also when the run succeeds.
    let out = sb
        .command(peer)
        .args(["--debug", "--code", &user.totp(0), "exec", "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("aws-session: note: ")
            && l.contains("line 4")
            && l.contains("[profile dev]")),
        "{err}"
    );
    // Without --debug, a run that works says nothing about it.
    let out = sb
        .command(peer)
        .args(["--code", &user.totp(1), "--no-cache", "exec", "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
