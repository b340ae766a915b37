//! Keys out of plaintext, codes from a command, and key rotation, against the peer:
//! `credential_process` as the source of a profile's keys, `mfa_process` instead of the
//! terminal prompt, and `aws-session rotate`.

use crate::common::{self, stderr, stdout, Peer, Sandbox, TestUser};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

/// Write an executable shell script `name` into the sandbox's HOME; its path.
fn script(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    let path = sb.home.path().join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
    path
}

/// A script printing `user`'s keys as credential_process JSON.
fn keys_script(sb: &Sandbox, user: &TestUser) -> PathBuf {
    script(
        sb,
        "keys.sh",
        &format!(
            "printf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' '{}' '{}'",
            user.access_key_id, user.secret_access_key
        ),
    )
}

fn one_line_error(o: &Output, code: i32, words: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("aws-session: "), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} missing from: {err}");
    }
    err
}

#[test]
fn credential_process_keys_make_mfa_and_role_sessions_and_show_in_status() {
    let peer = Peer::shared();
    let user = peer.create_user("cp", true);
    let role = peer.create_role("cp-role", 3600, &[]);
    let sb = Sandbox::new();
    let cp = keys_script(&sb, &user);
    let serial = user.mfa_serial.clone().unwrap();
    sb.write_config(&format!(
        "[profile cp]\ncredential_process = {}\nmfa_serial = {serial}\n\
         [profile r]\nrole_arn = {}\nsource_profile = cp\nmfa_serial = {serial}\n",
        cp.display(),
        role.arn
    ));
    let o = sb
        .command(peer)
        .args([
            "--profile",
            "cp",
            "--code",
            &user.fresh_code(),
            "exec",
            "env",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let env = common::env_map(&o);
    assert!(env["AWS_ACCESS_KEY_ID"].starts_with("ASIA"), "{env:?}");
    assert_ne!(env["AWS_ACCESS_KEY_ID"], user.access_key_id);
    assert!(!stdout(&o).contains(&user.secret_access_key));
    assert!(common::actions_by(peer, &user.access_key_id).contains(&"GetSessionToken".to_string()));

    let o = sb
        .command(peer)
        .args([
            "--profile",
            "r",
            "--code",
            &user.fresh_code(),
            "exec",
            "env",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // The child keeps the profile for aws-session only (no AWS_PROFILE: an SDK would
    // read the profile's long-term keys from it).
    let env = common::env_map(&o);
    assert_eq!(
        env.get("AWS_SESSION_PROFILE").map(String::as_str),
        Some("r")
    );
    assert!(!env.contains_key("AWS_PROFILE"), "{env:?}");
    assert!(peer
        .sessions()
        .iter()
        .any(|s| s.kind == "role" && s.arn.contains(&role.role_name)));

    let o = sb
        .command(peer)
        .args(["--profile", "cp", "status"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"cp\""), "{}", stdout(&o));
}

#[test]
fn credential_process_recursion_is_refused() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    // aws-session itself without keys of its own.
    sb.write_config(
        "[profile me]\ncredential_process = aws-session credential-process --profile me\n",
    );
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    one_line_error(&o, 2, &["\"me\"", "call itself"]);
    // aws-session under another name: the inner run refuses, the outer says it failed.
    let wrapper = script(
        &sb,
        "wrapper.sh",
        &format!(
            "exec '{}' credential-process --profile loop",
            env!("CARGO_BIN_EXE_aws-session")
        ),
    );
    sb.write_config(&format!(
        "[profile loop]\ncredential_process = {}\n",
        wrapper.display()
    ));
    let o = sb
        .command(peer)
        .args(["--profile", "loop", "--code", "123456", "exec", "true"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("AWS_SESSION_IN_CREDENTIAL_PROCESS"), "{err}");
    assert!(err.contains("failed (exit status 2)"), "{err}");
    assert!(peer.log().iter().all(|r| r.access_key_id != "loop"));
}

/// Run `exec true` for a profile whose credential_process is `body`.
fn with_process(body: &str) -> Output {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    let cp = script(&sb, "cp.sh", body);
    sb.write_config(&format!(
        "[profile p]\ncredential_process = {} --flag 'a b'\n",
        cp.display()
    ));
    sb.command(peer)
        .args(["--profile", "p", "--code", "123456", "exec", "true"])
        .output()
        .unwrap()
}

#[test]
fn credential_process_not_found() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    sb.write_config("[profile p]\ncredential_process = /nonexistent/keys --x\n");
    let o = sb
        .command(peer)
        .args(["--profile", "p", "exec", "true"])
        .output()
        .unwrap();
    one_line_error(&o, 2, &["credential_process of profile \"p\"", "not found"]);
}

#[test]
fn credential_process_unterminated_quote() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    sb.write_config("[profile p]\ncredential_process = pass show 'aws\n");
    let o = sb
        .command(peer)
        .args(["--profile", "p", "exec", "true"])
        .output()
        .unwrap();
    one_line_error(&o, 2, &["single quote is not closed"]);
}

#[test]
fn credential_process_fails() {
    let o = with_process("echo 'gpg: decryption failed' >&2; exit 3");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // Its stderr passes through, then our one line.
    assert!(err.starts_with("gpg: decryption failed\n"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .contains("failed (exit status 3)"),
        "{err}"
    );
}

#[test]
fn credential_process_bad_json() {
    let o = with_process("echo 'AKIA secret'");
    let err = one_line_error(&o, 2, &["no valid JSON object"]);
    assert!(!err.contains("secret"), "{err}");
}

#[test]
fn credential_process_wrong_version() {
    let o =
        with_process(r#"echo '{"Version": 2, "AccessKeyId": "AKIA1", "SecretAccessKey": "s"}'"#);
    one_line_error(&o, 2, &["Version 2, not 1"]);
}

#[test]
fn credential_process_missing_secret() {
    let o = with_process(r#"echo '{"Version": 1, "AccessKeyId": "AKIA1"}'"#);
    one_line_error(&o, 2, &["without \"AccessKeyId\" or \"SecretAccessKey\""]);
}

#[test]
fn credential_process_session_keys_for_an_mfa_session() {
    let o = with_process(
        r#"echo '{"Version": 1, "AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t"}'"#,
    );
    one_line_error(&o, 2, &["temporary credentials", "GetSessionToken"]);
}

#[test]
fn mfa_process_makes_sessions_without_a_terminal() {
    let peer = Peer::shared();
    let user = peer.create_user("mfap", true);
    let sb = Sandbox::new();
    sb.write_credentials(&common::keys("default", &user));
    let code_file = sb.home.path().join("code");
    let ykman = script(&sb, "ykman", &format!("cat '{}'", code_file.display()));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\nmfa_process = {} oath accounts code --single\n",
        user.mfa_serial.clone().unwrap(),
        ykman.display()
    ));
    // exec, from the profile's mfa_process.
    fs::write(&code_file, format!("{}\n", user.fresh_code())).unwrap();
    let o = sb
        .command(peer)
        .args(["--no-cache", "exec", "env"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(common::env_map(&o)["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    // credential-process.
    fs::write(&code_file, user.fresh_code()).unwrap();
    let o = sb
        .command(peer)
        .args(["--no-cache", "credential-process"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"SessionToken\""));
    // refresh, from AWS_SESSION_MFA_PROCESS (it wins over the profile's).
    let env_process = script(
        &sb,
        "code.sh",
        &format!("printf '%s' '{}'", user.fresh_code()),
    );
    let o = sb
        .command(peer)
        .env("AWS_SESSION_MFA_PROCESS", env_process.display().to_string())
        .args(["refresh"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("export AWS_SESSION_TOKEN="));
    let gets = common::actions_by(peer, &user.access_key_id)
        .into_iter()
        .filter(|a| a == "GetSessionToken")
        .count();
    assert_eq!(gets, 3);
}

#[test]
fn mfa_process_bad_output() {
    let peer = Peer::shared();
    let user = peer.create_user("mfabad", true);
    let sb = Sandbox::new();
    sb.write_credentials(&common::keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    let o = sb
        .command(peer)
        .env("AWS_SESSION_MFA_PROCESS", "echo 12345")
        .args(["exec", "true"])
        .output()
        .unwrap();
    one_line_error(
        &o,
        3,
        &[
            "AWS_SESSION_MFA_PROCESS",
            "5 characters, not a 6-digit code",
        ],
    );
    assert!(common::actions_by(peer, &user.access_key_id).is_empty());
}

#[test]
fn mfa_process_refused_code_is_asked_again_at_the_next_window() {
    let peer = Peer::shared();
    let user = peer.create_user("mfaretry", true);
    let sb = Sandbox::new();
    sb.write_credentials(&common::keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    // A wrong code first, then the code of the next window (valid then and now).
    let mark = sb.home.path().join("asked");
    let codes = script(
        &sb,
        "codes.sh",
        &format!(
            "if [ -e '{m}' ]; then printf '%s\\n' '{}'; else touch '{m}'; printf '000000\\n'; fi",
            user.totp(1),
            m = mark.display()
        ),
    );
    let o = sb
        .command(peer)
        .env("AWS_SESSION_MFA_PROCESS", codes.display().to_string())
        .args(["exec", "true"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("asking it again in"), "{err}");
    let gets = common::actions_by(peer, &user.access_key_id)
        .into_iter()
        .filter(|a| a == "GetSessionToken")
        .count();
    assert_eq!(gets, 2);
}

const OTHER: &str =
    "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other/secret\n";

/// A credentials file with comments, another profile and the user's keys in `me`.
fn rotate_sandbox(user: &TestUser) -> (Sandbox, String) {
    let sb = Sandbox::new();
    let text = format!(
        "# my keys\n{OTHER}\n[me]\n; rotated by aws-session\naws_access_key_id = {}\nregion_note = x\naws_secret_access_key = {}\n# end\n",
        user.access_key_id, user.secret_access_key
    );
    sb.write_credentials(&text);
    sb.write_config(&format!(
        "[profile me]\nmfa_serial = {}\n",
        user.mfa_serial.clone().unwrap()
    ));
    (sb, text)
}

fn identity(sb: &Sandbox, peer: &Peer) -> Output {
    sb.aws(peer)
        .args(["--profile", "me", "sts", "get-caller-identity"])
        .output()
        .unwrap()
}

fn file_keys(sb: &Sandbox) -> (String, String) {
    let text = fs::read_to_string(&sb.credentials_file).unwrap();
    let me = text.split("[me]").nth(1).unwrap().to_string();
    let value = |k: &str| {
        me.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} = ")))
            .unwrap()
            .split("  #")
            .next()
            .unwrap()
            .to_string()
    };
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

#[test]
fn rotate_replaces_the_key_and_changes_only_its_two_values() {
    let peer = Peer::shared();
    let user = peer.create_user("rot", true);
    let (sb, before) = rotate_sandbox(&user);
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", &user.fresh_code(), "rotate"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (new_id, new_secret) = file_keys(&sb);
    assert_ne!(new_id, user.access_key_id);
    assert!(stdout(&o).contains(&new_id) && !stdout(&o).contains(&new_secret));
    let after = fs::read_to_string(&sb.credentials_file).unwrap();
    assert_eq!(
        after,
        before
            .replace(&user.access_key_id, &new_id)
            .replace(&user.secret_access_key, &new_secret)
    );
    let mode = fs::metadata(&sb.credentials_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The new key works; the old one is gone at the peer.
    let o = identity(&sb, peer);
    assert!(o.status.success(), "{}", stderr(&o));
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
    assert!(stdout(&o).contains(&new_id));
    assert!(!stdout(&o).contains(&user.access_key_id));
    // The sessions of the old key are gone from the cache: a code is needed again.
    let o = sb
        .command(peer)
        .args(["--profile", "me", "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn rotate_with_two_keys_changes_nothing() {
    let peer = Peer::shared();
    let user = peer.create_user("rot2", true);
    let (sb, before) = rotate_sandbox(&user);
    let o = sb
        .aws(peer)
        .args([
            "--profile",
            "me",
            "iam",
            "create-access-key",
            "--user-name",
            &user.user_name,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", &user.fresh_code(), "rotate"])
        .output()
        .unwrap();
    one_line_error(
        &o,
        2,
        &["already has two access keys", "nothing was changed"],
    );
    assert_eq!(fs::read_to_string(&sb.credentials_file).unwrap(), before);
    let creates = peer
        .log()
        .into_iter()
        .filter(|r| r.action == "CreateAccessKey" && r.access_key_id.starts_with("ASIA"))
        .filter(|r| r.params.get("UserName") == Some(&user.user_name))
        .count();
    assert_eq!(creates, 0);
}

#[test]
fn rotate_delete_fails_after_create() {
    let peer = Peer::shared();
    let user = peer.create_user("rotfail", true);
    let (sb, _) = rotate_sandbox(&user);
    peer.fail(
        &user.user_name,
        "DeleteAccessKey",
        1,
        Some("CreateAccessKey"),
        "ServiceFailure",
    );
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", &user.fresh_code(), "rotate"])
        .output()
        .unwrap();
    let (new_id, _) = file_keys(&sb);
    assert_ne!(new_id, user.access_key_id);
    one_line_error(
        &o,
        4,
        &[
            &format!("holds the new key {new_id}, which works"),
            "still active at AWS",
        ],
    );
    let o = identity(&sb, peer);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn rotate_new_key_not_accepted() {
    let peer = Peer::shared();
    let user = peer.create_user("rotwait", true);
    let (sb, before) = rotate_sandbox(&user);
    peer.fail(
        &user.user_name,
        "GetCallerIdentity",
        1000,
        Some("CreateAccessKey"),
        "InvalidClientTokenId",
    );
    let o = sb
        .command(peer)
        .args(["--profile", "me", "--code", &user.fresh_code(), "rotate"])
        .output()
        .unwrap();
    one_line_error(
        &o,
        4,
        &[
            "did not accept the new key",
            "holds the old key",
            "was deleted again",
        ],
    );
    assert_eq!(fs::read_to_string(&sb.credentials_file).unwrap(), before);
    peer.fail(&user.user_name, "GetCallerIdentity", 0, None, "x");
}

#[test]
fn rotate_keys_from_credential_process() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    // `true` wherever the system keeps it (/bin/true on Linux, /usr/bin/true on macOS).
    sb.write_config(&format!(
        "[profile p]\ncredential_process = {}\n",
        crate::common::tool("true").display()
    ));
    let o = sb
        .command(peer)
        .args(["--profile", "p", "rotate"])
        .output()
        .unwrap();
    // The process prints nothing: that error comes first; with keys it would be refused.
    one_line_error(&o, 2, &["credential_process of profile \"p\""]);
    let user = peer.create_user("rotcp", false);
    let cp = keys_script(&sb, &user);
    sb.write_config(&format!(
        "[profile p]\ncredential_process = {}\n",
        cp.display()
    ));
    let o = sb
        .command(peer)
        .args(["--profile", "p", "rotate"])
        .output()
        .unwrap();
    one_line_error(&o, 2, &["come from its credential_process", "cannot write"]);
    let o = sb
        .command(peer)
        .env("AWS_ACCESS_KEY_ID", &user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key)
        .args(["rotate"])
        .output()
        .unwrap();
    one_line_error(&o, 2, &["from the environment", "cannot write"]);
}
