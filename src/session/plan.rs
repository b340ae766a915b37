//! The plan of a run: which keys, which MFA device, which roles, which endpoints;
//! decided from the parsed profiles and an [`Env`] snapshot (pure: no I/O).

use super::roles;
use super::source::{env_source, source_credentials_for, Origin, SourceCredentials};
use crate::aws::endpoint::EndpointSettings;
use crate::config::ProfileSet;
use crate::credentials::Credentials;
use crate::env::{Env, Source};
use crate::error::{Error, Result};

/// What a run will make, decided from the profiles and the environment (no I/O).
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// The profile chosen (`--profile`, AWS_PROFILE), or `default`.
    pub profile: String,
    /// The credentials everything starts from.
    pub source: SourceCredentials,
    /// The MFA device the configuration names, and where that was said. `None`: an MFA
    /// session discovers the device (ListMFADevices); roles are assumed without MFA.
    pub serial: Option<(String, String)>,
    /// The roles to assume; `None` when the result is the MFA session itself.
    pub roles: Option<roles::Plan>,
}

/// Decide what to make for `choice`: the profile and where its name came from (`None`:
/// none chosen).
///
/// A profile with keys, or none chosen while the environment has keys: an MFA session
/// from [`source_credentials_for`] (AWS's order: environment, then profile — but an
/// explicit `--profile` wins over AWS_ACCESS_KEY_ID). A role profile (or one whose keys
/// are in its `source_profile`): the plan of [`roles::resolve`], its base keys from that
/// profile or, for `credential_source = Environment`, from [`env_source`].
///
/// ```
/// use aws_session::env::Source;
/// use aws_session::config::{merge, parse, FileKind};
/// use aws_session::env::Env;
/// use aws_session::session::plan_session_for;
/// let text = "[me]\naws_access_key_id = AKME\naws_secret_access_key = s\n";
/// let set = merge(None, Some(parse(text, FileKind::Credentials, "credentials")?));
/// let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKENV"), ("AWS_SECRET_ACCESS_KEY", "e")]);
/// let plan = plan_session_for(&env, &set, Some(("me", Source::CommandLine))).unwrap();
/// assert_eq!(plan.source.credentials.access_key_id, "AKME");
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn plan_session_for(
    env: &Env,
    profiles: &ProfileSet,
    choice: Option<(&str, Source)>,
) -> Result<SessionPlan> {
    // `--profile` means the profile's keys (the environment's are not looked at);
    // otherwise half a key pair in the environment is an error, not a fallback.
    if !matches!(choice, Some((_, Source::CommandLine))) {
        super::source::environment::refuse_partial_keys(env)?;
    }
    let profile = choice.map(|(p, _)| p);
    let name = profile.unwrap_or("default");
    let indirect = profiles.get(name).is_some_and(roles::is_indirect);
    // With no profile chosen, keys in the environment win over the default profile.
    let env_wins = profile.is_none() && env_source(env).is_some();
    let login = profiles.get(name).and_then(|p| {
        let has = |k: &str| p.get(k).is_some_and(|v| !v.is_empty());
        (!has("aws_access_key_id") && !has("aws_secret_access_key"))
            .then(|| p.get("login_session").filter(|s| !s.is_empty()))
            .flatten()
    });
    if let (Some(session), false, false) = (login, indirect, env_wins) {
        return Ok(SessionPlan {
            profile: name.to_string(),
            source: SourceCredentials::login(name, session),
            serial: None,
            roles: None,
        });
    }
    if !indirect || env_wins {
        let source = source_credentials_for(env, profiles, choice)?;
        let serial = inherited_serial(env, &source.credentials).or_else(|| {
            profiles
                .get(name)
                .and_then(|p| p.get("mfa_serial"))
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), "the profile's mfa_serial".to_string()))
        });
        return Ok(SessionPlan {
            profile: name.to_string(),
            source,
            serial,
            roles: None,
        });
    }
    let mut plan = roles::resolve(profiles, name).map_err(|e| match e {
        roles::RoleError::Invalid(m) => {
            roles::RoleError::Invalid(super::source::name_the_files(&m, env))
        }
        e => e,
    })?;
    if let roles::Base::Login { profile, session } = &plan.base {
        // A role assumed with a sign-in's credentials: no MFA code involved.
        let source = SourceCredentials::login(profile, session);
        plan.mfa_serial = None;
        let roles = (!plan.steps.is_empty()).then_some(plan);
        return Ok(SessionPlan {
            profile: name.to_string(),
            source,
            serial: None,
            roles,
        });
    }
    let source = match &plan.base {
        roles::Base::Keys {
            profile,
            credentials,
            ..
        } => SourceCredentials {
            credentials: credentials.clone(),
            origin: Origin::Profile(profile.clone()),
        },
        roles::Base::Process { profile, command } => {
            super::source::process::planned(profile, command)
        }
        // Taken above.
        roles::Base::Login { profile, session } => SourceCredentials::login(profile, session),
        roles::Base::Environment { profile } => env_source(env).ok_or_else(|| {
            Error::Config(format!(
                "profile \"{profile}\" takes its keys from the environment (credential_source = Environment), but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: export them, or use source_profile"
            ))
        })?,
    };
    let configured = plan
        .mfa_serial
        .clone()
        .map(|s| (s, "the profiles' mfa_serial".to_string()));
    if plan.steps.is_empty() {
        // Keys kept in a source_profile: an MFA session as for any profile with keys.
        let serial = inherited_serial(env, &source.credentials).or(configured);
        return Ok(SessionPlan {
            profile: name.to_string(),
            source,
            serial,
            roles: None,
        });
    }
    Ok(SessionPlan {
        profile: name.to_string(),
        source,
        serial: configured,
        roles: Some(plan),
    })
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
        url_signin: env.get("AWS_ENDPOINT_URL_SIGNIN").map(str::to_string),
        url_all: env.get("AWS_ENDPOINT_URL").map(str::to_string),
        url_profile: from_profile("endpoint_url"),
    }
}

