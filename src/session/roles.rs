//! Role profiles → a plan: which credentials to start from and which roles to assume
//! with them, in order (pure: profiles in, plan or error out; no files, no env, no clock).
//!
//! The walk follows the AWS SDKs' rules (the assume-role conformance suite in
//! `fixtures/conformance/profile` is the judge):
//! - the selected profile's `role_arn` is used even when it also has keys;
//! - `source_profile` names the next profile; a profile naming itself means "my own keys";
//! - after the first profile, static keys win over that profile's own `role_arn`;
//! - `credential_source = Environment` means the keys come from the environment;
//! - a profile visited twice is a loop.
//!
//! Beyond the suite (which is silent on these): a profile's `credential_process` is its
//! source of keys when it has no static keys ([`Base::Process`]; run later, never
//! here), except one that is aws-session itself (a profile `P` configured as
//! `credential_process = aws-session credential-process --profile P` would call
//! itself), and a profile without `role_arn` whose keys live in
//! another profile may name it with `source_profile`. SSO, web identity, instance and
//! container credentials are refused as not supported, with the reason.
//!
//! [`schedule`] then applies AWS's role-chaining rule: a role assumed with temporary
//! credentials lasts one hour at most, so a longer first role is assumed from the
//! long-term keys with the MFA code itself instead of riding on the MFA session.

use crate::config::{Profile, ProfileSet};
use crate::credentials::Credentials;
use std::collections::HashSet;
use std::fmt;

use crate::aws::sts::{
    ASSUME_ROLE_MAX_SECS as MAX_ROLE_DURATION, MIN_DURATION_SECS as MIN_ROLE_DURATION,
    ROLE_CHAINING_MAX_SECS as ROLE_CHAINING_MAX,
};

/// The profile settings of roles and of how their credentials are had (a `--server`
/// child's copy of the profile leaves them out, with the key sources' settings).
pub const ROLE_SETTINGS: &[&str] = &[
    "role_arn",
    "source_profile",
    "credential_source",
    "mfa_serial",
    "mfa_process",
    "role_session_name",
    "external_id",
    "duration_seconds",
    "web_identity_token_file",
];

/// Where the first credentials of a plan come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// Keys written in a profile (`aws_access_key_id`, `aws_secret_access_key`, maybe
    /// `aws_session_token`).
    Keys {
        /// The profile that holds them.
        profile: String,
        credentials: Credentials,
        /// `aws_account_id`, when the profile has one.
        account_id: Option<String>,
    },
    /// `credential_source = Environment`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    Environment {
        /// The profile that says so.
        profile: String,
    },
    /// The profile's `credential_process` (not aws-session itself).
    Process {
        /// The profile that names it.
        profile: String,
        command: String,
    },
    /// `login_session`: the credentials of a sign-in (`aws-session login`).
    Login {
        /// The profile that names it.
        profile: String,
        /// The signed-in principal's ARN.
        session: String,
    },
}

/// One AssumeRole call of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    /// The profile that defines the role.
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    /// `role_session_name`, when configured (else one is derived at run time).
    pub role_session_name: Option<String>,
    /// `duration_seconds`, when configured (checked: 900..=43200).
    pub duration_seconds: Option<u32>,
}

/// What a profile resolves to: start from `base`, then assume `steps` in order (the
/// first with the base credentials, each next one with the previous role's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The profile asked for.
    pub selected: String,
    pub base: Base,
    /// Roles to assume; empty when the profile resolves to keys only.
    pub steps: Vec<RoleStep>,
    /// The MFA device: the `mfa_serial` of the first profile on the walk from the
    /// selected profile to the keys that has one.
    pub mfa_serial: Option<String>,
}

/// Why a profile cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleError {
    /// The configuration is wrong; the message says where and what to do.
    Invalid(String),
    /// The --session-duration / AWS_SESSION_DURATION asked for does not fit the role
    /// (a usage error: exit 1).
    Duration(String),
    /// The configuration asks for a way of getting credentials that aws-session does
    /// not implement (SSO, web identity, instance metadata, ...).
    Unsupported {
        /// The profile that asks for it.
        profile: String,
        /// What it asks for, e.g. "SSO (sso_session, sso_start_url)".
        feature: String,
    },
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleError::Invalid(m) | RoleError::Duration(m) => f.write_str(m),
            RoleError::Unsupported { profile, feature } => write!(
                f,
                "profile `{profile}` gets credentials from {feature}, which aws-session does not support: \
                 give it (or its source_profile) IAM user keys, or use the AWS CLI for this profile"
            ),
        }
    }
}

