//! Recorded AWS / moto answers in fixtures/xml: error documents are read into code,
//! message and request id (and get the advice users need); every fixture, every
//! prefix of it and a few corruptions go through every parser without a panic.

use aws_session::aws::advice::aws_advice;
use aws_session::aws::xml::{parse_error_response, ParsedAwsError, XmlError};
use aws_session::aws::{iam, sts};
use aws_session::error::AwsError;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/xml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn error(name: &str) -> ParsedAwsError {
    parse_error_response(&fixture(name)).unwrap_or_else(|| panic!("{name}: not an AWS error"))
}

fn advice(action: &str, e: &ParsedAwsError) -> String {
    aws_advice(&AwsError {
        action: action.to_string(),
        status: 403,
        code: e.code.clone(),
        message: e.message.clone(),
        request_id: e.request_id.clone(),
        clock_skew_secs: None,
        access_key_id: None,
        session_token_sent: false,
        service: "sts",
        credentials_file: None,
        advice: None,
    })
    .unwrap_or_default()
}

#[test]
fn access_denied_for_a_wrong_mfa_code() {
    let e = error("error_access_denied_mfa.xml");
    assert_eq!(e.code, "AccessDenied");
    assert_eq!(
        e.message,
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    );
    assert_eq!(
        e.request_id.as_deref(),
        Some("0e4b3b13-6b2f-4d8e-9c52-2d6f8a1c7e11")
    );
    assert!(advice("GetSessionToken", &e).contains("MFA code"));
}

#[test]
fn access_denied_by_policy() {
    let e = error("error_access_denied_policy.xml");
    assert_eq!(e.code, "AccessDenied");
    assert!(e
        .message
        .starts_with("User: arn:aws:iam::123456789012:user/alice is not authorized"));
    assert!(e.message.contains("iam:CreateVirtualMFADevice"));

    let e = error("error_access_denied_moto.xml");
    assert_eq!(e.code, "AccessDenied");
    assert_eq!(e.request_id, None);
}

#[test]
fn signature_errors() {
    for name in [
        "error_signature_does_not_match.xml",
        "error_signature_does_not_match_moto.xml",
    ] {
        let e = error(name);
        assert_eq!(e.code, "SignatureDoesNotMatch", "{name}");
        assert!(
            e.message
                .starts_with("The request signature we calculated does not match"),
            "{name}"
        );
        assert!(advice("GetSessionToken", &e).contains("secret access key"));
    }
    let e = error("error_signature_expired.xml");
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e.message.starts_with("Signature expired: 20261125T083000Z"));
}

#[test]
fn token_errors() {
    for name in [
        "error_invalid_client_token_id.xml",
        "error_invalid_client_token_id_moto.xml",
    ] {
        let e = error(name);
        assert_eq!(e.code, "InvalidClientTokenId", "{name}");
        assert_eq!(
            e.message,
            "The security token included in the request is invalid."
        );
    }
    let e = error("error_expired_token.xml");
    assert_eq!(e.code, "ExpiredToken");
    assert_eq!(
        e.message,
        "The security token included in the request is expired"
    );
    assert!(advice("GetSessionToken", &e).contains("expired"));
}

#[test]
fn throttling_and_validation() {
    let e = error("error_throttling.xml");
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("Throttling", "Rate exceeded")
    );
    assert!(advice("ListMFADevices", &e).contains("throttling"));

    let e = error("error_validation_duration.xml");
    assert_eq!(e.code, "ValidationError");
    assert!(e.message.contains("'durationSeconds'"));
    assert!(advice("GetSessionToken", &e).contains("900"));
}

#[test]
fn other_error_shapes() {
    let e = error("error_ec2_style.xml");
    assert_eq!(e.code, "RequestExpired");
    assert_eq!(
        e.request_id.as_deref(),
        Some("b2a1c0d9-e8f7-4a6b-9c5d-4e3f2a1b0c9d")
    );

    // moto repeats the message in a lower-case <message>; the first one wins.
    let e = error("error_no_such_entity_moto.xml");
    assert_eq!(e.code, "NoSuchEntity");
    assert_eq!(
        e.message,
        "VirtualMFADevice with serial number arn:aws:iam::123456789012:mfa/team/alice-backup doesn't exist."
    );
    assert_eq!(
        e.request_id.as_deref(),
        Some("ZTCZbCYW6YCsqAg5pYH7C81qyWstcMKBiMBt2jaLQxcS7FUMdoD0")
    );

    // What moto 5.2 answers to ListMFADevices without UserName.
    let e = error("error_list_mfa_devices_no_user_name_moto.xml");
    assert_eq!(e.code, "NoSuchEntity");
    assert!(e.message.contains("name None"));
}

