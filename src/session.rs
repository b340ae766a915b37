//! Orchestration: which keys, which MFA device, which code → a session, and the
//! environment a child gets from it.
//!
//! The decisions ([`source_credentials`], [`child_environment`], [`export_lines`]) are
//! pure functions of an [`Env`] snapshot and the parsed profiles; [`establish`] is the
//! one place that calls AWS, through a [`Client`].

use crate::cli::{Options, Source};
use crate::client::Client;
use crate::config::ProfileSet;
use crate::credentials::{Credentials, SessionCredentials};
use crate::endpoint::EndpointSettings;
use crate::error::{Error, Result};
use crate::mfa::{self, CodeSource};
use crate::{iam, sts};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A snapshot of the process environment (only UTF-8 entries), passed around as data.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Snapshot of the current process environment.
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of the given pairs (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A variable's value; empty values count as unset (as the AWS CLI does).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where the long-term keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the caller.
    Environment,
    /// AWS_SESSION_PARENT_* stashed by an enclosing aws-session.
    ParentStash,
    /// A profile's aws_access_key_id / aws_secret_access_key.
    Profile(String),
}

/// The credentials a session is made from, and their origin.
#[derive(Debug, Clone)]
pub struct SourceCredentials {
    pub credentials: Credentials,
    pub origin: Origin,
}

/// Whether the environment's AWS_ACCESS_KEY_ID is a session an aws-session made
/// (so it must not be used to make another one).
fn env_holds_our_session(env: &Env) -> bool {
    env.get("AWS_SESSION_TOKEN").is_some()
        && (env.get("AWS_SESSION_EXPIRATION").is_some()
            || env.get("AWS_SESSION_MFADEVICE").is_some())
}