impl std::error::Error for RoleError {}

impl From<RoleError> for crate::error::Error {
    fn from(e: RoleError) -> Self {
        match e {
            RoleError::Duration(m) => crate::error::Error::Usage(m),
            e => crate::error::Error::Config(e.to_string()),
        }
    }
}

/// Whether `profile` gets its credentials through other profiles or the environment
/// rather than from keys of its own: it has `role_arn`, or it has no keys but a
/// `source_profile` or `credential_source`.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let set = merge(Some(parse("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\n\
///                             [profile k]\naws_access_key_id = A\naws_secret_access_key = s\n",
///                            FileKind::Config, "c")?), None);
/// assert!(aws_session::session::roles::is_indirect(set.get("r").unwrap()));
/// assert!(!aws_session::session::roles::is_indirect(set.get("k").unwrap()));
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn is_indirect(profile: &Profile) -> bool {
    let has = |k: &str| profile.get(k).is_some_and(|v| !v.is_empty());
    has("role_arn")
        || (!has("aws_access_key_id")
            && !has("aws_secret_access_key")
            && (has("source_profile") || has("credential_source")))
}

/// Resolve `selected` into a [`Plan`].
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// use aws_session::session::roles::{resolve, Base};
/// let text = "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\n\
///             source_profile = me\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n\
///             [profile me]\naws_access_key_id = AKID\naws_secret_access_key = secret\n";
/// let set = merge(Some(parse(text, FileKind::Config, "config")?), None);
/// let plan = resolve(&set, "admin").unwrap();
/// assert!(matches!(&plan.base, Base::Keys { profile, .. } if profile == "me"));
/// assert_eq!(plan.steps[0].role_arn, "arn:aws:iam::123456789012:role/admin");
/// assert_eq!(plan.mfa_serial.as_deref(), Some("arn:aws:iam::123456789012:mfa/me"));
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn resolve(profiles: &ProfileSet, selected: &str) -> Result<Plan, RoleError> {
    if profiles.names().is_empty() {
        return Err(RoleError::Invalid(format!(
            "No profiles were defined: profile `{selected}` cannot be resolved (add it to ~/.aws/config or ~/.aws/credentials)"
        )));
    }
    let mut name = selected.to_string();
    // The chain in order (for messages) and as a set (a loop is found in linear time).
    let mut visited: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut steps: Vec<RoleStep> = Vec::new();
    let mut mfa_serial: Option<String> = None;

    let base = loop {
        let Some(profile) = profiles.get(&name) else {
            let ignored = ignored_sections(profiles, &name);
            return Err(RoleError::Invalid(match (visited.last(), ignored.as_slice()) {
                (None, []) => {
                    let known = profiles.names();
                    format!(
                        "profile `{name}` not found in the AWS config or credentials file (known: {}); check --profile / AWS_PROFILE",
                        known.join(", ")
                    )
                }
                (None, why) => format!("profile `{name}` not found: {}", why.join("; ")),
                (Some(from), []) => format!(
                    "could not find source profile {name} referenced from {from}: add a [profile {name}] section, or fix source_profile in profile `{from}`"
                ),
                (Some(from), why) => format!(
                    "could not find source profile {name} referenced from {from}: {}",
                    why.join("; ")
                ),
            }));
        };
        if !seen.insert(name.clone()) {
            visited.push(name);
            return Err(RoleError::Invalid(format!(
                "profile formed an infinite loop: {} (fix source_profile so the chain ends at a profile with keys)",
                visited.join(" -> ")
            )));
        }
        visited.push(name.clone());
        if mfa_serial.is_none() {
            mfa_serial = value(profile, "mfa_serial").map(str::to_string);
        }
        // After the first profile, static keys win over anything else it says.
        if visited.len() > 1 {
            if let Ok(base) = static_keys(profile) {
                break base;
            }
        }
        let has_role = value(profile, "role_arn").is_some()
            && value(profile, "web_identity_token_file").is_none();
        if has_role {
            steps.push(role_step(profile)?);
            match next_source(profile)? {
                Next::SelfReference => match (static_keys(profile), process_base(profile)) {
                    (Err(NoKeys::None), Some(process)) => break process?,
                    (keys, _) => break keys?,
                },
                Next::Named(next) => name = next,
                Next::CredentialSource(source) => break named_source(profile, &source)?,
            }
        } else {
            match base_of(profile) {
                Ok(Some(base)) => break base,
                // Our extension: keys kept in another profile (no role_arn).
                Ok(None) => match value(profile, "source_profile") {
                    Some(next) if next == profile.name() => {
                        return Err(RoleError::Invalid(format!(
                            "profile `{next}` names itself as source_profile but has no keys: add aws_access_key_id and aws_secret_access_key to it"
                        )))
                    }
                    Some(next) => name = next.to_string(),
                    None => return Err(no_credentials(profile, visited.len())),
                },
                Err(RoleError::Invalid(m)) if visited.len() > 1 => {
                    return Err(RoleError::Invalid(format!(
                        "could not load source profile `{}`: {m}",
                        profile.name()
                    )))
                }
                Err(e) => return Err(e),
            }
        }
    };
    steps.reverse();
    Ok(Plan {
        selected: selected.to_string(),
        base,
        steps,
        mfa_serial,
    })
}

