//! The environment a child of the session gets (pure: values in, variable changes out).

use super::establish::Established;
use super::source::SourceCredentials;
use crate::credentials::SessionCredentials;
use crate::env::Env;
use crate::timefmt::iso8601_utc;

pub use crate::shell::EnvChanges;

/// The settings of this run's command line that a child inherits as its defaults, so
/// that `aws-session-refresh` inside a sub-shell makes the same kind of session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Passed<'a> {
    /// The profile (`--profile`, AWS_PROFILE or AWS_SESSION_PROFILE): becomes
    /// AWS_SESSION_PROFILE of the child ([`profile_changes`]).
    pub profile: Option<&'a str>,
    /// `--session-duration N` given on the command line.
    pub duration_from_cli: Option<u32>,
    /// `--session-duration 0` given: the child does not inherit AWS_SESSION_DURATION.
    pub duration_default_on_cli: bool,
    /// `--debug` given on the command line.
    pub debug_from_cli: bool,
}

/// Everything a child of this session gets in its environment: the credentials, what a
/// later refresh needs (the keys it was made from, the device, the role), the profile,
/// the region, and the command line's settings as defaults.
///
/// `exe` is the absolute path of aws-session; `region` the profile's region when the
/// environment has none; `stash` the path of the parent stash
/// ([`crate::session::stash`]) holding the keys, when they came from the environment.
/// The keys themselves are never in the child's environment: any program it runs
/// could print or pass on its environment.
pub fn child_environment(
    est: &Established,
    src: &SourceCredentials,
    passed: &Passed,
    exe: &str,
    region: Option<&str>,
    env: &Env,
    stash: Option<&str>,
) -> EnvChanges {
    let mut ch = session_changes(est);
    ch.push(source_key_change(src));
    ch.push((
        "AWS_SESSION_LOGIN_UNTIL",
        est.login_until.map(|t| t.unix_timestamp().to_string()),
    ));
    ch.push(("AWS_SESSION", Some(exe.to_string())));
    // A refresh of keys from a profile reads the profile again (and runs its
    // credential_process, or renews the sign-in, again); keys from the environment are
    // found through the stash.
    let stash = stash.filter(|_| src.origin.kind().child_keeps_keys);
    ch.push((crate::session::stash::VAR, stash.map(str::to_string)));
    // The variables an older aws-session put the keys in, should they be inherited.
    for name in [
        "AWS_SESSION_PARENT_KEY",
        "AWS_SESSION_PARENT_SECRET",
        "AWS_SESSION_PARENT_TOKEN",
    ] {
        ch.push((name, None));
    }
    ch.extend(profile_changes(passed.profile));
    ch.extend(region_changes(region, env));
    // Options given on the command line become the sub-shell's defaults, so that a
    // refresh inside it asks AWS for the same — except the MFA code, which is used once
    // and never passed on.
    if let Some(d) = passed.duration_from_cli {
        ch.push(("AWS_SESSION_DURATION", Some(d.to_string())));
    } else if passed.duration_default_on_cli {
        ch.push(("AWS_SESSION_DURATION", None));
    }
    if passed.debug_from_cli {
        ch.push(("AWS_SESSION_DEBUG", Some("1".into())));
    }
    ch.push(("AWS_SESSION_MFA_CODE", None));
    ch
}

/// The variables that select a profile, unset, so that the session is the only
/// credential source an SDK in the child can find: with AWS_PROFILE set, the AWS SDK for
/// JavaScript v3 signs with the profile's long-term keys (or, for a role profile with
/// `mfa_serial`, fails for want of an MFA callback) although AWS_ACCESS_KEY_ID holds the
/// session; AWS_SDK_LOAD_CONFIG makes the Go SDK read the profile too. The profile the
/// session was made for goes to AWS_SESSION_PROFILE, which only aws-session reads
/// (refresh, status, a nested run), so `aws-session-refresh` renews the same profile.
///
/// ```
/// use aws_session::session::profile_changes;
/// let ch = profile_changes(Some("dev"));
/// assert!(ch.contains(&("AWS_PROFILE", None)));
/// assert!(ch.contains(&("AWS_SESSION_PROFILE", Some("dev".to_string()))));
/// assert!(profile_changes(None).contains(&("AWS_SESSION_PROFILE", None)));
/// ```
pub fn profile_changes(profile: Option<&str>) -> EnvChanges {
    vec![
        ("AWS_PROFILE", None),
        ("AWS_DEFAULT_PROFILE", None),
        ("AWS_SDK_LOAD_CONFIG", None),
        ("AWS_SESSION_PROFILE", profile.map(str::to_string)),
    ]
}

/// The credential variables ([`credential_changes`]) plus what a later refresh needs to
/// know about the session: AWS_SESSION_MFADEVICE (the MFA device, unset for a role
/// assumed without MFA) and AWS_SESSION_ROLE_ARN (the role, unset for an MFA session).
pub fn session_changes(est: &Established) -> EnvChanges {
    let mut ch = credential_changes(&est.session);
    ch.push(("AWS_SESSION_MFADEVICE", est.mfa_serial.clone()));
    ch.push((
        "AWS_SESSION_ROLE_ARN",
        est.role.as_ref().map(|r| r.role_arn.clone()),
    ));
    ch
}

/// AWS_SESSION_SOURCE_KEY_ID: the access key id (not a secret) of the long-term keys a
/// session was made from, so that its AWS_SESSION_MFADEVICE is used only with them
/// ([`inherited_serial`]).
pub fn source_key_change(src: &SourceCredentials) -> (&'static str, Option<String>) {
    let key = src
        .origin
        .kind()
        .long_term_keys
        .then(|| src.credentials.access_key_id.clone());
    ("AWS_SESSION_SOURCE_KEY_ID", key)
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
        ("AWS_CREDENTIAL_EXPIRATION", Some(iso8601_utc(s.expiration))),
    ]
}

/// AWS_REGION and AWS_DEFAULT_REGION, both set to the region the AWS CLI would use:
/// AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` (the child gets no
/// AWS_PROFILE, so it cannot read the profile itself). Both agree, because SDKs differ in
/// which one they read first: the JavaScript SDK and the Rust SDK read AWS_REGION, boto3
/// and the AWS CLI AWS_REGION then AWS_DEFAULT_REGION, older tools only
/// AWS_DEFAULT_REGION. Only the variables whose value changes are listed. Used by the
/// child's environment and by `export`.
///
/// ```
/// use aws_session::env::Env;
/// use aws_session::session::region_changes;
/// let env = Env::from_pairs([("AWS_DEFAULT_REGION", "eu-west-1")]);
/// // The environment's region wins over the profile's, for both variables.
/// assert_eq!(region_changes(Some("us-east-2"), &env), vec![("AWS_REGION", Some("eu-west-1".to_string()))]);
/// assert_eq!(region_changes(None, &env), vec![("AWS_REGION", Some("eu-west-1".to_string()))]);
/// assert_eq!(region_changes(Some("us-east-2"), &Env::default()).len(), 2);
/// assert!(region_changes(None, &Env::default()).is_empty());
/// ```
pub fn region_changes(profile_region: Option<&str>, env: &Env) -> EnvChanges {
    let Some(r) = env
        .get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .or(profile_region.filter(|r| !r.is_empty()))
    else {
        return Vec::new();
    };
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .filter(|k| env.get(k) != Some(r))
        .map(|k| (k, Some(r.to_string())))
        .collect()
}
