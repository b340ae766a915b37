//! Daily use: the region a child sees, hints that name the files read, and the edges a
//! person meets every day (against the AWS stand-in in tests/peer).

use crate::common::{env_map, keys, stderr, stdout, Peer, Sandbox};
use std::fs;

fn peer() -> &'static Peer {
    Peer::shared()
}

/// The child's AWS_REGION and AWS_DEFAULT_REGION agree with the AWS CLI's order:
/// AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`.
#[test]
fn the_childs_two_region_variables_agree_with_the_aws_clis_order() {
    let peer = peer();
    let user = peer.create_user("region", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("AWS_DEFAULT_REGION", "eu-west-1")], "eu-west-1"),
        (&[("AWS_REGION", "ap-south-1")], "ap-south-1"),
        (
            &[
                ("AWS_REGION", "ap-south-1"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
            ],
            "ap-south-1",
        ),
        (&[], "us-east-1"),
    ];
    // One code: the later runs take the cached session.
    let code = user.totp(0);
    for (i, (vars, want)) in cases.iter().enumerate() {
        let mut cmd = sb.command(peer);
        cmd.envs(vars.iter().copied());
        if i == 0 {
            cmd.args(["--code", &code]);
        }
        cmd.args(["exec", "env"]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{vars:?}: {}", stderr(&out));
        let env = env_map(&out);
        assert_eq!(
            env.get("AWS_REGION").map(String::as_str),
            Some(*want),
            "{vars:?}"
        );
        assert_eq!(
            env.get("AWS_DEFAULT_REGION").map(String::as_str),
            Some(*want),
            "{vars:?}"
        );
    }
    // `export` prints the same agreement.
    let out = sb
        .command(peer)
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .arg("export")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("AWS_REGION") && l.contains("eu-west-1")),
        "{text}"
    );
    assert!(!text.contains("us-east-1"), "{text}");
}

/// A sandbox whose credentials file is not at ~/.aws/credentials but where
/// AWS_SHARED_CREDENTIALS_FILE points.
fn sandbox_with_credentials_elsewhere(text: &str) -> (Sandbox, String) {
    let sb = Sandbox::new();
    let dir = sb.home.path().join("work");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("aws-keys");
    fs::write(&file, text).unwrap();
    (sb, file.display().to_string())
}

/// Advice about a key names the file the key was read from, never a default path the
/// run did not read.
#[test]
fn hints_about_keys_name_the_credentials_file_that_was_read() {
    let peer = peer();
    let user = peer.create_user("hintfile", true);
    let serial = user.mfa_serial.clone().unwrap();
    let wrong_secret = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}x\n\
         [unknown]\naws_access_key_id = AKIAUNKNOWNUNKNOWN12\naws_secret_access_key = s\n\
         [half]\naws_access_key_id = {}\n",
        user.access_key_id, user.secret_access_key, user.access_key_id
    );
    let (sb, file) = sandbox_with_credentials_elsewhere(&wrong_secret);
    sb.write_config(&format!(
        "[default]\nmfa_serial = {serial}\n[profile unknown]\nmfa_serial = {serial}\n\
         [profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = half\n"
    ));
    let run = |args: &[&str]| {
        let out = sb
            .command(peer)
            .env("AWS_SHARED_CREDENTIALS_FILE", &file)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), stderr(&out))
    };
    let (_, wrong) = run(&["--code", &user.totp(0), "exec", "true"]);
    assert!(wrong.contains("SignatureDoesNotMatch"), "{wrong}");
    assert!(
        wrong.contains(&format!("aws_secret_access_key in {file}")),
        "{wrong}"
    );
    let (_, unknown) = run(&["--profile", "unknown", "--code", "123456", "exec", "true"]);
    assert!(unknown.contains("InvalidClientTokenId"), "{unknown}");
    assert!(unknown.contains(&format!("check {file}")), "{unknown}");
    let (code, half) = run(&["--profile", "role", "exec", "true"]);
    assert_eq!(code, Some(2), "{half}");
    assert!(half.contains(&file), "{half}");
    for err in [wrong, unknown, half] {
        assert!(!err.contains("~/.aws/credentials"), "{err}");
    }
}