/// What the reader of the AWS files said about sections for profile `name` that it
/// ignored (`[dev]` in the config file, `[profile dev]` in the credentials file, ...),
/// one sentence each with file and line: why a profile the user wrote is not found.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let set = merge(Some(parse("[dev]\nregion = x\n", FileKind::Config, "~/.aws/config")?), None);
/// let why = aws_session::session::roles::ignored_sections(&set, "dev");
/// assert!(why[0].contains("~/.aws/config line 1") && why[0].contains("[profile dev]"));
/// assert!(aws_session::session::roles::ignored_sections(&set, "prod").is_empty());
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn ignored_sections<'a>(profiles: &'a ProfileSet, name: &str) -> Vec<&'a str> {
    let marks = [
        format!("[{name}]"),
        format!("[profile {name}]"),
        format!("`{name}`"),
    ];
    profiles
        .warnings()
        .iter()
        .filter(|w| w.contains(" section [") && marks.iter().any(|m| w.contains(m.as_str())))
        .map(String::as_str)
        .collect()
}

/// The error for a profile with no way to get credentials at all.
fn no_credentials(profile: &Profile, depth: usize) -> RoleError {
    let m = format!(
        "profile `{}` did not contain credential information: add aws_access_key_id and aws_secret_access_key \
         (in ~/.aws/credentials), or role_arn with source_profile",
        profile.name()
    );
    RoleError::Invalid(if depth > 1 {
        format!("could not load source profile `{}`: {m}", profile.name())
    } else {
        m
    })
}

/// A non-empty property value.
fn value<'a>(profile: &'a Profile, key: &str) -> Option<&'a str> {
    profile.get(key).filter(|v| !v.is_empty())
}

enum Next {
    SelfReference,
    Named(String),
    CredentialSource(String),
}

/// Where a role profile's credentials come from.
fn next_source(profile: &Profile) -> Result<Next, RoleError> {
    let name = profile.name();
    match (value(profile, "source_profile"), value(profile, "credential_source")) {
        (Some(_), Some(_)) => Err(RoleError::Invalid(format!(
            "profile `{name}`: profile contained both source_profile and credential_source; keep only one of them"
        ))),
        (None, None) => Err(RoleError::Invalid(format!(
            "profile `{name}` has role_arn, but the profile must contain `source_profile` (a profile with keys) \
             or `credential_source` (Environment) to assume it with"
        ))),
        (Some(s), None) if s == name => Ok(Next::SelfReference),
        (Some(s), None) => Ok(Next::Named(s.to_string())),
        (None, Some(c)) => Ok(Next::CredentialSource(c.to_string())),
    }
}