/// AWS_SESSION_MFADEVICE, when it is the device of the keys `source`, with where it came
/// from.
///
/// A session sets it together with AWS_SESSION_SOURCE_KEY_ID, the access key id it was
/// made from, and it applies only to those keys: inside alice's session a run for bob's
/// keys would send alice's serial, AWS would refuse it, and bob's code would be burnt.
/// Without AWS_SESSION_SOURCE_KEY_ID it applies only outside a session (no
/// AWS_SESSION_EXPIRATION): set by hand, to pick a device.
///
/// ```
/// use aws_session::credentials::Credentials;
/// use aws_session::env::Env;
/// use aws_session::session::inherited_serial;
/// let alice = Credentials::long_term("AKALICE", "a");
/// let bob = Credentials::long_term("AKBOB", "b");
/// let env = Env::from_pairs([
///     ("AWS_SESSION_MFADEVICE", "arn:aws:iam::1:mfa/alice"),
///     ("AWS_SESSION_SOURCE_KEY_ID", "AKALICE"),
///     ("AWS_SESSION_EXPIRATION", "1795597484"),
/// ]);
/// assert!(inherited_serial(&env, &alice).is_some());
/// assert!(inherited_serial(&env, &bob).is_none());
/// ```
pub fn inherited_serial(env: &Env, source: &Credentials) -> Option<(String, String)> {
    let serial = env.get("AWS_SESSION_MFADEVICE")?;
    let ours = match env.get("AWS_SESSION_SOURCE_KEY_ID") {
        Some(id) => id == source.access_key_id,
        None => env.get("AWS_SESSION_EXPIRATION").is_none(),
    };
    ours.then(|| (serial.to_string(), "AWS_SESSION_MFADEVICE".to_string()))
}
