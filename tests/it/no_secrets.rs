//! No secret in any output: every command runs with `--debug` against the moto
//! peer, and all it prints (stdout and stderr) is searched for every secret in
//! play — the long-term secret key, and the secret key and session token of each
//! session issued. Only the places where a command hands credentials out on
//! purpose (refresh's `export` lines, export's JSON) may hold them, and only the
//! new session's.
//!
//! One test per command; a new command is one line: `#[test] fn status() {
//! check(&["status"], Stdout::Clean) }`.

use crate::common::{Peer, Sandbox, TestUser};
use std::collections::BTreeSet;
use std::process::Output;

/// What a command's stdout may carry on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stdout {
    /// No credential at all (exec, status, clear, ...).
    Clean,
    /// `export NAME='value'` lines for the session's variables (refresh, export).
    ExportLines,
    /// `set -gx NAME 'value'` lines (refresh/export --format fish).
    FishLines,
    /// A JSON object with `SecretAccessKey` and `SessionToken` (credential-process) or
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (export --format json).
    Json,
}

/// Variables whose values are secrets, wherever they show up.
const SECRET_VARS: [&str; 5] = [
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_PARENT_SECRET",
    "AWS_SESSION_PARENT_TOKEN",
];

/// JSON fields whose values are secrets: credential_process's, and export's (which
/// uses the variable names).
const SECRET_FIELDS: [&str; 7] = [
    "SecretAccessKey",
    "SessionToken",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_PARENT_SECRET",
    "AWS_SESSION_PARENT_TOKEN",
];

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Strip the quoting of refresh/export output: `'a'\''b'` (sh) or `'a\'b'` (fish).
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = v
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v);
    inner
        .replace(r"'\''", "'")
        .replace(r"\'", "'")
        .replace(r"\\", r"\")
}

/// Split stdout into the lines that hand credentials out on purpose (their secret
/// values are returned) and everything else (which must hold no secret).
fn split_stdout(stdout: &str, kind: Stdout) -> (Vec<String>, String) {
    let mut handed_out = Vec::new();
    let mut rest = String::new();
    for line in stdout.lines() {
        let secret_value = match kind {
            Stdout::Clean => None,
            Stdout::ExportLines => line
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
                .filter(|(k, _)| SECRET_VARS.contains(k))
                .map(|(_, v)| unquote(v)),
            Stdout::FishLines => line
                .strip_prefix("set -gx ")
                .and_then(|l| l.split_once(' '))
                .filter(|(k, _)| SECRET_VARS.contains(k))
                .map(|(_, v)| unquote(v)),
            Stdout::Json => None,
        };
        match secret_value {
            Some(v) => handed_out.push(v),
            None => {
                rest.push_str(line);
                rest.push('\n');
            }
        }
    }
    if kind == Stdout::Json {
        let v: serde_json::Value = serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
        let mut obj = v.as_object().cloned().unwrap_or_default();
        for field in SECRET_FIELDS {
            if let Some(s) = obj
                .remove(field)
                .and_then(|s| s.as_str().map(str::to_string))
            {
                handed_out.push(s);
            }
        }
        rest = serde_json::Value::Object(obj).to_string();
    }
    (handed_out, rest)
}

/// The secret values of a child's `env` output.
fn secrets_of_env(env_text: &str) -> Vec<String> {
    env_text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, v)| SECRET_VARS.contains(k) && !v.is_empty())
        .map(|(_, v)| v.to_string())
        .collect()
}

#[track_caller]
fn assert_clean(what: &str, output: &str, secrets: &BTreeSet<String>) {
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "{what} holds a secret ({}…, {} chars):\n{output}",
            &s[..4.min(s.len())],
            s.len()
        );
    }
}

/// A user of the peer with keys in the environment (so the child also gets a parent
/// stash) and a sandbox to run in.
fn setup(prefix: &str) -> (&'static Peer, TestUser, Sandbox) {
    let peer = Peer::shared();
    let user = peer.create_user(prefix, true);
    let sb = Sandbox::new();
    // A profile with other keys is there too, so a mix-up would show.
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    (peer, user, sb)
}

/// Run `args` with --debug after a first session made by `exec`, and check that no
/// output of either run holds a secret outside the places `stdout` allows.
fn check(args: &[&str], stdout: Stdout) {
    let (peer, user, sb) = setup(&format!("nosec-{}", args[0]));
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    secrets.insert(user.secret_access_key.clone());

    // 1. exec, with keys from the environment: the child writes its environment to a
    //    file (its argv holds no secret), from which the session's secrets are known.
    let env_file = sb.home.path().join("child.env");
    let out = sb
        .command(peer)
        .env("AWS_ACCESS_KEY_ID", &user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key)
        .args(["--debug", "--code", &user.fresh_code(), "exec", "sh", "-c"])
        .arg(format!("env > '{}'", env_file.display()))
        .output()
        .expect("run exec");
    let (o, e) = text(&out);
    assert!(out.status.success(), "exec failed: {e}");
    assert!(e.contains("debug:"), "--debug traced nothing: {e}");
    let child_env = std::fs::read_to_string(&env_file).expect("the child's environment");
    let child_secrets = secrets_of_env(&child_env);
    assert!(
        child_secrets.len() >= 3,
        "the session's secret and token expected"
    );
    // The long-term secret stays out of the child's environment (it is in the stash).
    assert!(
        !child_env.contains(&user.secret_access_key),
        "the long-term secret is in the child's environment"
    );
    secrets.extend(child_secrets);
    assert_clean("exec stdout", &o, &secrets);
    assert_clean("exec stderr", &e, &secrets);

    // 2. The command under test, also with --debug and keys from a profile.
    let out = sb
        .command(peer)
        .args(["--debug", "--code", &user.fresh_code()])
        .args(args)
        .output()
        .expect("run");
    let (o, e) = text(&out);
    assert!(out.status.success(), "{args:?} failed: {e}");
    let (handed_out, rest) = split_stdout(&o, stdout);
    // What a command hands out on purpose is a new session's, never the long-term
    // secret, and never anywhere else.
    assert!(!handed_out.contains(&user.secret_access_key));
    if stdout != Stdout::Clean {
        assert!(
            !handed_out.is_empty(),
            "{args:?} printed no credentials: {o}"
        );
    }
    secrets.extend(handed_out);
    assert_clean(&format!("{args:?} stdout"), &rest, &secrets);
    assert_clean(&format!("{args:?} stderr"), &e, &secrets);
}