/// The base of a profile without a role: `Some(base)`, or `None` when it has no
/// credentials of its own (the caller may follow `source_profile`).
fn base_of(profile: &Profile) -> Result<Option<Base>, RoleError> {
    if let Some(source) = value(profile, "credential_source") {
        return named_source(profile, source).map(Some);
    }
    unsupported_features(profile)?;
    match static_keys(profile) {
        Ok(base) => Ok(Some(base)),
        // Keys kept in a named source_profile win over a credential_process (which may
        // be aws-session serving this very profile); keys and a credential_process win
        // over a sign-in, as in the SDKs' order of providers.
        Err(NoKeys::None) if value(profile, "source_profile").is_some() => Ok(None),
        Err(NoKeys::None) => match process_base(profile).transpose() {
            Ok(None) => Ok(value(profile, "login_session").map(|s| Base::Login {
                profile: profile.name().to_string(),
                session: s.to_string(),
            })),
            other => other,
        },
        Err(NoKeys::Partial(e)) => Err(e),
    }
}

/// The profile's `credential_process` as its base, when it has one; an error when it is
/// aws-session itself.
fn process_base(profile: &Profile) -> Option<Result<Base, RoleError>> {
    let command = value(profile, "credential_process")?;
    let name = profile.name();
    Some(if crate::shell::process::is_aws_session(command) {
        Err(RoleError::Invalid(calls_itself(name)))
    } else {
        Ok(Base::Process {
            profile: name.to_string(),
            command: command.to_string(),
        })
    })
}

/// SSO and web identity profiles are refused, naming what they ask for.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let set = merge(Some(parse("[profile s]\nsso_session = corp\n", FileKind::Config, "c")?), None);
/// let e = aws_session::session::roles::unsupported_features(set.get("s").unwrap()).unwrap_err();
/// assert!(e.to_string().contains("SSO (sso_session, sso_start_url)"), "{e}");
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn unsupported_features(profile: &Profile) -> Result<(), RoleError> {
    let unsupported = |feature: &str| RoleError::Unsupported {
        profile: profile.name().to_string(),
        feature: feature.to_string(),
    };
    if value(profile, "web_identity_token_file").is_some() {
        return Err(unsupported(
            "web identity (web_identity_token_file, AssumeRoleWithWebIdentity)",
        ));
    }
    let sso = [
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
        "sso_region",
    ];
    if sso.iter().any(|k| value(profile, k).is_some()) {
        return Err(unsupported(
            "IAM Identity Center / SSO (sso_session, sso_start_url)",
        ));
    }
    Ok(())
}

/// `credential_source`: only Environment is supported.
fn named_source(profile: &Profile, source: &str) -> Result<Base, RoleError> {
    match source {
        "Environment" => Ok(Base::Environment {
            profile: profile.name().to_string(),
        }),
        "Ec2InstanceMetadata" | "EcsContainer" => Err(RoleError::Unsupported {
            profile: profile.name().to_string(),
            feature: format!("credential_source = {source} (instance or container credentials)"),
        }),
        other => Err(RoleError::Invalid(format!(
            "profile `{}`: credential_source \"{}\" is not known (AWS knows Environment, Ec2InstanceMetadata, EcsContainer; aws-session supports Environment)",
            profile.name(),
            other.chars().take(40).collect::<String>()
        ))),
    }
}

enum NoKeys {
    /// No key property at all.
    None,
    /// Some but not all: the error says which is missing.
    Partial(RoleError),
}

fn static_keys(profile: &Profile) -> Result<Base, NoKeys> {
    let key = value(profile, "aws_access_key_id");
    let secret = value(profile, "aws_secret_access_key");
    let token = value(profile, "aws_session_token");
    let name = profile.name();
    match (key, secret) {
        (Some(k), Some(s)) => Ok(Base::Keys {
            profile: name.to_string(),
            credentials: Credentials {
                access_key_id: k.to_string(),
                secret_access_key: s.to_string(),
                session_token: token.map(str::to_string),
            },
            account_id: value(profile, "aws_account_id").map(str::to_string),
        }),
        (None, None) if token.is_none() => Err(NoKeys::None),
        (None, _) => Err(NoKeys::Partial(RoleError::Invalid(format!(
            "profile `{name}`: profile missing aws_access_key_id (add it next to aws_secret_access_key in ~/.aws/credentials)"
        )))),
        (Some(_), None) => Err(NoKeys::Partial(RoleError::Invalid(format!(
            "profile `{name}`: profile missing aws_secret_access_key (add it next to aws_access_key_id in ~/.aws/credentials)"
        )))),
    }
}

