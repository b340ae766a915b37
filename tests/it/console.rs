//! `console`: the AWS console's sign-in URL from a profile's credentials, against the
//! peer's federation endpoint (tests/peer/federation_peer.py), which checks the
//! credentials with GetCallerIdentity, classifies them as AWS does and enforces the
//! SessionDuration rules, and whose login action redirects once per fresh token.

use crate::common::{actions_by, keys, stderr, stdout, Peer, Sandbox, TestRole, TestUser};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_aws-session");

fn peer() -> &'static Peer {
    Peer::shared()
}

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

/// The getSigninToken entries of the federation log for callers whose ARN holds `who`.
fn token_requests(who: &str) -> Vec<Value> {
    let log = peer().control("GET", "/_peer/federation/log", None);
    log.as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["action"] == "getSigninToken")
        .filter(|e| e["arn"].as_str().is_some_and(|a| a.contains(who)))
        .cloned()
        .collect()
}

/// GET the login URL as a browser would (no redirect followed): status and Location.
fn open(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    let resp = agent.get(url).call().expect("the login URL answers");
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (resp.status().as_u16(), location)
}

/// The one line of stdout: a login URL of the peer's federation endpoint.
#[track_caller]
fn login_url(o: &Output) -> String {
    let out = ok(o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {out}");
    let url = lines[0];
    assert!(
        url.starts_with(&format!("{}/federation?Action=login&", peer().url)),
        "{url}"
    );
    assert!(!stderr(o).contains("SigninToken="), "{}", stderr(o));
    url.to_string()
}

/// Nothing secret of `user` nor any session credentials in `o`'s output.
#[track_caller]
fn no_secrets(o: &Output, user: &TestUser) {
    let all = format!("{}{}", stdout(o), stderr(o));
    for secret in [
        user.secret_access_key.as_str(),
        "sessionKey",
        "sessionToken",
        "Session=",
    ] {
        assert!(!all.contains(secret), "{secret:?} in {all}");
    }
}

/// A sandbox whose profile `me` has `user`'s keys and MFA device, and a role profile
/// `admin` on top of it.
fn role_sandbox(user: &TestUser, role: &TestRole) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&keys("me", user));
    sb.write_config(&format!(
        "[profile me]\nregion = eu-west-1\nmfa_serial = {}\n\n[profile admin]\nrole_arn = {}\nsource_profile = me\nregion = eu-west-1\n",
        user.mfa_serial.as_deref().unwrap(),
        role.arn
    ));
    sb
}

fn console(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = sb.command(peer());
    cmd.args(args);
    cmd
}

#[test]
fn a_role_for_an_hour_rides_on_the_mfa_session_and_sends_no_session_duration() {
    let user = peer().create_user("console-r1", true);
    let role = peer().create_role("console-r1", 43200, &[]);
    let sb = role_sandbox(&user, &role);
    let code = user.fresh_code();
    let o = run(console(
        &sb,
        &[
            "--profile",
            "admin",
            "--code",
            &code,
            "console",
            "--print",
            "--duration",
            "3600",
        ],
    ));
    let url = login_url(&o);
    no_secrets(&o, &user);
    let actions = actions_by(peer(), &user.access_key_id);
    assert_eq!(
        actions,
        ["GetSessionToken"],
        "the role is assumed with the session"
    );
    let reqs = token_requests(&role.role_name);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["status"], 200, "{reqs:?}");
    assert_eq!(reqs[0]["kind"], "role");
    assert_eq!(reqs[0]["chained"], true);
    assert_eq!(reqs[0]["session_duration"], Value::Null);
    assert!(url.contains("Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1"), "{url}");
    let (status, location) = open(&url);
    assert_eq!(status, 302);
    assert_eq!(
        location,
        "https://console.aws.amazon.com/console/home?region=eu-west-1"
    );
    // A sign-in token signs in once.
    assert_eq!(open(&url).0, 400);
}

#[test]
fn a_role_for_two_hours_is_assumed_from_the_keys_with_the_code_and_sends_session_duration() {
    let user = peer().create_user("console-r2", true);
    let role = peer().create_role("console-r2", 43200, &[]);
    let sb = role_sandbox(&user, &role);
    let code = user.fresh_code();
    let o = run(console(
        &sb,
        &[
            "--profile",
            "admin",
            "--code",
            &code,
            "console",
            "--print",
            "--duration",
            "7200",
            "--destination",
            "s3",
        ],
    ));
    let url = login_url(&o);
    no_secrets(&o, &user);
    let log = peer().log();
    let assume: Vec<_> = log
        .iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .collect();
    assert_eq!(assume.len(), 1, "{assume:?}");
    assert_eq!(assume[0].action, "AssumeRole");
    assert_eq!(assume[0].params["DurationSeconds"], "7200");
    assert_eq!(assume[0].params["TokenCode"], code);
    let reqs = token_requests(&role.role_name);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["chained"], false);
    assert_eq!(reqs[0]["session_duration"], 7200);
    assert_eq!(reqs[0]["console_seconds"], 7200);
    let (status, location) = open(&url);
    assert_eq!(
        (status, location.as_str()),
        (
            302,
            "https://console.aws.amazon.com/s3/home?region=eu-west-1"
        )
    );
}

