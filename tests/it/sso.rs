//! IAM Identity Center (SSO) profiles against the IAM Identity Center peer
//! (tests/peer/sso_peer.py, served by the AWS peer), boto3's own sso-oidc and sso
//! clients, botocore's SSO providers and the AWS CLI inside `exec`.

use crate::common::pty::Pty;
use crate::common::{node_bin, node_dir, run_within, sdk_client, stderr, stdout, venv};
use crate::common::{Peer, Sandbox, TestRole};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

const ACCOUNT: &str = "123456789012";
const START_URL: &str = "https://d-9067aaaaaa.awsapps.com/start";

/// A peer of its own (the IAM Identity Center peer's settings are global to it) with a
/// role the sign-in may use in ACCOUNT, two other roles and two other accounts.
pub(crate) fn sso_peer() -> (Peer, TestRole) {
    let peer = Peer::start();
    let role = peer.create_role("SsoAdmin", 3600, &[]);
    peer.control(
        "POST",
        "/_peer/sso/assignments",
        Some(&json!({"accounts": [
            {"accountId": ACCOUNT, "accountName": "dev", "emailAddress": "dev@example.com",
             "roles": [role.role_name, "ReadOnly", "Billing"]},
            {"accountId": "210987654321", "accountName": "prod", "emailAddress": "prod@example.com",
             "roles": ["ReadOnly"]},
            {"accountId": "333333333333", "accountName": "audit", "emailAddress": "audit@example.com",
             "roles": ["Auditor"]},
        ]})),
    );
    (peer, role)
}

fn settings(peer: &Peer, v: Value) {
    peer.control("POST", "/_peer/sso/settings", Some(&v));
}

fn sso_log(peer: &Peer) -> Vec<(String, String)> {
    peer.control("GET", "/_peer/sso/log", None)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["grant_type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn count(log: &[(String, String)], action: &str, grant: &str) -> usize {
    log.iter()
        .filter(|(a, g)| a == action && (grant.is_empty() || g == grant))
        .count()
}

fn post(peer: &Peer, path: &str, body: Value) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent
        .post(&format!("{}{path}", peer.url))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_str())
        .unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The config of profile `dev` on sso-session `corp` with `role`, and of `chain`, a
/// role assumed with dev's role credentials.
pub(crate) fn sso_config(sb: &Sandbox, role: &TestRole) {
    sb.write_config(&format!(
        "[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {}\nregion = us-east-1\n\n\
         [profile chain]\nrole_arn = {}\nsource_profile = dev\nregion = us-east-1\n\n\
         [sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
        role.role_name, role.arn
    ));
}

pub(crate) fn token_path(sb: &Sandbox, name: &str) -> PathBuf {
    sb.home.path().join(".aws/sso/cache").join(format!(
        "{}.json",
        hex::encode(Sha1::digest(name.as_bytes()))
    ))
}

