//! `login` / `logout` and profiles with `login_session`, against the sign-in peer
//! (tests/peer/signin_peer.py, served by the AWS peer), the AWS CLI and botocore's own
//! LoginProvider.

use crate::common::pty::Pty;
use crate::common::{stderr, stdout, venv, Peer, Sandbox, TestUser};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// A peer of its own (the sign-in peer's user and settings are global to it), with a
/// user the sign-in approves.
fn signin_peer(expires_in: u64) -> (Peer, TestUser) {
    let peer = Peer::start();
    let user = peer.create_user("login", false);
    peer.control(
        "POST",
        "/_peer/signin/user",
        Some(&json!({ "name": user.user_name })),
    );
    peer.control(
        "POST",
        "/_peer/signin/settings",
        Some(&json!({ "expires_in": expires_in })),
    );
    (peer, user)
}

/// A browser that follows our start page's redirect to the authorize URL, then the
/// authorization redirect to our callback (`rewrite`: a Python expression over `loc`
/// applied to that redirect first).
fn fake_browser(sb: &Sandbox, rewrite: &str) -> PathBuf {
    let path = sb.home.path().join("browser");
    let script = format!(
        "#!{py}\nimport sys, urllib.request, urllib.error\n\
         class NoRedirect(urllib.request.HTTPRedirectHandler):\n    def redirect_request(self, *a): return None\n\
         opener = urllib.request.build_opener(NoRedirect)\n\
         def location(url):\n    try:\n        opener.open(url)\n        sys.exit('no redirect')\n    except urllib.error.HTTPError as e:\n        return e.headers['Location']\n\
         loc = location(location(sys.argv[1]))\n\
         loc = {rewrite}\n\
         urllib.request.urlopen(loc).read()\n",
        py = venv().join("bin/python").display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn cache_file(sb: &Sandbox, arn: &str) -> PathBuf {
    sb.home.path().join(".aws/login/cache").join(format!(
        "{}.json",
        hex::encode(Sha256::digest(arn.as_bytes()))
    ))
}

fn login(sb: &Sandbox, peer: &Peer, browser: &PathBuf) -> Output {
    sb.command(peer)
        .env("BROWSER", browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "30")
        .args(["--profile", "dev", "login"])
        .output()
        .unwrap()
}

fn read_json(path: &PathBuf) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn token_log(peer: &Peer) -> Vec<(String, u64)> {
    peer.control("GET", "/_peer/signin/log", None)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["grant_type"].as_str().unwrap_or_default().to_string(),
                e["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn assert_one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("aws-session: ") && err.contains(needle),
        "{err}"
    );
}

/// `login` prints the URL first: the error is its last line, and the only one after.
fn assert_login_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("aws-session: ") && last.contains(needle),
        "{err}"
    );
    let after_url = err.split("/v1/authorize?").nth(1).unwrap_or_default();
    assert_eq!(
        after_url.trim().lines().filter(|l| !l.is_empty()).count(),
        2,
        "{err}"
    );
}

/// Signed in, with the config holding a comment that must survive.
fn signed_in(expires_in: u64) -> (Peer, TestUser, Sandbox) {
    let (peer, user) = signin_peer(expires_in);
    let sb = Sandbox::new();
    sb.write_config("# mine\n[profile dev]\nregion = us-east-1 # here\n");
    let browser = fake_browser(&sb, "loc");
    let o = login(&sb, &peer, &browser);
    assert!(o.status.success(), "{}", stderr(&o));
    (peer, user, sb)
}

