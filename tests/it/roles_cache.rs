//! Role profiles, the session cache and the ways other tools consume credentials,
//! against the peer (moto with signature checks, extended in tests/peer) and the real
//! AWS CLI, bash, zsh and fish.

use crate::common::{
    actions_by, env_map, keys, stashed_key_id, stderr, stdout, Peer, Sandbox, TestUser,
};
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_aws-session");

fn peer() -> &'static Peer {
    Peer::shared()
}

/// Run `cmd` to its end; fail the test if it hangs.
fn run(cmd: Command) -> Output {
    crate::common::run_within(cmd, Duration::from_secs(60))
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
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

/// A role of the peer; with `require_mfa` its trust policy demands
/// aws:MultiFactorAuthPresent (the peer enforces it).
struct Role {
    arn: String,
    name: String,
}

fn create_role(peer: &Peer, prefix: &str, max: u32, require_mfa: bool) -> Role {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let name = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let body = json!({ "name": name, "max_session_duration": max, "require_mfa": require_mfa });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent
        .post(&format!("{}/_peer/roles", peer.url))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("POST /_peer/roles");
    let text = resp.body_mut().read_to_string().expect("body");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["require_mfa"], json!(require_mfa), "{text}");
    Role {
        arn: v["arn"].as_str().expect("arn").to_string(),
        name: v["role_name"].as_str().expect("role_name").to_string(),
    }
}

/// A sandbox whose profile `me` has `user`'s keys and MFA device (region us-east-1).
fn sandbox_for(user: &TestUser, extra_config: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&keys("me", user));
    sb.write_config(&format!(
        "[profile me]\nregion = us-east-1\nmfa_serial = {}\n{extra_config}",
        user.mfa_serial.as_deref().expect("an MFA user")
    ));
    sb
}

fn role_profile(name: &str, role: &Role, extra: &str) -> String {
    format!(
        "[profile {name}]\nrole_arn = {}\nsource_profile = me\nregion = us-east-1\n{extra}",
        role.arn
    )
}

/// `aws-session ARGS...` in the sandbox, with `code` as AWS_SESSION_MFA_CODE if given.
fn aws_session(sb: &Sandbox, code: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = sb.command(peer());
    if let Some(c) = code {
        cmd.env("AWS_SESSION_MFA_CODE", c);
    }
    cmd.args(args);
    run(cmd)
}

/// The caller ARN the AWS CLI sees inside `aws-session --profile P exec`.
fn cli_identity(sb: &Sandbox, profile: &str, code: Option<&str>) -> Output {
    aws_session(
        sb,
        code,
        &[
            "--profile",
            profile,
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ],
    )
}

fn count(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

fn cache_dir(sb: &Sandbox) -> PathBuf {
    sb.home.path().join(".cache/aws-session")
}

fn cache_files(sb: &Sandbox) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(cache_dir(sb))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).expect("stat").permissions().mode() & 0o777
}

#[test]
fn role_profile_exec_shows_the_assumed_role_and_a_second_exec_needs_no_code() {
    let peer = peer();
    let user = peer.create_user("rc-role", true);
    let role = create_role(peer, "rc-admin", 3600, true);
    let sb = sandbox_for(&user, &role_profile("admin", &role, ""));

    let out = cli_identity(&sb, "admin", Some(&user.totp(0)));
    let arn = ok(&out);
    assert!(
        arn.trim().starts_with(&format!(
            "arn:aws:sts::123456789012:assumed-role/{}/",
            role.name
        )),
        "the AWS CLI should see the assumed role: {arn}"
    );
    // One code: GetSessionToken with MFA from the long-term keys, then AssumeRole
    // with that session (a one-hour role rides on the MFA session).
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    let session_key = peer
        .sessions()
        .into_iter()
        .find(|s| s.kind == "session" && s.arn == user.arn)
        .expect("an MFA session of the user");
    assert_eq!(session_key.mfa, Some(true));
    let assumed = actions_by(peer, &session_key.access_key_id);
    assert_eq!(count(&assumed, "AssumeRole"), 1, "{assumed:?}");
    let role_session = peer
        .sessions()
        .into_iter()
        .find(|s| s.kind == "role" && s.arn.contains(&role.name))
        .expect("a role session");
    assert_eq!(
        role_session.mfa,
        Some(true),
        "the role session carries MFA context"
    );

    // Within the session: no code, no GetSessionToken, no AssumeRole either (the
    // role session is cached).
    let out = cli_identity(&sb, "admin", None);
    assert_eq!(ok(&out).trim(), arn.trim());
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    assert_eq!(
        count(&actions_by(peer, &session_key.access_key_id), "AssumeRole"),
        1
    );

    // The environment contract names the role and the device.
    let out = aws_session(&sb, None, &["--profile", "admin", "exec", "env"]);
    let env = env_map(&out);
    assert_eq!(env["AWS_SESSION_ROLE_ARN"], role.arn);
    assert_eq!(
        env["AWS_SESSION_MFADEVICE"],
        user.mfa_serial.clone().unwrap()
    );
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_ACCESS_KEY_ID"], role_session.access_key_id);
}