#[test]
fn a_plain_mfa_user_gets_a_federation_token_and_the_warning_without_a_code() {
    let user = peer().create_user("console-u", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    // No --code and no terminal: a code asked for would fail the run (exit 3).
    let o = run(console(
        &sb,
        &["console", "--print", "--duration", "129600"],
    ));
    let url = login_url(&o);
    no_secrets(&o, &user);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no MFA context") && err.contains("aws:MultiFactorAuthPresent"),
        "{err}"
    );
    let log = peer().log();
    let fed: Vec<_> = log
        .iter()
        .filter(|r| r.access_key_id == user.access_key_id && r.action == "GetFederationToken")
        .collect();
    assert_eq!(fed.len(), 1, "{log:?}");
    assert_eq!(fed[0].params["Name"], user.user_name);
    assert_eq!(fed[0].params["DurationSeconds"], "129600");
    assert!(
        fed[0].params["Policy"].contains("\"Action\":\"*\""),
        "{:?}",
        fed[0].params
    );
    assert!(!fed[0].params.contains_key("TokenCode"));
    let reqs = token_requests(&format!("federated-user/{}", user.user_name));
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["kind"], "federated");
    assert_eq!(reqs[0]["session_duration"], Value::Null);
    assert_eq!(open(&url).0, 302);
}

/// A $BROWSER that records its arguments in `record`.
fn recording_browser(sb: &Sandbox) -> (String, std::path::PathBuf) {
    let script = sb.home.path().join("browser");
    let record = sb.home.path().join("browser-args");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" > '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    (script.display().to_string(), record)
}

#[test]
fn without_print_the_url_goes_to_the_browser_only() {
    let user = peer().create_user("console-b", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let (browser, record) = recording_browser(&sb);
    let mut cmd = console(&sb, &["console", "--destination", "iam"]);
    cmd.env("BROWSER", &browser);
    let o = run(cmd);
    assert_eq!(ok(&o), "", "the URL is not on stdout");
    no_secrets(&o, &user);
    assert!(!stderr(&o).contains("SigninToken="), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("opened the AWS console as arn:aws:sts::"),
        "{}",
        stderr(&o)
    );
    let args = fs::read_to_string(&record).expect("the browser ran");
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines[0], "1", "one argument: {args}");
    let (status, location) = open(lines[1]);
    assert_eq!(
        (status, location.as_str()),
        (302, "https://console.aws.amazon.com/iam/home")
    );
}

#[test]
fn with_no_browser_the_url_is_printed_saying_so() {
    let user = peer().create_user("console-nb", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut cmd = console(&sb, &["console"]);
    cmd.env("BROWSER", sb.home.path().join("no-such-browser"));
    let o = run(cmd);
    let url = login_url(&o);
    let err = stderr(&o);
    assert!(
        err.contains("no browser could be opened") && err.contains("no-such-browser"),
        "{err}"
    );
    assert_eq!(open(&url).0, 302);
}

#[test]
fn getsessiontoken_credentials_are_refused_with_aws_reason_and_what_works() {
    let user = peer().create_user("console-gst", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = run({
        let mut c = sb.aws(peer());
        c.args(["sts", "get-session-token", "--output", "json"]);
        c
    });
    let creds: Value = serde_json::from_str(&ok(&out)).unwrap();
    let c = &creds["Credentials"];
    let empty = Sandbox::new();
    let mut cmd = console(&empty, &["console", "--print"]);
    cmd.env("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            c["SecretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap());
    let o = run(cmd);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "Only federation tokens or assume role tokens may be used for federated login"
        ) && err.contains("role profile"),
        "{err}"
    );
    for secret in [
        c["SecretAccessKey"].as_str().unwrap(),
        c["SessionToken"].as_str().unwrap(),
    ] {
        assert!(!err.contains(secret));
    }
}