/// A sign-in of sso-session `corp` as `aws sso login` leaves it: a token from the
/// peer's device flow written to the CLI's cache, with `expires_in` seconds left as
/// the file says.
fn signed_in(peer: &Peer, sb: &Sandbox, expires_in: i64) -> Value {
    settings(peer, json!({"pending_polls": 0}));
    let reg = post(
        peer,
        "/client/register",
        json!({"clientName": "botocore-client-corp", "clientType": "public", "scopes": ["sso:account:access"]}),
    );
    let dev = post(
        peer,
        "/device_authorization",
        json!({"clientId": reg["clientId"], "clientSecret": reg["clientSecret"], "startUrl": START_URL}),
    );
    let tok = post(
        peer,
        "/token",
        json!({"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
               "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": dev["deviceCode"]}),
    );
    settings(peer, json!({"pending_polls": 1}));
    let at = |secs: i64| {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let token = json!({
        "startUrl": START_URL, "region": "us-east-1", "accessToken": tok["accessToken"],
        "expiresAt": at(expires_in), "clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
        "registrationExpiresAt": at(80 * 86400), "refreshToken": tok["refreshToken"],
    });
    let path = token_path(sb, "corp");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, token.to_string()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    token
}

pub(crate) fn read_token(sb: &Sandbox) -> Value {
    serde_json::from_str(&fs::read_to_string(token_path(sb, "corp")).unwrap()).unwrap()
}

fn caller_arn(sb: &Sandbox, peer: &Peer, profile: &str) -> Output {
    sb.command(peer)
        .args([
            "--profile",
            profile,
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .args(["--query", "Arn", "--output", "text"])
        .output()
        .unwrap()
}

#[test]
fn boto3_sso_clients_speak_the_peer_protocol() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/sso_clients.py");
    let out = run_within(
        {
            let mut c = sb.command_for(venv().join("bin/python"), &peer);
            c.arg(script).args([ACCOUNT, role.role_name.as_str()]);
            c
        },
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn exec_runs_the_aws_cli_with_the_role_credentials_and_caches_them() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let before = signed_in(&peer, &sb, 3600);
    let out = caller_arn(&sb, &peer, "dev");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(":assumed-role/{}/", role.role_name)),
        "{}",
        stdout(&out)
    );
    let out = caller_arn(&sb, &peer, "dev");
    assert!(out.status.success(), "{}", stderr(&out));
    let log = sso_log(&peer);
    assert_eq!(count(&log, "GetRoleCredentials", ""), 1, "{log:?}");
    assert_eq!(count(&log, "CreateToken", "refresh_token"), 0, "{log:?}");
    // An hour left: the token is not touched.
    assert_eq!(read_token(&sb), before);
}

#[test]
fn a_role_profile_chains_from_the_sso_role() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 3600);
    let out = caller_arn(&sb, &peer, "chain");
    assert!(out.status.success(), "{}", stderr(&out));
    // The chained role is the same role, assumed again with its credentials.
    assert!(stdout(&out).contains(":assumed-role/"), "{}", stdout(&out));
    let assumes = peer
        .log()
        .iter()
        .filter(|r| r.action == "AssumeRole" && r.status == 200)
        .count();
    assert_eq!(assumes, 1);
}

#[test]
fn a_token_with_less_than_15_minutes_is_refreshed_in_place() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let before = signed_in(&peer, &sb, 600);
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "export", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = read_token(&sb);
    assert_ne!(after["accessToken"], before["accessToken"]);
    assert_ne!(after["refreshToken"], before["refreshToken"]);
    assert_eq!(after["clientSecret"], before["clientSecret"]);
    assert_eq!(after["startUrl"], START_URL);
    let expires = after["expiresAt"].as_str().unwrap();
    assert!(expires.len() == 20 && expires.ends_with('Z'), "{expires}");
    assert!(expires > before["expiresAt"].as_str().unwrap());
    let mode = fs::metadata(token_path(&sb, "corp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let log = sso_log(&peer);
    assert_eq!(count(&log, "CreateToken", "refresh_token"), 1, "{log:?}");
    for secret in ["accessToken", "refreshToken", "clientSecret"] {
        for v in [&before[secret], &after[secret]] {
            let v = v.as_str().unwrap();
            assert!(
                !stdout(&out).contains(v) && !stderr(&out).contains(v),
                "{secret} shown"
            );
        }
    }
}

#[test]
fn twelve_parallel_credential_processes_make_one_refresh_and_one_role_call() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, -60);
    peer.control("POST", "/_peer/sso/expire", None);
    let children: Vec<_> = (0..12)
        .map(|_| {
            sb.command(&peer)
                .args(["--profile", "dev", "credential-process"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["Version"], 1);
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_string());
    }
    assert_eq!(keys.len(), 1, "all got the same role credentials");
    let log = sso_log(&peer);
    assert_eq!(count(&log, "CreateToken", "refresh_token"), 1, "{log:?}");
    assert_eq!(count(&log, "GetRoleCredentials", ""), 1, "{log:?}");
}

