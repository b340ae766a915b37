//! The properties each fuzz target checks, shared with tests/it/fuzz_regressions.rs
//! (which includes this file with `#[path]`), so a crash found by fuzzing stays a
//! regression test of the main build. Each function panics when a property fails;
//! the parsers under test must never panic themselves.

#![allow(dead_code)] // each fuzz target uses one of these

use aws_session::aws::{client, iam, sts, xml};
use aws_session::{cli, config};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Every XML reader on the same body.
pub fn xml(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let body = body.as_ref();
    match xml::Document::parse(body) {
        Ok(doc) => {
            let root = doc.root();
            let _ = (root.name(), root.text(), root.text_at(&["a", "b"]));
            let _ = root.children("member").count();
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let _ = e.into_error("Fuzz").to_string();
        }
    }
    if let Some(e) = xml::parse_error_response(body) {
        assert!(!e.code.is_empty(), "an error document without a code");
    }
    if let Ok(s) = sts::parse_get_session_token(body) {
        assert!(!s.credentials.access_key_id.is_empty());
        assert!(!s.credentials.secret_access_key.is_empty());
        expiration_is_writable(s.expiration);
    }
    if let Ok((s, u)) = sts::parse_assume_role(body) {
        assert!(!s.credentials.access_key_id.is_empty() && !u.arn.is_empty());
        expiration_is_writable(s.expiration);
    }
    if let Ok(id) = sts::parse_get_caller_identity(body) {
        let _ = id.iam_user_name();
    }
    if let Ok(devices) = iam::parse_list_mfa_devices(body) {
        assert!(devices.iter().all(|d| !d.serial_number.is_empty()));
    }
    if let Ok(d) = iam::parse_create_virtual_mfa_device(body) {
        assert!(!d.base32_seed.is_empty());
    }
    let _ = iam::parse_empty_response(body, "EnableMFADeviceResponse");
    let _ = client::parse_http_date(body);
}

/// The profile reader on both kinds of file, the merge, and the editor: an edit that
/// succeeds must read back the value it wrote, and keep the file readable.
pub fn profile(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();
    let kind = if selector & 1 == 0 {
        config::FileKind::Config
    } else {
        config::FileKind::Credentials
    };
    let parsed = match config::parse(text, kind, "fuzz") {
        Ok(p) => p,
        Err(e) => {
            assert!(
                e.line <= text.lines().count() + 1,
                "line {} out of range",
                e.line
            );
            let _ = aws_session::error::Error::from(e).to_string();
            return;
        }
    };
    let _ = parsed.warnings().len();
    let set = match kind {
        config::FileKind::Config => config::merge(Some(parsed), None),
        config::FileKind::Credentials => config::merge(None, Some(parsed)),
    };
    let names: Vec<String> = set.names().iter().map(|s| s.to_string()).collect();
    for name in &names {
        if let Some(p) = set.get(name) {
            let _ = p.properties().count();
            let _ = p.get("region");
            let _ = p.sub_properties("s3");
        }
    }
    // The first profile's chain (source_profile, role_arn) is resolved or refused
    // without a panic, and in time linear in its length: a long chain is kept in
    // fixtures/fuzz/profile/long-source-profile-chain.
    if let Some(first) = names.first() {
        if let Err(e) = aws_session::session::roles::resolve(&set, first) {
            assert!(!e.to_string().is_empty());
        }
    }
    // The editor writes into the first profile (or `default`), as provision-mfa does.
    let target = names.first().map(String::as_str).unwrap_or("default");
    let value = "arn:aws:iam::123456789012:mfa/fuzz";
    if let Ok(out) = config::set_property(text, kind, "fuzz", target, "mfa_serial", value) {
        let reparsed = config::parse(&out, kind, "fuzz")
            .unwrap_or_else(|e| panic!("an edited file no longer parses: {e}"));
        let set = match kind {
            config::FileKind::Config => config::merge(Some(reparsed), None),
            config::FileKind::Credentials => config::merge(None, Some(reparsed)),
        };
        assert_eq!(
            set.get(target).and_then(|p| p.get("mfa_serial")),
            Some(value),
            "the edit does not read back"
        );
    }
}

