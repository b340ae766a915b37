//! Endpoint settings reach the peer: the profile's `endpoint_url`, and the per-service
//! `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL_IAM` over `AWS_ENDPOINT_URL`.

use crate::common::{keys, Peer, Sandbox};

/// A loopback port with nothing listening.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn the_profiles_endpoint_url_is_used() {
    let peer = Peer::shared();
    let user = peer.create_user("ep-profile", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!("[default]\nendpoint_url = {}\n", peer.url));
    let out = sb
        .command(peer)
        .env_remove("AWS_ENDPOINT_URL")
        .args(["--code", &user.fresh_code(), "exec", "true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actions: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["ListMFADevices", "GetSessionToken"]);
}

#[test]
fn per_service_endpoints_win_over_the_general_one() {
    let peer = Peer::shared();
    let user = peer.create_user("ep-service", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    // Discovery goes to IAM, the session to STS: both must use their own variable.
    let out = sb
        .command(peer)
        .env("AWS_ENDPOINT_URL", dead_url())
        .env("AWS_ENDPOINT_URL_STS", &peer.url)
        .env("AWS_ENDPOINT_URL_IAM", &peer.url)
        .args(["--code", &user.fresh_code(), "exec", "true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without the IAM one, discovery goes to the dead general endpoint and says so.
    let user = peer.create_user("ep-dead", true);
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .command(peer)
        .env("AWS_ENDPOINT_URL", dead_url())
        .env("AWS_ENDPOINT_URL_STS", &peer.url)
        .args(["--code", &user.fresh_code(), "exec", "true"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ListMFADevices") && err.contains("refused"),
        "{err}"
    );
}

/// The host the first request goes to, read from the CONNECT line a local proxy gets
/// (nothing reaches AWS: the proxy closes the connection).
fn sts_host_with(sb: &Sandbox, peer: &Peer, env: &[(&str, &str)]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = std::thread::spawn(move || {
        use std::io::BufRead;
        let (s, _) = listener.accept().unwrap();
        let mut line = String::new();
        let _ = std::io::BufReader::new(s).read_line(&mut line);
        line.trim_end().to_string()
    });
    let mut c = sb.command(peer);
    c.env_remove("AWS_ENDPOINT_URL")
        .env("HTTPS_PROXY", &proxy)
        .env("AWS_SESSION_MFADEVICE", "arn:aws:iam::123456789012:mfa/x")
        .args(["--no-cache", "--code", "123456", "exec", "true"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.join().unwrap()
}

#[test]
fn sts_is_regional_when_a_region_is_set_and_global_on_legacy() {
    let peer = Peer::shared();
    let user = peer.create_user("ep-regional", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    assert_eq!(
        sts_host_with(&sb, peer, &[("AWS_REGION", "eu-west-1")]),
        "CONNECT sts.eu-west-1.amazonaws.com:443 HTTP/1.1"
    );
    assert_eq!(
        sts_host_with(&sb, peer, &[]),
        "CONNECT sts.amazonaws.com:443 HTTP/1.1"
    );
    assert_eq!(
        sts_host_with(
            &sb,
            peer,
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
            ]
        ),
        "CONNECT sts.amazonaws.com:443 HTTP/1.1"
    );
    sb.write_config("[default]\nregion = ap-south-1\nsts_regional_endpoints = legacy\n");
    assert_eq!(
        sts_host_with(&sb, peer, &[]),
        "CONNECT sts.amazonaws.com:443 HTTP/1.1"
    );
    sb.write_config("[default]\nregion = ap-south-1\n");
    assert_eq!(
        sts_host_with(&sb, peer, &[]),
        "CONNECT sts.ap-south-1.amazonaws.com:443 HTTP/1.1"
    );
}