impl From<NoKeys> for RoleError {
    fn from(e: NoKeys) -> Self {
        match e {
            NoKeys::Partial(e) => e,
            NoKeys::None => RoleError::Invalid(
                "a profile that is its own source_profile did not contain credential information: \
                 add aws_access_key_id and aws_secret_access_key to it"
                    .into(),
            ),
        }
    }
}

/// The AssumeRole parameters of a role profile, checked against AWS's constraints.
fn role_step(profile: &Profile) -> Result<RoleStep, RoleError> {
    let name = profile.name();
    let role_arn = value(profile, "role_arn").unwrap_or_default().to_string();
    let role_session_name = match value(profile, "role_session_name") {
        Some(s) if is_valid_session_name(s) => Some(s.to_string()),
        Some(s) => {
            return Err(RoleError::Invalid(format!(
                "profile `{name}`: role_session_name \"{}\" is not valid: AWS allows 2 to 64 letters, digits and _+=,.@-",
                s.chars().take(70).collect::<String>()
            )))
        }
        None => None,
    };
    let external_id = match value(profile, "external_id") {
        Some(e) if is_valid_external_id(e) => Some(e.to_string()),
        Some(_) => {
            return Err(RoleError::Invalid(format!(
                "profile `{name}`: external_id is not valid: AWS allows 2 to 1224 letters, digits and _+=,.@:/-"
            )))
        }
        None => None,
    };
    let duration_seconds = match value(profile, "duration_seconds") {
        Some(d) => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| (MIN_ROLE_DURATION..=MAX_ROLE_DURATION).contains(d))
                .ok_or_else(|| {
                    RoleError::Invalid(format!(
                        "profile `{name}`: duration_seconds \"{}\" must be whole seconds from {MIN_ROLE_DURATION} to {MAX_ROLE_DURATION} (15 minutes to 12 hours)",
                        d.chars().take(20).collect::<String>()
                    ))
                })?,
        ),
        None => None,
    };
    Ok(RoleStep {
        profile: name.to_string(),
        role_arn,
        external_id,
        role_session_name,
        duration_seconds,
    })
}

/// AWS's pattern for RoleSessionName: `[\w+=,.@-]{2,64}`.
///
/// ```
/// assert!(aws_session::session::roles::is_valid_session_name("alice@example.com"));
/// assert!(!aws_session::session::roles::is_valid_session_name("a"));
/// assert!(!aws_session::session::roles::is_valid_session_name("has space"));
/// ```
pub fn is_valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.chars().all(session_name_char)
}

fn session_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn is_valid_external_id(s: &str) -> bool {
    (2..=1224).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
}

/// A RoleSessionName when the profile has none: `aws-session-<user>-<unix time>`, with
/// characters AWS refuses replaced by `-` and the user part shortened to fit 64.
///
/// ```
/// use aws_session::session::roles::default_session_name;
/// assert_eq!(default_session_name(Some("alice"), 1_700_000_000), "aws-session-alice-1700000000");
/// assert_eq!(default_session_name(Some("j doe"), 5), "aws-session-j-doe-5");
/// assert_eq!(default_session_name(None, 5), "aws-session-5");
/// ```
pub fn default_session_name(user: Option<&str>, now_unix: i64) -> String {
    let stamp = now_unix.max(0).to_string();
    let user: String = user
        .unwrap_or_default()
        .chars()
        .map(|c| if session_name_char(c) { c } else { '-' })
        .collect();
    if user.is_empty() {
        return format!("aws-session-{stamp}");
    }
    let room = 64 - "aws-session-".len() - 1 - stamp.len();
    let user: String = user.chars().take(room).collect();
    format!("aws-session-{user}-{stamp}")
}

/// How the first role of a plan is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstHop {
    /// No MFA device configured: AssumeRole with the base credentials as they are.
    Direct,
    /// GetSessionToken with the MFA code on the long-term keys (cached, so one code
    /// serves many roles), then AssumeRole with that session: roles of one hour or less.
    ViaMfaSession,
    /// AssumeRole from the base credentials with SerialNumber + TokenCode: roles longer
    /// than an hour (role chaining would cap them), or base credentials that are
    /// temporary already (GetSessionToken refuses those).
    DirectWithMfa,
}

/// How a plan is carried out: the first hop and the DurationSeconds of each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub first_hop: FirstHop,
    /// One per step; `None` leaves AWS's default (one hour).
    pub durations: Vec<Option<u32>>,
}