#[test]
fn botocore_reads_and_refreshes_what_aws_session_wrote_and_back() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 600);
    // aws-session refreshes (less than 15 minutes left) and writes the token back.
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "credential-process"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = read_token(&sb);
    // botocore's SSO credential provider reads it; then its SSOTokenProvider
    // refreshes the token (made to look nearly expired) and writes it back.
    let mut nearly = ours.clone();
    nearly["expiresAt"] = json!("2000-01-01T00:00:00Z");
    fs::write(token_path(&sb, "corp"), nearly.to_string()).unwrap();
    let script = "import boto3, botocore.session\n\
        s = boto3.Session(profile_name='dev')\n\
        print(s.client('sts').get_caller_identity()['Arn'])\n";
    let out = sb
        .command_for(venv().join("bin/python"), &peer)
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!(":assumed-role/{}/", role.role_name)));
    let theirs = read_token(&sb);
    assert_ne!(
        theirs["accessToken"], ours["accessToken"],
        "botocore refreshed"
    );
    // aws-session reads what botocore refreshed (fresh: no refresh of its own), its
    // own cached role credentials gone.
    fs::remove_dir_all(sb.home.path().join(".cache/aws-session")).unwrap();
    let out = caller_arn(&sb, &peer, "dev");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read_token(&sb), theirs);
    let log = sso_log(&peer);
    assert_eq!(count(&log, "CreateToken", "refresh_token"), 2, "{log:?}");
}

#[test]
fn bad_tokens_and_refusals_are_one_line_errors_with_their_exit_codes() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let run = |profile: &str| {
        run_within(
            {
                let mut c = sb.command(&peer);
                c.args(["--profile", profile, "credential-process"]);
                c
            },
            Duration::from_secs(20),
        )
    };
    let check = |out: &Output, code: i32, needle: &str| {
        let err = stderr(out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(stdout(out).is_empty());
    };
    // Not signed in.
    check(&run("dev"), 2, "aws-session --profile dev login");
    // Truncated and tampered token files.
    let good = signed_in(&peer, &sb, 3600);
    let path = token_path(&sb, "corp");
    let text = good.to_string();
    fs::write(&path, &text[..text.len() / 2]).unwrap();
    check(&run("dev"), 6, "aws-session --profile dev login");
    fs::write(&path, text.replace("accessToken", "accessTokem")).unwrap();
    check(&run("dev"), 6, "no accessToken");
    // Expired, and the refresh refused: nothing written half-way.
    let mut expired = good.clone();
    expired["expiresAt"] = json!("2001-01-01T00:00:00Z");
    fs::write(&path, expired.to_string()).unwrap();
    settings(&peer, json!({"refuse_refresh": true}));
    check(
        &run("dev"),
        2,
        "refused to refresh it (InvalidGrantException",
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), expired.to_string());
    settings(&peer, json!({"refuse_refresh": false}));
    // Expired with an expired registration.
    let mut old = expired.clone();
    old["registrationExpiresAt"] = json!("2001-01-02T00:00:00Z");
    fs::write(&path, old.to_string()).unwrap();
    check(&run("dev"), 2, "client registration expired");
    // A token the portal does not know (signed out elsewhere).
    let mut unknown = good.clone();
    unknown["accessToken"] = json!("ATsignedOutElsewhere");
    fs::write(&path, unknown.to_string()).unwrap();
    check(&run("dev"), 2, "no longer accepts the sign-in");
    // A role the sign-in may not use.
    fs::write(&path, good.to_string()).unwrap();
    let text = fs::read_to_string(&sb.config_file).unwrap();
    sb.write_config(&text.replace(&role.role_name, "NotMine"));
    check(&run("dev"), 4, "ForbiddenException");
    // An sso-session that does not exist.
    sb.write_config("[profile dev]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n");
    check(&run("dev"), 2, "[sso-session nope]");
}

