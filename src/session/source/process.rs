//! Keys from a profile's `credential_process`: a command (pass, 1Password's op, gpg, a
//! keychain helper) that prints the AWS CLI's Version 1 JSON. The plan names the
//! command ([`Origin::Process`], pure); [`resolve`] runs it when the keys are needed.
//!
//! A `credential_process` that is aws-session itself (how a profile is served to the
//! SDKs) is never run: the profile's static keys are used, and without them the
//! profile is refused ([`process::is_aws_session`]). An aws-session started by any helper of
//! ours (it has [`process::MARKER`] in its environment) refuses to run one.

use super::{Kind, Origin, SourceCredentials};
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::shell::process;

/// What this kind of source says about itself (see [`super::Kind`]).
pub const KIND: Kind = Kind {
    settings: &["credential_process"],
    long_term_keys: true,
    child_keeps_keys: false,
    no_rotation: Some("the keys of profile \"{profile}\" come from its credential_process, where aws-session cannot write: rotate them with the tool that keeps them"),
};

/// The source of profile `profile` whose keys come from `command` (filled in by
/// [`resolve`]).
pub fn planned(profile: &str, command: &str) -> SourceCredentials {
    SourceCredentials {
        credentials: Credentials::long_term("", ""),
        origin: Origin::Process {
            profile: profile.to_string(),
            command: command.to_string(),
        },
    }
}

/// `src` with its keys: for [`Origin::Process`] the process is run now; any other
/// source is returned as it is.
pub fn resolve(src: SourceCredentials, env: &Env) -> Result<SourceCredentials> {
    let Origin::Process { profile, command } = &src.origin else {
        return Ok(src);
    };
    let what = format!("credential_process of profile \"{profile}\"");
    if env.get(process::MARKER).is_some() {
        return Err(Error::Config(format!(
            "{what}: not run, because this aws-session was itself started by a credential_process or mfa_process ({} is set): a profile whose keys come from aws-session must have its own aws_access_key_id and aws_secret_access_key",
            process::MARKER
        )));
    }
    let words = process::split_words(command).map_err(|why| {
        Error::Config(format!(
            "{what} cannot be split into words: {why}; fix its quoting in the AWS config file"
        ))
    })?;
    let program = words.first().cloned().unwrap_or_default();
    if program.is_empty() {
        return Err(Error::Config(format!(
            "{what} is empty: name a command, or remove the setting"
        )));
    }
    let out = process::run_capture(&words, process::TIMEOUT).map_err(|e| {
        Error::Config(format!(
            "{}; check the command in the AWS config file",
            process::describe(&what, &program, &e)
        ))
    })?;
    let credentials = parse_output(&out).map_err(|why| {
        Error::Config(format!(
            "{what}: \"{program}\" printed {why}; it must print the AWS CLI's credential_process JSON: {{\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}}"
        ))
    })?;
    Ok(SourceCredentials {
        credentials,
        origin: src.origin,
    })
}

/// The keys of a credential_process document; the error says what is wrong with it,
/// never a value. `Expiration` is not needed: the keys are used at once.
///
/// ```
/// use aws_session::session::source::process::parse_output;
/// let c = parse_output(br#"{"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "s"}"#).unwrap();
/// assert_eq!((c.access_key_id.as_str(), c.session_token), ("AKID", None));
/// assert!(parse_output(br#"{"Version": 2}"#).unwrap_err().contains("Version 2"));
/// ```
pub fn parse_output(bytes: &[u8]) -> std::result::Result<Credentials, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "output that is not UTF-8".to_string())?;
    let doc = json::parse(text).map_err(|e| format!("no valid JSON object ({e})"))?;
    if !matches!(doc, Value::Object(_)) {
        return Err("no valid JSON object (not an object)".into());
    }
    match doc.get("Version") {
        Some(v) if v.as_i64() == Some(1) => {}
        Some(Value::Number(v)) => return Err(format!("Version {v}, not 1")),
        Some(_) => return Err("a Version that is not the number 1".into()),
        None => return Err("JSON without \"Version\"".into()),
    }
    let field = |k: &str| match doc.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(None),
        Some(_) => Err(format!("\"{k}\" as a number, not a string")),
    };
    let key = field("AccessKeyId")?;
    let secret = field("SecretAccessKey")?;
    let (Some(access_key_id), Some(secret_access_key)) = (key, secret) else {
        return Err("JSON without \"AccessKeyId\" or \"SecretAccessKey\"".into());
    };
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: field("SessionToken")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_output_has_its_own_reason() {
        let e = |b: &str| parse_output(b.as_bytes()).unwrap_err();
        assert!(e("not json").contains("no valid JSON"));
        assert!(e(r#"{"AccessKeyId":"a","SecretAccessKey":"b"}"#).contains("without \"Version\""));
        assert!(
            e(r#"{"Version":2,"AccessKeyId":"a","SecretAccessKey":"b"}"#).contains("Version 2")
        );
        assert!(e(r#"{"Version":1,"AccessKeyId":"a"}"#).contains("SecretAccessKey"));
        assert!(e(r#"{"Version":1,"SecretAccessKey":"topsecret"}"#).contains("AccessKeyId"));
        assert!(!e(r#"{"Version":1,"SecretAccessKey":"topsecret"}"#).contains("topsecret"));
        let c = parse_output(
            br#"{"Version":1,"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.session_token.as_deref(), Some("t"));
    }

    #[test]
    fn refuses_to_run_inside_a_helper() {
        let env = Env::from_pairs([(process::MARKER, "1")]);
        let e = resolve(planned("p", "true"), &env).unwrap_err();
        assert!(e.to_string().contains(process::MARKER), "{e}");
        assert_eq!(e.exit_code(), 2);
    }
}