/// Decide how to carry out `plan`: `requested` is the duration asked for and where
/// (`--session-duration` or `AWS_SESSION_DURATION`), which applies to the last role
/// when its profile has no `duration_seconds` (a wrong one is a [`RoleError::Duration`]);
/// `base_is_temporary` says whether the base credentials carry a session token.
///
/// ```
/// use aws_session::session::roles::{schedule, Base, FirstHop, Plan, RoleStep};
/// let step = |d| RoleStep { profile: "r".into(), role_arn: "arn:aws:iam::1:role/r".into(),
///     external_id: None, role_session_name: None, duration_seconds: d };
/// let plan = |d| Plan { selected: "r".into(), base: Base::Environment { profile: "r".into() },
///     steps: vec![step(d)], mfa_serial: Some("arn:aws:iam::1:mfa/me".into()) };
/// assert_eq!(schedule(&plan(Some(3600)), None, false).unwrap().first_hop, FirstHop::ViaMfaSession);
/// assert_eq!(schedule(&plan(Some(7200)), None, false).unwrap().first_hop, FirstHop::DirectWithMfa);
/// assert!(schedule(&plan(Some(7200)), None, true).is_err());
/// assert!(schedule(&plan(None), Some((50_000, "--session-duration")), false).is_err());
/// ```
pub fn schedule(
    plan: &Plan,
    requested: Option<(u32, &str)>,
    base_is_temporary: bool,
) -> Result<Schedule, RoleError> {
    let n = plan.steps.len();
    let mut durations: Vec<Option<u32>> = plan.steps.iter().map(|s| s.duration_seconds).collect();
    // Where the last step's duration came from, when it came from the caller.
    let mut requested_for_last = None;
    if let (Some(last), Some(step)) = (durations.last_mut(), plan.steps.last()) {
        if last.is_none() {
            if let Some((r, name)) = requested {
                if !(MIN_ROLE_DURATION..=MAX_ROLE_DURATION).contains(&r) {
                    return Err(RoleError::Duration(format!(
                        "{name} {r} is too long for role profile `{}`: AssumeRole allows {MIN_ROLE_DURATION} to {MAX_ROLE_DURATION} seconds (set duration_seconds in the profile, or a shorter {name})",
                        step.profile
                    )));
                }
                *last = Some(r);
                requested_for_last = Some(name);
            }
        }
    }
    for (i, (step, d)) in plan.steps.iter().zip(&durations).enumerate() {
        let chained = i > 0 || base_is_temporary;
        if let Some(d) = d.filter(|d| chained && *d > ROLE_CHAINING_MAX) {
            let from = if i > 0 {
                format!(
                    "the credentials of role profile `{}`",
                    plan.steps[i - 1].profile
                )
            } else {
                "temporary credentials (the source has a session token)".to_string()
            };
            return Err(match requested_for_last.filter(|_| i + 1 == n) {
                Some(name) => RoleError::Duration(format!(
                    "{name} {d} is too long for role profile `{}`: it is assumed with {from}, and AWS caps role chaining at {ROLE_CHAINING_MAX} s; \
                     use {name} {ROLE_CHAINING_MAX} or less",
                    step.profile
                )),
                None => RoleError::Invalid(format!(
                    "role profile `{}` asks for {d} s, but it is assumed with {from}: AWS caps role chaining at {ROLE_CHAINING_MAX} s; \
                     lower its duration_seconds to {ROLE_CHAINING_MAX} or less",
                    step.profile
                )),
            });
        }
    }
    let first_long = durations
        .first()
        .copied()
        .flatten()
        .is_some_and(|d| d > ROLE_CHAINING_MAX);
    let first_hop = match (plan.mfa_serial.is_some(), base_is_temporary, first_long) {
        _ if n == 0 => FirstHop::Direct,
        (false, _, _) => FirstHop::Direct,
        (true, true, _) | (true, false, true) => FirstHop::DirectWithMfa,
        (true, false, false) => FirstHop::ViaMfaSession,
    };
    Ok(Schedule {
        first_hop,
        durations,
    })
}