#[test]
fn same_device_login_writes_the_cli_cache_and_the_profile_and_exec_runs_the_aws_cli() {
    let (peer, user, sb) = signed_in(900);
    let config = fs::read_to_string(&sb.config_file).unwrap();
    assert_eq!(
        config,
        format!(
            "# mine\n[profile dev]\nregion = us-east-1 # here\nlogin_session = {}\n",
            user.arn
        )
    );
    let path = cache_file(&sb, &user.arn);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let t = read_json(&path);
    let a = &t["accessToken"];
    for k in [
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "expiresAt",
    ] {
        assert!(a[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    assert_eq!(a["accountId"], user.account_id.as_str());
    assert_eq!(t["tokenType"], "aws_sigv4");
    assert_eq!(t["clientId"], "arn:aws:signin:::devtools/same-device");
    assert!(t["refreshToken"].as_str().unwrap().starts_with("ASOR"));
    assert!(t["idToken"].as_str().unwrap().split('.').count() == 3);
    let pem = t["dpopKey"].as_str().unwrap();
    assert!(
        pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n")
            && pem.ends_with("-----END EC PRIVATE KEY-----\n")
    );

    // The AWS CLI inside exec acts as the signed-in user.
    let o = sb
        .command(&peer)
        .args([
            "--profile",
            "dev",
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&user.arn), "{}", stdout(&o));
    // export and credential-process hand out the cached credentials (no refresh: 15 min left).
    let key = a["accessKeyId"].as_str().unwrap();
    for args in [
        &["export", "--format", "json"][..],
        &["credential-process"][..],
    ] {
        let o = sb
            .command(&peer)
            .args(["--profile", "dev"])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains(key), "{}", stdout(&o));
    }
    assert_eq!(token_log(&peer), vec![("authorization_code".into(), 200)]);
    // The child knows how long the sign-in lasts (12 hours from the id token's iat).
    let o = sb
        .command(&peer)
        .args([
            "--profile",
            "dev",
            "exec",
            "sh",
            "-c",
            "echo $AWS_SESSION_LOGIN_UNTIL",
        ])
        .output()
        .unwrap();
    let until: i64 = stdout(&o).trim().parse().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((until - now - 43200).abs() < 120, "{until}");
    let o = sb
        .command(&peer)
        .env("AWS_SESSION_EXPIRATION", (now + 900).to_string())
        .env("AWS_SESSION_LOGIN_UNTIL", until.to_string())
        .arg("prompt")
        .output()
        .unwrap();
    assert!(stdout(&o).starts_with("(aws+1"), "{}", stdout(&o));

    // logout removes the token; the profile keeps login_session.
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "logout"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!path.exists());
    assert!(fs::read_to_string(&sb.config_file)
        .unwrap()
        .contains("login_session"));
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&o, 2, "aws-session --profile dev login");
}