#[test]
fn bad_durations_are_usage_errors_before_any_request_or_code() {
    let user = peer().create_user("console-bad", true);
    let role = peer().create_role("console-bad", 43200, &[]);
    let sb = role_sandbox(&user, &role);
    let mut config = fs::read_to_string(&sb.config_file).unwrap();
    config.push_str(&format!(
        "\n[profile chained]\nrole_arn = {}\nsource_profile = admin\n",
        role.arn
    ));
    sb.write_config(&config);
    for (profile, duration, says) in [
        ("admin", "10", "from 900 to 129600"),
        ("admin", "12h", "from 900 to 129600"),
        ("me", "129601", "from 900 to 129600"),
        ("admin", "43201", "at most 43200"),
        ("chained", "7200", "role chaining at 3600"),
    ] {
        let o = run(console(
            &sb,
            &[
                "--profile",
                profile,
                "console",
                "--print",
                "--duration",
                duration,
            ],
        ));
        assert_eq!(
            o.status.code(),
            Some(1),
            "{profile} {duration}: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{profile} {duration}: {err}"
        );
        assert_eq!(stdout(&o), "");
    }
    let o = run(console(
        &sb,
        &["--profile", "me", "console", "--destination", "nosuch"],
    ));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("known: home"), "{}", stderr(&o));
    assert_eq!(
        actions_by(peer(), &user.access_key_id),
        Vec::<String>::new()
    );
}

#[test]
fn debug_output_shows_no_credentials() {
    let user = peer().create_user("console-dbg", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let o = run(console(&sb, &["--debug", "console", "--print"]));
    login_url(&o);
    no_secrets(&o, &user);
    let err = stderr(&o);
    assert!(
        err.contains("Action=getSigninToken") && err.contains("-> 200"),
        "{err}"
    );
    assert!(!err.contains("%7B"), "{err}");
}

/// `aws-session exec aws-session console ...` for `profile`: the console inside the
/// session that exec made.
fn inside_exec(sb: &Sandbox, profile: &str, code: &str, console_args: &[&str]) -> Output {
    let mut cmd = sb.command(peer());
    cmd.args(["--profile", profile, "--code", code, "exec", BIN, "console"])
        .args(console_args);
    run(cmd)
}

#[test]
fn inside_a_shell_the_shells_role_session_is_used() {
    let user = peer().create_user("console-sh", true);
    let role = peer().create_role("console-sh", 43200, &[]);
    let sb = role_sandbox(&user, &role);
    let o = inside_exec(&sb, "admin", &user.fresh_code(), &["--print"]);
    let url = login_url(&o);
    no_secrets(&o, &user);
    let assumed: Vec<_> = peer()
        .log()
        .into_iter()
        .filter(|r| r.action == "AssumeRole" && r.params["RoleArn"] == role.arn)
        .collect();
    assert_eq!(
        assumed.len(),
        1,
        "console made no session of its own: {assumed:?}"
    );
    let reqs = token_requests(&role.role_name);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["session_duration"], Value::Null);
    assert_eq!(open(&url).0, 302);
}

#[test]
fn inside_a_shell_of_a_plain_user_the_refusal_says_what_to_run() {
    let user = peer().create_user("console-shu", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("me", &user));
    let o = inside_exec(&sb, "me", &user.fresh_code(), &["--print"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Only federation tokens")
            && err.contains("run aws-session --profile me console"),
        "{err}"
    );
    // What it says to run works there: a federation token from the profile's keys.
    let mut cmd = sb.command(peer());
    cmd.args([
        "--profile",
        "me",
        "--code",
        &user.fresh_code(),
        "exec",
        BIN,
        "--profile",
        "me",
        "console",
        "--print",
    ]);
    let o = run(cmd);
    login_url(&o);
    assert!(stderr(&o).contains("no MFA context"), "{}", stderr(&o));
}

#[test]
fn inside_an_ended_shell_session_it_says_what_to_run() {
    let sb = Sandbox::new();
    let mut cmd = console(&sb, &["console", "--print"]);
    cmd.env("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", crate::common::EXAMPLE_SECRET)
        .env("AWS_SESSION_TOKEN", "token")
        .env("AWS_SESSION_EXPIRATION", "1000")
        .env("AWS_SESSION_PROFILE", "me");
    let o = run(cmd);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("has ended") && err.contains("aws-session --profile me console"),
        "{err}"
    );
    assert!(!err.contains(crate::common::EXAMPLE_SECRET));
}

#[test]
fn a_duration_beyond_the_roles_maximum_names_the_roles_limit() {
    let user = peer().create_user("console-max", true);
    let role = peer().create_role("console-max", 3600, &[]);
    let sb = role_sandbox(&user, &role);
    let code = user.fresh_code();
    let o = run(console(
        &sb,
        &[
            "--profile",
            "admin",
            "--code",
            &code,
            "console",
            "--print",
            "--duration",
            "7200",
        ],
    ));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("MaxSessionDuration") && err.contains("console --duration 7200"),
        "{err}"
    );
    assert_eq!(stdout(&o), "");
    no_secrets(&o, &user);
}