/// Argument parsing: NUL-separated arguments (any bytes, not only UTF-8), then
/// after a 0xFF byte `NAME=VALUE` lines as the environment.
pub fn cli(data: &[u8]) {
    let (args_part, env_part) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let args: Vec<OsString> = if args_part.is_empty() {
        Vec::new()
    } else {
        args_part
            .split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    let env_text = String::from_utf8_lossy(env_part).into_owned();
    let env = |key: &str| {
        env_text
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    match cli::parse(args, env) {
        Ok(o) => {
            if let Some(code) = &o.code {
                assert!(aws_session::tty::is_well_formed(code), "a bad code passed");
            }
            if let Some((d, _)) = o.duration {
                assert!((sts::MIN_DURATION_SECS..=sts::GET_SESSION_TOKEN_MAX_SECS).contains(&d));
            }
            if let Some(aws_session::cmd::Help(topic)) = o.command.args() {
                let _ = cli::help(topic.as_deref());
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert_eq!(e.exit_code(), aws_session::error::exit::USAGE, "{msg}");
            assert!(!msg.is_empty());
        }
    }
}

/// A session cache file: read back what was written, and refuse the rest with a
/// reason that holds no value of the file.
/// An expiration that was read can be written in every form the tool writes it in
/// (the environment contract, the cache), without a panic.
fn expiration_is_writable(t: time::OffsetDateTime) {
    let iso = aws_session::timefmt::iso8601_utc(t);
    assert_eq!(iso.len(), 20, "{iso}");
    assert!(aws_session::timefmt::rfc3339_utc(t).is_some());
}

pub fn cache(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match aws_session::cache::Entry::from_json(&text) {
        Ok(entry) => {
            expiration_is_writable(entry.session.expiration);
            let again = aws_session::cache::Entry::from_json(&entry.to_json())
                .unwrap_or_else(|e| panic!("an entry's own JSON does not read back: {e}"));
            assert_eq!(again, entry, "an entry changes when written and read back");
        }
        Err(reason) => {
            assert!(!reason.is_empty());
            let secret = "SECRETVALUE";
            if !reason.contains(secret) {
                return;
            }
            // Only a key name may appear in a reason, and no key is named like that.
            assert!(
                !text.contains(&format!(":\"{secret}")),
                "a value in the reason: {reason}"
            );
        }
    }
}

/// No character a terminal acts on (what `encode::printable` escapes).
fn assert_printable(text: &str, what: &str) {
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        "a control character in {what}: {text:?}"
    );
}

/// `json::parse` directly: what it accepts is written back by `to_json` and reads back
/// equal; an error is a non-empty reason.
pub fn json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match aws_session::json::parse(&text) {
        Ok(v) => {
            let out = v.to_json();
            let again = aws_session::json::parse(&out)
                .unwrap_or_else(|e| panic!("its own JSON does not read back: {e}: {out}"));
            assert!(
                again == v,
                "a value changes when written and read back: {out}"
            );
            let _ = (v.get("a"), v.str("b"), v.as_i64(), v.as_str());
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
    let _ = aws_session::json::string(&text);
}

/// The credential_process output parser: accepted keys are non-empty; a reason is
/// non-empty and never holds a value of the output.
pub fn process_output(data: &[u8]) {
    // A fixed clock: the parser refuses keys whose Expiration has passed.
    let now = time::OffsetDateTime::UNIX_EPOCH;
    match aws_session::session::source::process::parse_output(data, now) {
        Ok(c) => {
            assert!(!c.access_key_id.is_empty() && !c.secret_access_key.is_empty());
            assert!(c.session_token.as_deref() != Some(""));
        }
        Err(reason) => {
            assert!(!reason.is_empty());
            assert!(
                !reason.contains("SECRETVALUE"),
                "a value in the reason: {reason}"
            );
        }
    }
}

/// The sign-in's answers: CreateOAuth2Token's (1 byte selects the HTTP status), the id
/// token's claims, a pasted code, a callback target, and the `sub` check. Errors are
/// printable; an accepted token has its fields.
pub fn signin(data: &[u8]) {
    use aws_session::aws::signin;
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let status = [200, 400, 401, 403, 500][usize::from(selector) % 5];
    match signin::parse_token_response(status, &text) {
        Ok(t) => {
            assert_eq!(status, 200);
            assert!(t.expires_in > 0 && !t.refresh_token.is_empty());
            assert!(!t.credentials.access_key_id.is_empty());
        }
        Err(e) => assert_printable(&e.to_string(), "a sign-in error"),
    }
    if let Some(claims) = signin::jwt_claims(&text) {
        let _ = claims.str("sub").map(signin::is_principal_arn);
    }
    if let Ok((code, state)) = signin::decode_pasted_code(&text) {
        let _ = (code.len(), state.len());
    }
    if signin::is_principal_arn(&text) {
        assert!(!text.contains(['\n', '\r', ' ', '\u{1b}']), "{text:?}");
        assert!(signin::account_of(&text).is_some());
    }
    if let signin::CallbackRequest::Answer(signin::Callback::Refused(why)) =
        signin::parse_callback(&text, "s")
    {
        assert_printable(&why, "a refused sign-in's reason");
    }
}

/// The sign-in token cache record: what is accepted yields credentials, and is written
/// back and read again with the same credentials.
pub fn login_token(data: &[u8]) {
    use aws_session::aws::signin::LoginToken;
    let text = String::from_utf8_lossy(data);
    let Ok(token) = LoginToken::parse(&text) else {
        return;
    };
    let session = token.session().expect("an accepted token has credentials");
    let _ = token.horizon();
    let again = LoginToken::parse(&token.to_json())
        .unwrap_or_else(|e| panic!("a token's own JSON does not read back: {e}"));
    let s2 = again.session().expect("credentials after the round trip");
    assert_eq!(
        s2.credentials.access_key_id,
        session.credentials.access_key_id
    );
    assert_eq!(s2.expiration, session.expiration);
    assert_eq!(again.refresh_token(), token.refresh_token());
}

/// The two listeners' request parsers on one request head: the credential server's
/// `respond` (with and without the token) and the login callback's `get_target` +
/// `parse_callback`. Never a panic; only the right token gets a 200.
pub fn listeners(data: &[u8]) {
    use aws_session::aws::credential_server::{parse_head, respond, Document, Provider};
    use aws_session::aws::{callback, signin};
    use std::sync::Arc;
    struct Fixed;
    impl Provider for Fixed {
        fn credentials(&self) -> Result<Arc<Document>, String> {
            Err("no credentials in the fuzzer".into())
        }
    }
    let head = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data, |end| &data[..end]);
    if let Some(request) = parse_head(head) {
        let r = respond(&request, "fuzz-token-0123456789", "127.0.0.1:1", &Fixed);
        let text = String::from_utf8_lossy(data);
        if r.status() == 200 || r.status() == 500 {
            assert!(
                text.contains("fuzz-token-0123456789"),
                "served without the token"
            );
        }
    }
    if let Some(target) = callback::get_target(data) {
        let _ = signin::parse_callback(&target, "state-1");
    }
}