/// Pick the long-term keys: the stashed parent of an enclosing session, then the
/// environment, then the profile (AWS's order; the stash first so that a refresh
/// inside a session uses the keys the session was made from).
///
/// ```
/// use aws_session::session::{source_credentials, Env, Origin};
/// let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
/// let profiles = aws_session::config::merge(None, None);
/// let src = source_credentials(&env, &profiles, None).unwrap();
/// assert_eq!(src.origin, Origin::Environment);
/// ```
pub fn source_credentials(
    env: &Env,
    profiles: &ProfileSet,
    profile: Option<&str>,
) -> Result<SourceCredentials> {
    if let (Some(k), Some(s)) = (
        env.get("AWS_SESSION_PARENT_KEY"),
        env.get("AWS_SESSION_PARENT_SECRET"),
    ) {
        return Ok(SourceCredentials {
            credentials: Credentials {
                access_key_id: k.to_string(),
                secret_access_key: s.to_string(),
                session_token: env.get("AWS_SESSION_PARENT_TOKEN").map(str::to_string),
            },
            origin: Origin::ParentStash,
        });
    }
    if !env_holds_our_session(env) {
        if let (Some(k), Some(s)) = (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) {
            return Ok(SourceCredentials {
                credentials: Credentials {
                    access_key_id: k.to_string(),
                    secret_access_key: s.to_string(),
                    session_token: env
                        .get("AWS_SESSION_TOKEN")
                        .or_else(|| env.get("AWS_SECURITY_TOKEN"))
                        .map(str::to_string),
                },
                origin: Origin::Environment,
            });
        }
    }
    let name = profile.unwrap_or("default");
    let Some(p) = profiles.get(name) else {
        let known = profiles.names();
        return Err(Error::Config(if profile.is_some() {
            format!(
                "profile \"{name}\" not found in the AWS config or credentials file (known: {}); check --profile / AWS_PROFILE",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )
        } else {
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add keys to ~/.aws/credentials (aws configure), or pick a profile with --profile".to_string()
        }));
    };
    match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => Ok(SourceCredentials {
            credentials: Credentials {
                access_key_id: k.to_string(),
                secret_access_key: s.to_string(),
                session_token: p.get("aws_session_token").filter(|t| !t.is_empty()).map(str::to_string),
            },
            origin: Origin::Profile(name.to_string()),
        }),
        (Some(_), _) => Err(Error::Config(format!(
            "profile \"{name}\" has aws_access_key_id but no aws_secret_access_key: add it to ~/.aws/credentials"
        ))),
        _ if p.get("role_arn").is_some() => Err(Error::Config(format!(
            "profile \"{name}\" assumes a role (role_arn); role profiles are not supported by this version: use the source profile's keys with --profile"
        ))),
        _ => Err(Error::Config(format!(
            "profile \"{name}\" has no keys (aws_access_key_id, aws_secret_access_key): add them to ~/.aws/credentials or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ))),
    }
}

/// Endpoint settings from the environment and the profile.
pub fn endpoint_settings(
    env: &Env,
    profiles: &ProfileSet,
    profile: Option<&str>,
) -> EndpointSettings {
    let p = profiles.get(profile.unwrap_or("default"));
    let from_profile = |k: &str| {
        p.and_then(|p| p.get(k))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    EndpointSettings {
        region: env
            .get("AWS_REGION")
            .or_else(|| env.get("AWS_DEFAULT_REGION"))
            .map(str::to_string)
            .or_else(|| from_profile("region")),
        sts_regional: env
            .get("AWS_STS_REGIONAL_ENDPOINTS")
            .map(str::to_string)
            .or_else(|| from_profile("sts_regional_endpoints")),
        url_sts: env.get("AWS_ENDPOINT_URL_STS").map(str::to_string),
        url_iam: env.get("AWS_ENDPOINT_URL_IAM").map(str::to_string),
        url_all: env.get("AWS_ENDPOINT_URL").map(str::to_string),
        url_profile: from_profile("endpoint_url"),
    }
}

/// A session made, with what the child needs to know about it.
#[derive(Debug, Clone)]
pub struct Established {
    pub session: SessionCredentials,
    pub mfa_serial: String,
}

/// Where the MFA serial comes from, for --debug.
fn serial_source(
    env: &Env,
    profiles: &ProfileSet,
    profile: Option<&str>,
) -> Option<(String, &'static str)> {
    if let Some(s) = env.get("AWS_SESSION_MFADEVICE") {
        return Some((s.to_string(), "AWS_SESSION_MFADEVICE"));
    }
    profiles
        .get(profile.unwrap_or("default"))
        .and_then(|p| p.get("mfa_serial"))
        .filter(|s| !s.is_empty())
        .map(|s| (s.to_string(), "the profile's mfa_serial"))
}

/// Make an MFA session: find the device (one ListMFADevices call unless the serial is
/// known), get a code, call GetSessionToken; a refused code is asked again (up to 3
/// tries) when a terminal is there, never resent.
pub fn establish(
    client: &Client,
    src: &SourceCredentials,
    env: &Env,
    profiles: &ProfileSet,
    opts: &Options,
    codes: &mut dyn CodeSource,
) -> Result<Established> {
    let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
    let debug = |m: String| {
        if opts.debug {
            eprintln!("aws-session: debug: {m}");
        }
    };
    debug(format!(
        "credentials: {} from {}",
        src.credentials.access_key_id,
        match &src.origin {
            Origin::Environment => "the environment".to_string(),
            Origin::ParentStash => "the enclosing session's parent keys".to_string(),
            Origin::Profile(p) => format!("profile \"{p}\""),
        }
    ));
    let serial = match serial_source(env, profiles, profile) {
        Some((s, from)) => {
            debug(format!("MFA device: {s} (from {from})"));
            s
        }
        None => discover_serial(client, &src.credentials)?,
    };
    debug(format!("MFA device: {serial}"));

    let duration = opts.duration.map(|(d, _)| d);
    const TRIES: u32 = 3;
    let mut tries = 0;
    loop {
        tries += 1;
        let code = codes.next_code("your")?;
        let req = sts::get_session_token(duration, Some((&serial, &code)));
        match client.call(&req, &src.credentials) {
            Ok(body) => {
                let session = sts::parse_get_session_token(&body).map_err(|e| {
                    Error::Network(format!(
                        "GetSessionToken answered with an unusable document: {e}"
                    ))
                })?;
                debug(format!(
                    "session: {} until {}",
                    session.credentials.access_key_id,
                    iso8601(session.expiration)
                ));
                return Ok(Established {
                    session,
                    mfa_serial: serial,
                });
            }
            Err(Error::Aws(e)) if mfa::is_code_rejected(&e) => {
                if tries < TRIES && codes.can_ask_again() {
                    eprintln!("aws-session: AWS refused the MFA code ({}); wait for the next code and enter it", e.message.trim());
                    continue;
                }
                return Err(Error::MfaCode(format!(
                    "AWS refused the MFA code for {serial}: {}: {} (enter a current code that was not used before; check the device's clock and that mfa_serial is this user's device)",
                    e.code,
                    e.message.trim()
                )));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Find the signing user's MFA device: ListMFADevices without UserName (AWS takes
/// the user from the key). No device: one GetCallerIdentity to name the user.
fn discover_serial(client: &Client, creds: &Credentials) -> Result<String> {
    let body = client.call(&iam::list_mfa_devices(None), creds)?;
    let devices = iam::parse_list_mfa_devices(&body).map_err(|e| {
        Error::Network(format!(
            "ListMFADevices answered with an unusable document: {e}"
        ))
    })?;
    if let Some(d) = devices.into_iter().next() {
        return Ok(d.serial_number);
    }
    let who = client
        .call(&sts::get_caller_identity(), creds)
        .ok()
        .and_then(|b| sts::parse_get_caller_identity(&b).ok());
    let name = who
        .as_ref()
        .and_then(|w| w.iam_user_name().map(str::to_string))
        .or_else(|| who.map(|w| w.arn))
        .unwrap_or_else(|| creds.access_key_id.clone());
    Err(Error::NoMfaDevice(format!(
        "IAM user '{name}' has no MFA device configured: run aws-session provision-mfa, or set mfa_serial in the profile"
    )))
}

/// RFC 3339 / ISO 8601 UTC with a `Z`, seconds precision.
pub fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub use crate::shell::EnvChanges;

/// The environment contract of DESIGN.md for a child of this session.
///
/// `exe` is the absolute path of aws-session; `region` the profile's region when the
/// environment has none.
pub fn child_environment(
    est: &Established,
    src: &SourceCredentials,
    opts: &Options,
    exe: &str,
    region: Option<&str>,
    env: &Env,
) -> EnvChanges {
    let mut ch = credential_changes(&est.session);
    ch.push(("AWS_SESSION", Some(exe.to_string())));
    ch.push(("AWS_SESSION_MFADEVICE", Some(est.mfa_serial.clone())));
    match src.origin {
        Origin::Environment | Origin::ParentStash => {
            let c = &src.credentials;
            ch.push(("AWS_SESSION_PARENT_KEY", Some(c.access_key_id.clone())));
            ch.push((
                "AWS_SESSION_PARENT_SECRET",
                Some(c.secret_access_key.clone()),
            ));
            ch.push(("AWS_SESSION_PARENT_TOKEN", c.session_token.clone()));
        }
        Origin::Profile(_) => {
            ch.push(("AWS_SESSION_PARENT_KEY", None));
            ch.push(("AWS_SESSION_PARENT_SECRET", None));
            ch.push(("AWS_SESSION_PARENT_TOKEN", None));
        }
    }
    if let Some((p, _)) = &opts.profile {
        ch.push(("AWS_PROFILE", Some(p.clone())));
        ch.push(("AWS_DEFAULT_PROFILE", Some(p.clone())));
    }
    if let Some(r) = region {
        if env.get("AWS_REGION").is_none() && env.get("AWS_DEFAULT_REGION").is_none() {
            ch.push(("AWS_REGION", Some(r.to_string())));
            ch.push(("AWS_DEFAULT_REGION", Some(r.to_string())));
        }
    }
    // Options given on the command line become the sub-shell's defaults (as the
    // original did) — except the MFA code, which is used once and never passed on.
    if let Some((d, Source::CommandLine)) = opts.duration {
        ch.push(("AWS_SESSION_DURATION", Some(d.to_string())));
    }
    if opts.debug_from_cli {
        ch.push(("AWS_SESSION_DEBUG", Some("1".into())));
    }
    ch.push(("AWS_SESSION_MFA_CODE", None));
    ch
}

/// The variables that carry the session credentials themselves.
pub fn credential_changes(s: &SessionCredentials) -> EnvChanges {
    let c = &s.credentials;
    vec![
        ("AWS_ACCESS_KEY_ID", Some(c.access_key_id.clone())),
        ("AWS_SECRET_ACCESS_KEY", Some(c.secret_access_key.clone())),
        ("AWS_SESSION_TOKEN", c.session_token.clone()),
        ("AWS_SECURITY_TOKEN", c.session_token.clone()),
        (
            "AWS_SESSION_EXPIRATION",
            Some(s.expiration.unix_timestamp().to_string()),
        ),
        ("AWS_CREDENTIAL_EXPIRATION", Some(iso8601(s.expiration))),
    ]
}

/// Quote a value for POSIX shells: `'…'` with embedded quotes as `'\''`.
///
/// ```
/// assert_eq!(aws_session::session::sh_quote("a'b"), r#"'a'\''b'"#);
/// ```
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r#"'\''"#))
}

/// `export`/`unset` lines for bash/zsh/sh `eval`.
pub fn export_lines(changes: &EnvChanges) -> String {
    let mut out = String::new();
    for (k, v) in changes {
        match v {
            Some(v) => out.push_str(&format!("export {k}={}\n", sh_quote(v))),
            None => out.push_str(&format!("unset {k}\n")),
        }
    }
    out
}

/// Quote a value for fish: `'…'` where only `\\` and `\'` are escapes.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `set -gx`/`set -e` lines for fish's `source`.
pub fn fish_lines(changes: &EnvChanges) -> String {
    let mut out = String::new();
    for (k, v) in changes {
        match v {
            Some(v) => out.push_str(&format!("set -gx {k} {}\n", fish_quote(v))),
            None => out.push_str(&format!("set -e {k}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, FileKind};

    fn profiles(creds: &str, conf: &str) -> ProfileSet {
        config::merge(
            Some(config::parse(conf, FileKind::Config, "config").unwrap()),
            Some(config::parse(creds, FileKind::Credentials, "credentials").unwrap()),
        )
    }

    #[test]
    fn parent_stash_wins_then_env_then_profile() {
        let ps = profiles(
            "[default]\naws_access_key_id=AKP\naws_secret_access_key=sp\n",
            "",
        );
        let env = Env::from_pairs([
            ("AWS_SESSION_PARENT_KEY", "AKPARENT"),
            ("AWS_SESSION_PARENT_SECRET", "x"),
            ("AWS_ACCESS_KEY_ID", "ASIASESSION"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
            ("AWS_SESSION_TOKEN", "t"),
        ]);
        assert_eq!(
            source_credentials(&env, &ps, None).unwrap().origin,
            Origin::ParentStash
        );
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ]);
        let s = source_credentials(&env, &ps, None).unwrap();
        assert_eq!(
            (s.origin, s.credentials.access_key_id.as_str()),
            (Origin::Environment, "AKENV")
        );
        let s = source_credentials(&Env::default(), &ps, None).unwrap();
        assert_eq!(s.origin, Origin::Profile("default".into()));
    }

    #[test]
    fn our_own_session_in_env_is_not_a_source() {
        let ps = profiles(
            "[default]\naws_access_key_id=AKP\naws_secret_access_key=sp\n",
            "",
        );
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "ASIASESSION"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
            ("AWS_SESSION_TOKEN", "t"),
            ("AWS_SESSION_EXPIRATION", "123"),
        ]);
        let s = source_credentials(&env, &ps, None).unwrap();
        assert_eq!(s.credentials.access_key_id, "AKP");
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let ps = profiles(
            "[dev]\naws_access_key_id=a\naws_secret_access_key=b\n",
            "[profile ops]\nregion=x\n",
        );
        let e = source_credentials(&Env::default(), &ps, Some("prod")).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("\"prod\"") && m.contains("dev") && m.contains("ops"),
            "{m}"
        );
        assert_eq!(e.exit_code(), 2);
        let e = source_credentials(&Env::default(), &ps, None).unwrap_err();
        assert!(e.to_string().contains("no AWS credentials"));
    }

    #[test]
    fn export_lines_quote_and_unset() {
        let ch: EnvChanges = vec![("A", Some("it's".into())), ("B", None)];
        assert_eq!(export_lines(&ch), "export A='it'\\''s'\nunset B\n");
        assert_eq!(fish_lines(&ch), "set -gx A 'it\\'s'\nset -e B\n");
    }

    #[test]
    fn iso_format() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_597_484).unwrap();
        assert_eq!(iso8601(t), "2026-11-25T09:04:44Z");
    }
}