/// `status --format json` holds the same fields as the text, inside a session and for
/// the cache, and never a secret.
#[test]
fn status_as_json_has_the_fields_of_the_text() {
    let peer = peer();
    let user = peer.create_user("statusjson", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let out = sb
        .command(peer)
        .args(["--code", &user.totp(0), "exec", "sh", "-c"])
        .arg(r#""$AWS_SESSION" status; echo ---; "$AWS_SESSION" status --format json; env"#)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let all = stdout(&out);
    let (text, rest) = all.split_once("---\n").expect("two parts");
    let (json, env_text) = rest.split_once('\n').expect("one JSON line");
    let env: std::collections::BTreeMap<&str, &str> =
        env_text.lines().filter_map(|l| l.split_once('=')).collect();
    let doc: serde_json::Value = serde_json::from_str(json).expect("status JSON parses");
    let session = &doc["environment"];
    assert_eq!(session["kind"], "mfa-session", "{json}");
    assert_eq!(session["access_key_id"], env["AWS_ACCESS_KEY_ID"]);
    assert_eq!(session["mfa_serial"], user.mfa_serial.as_deref().unwrap());
    assert_eq!(
        session["expiration_epoch"].to_string(),
        env["AWS_SESSION_EXPIRATION"]
    );
    let cache = &doc["cache"];
    assert_eq!(cache["exists"], true);
    assert_eq!(cache["used"], true);
    let sessions = cache["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{json}");
    assert_eq!(
        sessions[0]["source_access_key_id"],
        user.access_key_id.as_str()
    );
    assert_eq!(sessions[0]["usable"], true);
    // Every value the JSON gives is in the text too.
    let strings = [
        &session["profile"],
        &session["access_key_id"],
        &session["mfa_serial"],
        &session["expiration"],
        &session["left"],
        &cache["dir"],
        &sessions[0]["kind"],
        &sessions[0]["profile"],
        &sessions[0]["access_key_id"],
        &sessions[0]["source_access_key_id"],
        &sessions[0]["mfa_serial"],
        &sessions[0]["expiration"],
    ];
    for v in strings {
        let v = v
            .as_str()
            .unwrap_or_else(|| panic!("a string: {v} in {json}"));
        assert!(text.contains(v), "{v:?} is not in the text:\n{text}");
    }
    for secret in [
        env["AWS_SECRET_ACCESS_KEY"],
        env["AWS_SESSION_TOKEN"],
        user.secret_access_key.as_str(),
    ] {
        assert!(!text.contains(secret) && !json.contains(secret), "a secret");
    }
    // Outside a session, with no cache yet: null and "exists": false.
    let empty = Sandbox::new();
    let out = empty
        .command(peer)
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(doc["environment"].is_null());
    assert_eq!(doc["cache"]["exists"], false);
    let out = empty
        .command(peer)
        .args(["status", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// `aws-session doctor` in `sb`: (exit code, stdout, stderr).
fn doctor(sb: &Sandbox, peer: &Peer) -> (Option<i32>, String, String) {
    let out = sb
        .command(peer)
        .env("SHELL", "/bin/bash")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .arg("doctor")
        .output()
        .unwrap();
    (out.status.code(), stdout(&out), stderr(&out))
}

/// The line of `report` about `what`, with its level.
fn line_of<'a>(report: &'a str, what: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line about {what:?}:\n{report}"))
}

fn doctor_sandbox(user: &crate::common::TestUser, serial: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", user));
    sb.write_config(&format!("[default]\nmfa_serial = {serial}\n"));
    sb
}

/// A healthy profile: every line ok, exit 0, one request (GetCallerIdentity), the key
/// id masked and no secret.
#[test]
fn doctor_passes_a_healthy_profile_with_one_request() {
    let peer = peer();
    let user = peer.create_user("doctorok", true);
    let sb = doctor_sandbox(&user, user.mfa_serial.as_deref().unwrap());
    let (code, report, err) = doctor(&sb, peer);
    assert_eq!(code, Some(0), "{report}{err}");
    assert!(
        report
            .lines()
            .all(|l| !l.starts_with("FAIL") && !l.starts_with("warn")),
        "{report}"
    );
    assert!(
        line_of(&report, "identity:").contains(&user.arn),
        "{report}"
    );
    assert!(line_of(&report, "profile \"default\"").starts_with("ok"));
    assert!(line_of(&report, "MFA device").contains(user.mfa_serial.as_deref().unwrap()));
    assert!(line_of(&report, "clock:").starts_with("ok"));
    assert!(line_of(&report, "STS endpoint").contains("us-east-1"));
    assert!(line_of(&report, "0 failed").contains("checks"));
    assert!(
        !report.contains(&user.access_key_id),
        "the key id is masked: {report}"
    );
    assert!(report.contains(&user.access_key_id[..4]));
    assert!(!report.contains(&user.secret_access_key) && !err.contains(&user.secret_access_key));
    let asked = crate::common::actions_by(peer, &user.access_key_id);
    assert_eq!(asked, ["GetCallerIdentity"], "one request, no code");
}

/// A clock five minutes or more from AWS's (the peer's Date header) fails, with the fix.
#[test]
fn doctor_fails_a_skewed_clock() {
    let peer = peer();
    let user = peer.create_user("doctorclock", true);
    let sb = doctor_sandbox(&user, user.mfa_serial.as_deref().unwrap());
    let skew = |s: i64| {
        peer.control(
            "POST",
            "/_peer/clock",
            Some(&serde_json::json!({ "user": user.user_name, "skew_seconds": s })),
        );
    };
    skew(900);
    let (code, report, err) = doctor(&sb, peer);
    skew(0);
    assert_eq!(code, Some(2), "{report}{err}");
    let clock = line_of(&report, "clock:");
    assert!(clock.starts_with("FAIL"), "{report}");
    // The Date header has whole seconds: 899 to 901 s.
    assert!(
        clock.contains("14 min (899 s) behind AWS's")
            || clock.contains("15 min (900 s) behind AWS's")
            || clock.contains("15 min (901 s) behind AWS's"),
        "{clock}"
    );
    assert!(report.contains("timedatectl set-ntp true"), "{report}");
    assert!(err.contains("doctor: 1 of"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A smaller difference is a warning: exit 0.
    skew(-90);
    let (code, report, _) = doctor(&sb, peer);
    skew(0);
    assert_eq!(code, Some(0), "{report}");
    assert!(line_of(&report, "clock:").starts_with("warn"), "{report}");
    assert!(
        line_of(&report, "clock:").contains("ahead of AWS's"),
        "{report}"
    );
}

/// A cache directory others can read fails, naming the chmod that fixes it.
#[test]
fn doctor_fails_a_world_readable_cache_dir() {
    use std::os::unix::fs::PermissionsExt;
    let peer = peer();
    let user = peer.create_user("doctorcache", true);
    let sb = doctor_sandbox(&user, user.mfa_serial.as_deref().unwrap());
    let dir = sb.home.path().join(".cache/aws-session");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let (code, report, err) = doctor(&sb, peer);
    assert_eq!(code, Some(2), "{report}{err}");
    let line = line_of(&report, "cache:");
    assert!(
        line.starts_with("FAIL") && line.contains("0755"),
        "{report}"
    );
    assert!(
        report.contains(&format!("chmod 700 {}", dir.display())),
        "{report}"
    );
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let (code, report, _) = doctor(&sb, peer);
    assert_eq!(code, Some(0), "{report}");
}

/// A configured device of another account is unknown to the keys: fail, with the fix.
#[test]
fn doctor_fails_an_unknown_device() {
    let peer = peer();
    let user = peer.create_user("doctordev", true);
    let sb = doctor_sandbox(&user, "arn:aws:iam::999999999999:mfa/nobody");
    let (code, report, err) = doctor(&sb, peer);
    assert_eq!(code, Some(2), "{report}{err}");
    let line = line_of(&report, "MFA device");
    assert!(line.starts_with("FAIL"), "{report}");
    assert!(
        line.contains("account 999999999999") && line.contains(&user.account_id),
        "{line}"
    );
    assert!(
        report.contains("fix: set the profile's mfa_serial to a device of account"),
        "{report}"
    );
    let sb = doctor_sandbox(&user, "arn:aws:iam::123456789012:user/not-a-device");
    let (code, report, _) = doctor(&sb, peer);
    assert_eq!(code, Some(2), "{report}");
    assert!(
        line_of(&report, "MFA device").contains("is not an MFA device ARN"),
        "{report}"
    );
}

/// The install lines of docs/guide.md: the indented lines of its completions paragraph.
fn completion_install_lines() -> Vec<String> {
    let guide = include_str!("../../docs/guide.md");
    let (_, rest) = guide
        .split_once("prints a completion script")
        .expect("guide.md has the completions paragraph");
    rest.lines()
        .skip_while(|l| !l.starts_with("      "))
        .take_while(|l| l.starts_with("      "))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The documented lines install working completions on a fresh HOME, without root:
/// bash (through bash-completion's loader), zsh (compinit) and fish each complete
/// `aws-session stat` to `status`, or know the completion function.
#[test]
fn completions_install_on_a_fresh_home_by_the_documented_lines() {
    let lines = completion_install_lines();
    assert_eq!(lines.len(), 6, "{lines:?}");
    let home = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_aws-session"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let run = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", format!("{bin_dir}:/usr/bin:/bin"))
            .env("TERM", "dumb")
            .current_dir(home.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    for line in &lines {
        run("sh", &["-c", line]);
    }
    let bash = run(
        "bash",
        &[
            "-c",
            r#"source /usr/share/bash-completion/bash_completion
COMP_LINE="aws-session stat" COMP_POINT=16 COMP_WORDS=(aws-session stat) COMP_CWORD=1
_completion_loader aws-session
f=$(complete -p aws-session | sed -E 's/.*-F ([^ ]+).*/\1/')
"$f" aws-session stat aws-session
printf '%s\n' "${COMPREPLY[@]}""#,
        ],
    );
    assert!(bash.lines().any(|l| l.trim() == "status"), "bash: {bash:?}");
    let zsh = run("zsh", &["-i", "-c", "print -r -- ${_comps[aws-session]}"]);
    assert_eq!(zsh.trim(), "_aws-session", "zsh: {zsh:?}");
    let fish = run("fish", &["-c", "complete -C 'aws-session stat'"]);
    assert!(
        fish.lines().any(|l| l.starts_with("status")),
        "fish: {fish:?}"
    );
}

/// `aws-session man` is a page `man -l` renders without a warning, and its commands
/// are exactly those of `--help`.
#[test]
fn the_man_page_renders_and_its_commands_match_help() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_aws-session");
    let page = Command::new(bin).arg("man").output().unwrap();
    assert!(page.status.success(), "{}", stderr(&page));
    let source = stdout(&page);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aws-session.1");
    fs::write(&file, &source).unwrap();
    let shown = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LANG", "C.UTF-8")
        .env("MANROFFOPT", "-ww")
        .output()
        .expect("man (Debian man-db; scripts/setup-peers installs it)");
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stderr(&shown).trim().is_empty(),
        "man warns: {}",
        stderr(&shown)
    );
    let text = stdout(&shown);
    let help = stdout(&Command::new(bin).arg("--help").output().unwrap());
    let help_commands: Vec<&str> = help
        .split_once("\nCommands:\n")
        .expect("--help lists the commands")
        .1
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    let man_commands: Vec<String> = source
        .lines()
        .filter_map(|l| l.strip_prefix(".SS "))
        .map(|c| c.replace("\\-", "-"))
        .collect();
    assert_eq!(man_commands, help_commands);
    for c in &help_commands {
        assert!(
            text.lines().any(|l| l.trim() == *c),
            "{c} is not shown:\n{text}"
        );
    }
    for heading in ["NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "EXIT STATUS"] {
        assert!(text.lines().any(|l| l == heading), "{heading}:\n{text}");
    }
    for o in [
        "--profile",
        "--code",
        "--session-duration",
        "--no-cache",
        "--format",
    ] {
        assert!(text.contains(o), "{o} is not in the page");
    }
}