#[test]
fn roles_of_an_hour_or_less_share_one_mfa_session_and_one_code() {
    let peer = peer();
    let user = peer.create_user("rc-share", true);
    let (r1, r2, r3) = (
        create_role(peer, "rc-one", 3600, true),
        create_role(peer, "rc-two", 3600, true),
        create_role(peer, "rc-three", 3600, true),
    );
    let sb = sandbox_for(
        &user,
        &format!(
            "{}{}[profile chained]\nrole_arn = {}\nsource_profile = one\nregion = us-east-1\n",
            role_profile("one", &r1, "duration_seconds = 3600\n"),
            role_profile("two", &r2, "role_session_name = rc-two-session\n"),
            r3.arn
        ),
    );
    assert!(ok(&cli_identity(&sb, "one", Some(&user.totp(0)))).contains(&r1.name));
    assert!(ok(&cli_identity(&sb, "two", None)).contains(&format!("{}/rc-two-session", r2.name)));
    // A chain: three is assumed with one's credentials.
    assert!(ok(&cli_identity(&sb, "chained", None)).contains(&r3.name));
    // The profile with the keys itself: its MFA session is the cached one.
    assert!(ok(&cli_identity(&sb, "me", None)).contains(&user.arn));

    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["GetSessionToken"],
        "one code served every role"
    );
    let sessions = peer.sessions();
    let mfa_session = sessions
        .iter()
        .find(|s| s.kind == "session" && s.arn == user.arn)
        .unwrap();
    let by_session = actions_by(peer, &mfa_session.access_key_id);
    assert_eq!(count(&by_session, "AssumeRole"), 2, "{by_session:?}");
    let one = sessions
        .iter()
        .find(|s| s.kind == "role" && s.arn.contains(&r1.name))
        .unwrap();
    assert_eq!(
        count(&actions_by(peer, &one.access_key_id), "AssumeRole"),
        1,
        "the chained role is assumed with role one's session"
    );
    assert!(peer
        .log()
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .all(
            |r| !r.params.contains_key("TokenCode") || r.access_key_id != mfa_session.access_key_id
        ));
}

#[test]
fn a_role_longer_than_an_hour_is_assumed_from_the_keys_with_the_code() {
    let peer = peer();
    let user = peer.create_user("rc-long", true);
    let role = create_role(peer, "rc-long", 7200, true);
    let sb = sandbox_for(
        &user,
        &role_profile("long", &role, "duration_seconds = 7200\n"),
    );
    let out = aws_session(
        &sb,
        Some(&user.totp(0)),
        &["--profile", "long", "exec", "env"],
    );
    ok(&out);
    let env = env_map(&out);
    // Not chained: AssumeRole signed with the long-term key, carrying the code.
    let by_user: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .collect();
    assert_eq!(by_user.len(), 1, "{by_user:?}");
    let call = &by_user[0];
    assert_eq!(call.action, "AssumeRole");
    assert!(!call.has_security_token);
    assert_eq!(call.params["DurationSeconds"], "7200");
    assert_eq!(
        call.params["SerialNumber"],
        user.mfa_serial.clone().unwrap()
    );
    assert!(call.params.contains_key("TokenCode"));
    assert_eq!(call.status, 200);
    let exp: i64 = env["AWS_SESSION_EXPIRATION"].parse().unwrap();
    assert!(
        (exp - unix_now() - 7200).abs() < 60,
        "a two-hour role session"
    );
    // Its role session is cached: no code, no call.
    let out = aws_session(&sb, None, &["--profile", "long", "exec", "env"]);
    assert_eq!(env_map(&out)["AWS_ACCESS_KEY_ID"], env["AWS_ACCESS_KEY_ID"]);
    assert_eq!(actions_by(peer, &user.access_key_id).len(), 1);

    // --session-duration asks the same of a role profile without duration_seconds.
    let sb2 = sandbox_for(&user, &role_profile("long", &role, ""));
    let out = aws_session(
        &sb2,
        Some(&user.totp(1)),
        &[
            "--profile",
            "long",
            "--session-duration",
            "5400",
            "exec",
            "true",
        ],
    );
    ok(&out);
    let last = peer
        .log()
        .into_iter()
        .rfind(|r| r.access_key_id == user.access_key_id)
        .unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.params["DurationSeconds"].as_str()
        ),
        ("AssumeRole", "5400")
    );
    assert!(last.params.contains_key("TokenCode"));
}