/// A browser that follows the authorization redirect to our callback (`rewrite`: a
/// Python expression over `loc` applied to the redirect first).
pub(crate) fn fake_browser(sb: &Sandbox, rewrite: &str) -> PathBuf {
    let path = sb.home.path().join("browser");
    let script = format!(
        "#!{py}\nimport sys, urllib.request, urllib.error\n\
         class NoRedirect(urllib.request.HTTPRedirectHandler):\n    def redirect_request(self, *a): return None\n\
         opener = urllib.request.build_opener(NoRedirect)\n\
         try:\n    opener.open(sys.argv[1])\n    sys.exit('no redirect')\n\
         except urllib.error.HTTPError as e:\n    loc = e.headers['Location']\n    assert loc, e.read()\n\
         loc = {rewrite}\n\
         try:\n    urllib.request.urlopen(loc).read()\nexcept urllib.error.HTTPError:\n    pass\n",
        py = venv().join("bin/python").display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn login(sb: &Sandbox, peer: &Peer, profile: &str, browser: &PathBuf, extra: &[&str]) -> Output {
    let mut c = sb.command(peer);
    c.env("BROWSER", browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "20")
        .args(["--profile", profile, "login"])
        .args(extra);
    run_within(c, Duration::from_secs(60))
}

/// The registration file name as the AWS CLI computes it, by Python itself.
fn cli_registration_file(sb: &Sandbox, peer: &Peer, scopes: &str, session: &str) -> PathBuf {
    let script = format!(
        "import hashlib, json\nargs = {{'tool': 'botocore', 'startUrl': '{START_URL}', 'region': 'us-east-1', \
         'scopes': {scopes}, 'session_name': {session}}}\n\
         print(hashlib.sha1(json.dumps(args, sort_keys=True).encode('utf-8')).hexdigest())\n"
    );
    let out = sb
        .command_for(venv().join("bin/python"), peer)
        .args(["-c", &script])
        .output()
        .unwrap();
    let name = stdout(&out).trim().to_string();
    sb.home.path().join(format!(".aws/sso/cache/{name}.json"))
}

#[test]
fn login_signs_in_with_pkce_into_the_cli_cache_and_reuses_the_registration() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let browser = fake_browser(&sb, "loc");
    let out = login(&sb, &peer, "dev", &browser, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = read_token(&sb);
    for k in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token[k].is_string(), "{k} missing");
    }
    assert!(token["expiresAt"].as_str().unwrap().ends_with('Z'));
    let mode = fs::metadata(token_path(&sb, "corp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let reg_path = cli_registration_file(&sb, &peer, "['sso:account:access']", "'corp'");
    let reg: Value = serde_json::from_str(&fs::read_to_string(&reg_path).unwrap()).unwrap();
    assert_eq!(reg["clientId"], token["clientId"]);
    assert_eq!(
        reg["grantTypes"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(reg["scopes"], json!(["sso:account:access"]));
    let err = stderr(&out);
    for secret in ["accessToken", "refreshToken", "clientSecret"] {
        assert!(
            !err.contains(token[secret].as_str().unwrap()),
            "{secret} shown"
        );
    }
    // Signed in: exec works; a second login reuses the registration.
    let out = caller_arn(&sb, &peer, "dev");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = login(&sb, &peer, "dev", &browser, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = sso_log(&peer);
    assert_eq!(count(&log, "RegisterClient", ""), 1, "{log:?}");
    assert_eq!(
        count(&log, "CreateToken", "authorization_code"),
        2,
        "{log:?}"
    );
}

#[test]
fn login_with_a_wrong_state_or_a_denial_writes_nothing() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let browser = fake_browser(&sb, "loc.replace('state=', 'state=x')");
    let mut c = sb.command(&peer);
    c.env("BROWSER", &browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "3")
        .args(["--profile", "dev", "login"]);
    let out = run_within(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no sign-in came back"),
        "{}",
        stderr(&out)
    );
    assert!(!token_path(&sb, "corp").exists());
    settings(&peer, json!({"browser": "deny"}));
    let out = login(&sb, &peer, "dev", &fake_browser(&sb, "loc"), &[]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did not complete (access_denied)"),
        "{}",
        stderr(&out)
    );
    assert!(!token_path(&sb, "corp").exists());
}

#[test]
fn login_remote_and_legacy_profiles_use_the_device_code() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let no_browser = sb.home.path().join("no-browser");
    let out = login(&sb, &peer, "dev", &no_browser, &["--remote"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("user_code="), "{}", stderr(&out));
    let token = read_token(&sb);
    assert!(token["refreshToken"].is_string(), "registered with scopes");
    let log = sso_log(&peer);
    assert!(
        count(
            &log,
            "CreateToken",
            "urn:ietf:params:oauth:grant-type:device_code"
        ) >= 2
    );
    // A legacy profile: the device code, registered without scopes, no refresh token.
    let text = fs::read_to_string(&sb.config_file).unwrap();
    sb.write_config(&format!(
        "{text}\n[profile old]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\
         sso_account_id = {ACCOUNT}\nsso_role_name = {}\nregion = us-east-1\n",
        role.role_name
    ));
    let out = login(&sb, &peer, "old", &no_browser, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let legacy: Value =
        serde_json::from_str(&fs::read_to_string(token_path(&sb, START_URL)).unwrap()).unwrap();
    assert!(legacy.get("refreshToken").is_none());
    let out = caller_arn(&sb, &peer, "old");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_denied_or_expired_device_code_is_a_one_line_error() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let no_browser = sb.home.path().join("no-browser");
    for (mode, words) in [
        ("deny", "was denied"),
        ("expire", "expired before it was approved"),
    ] {
        settings(&peer, json!({"device": mode}));
        let out = login(&sb, &peer, "dev", &no_browser, &["--remote"]);
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        let err = stderr(&out);
        let last = err.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.contains(words) && last.contains("nothing was written"),
            "{err}"
        );
        assert!(!token_path(&sb, "corp").exists());
    }
}

#[test]
fn logout_signs_out_and_deletes_the_token_and_the_role_credentials() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 3600);
    let out = caller_arn(&sb, &peer, "dev");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "logout"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 cached role credential"),
        "{}",
        stdout(&out)
    );
    assert!(!token_path(&sb, "corp").exists());
    assert_eq!(count(&sso_log(&peer), "Logout", ""), 1);
    let out = caller_arn(&sb, &peer, "dev");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not signed in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sso_profiles_lists_every_page_and_write_appends_the_missing_ones() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let before = format!(
        "# my comment\n{}",
        fs::read_to_string(&sb.config_file).unwrap()
    );
    sb.write_config(&before);
    signed_in(&peer, &sb, 3600);
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "sso-profiles"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    for name in [
        "dev-ReadOnly",
        "dev-Billing",
        "prod-ReadOnly",
        "audit-Auditor",
    ] {
        assert!(
            listed.contains(&format!("[profile {name}]\nsso_session = corp\n")),
            "{listed}"
        );
    }
    assert!(
        listed.contains(&format!("{ACCOUNT} {}", role.role_name))
            && listed.contains(": profile dev"),
        "{listed}"
    );
    assert_eq!(fs::read_to_string(&sb.config_file).unwrap(), before);
    let log = sso_log(&peer);
    assert_eq!(
        count(&log, "ListAccounts", ""),
        2,
        "two pages of two: {log:?}"
    );
    assert_eq!(count(&log, "ListAccountRoles", ""), 4, "{log:?}");
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "sso-profiles", "--write"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = fs::read_to_string(&sb.config_file).unwrap();
    assert!(after.starts_with(&before), "{after}");
    assert!(after.contains("[profile audit-Auditor]\nsso_session = corp\nsso_account_id = 333333333333\nsso_role_name = Auditor\nregion = us-east-1\n"), "{after}");
    // Written: a second run finds every one of them, and writes nothing.
    let out = sb
        .command(&peer)
        .args(["--profile", "prod-ReadOnly", "sso-profiles", "--write"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("[profile "), "{}", stdout(&out));
    assert_eq!(fs::read_to_string(&sb.config_file).unwrap(), after);
}

#[test]
fn the_javascript_sdk_from_sso_reads_the_token_aws_session_refreshed() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let before = signed_in(&peer, &sb, 600);
    let out = sb
        .command(&peer)
        .args(["--profile", "dev", "credential-process"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(read_token(&sb)["accessToken"], before["accessToken"]);
    let out = sb
        .command_for(node_bin(), &peer)
        .env("AWS_SESSION_TEST_NODE", node_dir())
        .env("AWS_REGION", "us-east-1")
        .arg(sdk_client("whoami.mjs"))
        .args(["sso", "dev"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(
        v["arn"]
            .as_str()
            .unwrap()
            .contains(&format!(":assumed-role/{}/", role.role_name)),
        "{v}"
    );
    assert_eq!(count(&sso_log(&peer), "GetRoleCredentials", ""), 2);
}

/// Role credentials of 40 s served to a long job by `exec --server`: renewed from the
/// token (itself refreshed on the way) without a prompt.
#[test]
fn exec_server_renews_role_credentials_from_the_token_for_a_long_job() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 600);
    settings(&peer, json!({"role_seconds": 40}));
    let script = r#"
import time, boto3
sts = boto3.client("sts")
end = time.time() + 55
while time.time() < end:
    print(sts.get_caller_identity()["Arn"], flush=True)
    time.sleep(2)
"#;
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "--server"])
        .arg(venv().join("bin/python"))
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let arns = stdout(&o);
    assert!(arns.lines().count() >= 20, "{arns}");
    let marker = format!(":assumed-role/{}/", role.role_name);
    assert!(arns.lines().all(|a| a.contains(&marker)), "{arns}");
    let log = sso_log(&peer);
    assert!(
        count(&log, "GetRoleCredentials", "") >= 2,
        "renewed: {log:?}"
    );
    assert!(count(&log, "CreateToken", "refresh_token") >= 1, "{log:?}");
}

/// `refresh` (the sub-shell's `aws-session-refresh`, and its `aws` function with
/// `--reuse-mfa`) renews the role credentials from the token without a prompt.
#[test]
fn refresh_renews_the_role_credentials_from_the_token_silently() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 3600);
    let mut keys = std::collections::BTreeSet::new();
    for args in [&["refresh"][..], &["refresh", "--reuse-mfa"][..]] {
        let out = run_within(
            {
                let mut c = sb.command(&peer);
                c.args(["--profile", "dev"]).args(args);
                c
            },
            Duration::from_secs(20),
        );
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        let key = text
            .lines()
            .find_map(|l| l.strip_prefix("export AWS_ACCESS_KEY_ID="))
            .unwrap_or_else(|| panic!("{text}"));
        keys.insert(key.to_string());
    }
    assert_eq!(keys.len(), 2, "each refresh made new role credentials");
    assert_eq!(count(&sso_log(&peer), "GetRoleCredentials", ""), 2);
}