#[test]
fn botocore_refreshes_our_token_and_we_refresh_the_one_botocore_wrote() {
    // Credentials of 2 minutes: every reader refreshes (5 minutes or less left).
    let (peer, user, sb) = signed_in(120);
    let path = cache_file(&sb, &user.arn);
    let first = read_json(&path);
    let script = "import boto3\n\
        s = boto3.Session(profile_name='dev')\n\
        c = s.get_credentials().get_frozen_credentials()\n\
        print(s.client('sts').get_caller_identity()['Arn'])\n";
    let o = std::process::Command::new(venv().join("bin/python"))
        .env_clear()
        .envs(sb.env(&peer))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&user.arn), "{}", stdout(&o));
    let by_botocore = read_json(&path);
    let refreshes = token_log(&peer).len();
    assert_ne!(by_botocore["refreshToken"], first["refreshToken"]);
    assert_ne!(
        by_botocore["accessToken"]["accessKeyId"],
        first["accessToken"]["accessKeyId"]
    );
    assert_eq!(by_botocore["idToken"], first["idToken"]);
    assert_eq!(by_botocore["dpopKey"], first["dpopKey"]);

    // aws-session refreshes the token botocore wrote (same key, the new refresh token).
    let o = sb
        .command(&peer)
        .args([
            "--profile",
            "dev",
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&user.arn));
    let ours = read_json(&path);
    assert_eq!(token_log(&peer).len(), refreshes + 1);
    assert_ne!(ours["refreshToken"], by_botocore["refreshToken"]);
    assert_eq!(ours["dpopKey"], first["dpopKey"]);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // botocore refreshes once or more (each read finds 2 minutes left), aws-session once.
    let grants: Vec<(String, u64)> = token_log(&peer);
    assert!(grants.len() >= 3, "{grants:?}");
    assert_eq!(grants[0], ("authorization_code".into(), 200));
    assert!(
        grants[1..]
            .iter()
            .all(|g| *g == ("refresh_token".into(), 200)),
        "{grants:?}"
    );

    // The sign-in ends: a refresh is refused, the token is left as it was.
    peer.control("POST", "/_peer/signin/end", Some(&json!({})));
    let before = fs::read(&path).unwrap();
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&o, 4, "TOKEN_EXPIRED");
    assert!(
        stderr(&o).contains("run aws-session --profile dev login"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_role_takes_its_credentials_from_a_login_profile_without_mfa() {
    let (peer, _user, sb) = signed_in(900);
    let role = peer.create_role("login-admin", 3600, &[]);
    let mut config = fs::read_to_string(&sb.config_file).unwrap();
    config.push_str(&format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = dev\nregion = us-east-1\n",
        role.arn
    ));
    sb.write_config(&config);
    let o = sb
        .command(&peer)
        .args([
            "--profile",
            "admin",
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(":assumed-role/"), "{}", stdout(&o));
}

#[test]
fn cross_device_login_reads_the_pasted_code() {
    let (peer, user) = signin_peer(900);
    let sb = Sandbox::new();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_aws-session"));
    cmd.env_clear()
        .envs(sb.env(&peer))
        .args(["--profile", "dev", "login", "--remote"]);
    let mut pty = Pty::spawn(cmd, 400, 40);
    let shown = pty.expect("enter the code the page shows: ", Duration::from_secs(20));
    let url = shown
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1"))
        .expect("the URL")
        .to_string();
    let mut page = ureq::get(&url).call().unwrap();
    let code = page.body_mut().read_to_string().unwrap();
    pty.send_line(code.trim());
    assert!(
        pty.wait(Duration::from_secs(20)).success(),
        "{}",
        pty.output()
    );
    let config = fs::read_to_string(&sb.config_file).unwrap();
    assert!(
        config.contains(&format!("login_session = {}", user.arn)),
        "{config}"
    );
    let t = read_json(&cache_file(&sb, &user.arn));
    assert_eq!(t["clientId"], "arn:aws:signin:::devtools/cross-device");
}

/// A browser that follows our start page's redirect, then first sends each of `strays`
/// (Python expressions over `loc`, the real redirect) to the callback, writing the HTTP
/// status of each to `statuses`, then (when `follow`) the real redirect.
fn browser_with_strays(sb: &Sandbox, strays: &[&str], follow: bool) -> (PathBuf, PathBuf) {
    let path = sb.home.path().join("browser");
    let statuses = sb.home.path().join("statuses");
    let strays = strays.join(", ");
    let script = format!(
        "#!{py}\nimport sys, urllib.request, urllib.error\n\
         class NoRedirect(urllib.request.HTTPRedirectHandler):\n    def redirect_request(self, *a): return None\n\
         opener = urllib.request.build_opener(NoRedirect)\n\
         def location(url):\n    try:\n        opener.open(url)\n        sys.exit('no redirect')\n    except urllib.error.HTTPError as e:\n        return e.headers['Location']\n\
         start = sys.argv[1]\n\
         loc = location(location(start))\n\
         def status(u):\n    try:\n        return urllib.request.urlopen(u).status\n    except urllib.error.HTTPError as e:\n        return e.code\n\
         seen = [str(status(u)) for u in [{strays}]]\n\
         open({out:?}, 'w').write(' '.join(seen))\n\
         if {follow}:\n    urllib.request.urlopen(loc).read()\n",
        py = venv().join("bin/python").display(),
        out = statuses.display().to_string(),
        follow = if follow { "True" } else { "False" },
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    (path, statuses)
}

/// Requests to the callback that are not this sign-in's answer (another state, no
/// state, no code, an error with another state, another path) are answered and
/// ignored; the browser's real redirect that follows signs in.
#[test]
fn stray_requests_to_the_callback_are_ignored_and_the_real_one_signs_in() {
    let (peer, user) = signin_peer(900);
    let sb = Sandbox::new();
    let (browser, statuses) = browser_with_strays(
        &sb,
        &[
            "loc.replace('state=', 'state=x')",
            "loc.split('?')[0]",
            "loc.split('?')[0] + '?' + [p for p in loc.split('?')[1].split('&') if p.startswith('state=')][0]",
            "loc.replace('code=', 'error=access_denied&code=').replace('state=', 'state=x')",
            "loc.replace('/oauth/callback', '/favicon.ico')",
            // The start page redirects once: a second visit (another local user who
            // read the browser's arguments) learns nothing.
            "start",
        ],
        true,
    );
    let o = login(&sb, &peer, &browser);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&statuses).unwrap(),
        "400 400 400 400 404 404"
    );
    let t = read_json(&cache_file(&sb, &user.arn));
    assert_eq!(t["clientId"], "arn:aws:signin:::devtools/same-device");
}

/// A callback with another sign-in's state does not end this one: the run waits for
/// its own answer until AWS_SESSION_LOGIN_TIMEOUT, then fails having written nothing.
#[test]
fn login_with_a_wrong_state_writes_nothing() {
    let (peer, _user) = signin_peer(900);
    let sb = Sandbox::new();
    sb.write_config("[profile dev]\nregion = us-east-1\n");
    let (browser, statuses) =
        browser_with_strays(&sb, &["loc.replace('state=', 'state=x')"], false);
    let o = sb
        .command(&peer)
        .env("BROWSER", &browser)
        .env("AWS_SESSION_LOGIN_TIMEOUT", "3")
        .args(["--profile", "dev", "login"])
        .output()
        .unwrap();
    assert_login_error(&o, 5, "no sign-in came back from the browser in time");
    assert_eq!(fs::read_to_string(&statuses).unwrap(), "400");
    assert_eq!(
        fs::read_to_string(&sb.config_file).unwrap(),
        "[profile dev]\nregion = us-east-1\n"
    );
    assert!(!sb.home.path().join(".aws/login").exists());
    assert!(token_log(&peer).is_empty());
}

/// The answer with this sign-in's state and `error=…` (the user cancelled) ends the
/// sign-in with that error, having written nothing.
#[test]
fn a_refused_sign_in_with_the_right_state_ends_the_login() {
    let (peer, _user) = signin_peer(900);
    let sb = Sandbox::new();
    let browser = fake_browser(
        &sb,
        "loc.split('?')[0] + '?error=access_denied&' + [p for p in loc.split('?')[1].split('&') if p.startswith('state=')][0]",
    );
    let o = login(&sb, &peer, &browser);
    assert_login_error(&o, 5, "the sign-in did not complete (access_denied)");
    assert!(!sb.config_file.exists());
    assert!(!sb.home.path().join(".aws/login").exists());
    assert!(token_log(&peer).is_empty());
}

#[test]
fn login_with_an_expired_code_writes_nothing() {
    let (peer, _user) = signin_peer(900);
    peer.control(
        "POST",
        "/_peer/signin/settings",
        Some(&json!({ "code_ttl": 0 })),
    );
    let sb = Sandbox::new();
    let browser = fake_browser(&sb, "loc");
    let o = login(&sb, &peer, &browser);
    assert_login_error(&o, 4, "AUTHCODE_EXPIRED");
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert!(!sb.config_file.exists());
    assert!(!sb.home.path().join(".aws/login").exists());
}

#[test]
fn login_refuses_a_profile_with_keys_before_anything_is_sent() {
    let (peer, _user) = signin_peer(900);
    let sb = Sandbox::new();
    sb.write_credentials("[dev]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n");
    let browser = fake_browser(&sb, "loc");
    let o = login(&sb, &peer, &browser);
    assert_one_line_error(&o, 2, "already has access keys");
    assert!(token_log(&peer).is_empty());
}

#[test]
fn a_tampered_token_or_a_dpop_key_that_does_not_parse_is_refused_and_left_alone() {
    let (peer, user, sb) = signed_in(900);
    let path = cache_file(&sb, &user.arn);
    let good = read_json(&path);

    fs::write(&path, "{\"accessToken\": 1").unwrap();
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&o, 6, "cannot be used: it is not JSON");
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\"accessToken\": 1");

    let mut bad = good.clone();
    bad["dpopKey"] = json!("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    bad["accessToken"]["expiresAt"] = json!("2020-01-01T00:00:00Z");
    let text = bad.to_string();
    fs::write(&path, &text).unwrap();
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&o, 6, "dpopKey");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(token_log(&peer).len(), 1);
}