#[test]
fn non_error_documents_are_not_errors() {
    for name in [
        "html_502.html",
        "html_503_elb.html",
        "sts_get_session_token.xml",
        "sts_get_session_token_truncated.xml",
        "iam_enable_mfa_device.xml",
    ] {
        assert_eq!(parse_error_response(&fixture(name)), None, "{name}");
    }
}

#[test]
fn html_pages_are_recognised_by_every_parser() {
    for (name, title) in [
        ("html_502.html", "502 Bad Gateway"),
        ("html_503_elb.html", "503 Service Temporarily Unavailable"),
    ] {
        let body = fixture(name);
        let want = XmlError::Html {
            title: Some(title.to_string()),
        };
        assert_eq!(
            sts::parse_get_session_token(&body).err(),
            Some(want.clone())
        );
        assert_eq!(sts::parse_assume_role(&body).err(), Some(want.clone()));
        assert_eq!(
            sts::parse_get_caller_identity(&body).err(),
            Some(want.clone())
        );
        assert_eq!(iam::parse_list_mfa_devices(&body).err(), Some(want.clone()));
        assert_eq!(
            iam::parse_create_virtual_mfa_device(&body).err(),
            Some(want.clone())
        );
        assert_eq!(
            iam::parse_empty_response(&body, "EnableMFADeviceResponse").err(),
            Some(want)
        );
    }
}

/// Run every parser over `body`; the point is that none panics.
fn run_all(body: &str) {
    let _ = parse_error_response(body);
    let _ = sts::parse_get_session_token(body);
    let _ = sts::parse_assume_role(body);
    let _ = sts::parse_get_caller_identity(body);
    let _ = sts::parse_get_federation_token(body);
    let _ = iam::parse_list_mfa_devices(body);
    let _ = iam::parse_create_virtual_mfa_device(body);
    let _ = iam::parse_empty_response(body, "EnableMFADeviceResponse");
}

#[test]
fn every_fixture_prefix_and_corruption_is_handled() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/xml");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(body) = std::fs::read_to_string(&path) else {
            continue;
        };
        seen += 1;
        run_all(&body);
        for end in (0..body.len()).filter(|&i| body.is_char_boundary(i)) {
            run_all(&body[..end]);
        }
        // Corruptions: each markup character in turn replaced by another one.
        for (i, c) in body.char_indices().filter(|(_, c)| "<>&/;=\"".contains(*c)) {
            for replacement in ["<", ">", "&", ""] {
                let mut broken = body.clone();
                broken.replace_range(i..i + c.len_utf8(), replacement);
                run_all(&broken);
            }
        }
    }
    assert!(seen >= 30, "only {seen} fixtures");
}

#[test]
fn a_truncated_success_is_never_mistaken_for_a_success() {
    for (name, parse) in [
        (
            "sts_get_session_token.xml",
            (|b: &str| sts::parse_get_session_token(b).is_ok()) as fn(&str) -> bool,
        ),
        ("sts_get_session_token_moto.xml", |b| {
            sts::parse_get_session_token(b).is_ok()
        }),
        ("sts_assume_role.xml", |b| sts::parse_assume_role(b).is_ok()),
        ("sts_assume_role_moto.xml", |b| {
            sts::parse_assume_role(b).is_ok()
        }),
        ("sts_get_caller_identity.xml", |b| {
            sts::parse_get_caller_identity(b).is_ok()
        }),
        ("sts_get_federation_token.xml", |b| {
            sts::parse_get_federation_token(b).is_ok()
        }),
        ("iam_list_mfa_devices_moto.xml", |b| {
            iam::parse_list_mfa_devices(b).is_ok()
        }),
        ("iam_create_virtual_mfa_device_moto.xml", |b| {
            iam::parse_create_virtual_mfa_device(b).is_ok()
        }),
    ] {
        let body = fixture(name);
        let body = body.trim_end();
        assert!(parse(body), "{name}");
        for end in (0..body.len()).filter(|&i| body.is_char_boundary(i)) {
            assert!(!parse(&body[..end]), "{name} cut at {end}");
        }
    }
}