/// `exec` on a terminal with no sign-in: the error, an offer to sign in, and on Enter
/// the browser sign-in and the command run with the role's credentials.
#[test]
fn exec_on_a_terminal_offers_to_sign_in_when_the_sign_in_has_ended() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aws-session"));
    cmd.env_clear()
        .envs(sb.env(&peer))
        .env("BROWSER", fake_browser(&sb, "loc"))
        .args([
            "--profile",
            "dev",
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .args(["--query", "Arn", "--output", "text"]);
    let mut pty = Pty::spawn(cmd, 400, 40);
    let shown = pty.expect(
        "Sign in to IAM Identity Center now? [Y/n] ",
        Duration::from_secs(20),
    );
    assert!(
        shown.contains("is not signed in to IAM Identity Center"),
        "{shown}"
    );
    pty.send_line("");
    assert!(
        pty.wait(Duration::from_secs(40)).success(),
        "{}",
        pty.output()
    );
    assert!(
        pty.output()
            .contains(&format!(":assumed-role/{}/", role.role_name)),
        "{}",
        pty.output()
    );
    assert!(token_path(&sb, "corp").exists());
}

/// `console` on an IAM Identity Center profile signs in with the role credentials (a
/// role session, which the federation endpoint takes), never a federation token.
#[test]
fn console_signs_in_with_the_role_credentials() {
    let (peer, role) = sso_peer();
    let sb = Sandbox::new();
    sso_config(&sb, &role);
    signed_in(&peer, &sb, 3600);
    let out = run_within(
        {
            let mut c = sb.command(&peer);
            c.args(["--profile", "dev", "console", "--print"]);
            c
        },
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!("{}/federation?Action=login&", peer.url)),
        "{}",
        stdout(&out)
    );
    let log = peer.control("GET", "/_peer/federation/log", None);
    let tokens: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "getSigninToken")
        .collect();
    assert_eq!(tokens.len(), 1, "{log}");
    assert_eq!(tokens[0]["status"], 200, "{log}");
    assert_eq!(tokens[0]["kind"], "role", "{log}");
    assert!(peer.log().iter().all(|r| r.action != "GetFederationToken"));
}