#[test]
fn mfa_in_the_trust_policy_is_enforced_and_roles_without_mfa_are_assumed_directly() {
    let peer = peer();
    let user = peer.create_user("rc-nomfa", true);
    let strict = create_role(peer, "rc-strict", 3600, true);
    let open = create_role(peer, "rc-open", 3600, false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("me", &user));
    // No mfa_serial anywhere: the roles are assumed with the keys as they are.
    sb.write_config(&format!(
        "{}{}",
        role_profile("strict", &strict, ""),
        role_profile("open", &open, "")
    ));
    let out = cli_identity(&sb, "open", None);
    assert!(ok(&out).contains(&open.name));
    let direct: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .collect();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].action, "AssumeRole");
    assert!(!direct[0].params.contains_key("SerialNumber"));

    let out = cli_identity(&sb, "strict", None);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "is not authorized to perform: sts:AssumeRole on resource: {}",
            strict.arn
        )),
        "{err}"
    );
    assert!(
        err.contains("mfa_serial"),
        "the hint names mfa_serial: {err}"
    );
    assert!(!err.contains(&user.secret_access_key));
}

#[test]
fn credential_source_environment_uses_the_keys_of_the_environment() {
    let peer = peer();
    let user = peer.create_user("rc-envsrc", true);
    let role = create_role(peer, "rc-envsrc", 3600, true);
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "[profile envrole]\nrole_arn = {}\ncredential_source = Environment\nmfa_serial = {}\nregion = us-east-1\n",
        role.arn,
        user.mfa_serial.clone().unwrap()
    ));
    let mut cmd = sb.command(peer);
    cmd.env("AWS_ACCESS_KEY_ID", &user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key)
        .env("AWS_SESSION_MFA_CODE", user.totp(0))
        .args(["--profile", "envrole", "exec", "env"]);
    let out = run(cmd);
    ok(&out);
    let env = env_map(&out);
    assert_eq!(env["AWS_SESSION_ROLE_ARN"], role.arn);
    assert_eq!(stashed_key_id(&env), user.access_key_id);
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);

    // Without keys in the environment the profile says what is missing.
    let out = aws_session(&sb, None, &["--profile", "envrole", "exec", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("credential_source = Environment"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cache_directory_and_files_are_private() {
    let peer = peer();
    let user = peer.create_user("rc-modes", true);
    let role = create_role(peer, "rc-modes", 3600, true);
    let sb = sandbox_for(&user, &role_profile("admin", &role, ""));
    ok(&aws_session(
        &sb,
        Some(&user.totp(0)),
        &["--profile", "admin", "exec", "true"],
    ));
    let dir = cache_dir(&sb);
    assert_eq!(mode(&dir), 0o700, "the cache directory");
    let files = cache_files(&sb);
    assert_eq!(
        files.len(),
        2,
        "the MFA session and the role session: {files:?}"
    );
    for f in files.iter().chain([dir.join("lock")].iter()) {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // Each entry is JSON with its kind, expiry and (that is the cache's purpose) keys.
    let kinds: Vec<String> = files
        .iter()
        .map(|f| {
            let v: Value = serde_json::from_str(&fs::read_to_string(f).unwrap()).unwrap();
            assert!(v["expiration"].as_str().unwrap().ends_with('Z'));
            assert!(v["access_key_id"].as_str().unwrap().starts_with("ASIA"));
            v["kind"].as_str().unwrap().to_string()
        })
        .collect();
    let mut kinds = kinds;
    kinds.sort();
    assert_eq!(kinds, ["mfa-session", "role"]);
    // No temp files are left behind.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // XDG_CACHE_HOME moves it.
    let xdg = sb.home.path().join("xdg");
    let mut cmd = sb.command(peer);
    cmd.env("XDG_CACHE_HOME", &xdg)
        .env("AWS_SESSION_MFA_CODE", user.totp(1))
        .args(["--profile", "me", "exec", "true"]);
    ok(&run(cmd));
    assert_eq!(mode(&xdg.join("aws-session")), 0o700);
}

#[test]
fn two_concurrent_runs_ask_for_one_code() {
    let peer = peer();
    let user = peer.create_user("rc-race", true);
    let sb = sandbox_for(&user, "");
    let code = user.totp(0);
    let spawn = || {
        let mut cmd = sb.command(peer);
        cmd.env("AWS_SESSION_MFA_CODE", &code)
            .args([
                "--profile",
                "me",
                "exec",
                "aws",
                "sts",
                "get-caller-identity",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("spawn")
    };
    // Four at once: without the lock at least two would send the same code, and AWS
    // accepts a code once.
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(ok(&out).contains(&user.arn));
    }
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["GetSessionToken"],
        "the other runs waited for the first and used its session"
    );
}

#[test]
fn corrupt_or_untrusted_cache_entries_are_ignored_and_replaced() {
    let peer = peer();
    let user = peer.create_user("rc-corrupt", true);
    let sb = sandbox_for(&user, "");
    let me = ["--profile", "me", "exec", "env"];
    let first = env_map(&ok_out(aws_session(&sb, Some(&user.fresh_code()), &me)));
    let files = cache_files(&sb);
    assert_eq!(files.len(), 1);
    let entry = files[0].clone();
    let good = fs::read(&entry).unwrap();

    // Garbage: survived, not trusted (a code is needed), replaced by a valid entry.
    fs::write(&entry, b"{\"version\":1,\"kind\":\"mfa-ses\x00\xff garbage").unwrap();
    let out = aws_session(&sb, None, &me);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ignoring session cache entry"),
        "{}",
        stderr(&out)
    );
    let second = env_map(&ok_out(aws_session(&sb, Some(&user.fresh_code()), &me)));
    assert_ne!(second["AWS_ACCESS_KEY_ID"], first["AWS_ACCESS_KEY_ID"]);
    let v: Value = serde_json::from_str(&fs::read_to_string(&entry).unwrap()).unwrap();
    assert_eq!(v["access_key_id"], json!(second["AWS_ACCESS_KEY_ID"]));
    assert_eq!(mode(&entry), 0o600);

    // A valid entry that others may read is not trusted either.
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o644)).unwrap();
    let out = aws_session(&sb, None, &me);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("0644"), "{}", stderr(&out));
    // It is removed at once (its session may have been read), not left for later.
    assert!(!entry.exists(), "the world-readable entry is still there");

    // Nor a symlink to a valid entry of ours.
    let elsewhere = sb.home.path().join("planted.json");
    fs::write(&elsewhere, &good).unwrap();
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    let out = aws_session(&sb, None, &me);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("symlink"), "{}", stderr(&out));
    ok(&aws_session(&sb, Some(&user.fresh_code()), &me));
    assert!(!fs::symlink_metadata(&entry)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read(&elsewhere).unwrap(),
        good,
        "the symlink target is untouched"
    );

    // A cache directory that is a symlink is refused; the run goes on without it.
    let real = sb.home.path().join("real-cache");
    fs::rename(cache_dir(&sb), &real).unwrap();
    std::os::unix::fs::symlink(&real, cache_dir(&sb)).unwrap();
    let out = aws_session(&sb, None, &me);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a directory owned by you"),
        "{}",
        stderr(&out)
    );
}