#[test]
fn exec() {
    check(&["exec", "true"], Stdout::Clean);
}

#[test]
fn refresh() {
    check(&["refresh"], Stdout::ExportLines);
}

#[test]
fn refresh_fish() {
    check(&["refresh", "--format", "fish"], Stdout::FishLines);
}

#[test]
fn export() {
    check(&["export"], Stdout::ExportLines);
}

#[test]
fn export_json() {
    check(&["export", "--format", "json"], Stdout::Json);
}

#[test]
fn export_credential_process_format() {
    check(&["export", "--format", "credential-process"], Stdout::Json);
}

#[test]
fn credential_process() {
    check(&["credential-process"], Stdout::Json);
}

#[test]
fn status() {
    check(&["status"], Stdout::Clean);
}

#[test]
fn clear() {
    check(&["clear"], Stdout::Clean);
}

// provision-mfa shows its secret (the seed) on purpose, on the terminal only; that its
// --debug output and files never hold the seed is tests/it/provision.rs's
// `save_edits_only_its_line_keeps_the_mode_and_never_shows_the_seed_in_debug`.

#[test]
fn split_stdout_finds_every_handed_out_secret() {
    let (out, rest) = split_stdout(
        "export AWS_SECRET_ACCESS_KEY='a'\\''b'\nexport AWS_REGION='x'\n",
        Stdout::ExportLines,
    );
    assert_eq!(out, ["a'b"]);
    assert_eq!(rest, "export AWS_REGION='x'\n");
    let (out, rest) = split_stdout(
        r#"{"Version":1,"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t"}"#,
        Stdout::Json,
    );
    assert_eq!(out, ["s", "t"]);
    assert!(!rest.contains("\"s\"") && rest.contains("ASIA"));
    let mut secrets = BTreeSet::new();
    secrets.insert("hidden".to_string());
    let caught = std::panic::catch_unwind(|| assert_clean("x", "a hidden b", &secrets));
    assert!(caught.is_err(), "a secret must be found");
}

/// Every IAM Identity Center secret in `~/.aws/sso/cache`: access and refresh tokens,
/// client secrets.
fn sso_secrets(sb: &Sandbox, into: &mut BTreeSet<String>) {
    let dir = sb.home.path().join(".aws/sso/cache");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for k in ["accessToken", "refreshToken", "clientSecret"] {
            if let Some(s) = v[k].as_str() {
                into.insert(s.to_string());
            }
        }
    }
}

#[test]
fn sso_tokens_and_client_secrets_with_debug() {
    let (peer, role) = crate::sso::sso_peer();
    let sb = Sandbox::new();
    crate::sso::sso_config(&sb, &role);
    let browser = crate::sso::fake_browser(&sb, "loc");
    let mut secrets = BTreeSet::new();
    let mut outputs = Vec::new();
    let mut run = |args: &[&str], secrets: &mut BTreeSet<String>| {
        let out = sb
            .command(&peer)
            .env("BROWSER", &browser)
            .args(["--debug", "--profile", "dev"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        sso_secrets(&sb, secrets);
        outputs.push((args.join(" "), out));
    };
    run(&["login"], &mut secrets);
    run(&["exec", "aws", "sts", "get-caller-identity"], &mut secrets);
    run(&["sso-profiles"], &mut secrets);
    // A refresh: the token made to look nearly expired, the cached role keys gone.
    let path = crate::sso::token_path(&sb, "corp");
    let mut token = crate::sso::read_token(&sb);
    token["expiresAt"] = serde_json::json!("2001-01-01T00:00:00Z");
    std::fs::write(&path, token.to_string()).unwrap();
    std::fs::remove_dir_all(sb.home.path().join(".cache/aws-session")).unwrap();
    run(&["credential-process"], &mut secrets);
    run(&["export"], &mut secrets);
    sso_secrets(&sb, &mut secrets);
    run(&["logout"], &mut secrets);
    assert!(secrets.len() >= 5, "{} secrets", secrets.len());
    for (what, out) in &outputs {
        let (o, e) = text(out);
        assert_clean(&format!("{what} stdout"), &o, &secrets);
        assert_clean(&format!("{what} stderr"), &e, &secrets);
    }
}
