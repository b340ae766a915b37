//! The test peer itself behaves like AWS where aws-session depends on it: proven
//! with the real AWS CLI and plain HTTP, before any test trusts it with our binary.

use crate::common::{stderr, totp, Peer, Sandbox, TestUser};
use serde_json::Value;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs the venv's AWS CLI in a fresh sandbox, signing with `keys`
/// (access key id, secret, optional session token).
fn aws(peer: &Peer, keys: (&str, &str, Option<&str>), args: &[&str]) -> Output {
    aws_with_config(peer, keys, "", args)
}

fn aws_with_config(
    peer: &Peer,
    keys: (&str, &str, Option<&str>),
    config: &str,
    args: &[&str],
) -> Output {
    let sb = Sandbox::new();
    sb.write_config(config);
    let mut command = sb.aws(peer);
    command
        .env("AWS_ACCESS_KEY_ID", keys.0)
        .env("AWS_SECRET_ACCESS_KEY", keys.1)
        .args(args)
        .args(["--output", "json"]);
    if let Some(token) = keys.2 {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command.output().expect("run the AWS CLI")
}

fn user_keys(user: &TestUser) -> (&str, &str, Option<&str>) {
    (&user.access_key_id, &user.secret_access_key, None)
}

/// The JSON the CLI printed, after checking it succeeded.
fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "the AWS CLI failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("the AWS CLI prints JSON")
}

/// Asserts the CLI failed with AWS error `code` (and `message` in its text).
fn assert_error(out: &Output, code: &str, message: &str) {
    let text = stderr(out);
    assert!(!out.status.success(), "expected {code}, the call succeeded");
    assert!(
        text.contains(&format!("({code})")),
        "expected {code}, got: {text}"
    );
    assert!(text.contains(message), "expected {message:?} in: {text}");
}

struct Session {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

impl Session {
    fn keys(&self) -> (&str, &str, Option<&str>) {
        (
            &self.access_key_id,
            &self.secret_access_key,
            Some(&self.session_token),
        )
    }
}

fn session_of(out: &Output) -> Session {
    let v = json_of(out);
    let c = &v["Credentials"];
    let field = |k: &str| {
        c[k].as_str()
            .unwrap_or_else(|| panic!("no {k} in {v}"))
            .to_owned()
    };
    Session {
        access_key_id: field("AccessKeyId"),
        secret_access_key: field("SecretAccessKey"),
        session_token: field("SessionToken"),
        expiration: field("Expiration"),
    }
}

fn get_session_token(peer: &Peer, user: &TestUser, code: &str, duration: &str) -> Output {
    let serial = user.mfa_serial.as_deref().expect("an MFA user");
    aws(
        peer,
        user_keys(user),
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            serial,
            "--token-code",
            code,
            "--duration-seconds",
            duration,
        ],
    )
}