/// A sign-in's 15-minute credentials (here 40 s) served to a long job by `exec --server`:
/// the server renews them with the refresh token while boto3 keeps calling, and the job
/// never sees an expired key.
#[test]
fn exec_server_renews_a_sign_in_for_a_long_job() {
    let (peer, user, sb) = signed_in(40);
    let script = r#"
import sys, time, boto3
sts = boto3.client("sts")
end = time.time() + 55
while time.time() < end:
    print(sts.get_caller_identity()["Arn"], flush=True)
    time.sleep(2)
"#;
    let python = venv().join("bin/python");
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "exec", "--server"])
        .arg(&python)
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let arns = stdout(&o);
    assert!(arns.lines().count() >= 20, "{arns}");
    assert!(arns.lines().all(|a| a == user.arn), "{arns}");
    // The login's code, then at least one refresh while the job ran.
    let log = token_log(&peer);
    assert_eq!(log[0], ("authorization_code".into(), 200), "{log:?}");
    assert!(
        log.iter()
            .filter(|(g, s)| g == "refresh_token" && *s == 200)
            .count()
            >= 1,
        "the server renewed the sign-in: {log:?}"
    );
}

#[test]
fn console_refuses_a_sign_in_as_it_is_and_takes_a_role_on_it() {
    let (peer, _user, sb) = signed_in(900);
    let o = sb
        .command(&peer)
        .args(["--profile", "dev", "console", "--print"])
        .output()
        .unwrap();
    assert_one_line_error(&o, 4, "Only federation tokens or assume role tokens");
    assert!(
        stderr(&o).contains("login_session") && stderr(&o).contains("source_profile = dev"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
    let role = peer.create_role("login-console", 3600, &[]);
    let mut config = fs::read_to_string(&sb.config_file).unwrap();
    config.push_str(&format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = dev\n",
        role.arn
    ));
    sb.write_config(&config);
    // Assumed with the sign-in's temporary credentials: chained, an hour at most.
    let o = sb
        .command(&peer)
        .args([
            "--profile",
            "admin",
            "console",
            "--print",
            "--duration",
            "7200",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&o, 1, "role chaining at 3600");
    let o = sb
        .command(&peer)
        .args(["--profile", "admin", "console", "--print"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("{}/federation?Action=login&", peer.url)));
    let log = peer.control("GET", "/_peer/federation/log", None);
    let last = log.as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["kind"], "role", "{last}");
    assert_eq!(last["chained"], true, "{last}");
    assert_eq!(last["session_duration"], Value::Null, "{last}");
}

#[test]
fn concurrent_refreshes_without_the_cache_are_one_refresh() {
    // Signed in with a token of 120 s (less than the 5 minutes a run wants): every run
    // refreshes; the refreshed one lasts 15 minutes.
    let (peer, _user, sb) = signed_in(120);
    peer.control(
        "POST",
        "/_peer/signin/settings",
        Some(&json!({ "expires_in": 900 })),
    );
    let runs: Vec<_> = (0..4)
        .map(|_| {
            sb.command(&peer)
                .args([
                    "--profile",
                    "dev",
                    "--no-cache",
                    "export",
                    "--format",
                    "json",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let o = run.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("AWS_ACCESS_KEY_ID"), "no keys printed");
    }
    let refreshes: Vec<_> = token_log(&peer)
        .into_iter()
        .filter(|(g, _)| g == "refresh_token")
        .collect();
    assert_eq!(refreshes, vec![("refresh_token".to_string(), 200)]);
}
