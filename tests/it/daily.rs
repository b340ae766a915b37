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