/// A 6-digit code that is none of the user's acceptable ones right now.
fn wrong_code(user: &TestUser) -> String {
    let valid: Vec<String> = (-2..=2).map(|o| user.totp(o)).collect();
    let mut n: u32 = valid[2].parse().unwrap();
    loop {
        n = (n + 1) % 1_000_000;
        let code = format!("{n:06}");
        if !valid.contains(&code) {
            return code;
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Seconds since 1970 of an ISO 8601 UTC time like 2024-01-02T03:04:05Z.
fn parse_utc(text: &str) -> i64 {
    let digits: Vec<i64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(6)
        .map(|s| s.parse().unwrap())
        .collect();
    let (y, m, d) = (digits[0], digits[1], digits[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    days * 86400 + digits[3] * 3600 + digits[4] * 60 + digits[5]
}

#[test]
fn user_keys_call_get_caller_identity() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-plain", false);
    assert!(
        user.access_key_id.starts_with("AKIA"),
        "{}",
        user.access_key_id
    );
    assert_eq!(user.account_id, "123456789012");
    assert_eq!(user.mfa_serial, None);
    let v = json_of(&aws(
        peer,
        user_keys(&user),
        &["sts", "get-caller-identity"],
    ));
    assert_eq!(v["Arn"], user.arn.as_str());
    assert_eq!(v["Account"], "123456789012");
    assert!(v["UserId"].as_str().unwrap().starts_with("AIDA"), "{v}");
    let logged: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].service, "sts");
    assert_eq!(logged[0].action, "GetCallerIdentity");
    assert_eq!(logged[0].status, 200);
    assert!(!logged[0].has_security_token);
}

#[test]
fn signatures_are_checked_from_the_first_request() {
    // A peer of its own: the very first request it sees is a forged one.
    let peer = Peer::start();
    let user = peer.create_user("smoke-forged", false);
    let out = aws(
        &peer,
        (&user.access_key_id, "not-the-secret", None),
        &["sts", "get-caller-identity"],
    );
    assert_error(
        &out,
        "SignatureDoesNotMatch",
        "signature we calculated does not match",
    );
    let out = aws(
        &peer,
        ("AKIAUNKNOWNKEY123456", &user.secret_access_key, None),
        &["iam", "list-mfa-devices"],
    );
    assert_error(
        &out,
        "InvalidClientTokenId",
        "security token included in the request is invalid",
    );
    let statuses: Vec<_> = peer
        .log()
        .iter()
        .map(|r| (r.action.clone(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("GetCallerIdentity".to_string(), 403),
            ("ListMFADevices".to_string(), 403)
        ]
    );
}

#[test]
fn unsigned_requests_are_refused() {
    let peer = Peer::shared();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut response = agent
        .post(&peer.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("Action=GetCallerIdentity&Version=2011-06-15")
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let body = response.body_mut().read_to_string().unwrap();
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
}

#[test]
fn get_session_token_with_a_valid_code_gives_working_session_credentials() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-mfa", true);
    let serial = user.mfa_serial.clone().unwrap();
    assert_eq!(
        serial,
        format!("arn:aws:iam::123456789012:mfa/{}", user.user_name)
    );
    assert_eq!(user.mfa_seed.as_ref().map(String::len), Some(64));

    let before = unix_now();
    let session = session_of(&get_session_token(peer, &user, &user.totp(0), "900"));
    assert!(
        session.access_key_id.starts_with("ASIA"),
        "{}",
        session.access_key_id
    );
    assert_eq!(session.access_key_id.len(), 20);
    assert_ne!(session.secret_access_key, user.secret_access_key);
    let expires = parse_utc(&session.expiration);
    assert!(
        (before + 900 - 5..=unix_now() + 900 + 5).contains(&expires),
        "expiration {} is not 900 s from now",
        session.expiration
    );

    let v = json_of(&aws(peer, session.keys(), &["sts", "get-caller-identity"]));
    assert_eq!(v["Arn"], user.arn.as_str(), "the session acts as the user");
    // An MFA session may call IAM.
    let v = json_of(&aws(peer, session.keys(), &["iam", "list-mfa-devices"]));
    assert_eq!(v["MFADevices"][0]["SerialNumber"], serial.as_str());
    assert_eq!(v["MFADevices"][0]["UserName"], user.user_name.as_str());

    let logged: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == session.access_key_id)
        .map(|r| (r.action, r.has_security_token, r.status))
        .collect();
    assert_eq!(
        logged,
        [
            ("GetCallerIdentity".to_string(), true, 200),
            ("ListMFADevices".to_string(), true, 200)
        ]
    );
    let issued = peer
        .sessions()
        .into_iter()
        .find(|s| s.access_key_id == session.access_key_id)
        .expect("the peer lists the session");
    assert_eq!((issued.kind.as_str(), issued.mfa), ("session", Some(true)));
    assert_eq!(issued.arn, user.arn);
}

#[test]
fn wrong_and_reused_codes_are_refused() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-codes", true);
    let out = get_session_token(peer, &user, &wrong_code(&user), "900");
    assert_error(
        &out,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code",
    );

    let code = user.totp(0);
    session_of(&get_session_token(peer, &user, &code, "900"));
    let out = get_session_token(peer, &user, &code, "900");
    assert_error(
        &out,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code",
    );

    // The next step's code is still good (one use each for t-1, t, t+1).
    session_of(&get_session_token(peer, &user, &user.totp(1), "900"));

    // A device that is not the caller's.
    let other = peer.create_user("smoke-codes-other", true);
    let out = aws(
        peer,
        user_keys(&user),
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            other.mfa_serial.as_deref().unwrap(),
            "--token-code",
            &other.totp(0),
        ],
    );
    assert_error(&out, "AccessDenied", "unable to validate MFA code");
    let statuses: Vec<u16> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [403, 200, 403, 200, 403]);
}