#[track_caller]
fn ok_out(o: Output) -> Output {
    ok(&o);
    o
}

#[test]
fn credential_process_works_for_the_aws_cli() {
    let peer = peer();
    let user = peer.create_user("rc-cp", true);
    let role = create_role(peer, "rc-cp", 3600, true);
    let sb = sandbox_for(
        &user,
        &format!(
            "{}[profile cp]\ncredential_process = {BIN} credential-process --profile me\n\
             [profile cprole]\ncredential_process = {BIN} credential-process --profile admin\n\
             [profile work]\ncredential_process = {BIN} credential-process --profile work\n\
             source_profile = me\nmfa_serial = {}\n",
            role_profile("admin", &role, ""),
            user.mfa_serial.clone().unwrap()
        ),
    );
    let cli = |profile: &str, code: Option<&str>| {
        let mut cmd = sb.aws(peer);
        if let Some(c) = code {
            cmd.env("AWS_SESSION_MFA_CODE", c);
        }
        cmd.args([
            "--profile",
            profile,
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ]);
        run(cmd)
    };
    // First call: a code in the environment (no terminal).
    assert_eq!(ok(&cli("cp", Some(&user.totp(0)))).trim(), user.arn);
    // Then from the cache: no code, and a role through the same MFA session.
    assert_eq!(ok(&cli("cp", None)).trim(), user.arn);
    assert!(ok(&cli("cprole", None)).contains(&format!("assumed-role/{}/", role.name)));
    // A profile whose credential_process names itself: aws-session reads its
    // source_profile and mfa_serial, never its credential_process line.
    assert_eq!(ok(&cli("work", None)).trim(), user.arn);
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);

    // The document itself.
    let out = aws_session(&sb, None, &["credential-process", "--profile", "admin"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["Version"], json!(1));
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(!v["SecretAccessKey"].as_str().unwrap().is_empty());
    assert!(!v["SessionToken"].as_str().unwrap().is_empty());
    let exp = v["Expiration"].as_str().unwrap();
    assert!(exp.len() == 20 && exp.ends_with('Z'), "{exp}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    // Without a cached session and without a code: exit 3, and the SDK shows why.
    let sb2 = sandbox_for(&user, "");
    let out = aws_session(&sb2, None, &["credential-process", "--profile", "me"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("AWS_SESSION_MFA_CODE"));
}

#[test]
fn export_evals_in_bash_and_fish_and_parses_as_json() {
    let peer = peer();
    let user = peer.create_user("rc-export", true);
    let role = create_role(peer, "rc-export", 3600, true);
    let sb = sandbox_for(&user, &role_profile("admin", &role, ""));
    let export = |format: &str, code: Option<&str>| {
        ok(&aws_session(
            &sb,
            code,
            &["--profile", "admin", "export", "--format", format],
        ))
    };
    let query = "aws sts get-caller-identity --query Arn --output text";
    let lines = export("env", Some(&user.totp(0)));
    assert!(lines.contains("export AWS_SESSION_TOKEN="), "{lines}");
    let out = run(sb.shell_command(peer, "bash", &format!("{lines}\n{query}")));
    assert!(ok(&out).contains(&format!("assumed-role/{}/", role.name)));

    let lines = export("fish", None);
    assert!(lines.contains("set -gx AWS_SESSION_TOKEN "), "{lines}");
    let out = run(sb.shell_command(peer, "fish", &format!("{lines}\n{query}")));
    assert!(ok(&out).contains(&format!("assumed-role/{}/", role.name)));

    let v: Value = serde_json::from_str(&export("json", None)).unwrap();
    assert!(v["AWS_ACCESS_KEY_ID"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(v["AWS_SESSION_ROLE_ARN"], json!(role.arn));
    assert_eq!(v["AWS_REGION"], json!("us-east-1"));
    assert!(v["AWS_SESSION_EXPIRATION"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .is_ok());
    assert_eq!(v.get("AWS_SESSION_PARENT_SECRET"), None);
    // The device's serial comes with the keys it belongs to, so that a later run only
    // uses it with those keys.
    assert_eq!(v["AWS_SESSION_SOURCE_KEY_ID"], json!(user.access_key_id));
    assert_eq!(v["AWS_SESSION_MFADEVICE"], json!(user.mfa_serial));

    let cp: Value = serde_json::from_str(&export("credential-process", None)).unwrap();
    assert_eq!(cp["Version"], json!(1));
    assert_eq!(cp["AccessKeyId"], v["AWS_ACCESS_KEY_ID"]);
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
}

#[test]
fn clear_forgets_sessions_and_then_a_code_is_needed() {
    let peer = peer();
    let alice = peer.create_user("rc-clear-a", true);
    let bob = peer.create_user("rc-clear-b", true);
    let sb = sandbox_for(&alice, "");
    sb.write_credentials(&format!("{}{}", keys("me", &alice), keys("bob", &bob)));
    sb.write_config(&format!(
        "[profile me]\nmfa_serial = {}\n[profile bob]\nmfa_serial = {}\n",
        alice.mfa_serial.clone().unwrap(),
        bob.mfa_serial.clone().unwrap()
    ));
    let exec =
        |p: &str, code: Option<&str>| aws_session(&sb, code, &["--profile", p, "exec", "true"]);
    ok(&exec("me", Some(&alice.totp(0))));
    ok(&exec("bob", Some(&bob.totp(0))));
    ok(&exec("me", None));

    // --profile: only that profile's sessions.
    let out = ok(&aws_session(&sb, None, &["clear", "--profile", "me"]));
    assert!(
        out.contains("removed 1 cached session of profile \"me\""),
        "{out}"
    );
    let out = exec("me", None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    ok(&exec("bob", None));

    // All: then a run without a terminal and without a code asks for one.
    let out = ok(&aws_session(&sb, None, &["clear"]));
    assert!(out.contains("removed 1 cached session from"), "{out}");
    let out = exec("bob", None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--code") && err.contains("AWS_SESSION_MFA_CODE"),
        "{err}"
    );
    assert!(cache_files(&sb).is_empty());
    let out = ok(&aws_session(&sb, None, &["clear"]));
    assert!(out.contains("removed 0 cached sessions"), "{out}");
}

/// `clear --profile bob` removes bob's sessions even when the environment holds other
/// keys (alice's): --profile names bob's keys, as for every command.
#[test]
fn clear_of_a_named_profile_ignores_keys_in_the_environment() {
    let peer = peer();
    let alice = peer.create_user("rc-clearenv-a", true);
    let bob = peer.create_user("rc-clearenv-b", true);
    let sb = sandbox_for(&alice, "");
    sb.write_credentials(&keys("bob", &bob));
    sb.write_config(&format!(
        "[profile bob]\nmfa_serial = {}\n",
        bob.mfa_serial.clone().unwrap()
    ));
    let with_alice = |code: Option<&str>, args: &[&str]| {
        let mut cmd = sb.command(peer);
        cmd.env("AWS_ACCESS_KEY_ID", &alice.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &alice.secret_access_key);
        if let Some(c) = code {
            cmd.env("AWS_SESSION_MFA_CODE", c);
        }
        cmd.args(args);
        run(cmd)
    };
    ok(&with_alice(
        Some(&bob.totp(0)),
        &["--profile", "bob", "exec", "true"],
    ));
    ok(&with_alice(Some(&alice.totp(0)), &["exec", "true"]));
    let alice_calls = ["ListMFADevices", "GetSessionToken"];
    assert_eq!(actions_by(peer, &bob.access_key_id), ["GetSessionToken"]);
    assert_eq!(actions_by(peer, &alice.access_key_id), alice_calls);

    let out = ok(&with_alice(None, &["clear", "--profile", "bob"]));
    assert!(
        out.contains("removed 1 cached session of profile \"bob\""),
        "{out}"
    );
    // Alice's session is still there: no code needed, no request.
    ok(&with_alice(None, &["exec", "true"]));
    assert_eq!(actions_by(peer, &alice.access_key_id), alice_calls);
    let out = with_alice(None, &["--profile", "bob", "exec", "true"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn no_cache_and_refresh() {
    let peer = peer();
    let user = peer.create_user("rc-nocache", true);
    let sb = sandbox_for(&user, "");
    let me = ["--profile", "me", "exec", "env"];
    // --no-cache and AWS_SESSION_CACHE=0: nothing written...
    ok(&aws_session(
        &sb,
        Some(&user.totp(-1)),
        &["--no-cache", "--profile", "me", "exec", "true"],
    ));
    assert!(!cache_dir(&sb).exists());
    let first = env_map(&ok_out(aws_session(&sb, Some(&user.totp(0)), &me)));
    // ...nor read.
    let out = aws_session(
        &sb,
        None,
        &["--no-cache", "--profile", "me", "exec", "true"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let mut cmd = sb.command(peer);
    cmd.env("AWS_SESSION_CACHE", "0").args(me);
    assert_eq!(run(cmd).status.code(), Some(3));

    // refresh always makes a new session, and stores it for the runs that follow.
    let before = count(&actions_by(peer, &user.access_key_id), "GetSessionToken");
    let out = ok(&aws_session(
        &sb,
        Some(&user.totp(1)),
        &["--profile", "me", "refresh"],
    ));
    assert_eq!(
        count(&actions_by(peer, &user.access_key_id), "GetSessionToken"),
        before + 1
    );
    assert!(!out.contains(&first["AWS_ACCESS_KEY_ID"]));
    let after = env_map(&ok_out(aws_session(&sb, None, &me)));
    assert!(out.contains(&format!(
        "export AWS_ACCESS_KEY_ID='{}'",
        after["AWS_ACCESS_KEY_ID"]
    )));
}

#[test]
fn status_shows_sessions_without_secrets() {
    let peer = peer();
    let user = peer.create_user("rc-status", true);
    let role = create_role(peer, "rc-status", 3600, true);
    let sb = sandbox_for(&user, &role_profile("admin", &role, ""));
    let out = ok(&aws_session(&sb, None, &["status"]));
    assert!(
        out.contains("environment: no aws-session credentials"),
        "{out}"
    );
    assert!(out.contains("cache: empty"), "{out}");

    ok(&aws_session(
        &sb,
        Some(&user.totp(0)),
        &["--profile", "admin", "exec", "true"],
    ));
    // Inside the session: status run by the child sees its environment.
    let out = aws_session(&sb, None, &["--profile", "admin", "exec", BIN, "status"]);
    let text = ok(&out);
    assert!(
        text.contains(&format!("environment: role session of {}", role.arn)),
        "{text}"
    );
    assert!(text.contains("profile \"admin\""), "{text}");
    assert!(text.contains(user.mfa_serial.as_deref().unwrap()), "{text}");
    assert!(text.contains("left"), "{text}");
    assert!(text.contains("mfa-session of profile \"me\""), "{text}");
    assert!(
        text.contains(&format!(
            "role of profile \"admin\" as arn:aws:sts::123456789012:assumed-role/{}/",
            role.name
        )),
        "{text}"
    );
    // No secret of any cached session, nor the long-term secret.
    for f in cache_files(&sb) {
        let v: Value = serde_json::from_str(&fs::read_to_string(&f).unwrap()).unwrap();
        for secret in ["secret_access_key", "session_token"] {
            let s = v[secret].as_str().unwrap();
            assert!(!text.contains(s), "status shows {secret}");
        }
    }
    assert!(!text.contains(&user.secret_access_key));

    // --profile filters; another profile has nothing cached.
    let sb2 = sandbox_for(&user, &role_profile("admin", &role, ""));
    let out = ok(&aws_session(
        &sb2,
        Some(&user.totp(1)),
        &["--profile", "me", "exec", "true"],
    ));
    let _ = out;
    let text = ok(&aws_session(&sb2, None, &["status", "--profile", "me"]));
    assert!(text.contains("mfa-session of profile \"me\""), "{text}");
    // A profile the files do not define is an error, not an empty list.
    let out = aws_session(&sb2, None, &["status", "--profile", "nobody"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("profile \"nobody\" not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_work_in_bash_zsh_and_fish() {
    let peer = peer();
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = x\n[sso-session corp]\nsso_region = x\n[default]\n");
    sb.write_credentials("[ops]\naws_access_key_id = A\naws_secret_access_key = B\n");
    let script = |shell: &str| ok(&aws_session(&sb, None, &["completions", shell]));

    let bash = script("bash");
    let complete = |words: &str| {
        let program = format!(
            "{bash}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _aws_session; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let mut lines: Vec<String> = ok(&run(sb.shell_command(peer, "bash", &program)))
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(complete("aws-session cre"), ["credential-process"]);
    assert_eq!(complete("aws-session --pro"), ["--profile"]);
    assert_eq!(
        complete("aws-session --profile ''"),
        ["default", "dev", "ops"]
    );
    assert_eq!(complete("aws-session export --format j"), ["json"]);
    assert_eq!(
        complete("aws-session completions ''"),
        ["bash", "fish", "zsh"]
    );

    let fish = script("fish");
    let out = run(sb.shell_command(
        peer,
        "fish",
        &format!("{fish}\ncomplete -C 'aws-session cre'\ncomplete -C 'aws-session --profile '"),
    ));
    let text = ok(&out);
    assert!(text.contains("credential-process"), "{text}");
    assert!(text.contains("dev") && text.contains("ops"), "{text}");
    assert!(!text.contains("corp"), "{text}");

    let zsh = script("zsh");
    let path = sb.home.path().join("_aws-session");
    fs::write(&path, &zsh).unwrap();
    let out = run(sb.shell_command(peer, "zsh", &format!("zsh -n {}", path.display())));
    ok(&out);
    // Loaded after compinit, it registers itself.
    let program = format!(
        "autoload -U compinit && compinit -u -d {home}/.zcompdump && source {path} && print -r -- ${{_comps[aws-session]}}",
        home = sb.home.path().display(),
        path = path.display()
    );
    assert_eq!(
        ok(&run(sb.shell_command(peer, "zsh", &program))).trim(),
        "_aws-session"
    );
}

#[test]
fn refresh_reuse_mfa_renews_a_role_session_from_the_cached_mfa_session() {
    let peer = peer();
    let user = peer.create_user("rc-reuse", true);
    let role = create_role(peer, "rc-reuse", 3600, true);
    let sb = sandbox_for(&user, &role_profile("admin", &role, ""));
    let first = env_map(&ok_out(aws_session(
        &sb,
        Some(&user.totp(0)),
        &["--profile", "admin", "exec", "env"],
    )));
    let mfa_session = peer
        .sessions()
        .into_iter()
        .find(|s| s.kind == "session" && s.arn == user.arn)
        .expect("an MFA session of the user");

    // What the shell's `aws` function runs when the role session has run out: a new
    // role session, assumed with the cached MFA session — no code, no GetSessionToken.
    let out = ok(&aws_session(
        &sb,
        None,
        &["--profile", "admin", "refresh", "--reuse-mfa"],
    ));
    assert!(out.contains("export AWS_SESSION_TOKEN="), "{out}");
    assert!(
        !out.contains(&first["AWS_ACCESS_KEY_ID"]),
        "a new role session, not the cached one: {out}"
    );
    assert!(out.contains(&format!("export AWS_SESSION_ROLE_ARN='{}'", role.arn)));
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    assert_eq!(
        count(&actions_by(peer, &mfa_session.access_key_id), "AssumeRole"),
        2
    );
    // It is stored: the next run uses it.
    let next = env_map(&ok_out(aws_session(
        &sb,
        None,
        &["--profile", "admin", "exec", "env"],
    )));
    assert!(out.contains(&format!(
        "export AWS_ACCESS_KEY_ID='{}'",
        next["AWS_ACCESS_KEY_ID"]
    )));

    // aws-session-refresh (plain `refresh`) still makes everything new: a code.
    let out = aws_session(&sb, None, &["--profile", "admin", "refresh"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // For a profile whose session is the MFA session itself, --reuse-mfa has nothing to
    // reuse: the MFA session is what ran out, and a code is needed.
    let out = aws_session(&sb, None, &["--profile", "me", "refresh", "--reuse-mfa"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
}

#[test]
fn a_session_with_a_discovered_device_is_found_again_from_inside_it() {
    let peer = peer();
    let user = peer.create_user("rc-disc", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("dev", &user));
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    // No mfa_serial: the device is discovered.
    let child = env_map(&ok_out(aws_session(
        &sb,
        Some(&user.totp(0)),
        &["--profile", "dev", "exec", "env"],
    )));
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
    assert_eq!(
        child["AWS_SESSION_MFADEVICE"],
        user.mfa_serial.clone().unwrap()
    );
    assert_eq!(child["AWS_SESSION_SOURCE_KEY_ID"], user.access_key_id);

    // From inside that session (its environment: AWS_SESSION_MFADEVICE names the
    // device), the cached session is found: no code, no request.
    let mut cmd = sb.command(peer);
    cmd.envs(&child).args(["--profile", "dev", "exec", "env"]);
    let again = env_map(&ok_out(run(cmd)));
    assert_eq!(again["AWS_ACCESS_KEY_ID"], child["AWS_ACCESS_KEY_ID"]);
    assert_eq!(
        actions_by(peer, &user.access_key_id),
        ["ListMFADevices", "GetSessionToken"]
    );
}