/// The error for a profile without keys whose credential_process is aws-session.
pub fn calls_itself(profile: &str) -> String {
    format!(
        "profile \"{profile}\" has no keys and its credential_process is aws-session itself (it would call itself): add aws_access_key_id and aws_secret_access_key to it, or name the profile with the keys in source_profile"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{merge, parse, FileKind};

    fn set(config: &str, credentials: &str) -> ProfileSet {
        merge(
            Some(parse(config, FileKind::Config, "config").unwrap()),
            Some(parse(credentials, FileKind::Credentials, "credentials").unwrap()),
        )
    }

    const KEYS: &str = "[me]\naws_access_key_id = AKIDME\naws_secret_access_key = s\n";

    #[test]
    fn role_with_source_profile_and_all_parameters() {
        let s = set(
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = me\n\
             external_id = ext-1\nrole_session_name = alice\nduration_seconds = 7200\n\
             mfa_serial = arn:aws:iam::1:mfa/alice # phone\nregion = eu-west-1\n",
            KEYS,
        );
        let plan = resolve(&s, "admin").unwrap();
        assert_eq!(
            plan.steps,
            [RoleStep {
                profile: "admin".into(),
                role_arn: "arn:aws:iam::1:role/admin".into(),
                external_id: Some("ext-1".into()),
                role_session_name: Some("alice".into()),
                duration_seconds: Some(7200),
            }]
        );
        assert_eq!(plan.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/alice"));
        match &plan.base {
            Base::Keys {
                profile,
                credentials,
                ..
            } => {
                assert_eq!(
                    (profile.as_str(), credentials.access_key_id.as_str()),
                    ("me", "AKIDME")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mfa_serial_is_inherited_from_the_source() {
        let s = set(
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = me\n\
             [profile me]\nmfa_serial = arn:aws:iam::1:mfa/me\n",
            KEYS,
        );
        assert_eq!(
            resolve(&s, "admin").unwrap().mfa_serial.as_deref(),
            Some("arn:aws:iam::1:mfa/me")
        );
        let s = set(
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = me\n",
            KEYS,
        );
        assert_eq!(resolve(&s, "admin").unwrap().mfa_serial, None);
    }

    #[test]
    fn credential_process_is_a_source_unless_it_is_aws_session() {
        // The profile the AWS CLI runs `credential_process` for: its source keys are used.
        let s = set(
            "[profile work]\ncredential_process = aws-session credential-process --profile work\n\
             source_profile = me\nmfa_serial = arn:aws:iam::1:mfa/me\n",
            KEYS,
        );
        let plan = resolve(&s, "work").unwrap();
        assert!(plan.steps.is_empty());
        assert!(matches!(plan.base, Base::Keys { ref profile, .. } if profile == "me"));
        // aws-session itself alone: refused, never run.
        let s = set(
            "[profile cp]\ncredential_process = /usr/bin/aws-session credential-process\n",
            "",
        );
        let e = resolve(&s, "cp").unwrap_err();
        assert!(e.to_string().contains("call itself"), "{e:?}");
        // Another command: the source of keys, for a role too.
        let s = set(
            "[profile cp]\ncredential_process = pass show aws\n\
             [profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = cp\n",
            "",
        );
        let plan = resolve(&s, "r").unwrap();
        assert!(
            matches!(plan.base, Base::Process { ref profile, ref command } if profile == "cp" && command == "pass show aws")
        );
    }

    #[test]
    fn environment_source() {
        let s = set(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n",
            "",
        );
        let plan = resolve(&s, "r").unwrap();
        assert_eq!(
            plan.base,
            Base::Environment {
                profile: "r".into()
            }
        );
        let s = set(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Bogus\n",
            "",
        );
        assert!(resolve(&s, "r").unwrap_err().to_string().contains("Bogus"));
    }

    #[test]
    fn bad_parameters_are_named() {
        let cfg = |extra: &str| {
            set(
                &format!(
                    "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\n{extra}\n"
                ),
                KEYS,
            )
        };
        for (extra, word) in [
            ("role_session_name = has space", "role_session_name"),
            ("role_session_name = x", "role_session_name"),
            ("duration_seconds = 600", "duration_seconds"),
            ("duration_seconds = 50000", "duration_seconds"),
            ("duration_seconds = 1h", "duration_seconds"),
            ("external_id = a b", "external_id"),
        ] {
            let e = resolve(&cfg(extra), "r").unwrap_err();
            assert!(e.to_string().contains(word), "{extra}: {e}");
            assert!(e.to_string().contains("`r`"), "{extra}: {e}");
        }
    }

    #[test]
    fn loops_and_missing_profiles() {
        let s = set(
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
            "",
        );
        let e = resolve(&s, "a").unwrap_err().to_string();
        assert!(e.contains("infinite loop: a -> b -> a"), "{e}");
        let e = resolve(&s, "zzz").unwrap_err().to_string();
        assert!(e.contains("`zzz` not found") && e.contains("a, b"), "{e}");
        let s = set("[profile a]\nsource_profile = a\n", "");
        assert!(resolve(&s, "a")
            .unwrap_err()
            .to_string()
            .contains("names itself"));
    }

    #[test]
    fn session_names() {
        assert!(is_valid_session_name("aws-session-alice-1700000000"));
        assert!(!is_valid_session_name(&"x".repeat(65)));
        assert!(!is_valid_session_name("é1"));
        let long = default_session_name(Some(&"u".repeat(100)), 1_700_000_000);
        assert_eq!(long.len(), 64);
        assert!(is_valid_session_name(&long) && long.ends_with("-1700000000"));
        assert!(is_valid_session_name(&default_session_name(
            Some("ünï côdé"),
            1
        )));
    }

    fn plan(durations: &[Option<u32>], mfa: bool) -> Plan {
        Plan {
            selected: "last".into(),
            base: Base::Environment {
                profile: "b".into(),
            },
            steps: durations
                .iter()
                .enumerate()
                .map(|(i, d)| RoleStep {
                    profile: format!("p{i}"),
                    role_arn: format!("arn:aws:iam::1:role/r{i}"),
                    external_id: None,
                    role_session_name: None,
                    duration_seconds: *d,
                })
                .collect(),
            mfa_serial: mfa.then(|| "arn:aws:iam::1:mfa/me".to_string()),
        }
    }

    #[test]
    fn schedules() {
        let hop = |d: &[Option<u32>], mfa, req: Option<u32>, tmp| {
            schedule(&plan(d, mfa), req.map(|r| (r, "--session-duration")), tmp)
                .map(|s| s.first_hop)
        };
        assert_eq!(hop(&[None], true, None, false), Ok(FirstHop::ViaMfaSession));
        assert_eq!(
            hop(&[Some(3600)], true, None, false),
            Ok(FirstHop::ViaMfaSession)
        );
        assert_eq!(
            hop(&[Some(3601)], true, None, false),
            Ok(FirstHop::DirectWithMfa)
        );
        assert_eq!(
            hop(&[None], true, Some(7200), false),
            Ok(FirstHop::DirectWithMfa)
        );
        assert_eq!(
            hop(&[Some(900)], true, Some(7200), false),
            Ok(FirstHop::ViaMfaSession)
        );
        assert_eq!(hop(&[Some(7200)], false, None, false), Ok(FirstHop::Direct));
        assert_eq!(hop(&[None], true, None, true), Ok(FirstHop::DirectWithMfa));
        assert_eq!(
            hop(&[Some(7200), Some(3600)], true, None, false),
            Ok(FirstHop::DirectWithMfa)
        );
        // Chained steps are capped at an hour.
        let e = hop(&[Some(7200), Some(7200)], true, None, false).unwrap_err();
        assert!(
            e.to_string().contains("`p1`") && e.to_string().contains("`p0`"),
            "{e}"
        );
        // Too long for chaining because of the duration asked for: a usage error that
        // names where it was asked for.
        let e = schedule(
            &plan(&[None, None], true),
            Some((3601, "AWS_SESSION_DURATION")),
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&e, RoleError::Duration(m) if m.starts_with("AWS_SESSION_DURATION 3601")),
            "{e}"
        );
        assert!(matches!(
            hop(&[Some(3601), Some(3601)], true, None, false),
            Err(RoleError::Invalid(_))
        ));
        assert!(hop(&[Some(7200)], false, None, true).is_err());
        // --session-duration beyond what AssumeRole allows.
        let e = hop(&[None], true, Some(129_600), false).unwrap_err();
        assert!(
            matches!(&e, RoleError::Duration(m) if m.starts_with("--session-duration 129600")),
            "{e}"
        );
        assert_eq!(
            schedule(&plan(&[Some(900), None], true), Some((1800, "-d")), false)
                .unwrap()
                .durations,
            [Some(900), Some(1800)]
        );
    }
}