#[test]
fn session_durations_outside_900_to_129600_are_refused() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-duration", false);
    // The CLI checks the minimum itself; switched off, the request reaches the peer.
    let config = "[default]\nparameter_validation = false\n";
    let out = aws_with_config(
        peer,
        user_keys(&user),
        config,
        &["sts", "get-session-token", "--duration-seconds", "100"],
    );
    assert_error(
        &out,
        "ValidationError",
        "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy \
         constraint: Member must have value greater than or equal to 900",
    );
    let out = aws_with_config(
        peer,
        user_keys(&user),
        config,
        &["sts", "get-session-token", "--duration-seconds", "129601"],
    );
    assert_error(
        &out,
        "ValidationError",
        "Member must have value less than or equal to 129600",
    );
    let logged: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .map(|r| (r.params["DurationSeconds"].clone(), r.status))
        .collect();
    assert_eq!(
        logged,
        [("100".to_string(), 400), ("129601".to_string(), 400)]
    );

    // Without MFA: a session that may not call IAM.
    let session = session_of(&aws(peer, user_keys(&user), &["sts", "get-session-token"]));
    let expires = parse_utc(&session.expiration) - unix_now();
    assert!(
        (43190..=43210).contains(&expires),
        "default is 12 hours, got {expires} s"
    );
    json_of(&aws(peer, session.keys(), &["sts", "get-caller-identity"]));
    let out = aws(peer, session.keys(), &["iam", "list-mfa-devices"]);
    assert_error(
        &out,
        "InvalidClientTokenId",
        "security token included in the request is invalid",
    );
}

#[test]
fn session_credentials_are_checked_like_aws_does() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-session", true);
    let session = session_of(&get_session_token(peer, &user, &user.totp(0), "3600"));

    let out = aws(peer, session.keys(), &["sts", "get-session-token"]);
    assert_error(
        &out,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    );

    let wrong_token = (
        session.access_key_id.as_str(),
        session.secret_access_key.as_str(),
        Some("bogus"),
    );
    let out = aws(peer, wrong_token, &["sts", "get-caller-identity"]);
    assert_error(
        &out,
        "InvalidClientTokenId",
        "security token included in the request is invalid",
    );

    let no_token = (
        session.access_key_id.as_str(),
        session.secret_access_key.as_str(),
        None,
    );
    let out = aws(peer, no_token, &["sts", "get-caller-identity"]);
    assert_error(
        &out,
        "InvalidClientTokenId",
        "security token included in the request is invalid",
    );

    let wrong_secret = (
        session.access_key_id.as_str(),
        "bogus",
        Some(session.session_token.as_str()),
    );
    let out = aws(peer, wrong_secret, &["sts", "get-caller-identity"]);
    assert_error(
        &out,
        "SignatureDoesNotMatch",
        "signature we calculated does not match",
    );

    peer.expire(&session.access_key_id);
    let out = aws(peer, session.keys(), &["sts", "get-caller-identity"]);
    assert_error(
        &out,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
}

#[test]
fn the_log_records_every_request_in_order_and_clears() {
    let peer = Peer::start();
    let user = peer.create_user("smoke-log", true);
    json_of(&aws(
        &peer,
        user_keys(&user),
        &["sts", "get-caller-identity"],
    ));
    json_of(&aws(&peer, user_keys(&user), &["iam", "list-mfa-devices"]));
    let session = session_of(&get_session_token(&peer, &user, &user.totp(0), "900"));
    json_of(&aws(&peer, session.keys(), &["sts", "get-caller-identity"]));

    let log = peer.log();
    let seen: Vec<_> = log
        .iter()
        .map(|r| {
            (
                r.service.as_str(),
                r.action.as_str(),
                r.access_key_id.as_str(),
                r.has_security_token,
                r.status,
            )
        })
        .collect();
    let key = user.access_key_id.as_str();
    assert_eq!(
        seen,
        [
            ("sts", "GetCallerIdentity", key, false, 200),
            ("iam", "ListMFADevices", key, false, 200),
            ("sts", "GetSessionToken", key, false, 200),
            (
                "sts",
                "GetCallerIdentity",
                session.access_key_id.as_str(),
                true,
                200
            ),
        ]
    );
    assert_eq!(
        log[2].params["SerialNumber"],
        user.mfa_serial.clone().unwrap()
    );
    assert_eq!(log[2].params["DurationSeconds"], "900");
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("POST", "/")
    );
    assert_eq!(log[0].region, "us-east-1");

    peer.clear_log();
    assert!(peer.log().is_empty());
}

#[test]
fn virtual_mfa_devices_need_two_consecutive_codes_and_are_listed() {
    let peer = Peer::start();
    let user = peer.create_user("smoke-provision", false);
    let name = format!("{}-device", user.user_name);
    let sb = Sandbox::new();
    let seed_file = sb.home.path().join("seed");
    let out = aws(
        &peer,
        user_keys(&user),
        &[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            &name,
            "--outfile",
            seed_file.to_str().unwrap(),
            "--bootstrap-method",
            "Base32StringSeed",
        ],
    );
    let serial = json_of(&out)["VirtualMFADevice"]["SerialNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let seed = std::fs::read_to_string(&seed_file).unwrap();
    let devices = peer.devices();
    let device = devices.iter().find(|d| d.serial == serial).expect("listed");
    assert_eq!((device.user.as_deref(), device.enabled), (None, false));
    assert_eq!(device.seed, seed, "the CLI wrote the seed the peer holds");

    let now = unix_now() as u64;
    let enable = |code1: &str, code2: &str| {
        aws(
            &peer,
            user_keys(&user),
            &[
                "iam",
                "enable-mfa-device",
                "--user-name",
                &user.user_name,
                "--serial-number",
                &serial,
                "--authentication-code1",
                code1,
                "--authentication-code2",
                code2,
            ],
        )
    };
    // The same code twice is not two consecutive codes.
    let out = enable(&totp(&seed, now), &totp(&seed, now));
    assert_error(
        &out,
        "InvalidAuthenticationCode",
        "Authentication code for device is not valid",
    );
    let out = enable(&totp(&seed, now - 30), &totp(&seed, now));
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = peer.devices();
    let device = devices.iter().find(|d| d.serial == serial).unwrap();
    assert_eq!(
        (device.user.as_deref(), device.enabled),
        (Some(user.user_name.as_str()), true)
    );

    // ListMFADevices without --user-name lists the caller's devices.
    let v = json_of(&aws(&peer, user_keys(&user), &["iam", "list-mfa-devices"]));
    assert_eq!(v["MFADevices"][0]["SerialNumber"], serial.as_str());

    let out = aws(
        &peer,
        user_keys(&user),
        &[
            "iam",
            "delete-virtual-mfa-device",
            "--serial-number",
            &serial,
        ],
    );
    assert_error(&out, "DeleteConflict", "MFA Device is still in use");
    let out = aws(
        &peer,
        user_keys(&user),
        &["iam", "deactivate-mfa-device", "--serial-number", &serial],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = aws(
        &peer,
        user_keys(&user),
        &[
            "iam",
            "delete-virtual-mfa-device",
            "--serial-number",
            &serial,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        peer.devices().iter().all(|d| d.serial != serial),
        "no device left behind"
    );
}

#[test]
fn assume_role_keeps_the_aws_duration_limits() {
    let peer = Peer::shared();
    let user = peer.create_user("smoke-role", true);
    let role = peer.create_role("smoke-admin", 7200, &[&user.arn]);
    let assume = |keys: (&str, &str, Option<&str>), duration: &str, mfa: Option<String>| {
        let mut args = vec![
            "sts".to_string(),
            "assume-role".into(),
            "--role-arn".into(),
            role.arn.clone(),
            "--role-session-name".into(),
            "smoke".into(),
            "--duration-seconds".into(),
            duration.into(),
        ];
        if let Some(code) = mfa {
            args.extend([
                "--serial-number".into(),
                user.mfa_serial.clone().unwrap(),
                "--token-code".into(),
                code,
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        aws(peer, keys, &args)
    };
    // From long-term keys with MFA: up to the role's MaxSessionDuration.
    let roled = session_of(&assume(user_keys(&user), "7200", Some(user.totp(0))));
    let v = json_of(&aws(peer, roled.keys(), &["sts", "get-caller-identity"]));
    assert!(v["Arn"]
        .as_str()
        .unwrap()
        .contains(&format!(":assumed-role/{}/smoke", role.role_name)));
    let out = assume(user_keys(&user), "7201", None);
    assert_error(
        &out,
        "ValidationError",
        "exceeds the MaxSessionDuration set for this role",
    );
    let out = assume(user_keys(&user), "900", Some(wrong_code(&user)));
    assert_error(&out, "AccessDenied", "invalid MFA one time pass code");

    // From session credentials it is role chaining: one hour at most.
    let session = session_of(&get_session_token(peer, &user, &user.totp(1), "7200"));
    let out = assume(session.keys(), "3601", None);
    assert_error(
        &out,
        "ValidationError",
        "exceeds the 1 hour session limit for roles assumed by role chaining",
    );
    let chained = session_of(&assume(session.keys(), "3600", None));
    json_of(&aws(peer, chained.keys(), &["sts", "get-caller-identity"]));
    peer.expire(&chained.access_key_id);
    let out = aws(peer, chained.keys(), &["sts", "get-caller-identity"]);
    assert_error(&out, "ExpiredToken", "expired");
}

#[test]
fn peers_run_side_by_side_and_end_when_dropped() {
    let (a, b) = (Peer::start(), Peer::start());
    assert_ne!(a.port, b.port);
    let user = a.create_user("smoke-twin", false);
    json_of(&aws(&a, user_keys(&user), &["sts", "get-caller-identity"]));
    // Peers share nothing: b does not know a's user.
    let out = aws(&b, user_keys(&user), &["sts", "get-caller-identity"]);
    assert_error(&out, "InvalidClientTokenId", "invalid");
    let port = a.port;
    drop(a);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the dropped peer still listens on {port}"
    );
}
