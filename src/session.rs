//! Orchestration: which keys, which MFA device, which roles, which code → a session,
//! and the environment a child gets from it.
//!
//! The decisions ([`plan_session_for`], [`source_credentials_for`], [`child_environment`],
//! [`export_lines`]) are pure functions of an [`Env`] snapshot and the parsed
//! profiles; [`establish`] is the one place that calls AWS (through a [`Client`]) and
//! uses the session cache ([`crate::cache`]).
//!
//! The ways a session is made:
//! - a profile with keys: GetSessionToken with the MFA code (the MFA session);
//! - a role profile whose chain has an `mfa_serial`, asking for an hour or less: the MFA
//!   session (cached), then AssumeRole with it, so one code serves many roles;
//! - a role profile asking for more than an hour: AssumeRole from the long-term keys with
//!   SerialNumber + TokenCode (AWS caps role chaining at one hour);
//! - a role profile without `mfa_serial`: AssumeRole from the keys as they are.
//!
//! Every session made is cached (unless the cache is off) and every cached one is
//! used while it has more than five minutes left, but by `refresh`, which always
//! makes a new one.

use crate::cache::{self, Cache, Entry, EntryKind, Lookup, RoleKeyPart};
use crate::cli::{Options, Source};
use crate::client::Client;
use crate::config::ProfileSet;
use crate::credentials::{Credentials, SessionCredentials};
use crate::endpoint::EndpointSettings;
use crate::error::{AwsError, Error, Result};
use crate::mfa::{self, CodeSource};
use crate::roles::{self, FirstHop, RoleStep};
use crate::timefmt::iso8601_utc;
use crate::{iam, sts};
use std::collections::BTreeMap;
use std::time::Duration;
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

/// Keys from the environment: the stashed parent of an enclosing session first (so that
/// a refresh inside a session uses the keys the session was made from), then
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY unless they are a session of ours.
///
/// ```
/// use aws_session::session::{env_source, Env, Origin};
/// let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")]);
/// assert_eq!(env_source(&env).unwrap().origin, Origin::Environment);
/// assert!(env_source(&Env::default()).is_none());
/// ```
pub fn env_source(env: &Env) -> Option<SourceCredentials> {
    parent_stash(env).or_else(|| environment_keys(env))
}

/// AWS_SESSION_PARENT_* of an enclosing session: the keys it was made from.
fn parent_stash(env: &Env) -> Option<SourceCredentials> {
    let (k, s) = (
        env.get("AWS_SESSION_PARENT_KEY")?,
        env.get("AWS_SESSION_PARENT_SECRET")?,
    );
    Some(SourceCredentials {
        credentials: Credentials {
            access_key_id: k.to_string(),
            secret_access_key: s.to_string(),
            session_token: env.get("AWS_SESSION_PARENT_TOKEN").map(str::to_string),
        },
        origin: Origin::ParentStash,
    })
}

/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, unless they are a session of ours.
fn environment_keys(env: &Env) -> Option<SourceCredentials> {
    if env_holds_our_session(env) {
        return None;
    }
    let (k, s) = (
        env.get("AWS_ACCESS_KEY_ID")?,
        env.get("AWS_SECRET_ACCESS_KEY")?,
    );
    Some(SourceCredentials {
        credentials: Credentials {
            access_key_id: k.to_string(),
            secret_access_key: s.to_string(),
            session_token: env
                .get("AWS_SESSION_TOKEN")
                .or_else(|| env.get("AWS_SECURITY_TOKEN"))
                .map(str::to_string),
        },
        origin: Origin::Environment,
    })
}

/// Keys of the environment that take the place of the chosen profile's keys.
///
/// With no profile, or one from AWS_PROFILE / AWS_DEFAULT_PROFILE: [`env_source`] (the
/// AWS SDKs' order, environment first). With `--profile P` (the command line): the AWS
/// CLI lets an explicit profile win over AWS_ACCESS_KEY_ID, so only the stash of an
/// enclosing session, and only when P is that session's own profile (AWS_PROFILE = P);
/// P's `credential_source = Environment` is the way to ask for the environment's keys.
fn keys_over_profile(env: &Env, choice: Option<(&str, Source)>) -> Option<SourceCredentials> {
    match choice {
        Some((name, Source::CommandLine)) => {
            if env.get("AWS_PROFILE") == Some(name) {
                parent_stash(env)
            } else {
                None
            }
        }
        _ => env_source(env),
    }
}

/// Pick the long-term keys for `choice` (the profile and where its name came from;
/// `None`: none chosen): the environment's where they win (`keys_over_profile`), else
/// the profile's.
///
/// ```
/// use aws_session::cli::Source;
/// use aws_session::config::{merge, parse, FileKind};
/// use aws_session::session::{source_credentials_for, Env, Origin};
/// let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "AKENV"), ("AWS_SECRET_ACCESS_KEY", "s")]);
/// let text = "[bob]\naws_access_key_id = AKBOB\naws_secret_access_key = b\n";
/// let set = merge(None, Some(parse(text, FileKind::Credentials, "credentials")?));
/// // --profile bob: bob's keys, as the AWS CLI does.
/// let src = source_credentials_for(&env, &set, Some(("bob", Source::CommandLine))).unwrap();
/// assert_eq!(src.origin, Origin::Profile("bob".into()));
/// // AWS_PROFILE=bob: the environment's keys win.
/// let src = source_credentials_for(&env, &set, Some(("bob", Source::Environment))).unwrap();
/// assert_eq!(src.origin, Origin::Environment);
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn source_credentials_for(
    env: &Env,
    profiles: &ProfileSet,
    choice: Option<(&str, Source)>,
) -> Result<SourceCredentials> {
    if let Some(src) = keys_over_profile(env, choice) {
        return Ok(src);
    }
    let profile = choice.map(|(p, _)| p);
    let explicit = matches!(choice, Some((_, Source::CommandLine)));
    let name = profile.unwrap_or("default");
    let Some(p) = profiles.get(name) else {
        let known = profiles.names();
        return Err(Error::Config(if profile.is_some() {
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            match roles::ignored_sections(profiles, name).as_slice() {
                [] => format!(
                    "profile \"{name}\" not found in the AWS config or credentials file (known: {known}); check --profile / AWS_PROFILE"
                ),
                why => format!(
                    "profile \"{name}\" not found (known: {known}): {}",
                    why.join("; ")
                ),
            }
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
        _ if roles::is_indirect(p) => Err(Error::Config(format!(
            "profile \"{name}\" has no keys of its own (it assumes a role or names a source_profile): use it with exec, shell, export or credential-process, or name the profile with the keys"
        ))),
        _ if explicit => Err(Error::Config(format!(
            "profile \"{name}\" has no keys (aws_access_key_id, aws_secret_access_key): add them to ~/.aws/credentials, or leave out --profile to use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ))),
        _ => Err(Error::Config(format!(
            "profile \"{name}\" has no keys (aws_access_key_id, aws_secret_access_key): add them to ~/.aws/credentials or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ))),
    }
}

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
/// use aws_session::cli::Source;
/// use aws_session::config::{merge, parse, FileKind};
/// use aws_session::session::{plan_session_for, Env};
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
    let profile = choice.map(|(p, _)| p);
    let name = profile.unwrap_or("default");
    let indirect = profiles.get(name).is_some_and(roles::is_indirect);
    // With no profile chosen, keys in the environment win over the default profile.
    let env_wins = profile.is_none() && env_source(env).is_some();
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
    let plan = roles::resolve(profiles, name)?;
    let source = match &plan.base {
        roles::Base::Keys {
            profile,
            credentials,
            ..
        } => SourceCredentials {
            credentials: credentials.clone(),
            origin: Origin::Profile(profile.clone()),
        },
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
        url_all: env.get("AWS_ENDPOINT_URL").map(str::to_string),
        url_profile: from_profile("endpoint_url"),
    }
}

/// The role a session is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    /// The role, `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// The session, `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    pub assumed_role_arn: String,
}

/// A session made (or found in the cache), with what the child needs to know about it.
#[derive(Debug, Clone)]
pub struct Established {
    pub session: SessionCredentials,
    /// The MFA device the session was made with; `None` for a role assumed without MFA.
    pub mfa_serial: Option<String>,
    /// The role, for role sessions.
    pub role: Option<AssumedRole>,
    /// Whether it came from the cache.
    pub from_cache: bool,
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
/// use aws_session::session::{inherited_serial, Env};
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

/// How long a run waits for another one that holds the cache lock (it may be waiting
/// for a person to type a code).
pub const CACHE_LOCK_WAIT: Duration = Duration::from_secs(120);

/// Which cached sessions a run may use (every session made is stored either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheReads {
    /// Any fresh one: `exec`, `shell`, `export`, `credential-process`.
    All,
    /// None: `refresh` (`aws-session-refresh`) makes every session new, asking for a code.
    Nothing,
    /// All but the final session: `refresh --reuse-mfa`, run by the sub-shell's `aws`
    /// function when the session ran out. A role session (an hour at most when it rides on
    /// the MFA session) is made anew from a fresh cached MFA session, so one code lasts as
    /// long as the MFA session does; a profile whose session is the MFA session itself
    /// still needs a code.
    AllButFinal,
}

/// How [`establish`] reaches AWS and the cache.
pub struct Runtime<'a> {
    pub client: &'a Client,
    /// The session cache; `None` when it is off (--no-cache, AWS_SESSION_CACHE=0) or unusable.
    pub cache: Option<&'a Cache>,
    /// Which cached sessions may be used.
    pub reads: CacheReads,
    /// The STS endpoint URL, part of every cache key.
    pub sts_endpoint: String,
    /// `--session-duration`: the MFA session's, or the last role's when its profile has
    /// no `duration_seconds`.
    pub duration: Option<u32>,
    /// Where [`Runtime::duration`] came from, for messages: `--session-duration` or
    /// `AWS_SESSION_DURATION`.
    pub duration_name: &'static str,
    /// Trace decisions on stderr (never secrets).
    pub debug: bool,
    /// The local user name, for role session names that are not configured.
    pub user: Option<String>,
}

/// Make (or find in the cache) the session `plan` asks for.
///
/// The cache lock is held from the first lookup to the last store, so a second run
/// waits for the first (which may be asking for a code) and then finds its session.
/// A refused code is asked again (up to 3 tries) when a terminal is there, never resent.
pub fn establish(
    rt: &Runtime,
    plan: &SessionPlan,
    codes: &mut dyn CodeSource,
) -> Result<Established> {
    let mut run = Run {
        rt,
        plan,
        cache: None,
    };
    run.debug(format_args!(
        "credentials: {} from {}",
        plan.source.credentials.access_key_id,
        match &plan.source.origin {
            Origin::Environment => "the environment".to_string(),
            Origin::ParentStash => "the enclosing session's parent keys".to_string(),
            Origin::Profile(p) => format!("profile \"{p}\""),
        }
    ));
    let _lock = match rt.cache {
        Some(c) => {
            let waiting = || {
                eprintln!(
                    "aws-session: waiting for another aws-session to finish with the session cache {}",
                    c.dir().display()
                )
            };
            match c.lock(CACHE_LOCK_WAIT, waiting) {
                Ok(lock) => {
                    run.cache = Some(c);
                    Some(lock)
                }
                Err(e) => {
                    eprintln!("aws-session: note: {e}; going on without the session cache");
                    None
                }
            }
        }
        None => None,
    };
    match &plan.roles {
        None => {
            let serial = plan.serial.as_ref().map(|(s, from)| {
                run.debug(format_args!("MFA device: {s} (from {from})"));
                s.as_str()
            });
            // The MFA session is the final session here.
            let read = rt.reads == CacheReads::All;
            let made = run.mfa_session(serial, rt.duration, read, codes)?;
            Ok(Established {
                session: made.session,
                mfa_serial: Some(made.serial),
                role: None,
                from_cache: made.from_cache,
            })
        }
        Some(roles) => run.assume_roles(roles, codes),
    }
}

/// One run of [`establish`].
struct Run<'a> {
    rt: &'a Runtime<'a>,
    plan: &'a SessionPlan,
    /// The cache, when its lock is held.
    cache: Option<&'a Cache>,
}

/// An MFA session and how it was had.
struct MfaSession {
    session: SessionCredentials,
    serial: String,
    from_cache: bool,
    key: String,
}

impl Run<'_> {
    fn debug(&self, m: std::fmt::Arguments) {
        if self.rt.debug {
            eprintln!("aws-session: debug: {m}");
        }
    }

    fn source_profile(&self) -> Option<String> {
        match &self.plan.source.origin {
            Origin::Profile(p) => Some(p.clone()),
            _ => None,
        }
    }

    /// A fresh entry of `key`, if the cache has one it trusts.
    fn lookup(&self, key: &str) -> Option<Entry> {
        // Keys are 64 hex digits; the debug lines show the first 12.
        let short = key.get(..12).unwrap_or(key);
        let cache = self.cache?;
        match cache.load(key) {
            Lookup::Found(e) if e.is_fresh(OffsetDateTime::now_utc()) => {
                self.debug(format_args!(
                    "cache: using {} {} of profile \"{}\" (key {}, until {})",
                    e.kind.name(),
                    e.session.credentials.access_key_id,
                    e.profile,
                    short,
                    iso8601_utc(e.session.expiration)
                ));
                Some(*e)
            }
            Lookup::Found(e) => {
                self.debug(format_args!(
                    "cache: {} of profile \"{}\" expires at {}: making a new one",
                    e.kind.name(),
                    e.profile,
                    iso8601_utc(e.session.expiration)
                ));
                None
            }
            Lookup::Missing => {
                self.debug(format_args!("cache: no entry {short}"));
                None
            }
            Lookup::Ignored(why) => {
                eprintln!(
                    "aws-session: note: ignoring session cache entry {}/{key}.json: {why}; it will be replaced",
                    cache.dir().display()
                );
                None
            }
        }
    }

    fn store(&self, key: &str, entry: &Entry) {
        let Some(cache) = self.cache else { return };
        match cache.store(key, entry) {
            Ok(()) => self.debug(format_args!(
                "cache: stored {} {} (key {})",
                entry.kind.name(),
                entry.session.credentials.access_key_id,
                key.get(..12).unwrap_or(key)
            )),
            Err(e) => eprintln!("aws-session: note: {e}; the session is not cached"),
        }
    }

    /// The MFA session of the plan's source: from the cache when `read` allows, else
    /// GetSessionToken with a code (discovering the device when `serial` is `None`).
    fn mfa_session(
        &self,
        serial: Option<&str>,
        duration: Option<u32>,
        read: bool,
        codes: &mut dyn CodeSource,
    ) -> Result<MfaSession> {
        let src = &self.plan.source;
        let key_of = |serial| {
            cache::mfa_session_key(&src.credentials, serial, duration, &self.rt.sts_endpoint)
        };
        let key = key_of(serial);
        if read {
            if let Some(e) = self.lookup(&key) {
                if let Some(serial) = e.mfa_serial.clone().or(serial.map(str::to_string)) {
                    return Ok(MfaSession {
                        session: e.session,
                        serial,
                        from_cache: true,
                        key,
                    });
                }
            }
            // A session made with a discovered device is stored under the key without a
            // serial (the run that made it did not know one); from inside that session
            // AWS_SESSION_MFADEVICE names the device: take the entry if it is of that device.
            if let Some(wanted) = serial {
                let found_key = key_of(None);
                if let Some(e) = self
                    .lookup(&found_key)
                    .filter(|e| e.mfa_serial.as_deref() == Some(wanted))
                {
                    return Ok(MfaSession {
                        session: e.session,
                        serial: wanted.to_string(),
                        from_cache: true,
                        key: found_key,
                    });
                }
            }
        }
        let serial = match serial {
            Some(s) => s.to_string(),
            None => {
                let found = discover_serial(self.rt.client, &src.credentials)?;
                self.debug(format_args!(
                    "MFA device: {found} (discovered with ListMFADevices)"
                ));
                found
            }
        };
        const TRIES: u32 = 3;
        let mut tries = 0;
        loop {
            tries += 1;
            let code = codes.next_code("your")?;
            let req = sts::get_session_token(duration, Some((&serial, &code)));
            match self.rt.client.call(&req, &src.credentials) {
                Ok(body) => {
                    let session = sts::parse_get_session_token(&body)
                        .map_err(|e| e.into_error("GetSessionToken"))?;
                    self.debug(format_args!(
                        "session: {} until {}",
                        session.credentials.access_key_id,
                        iso8601_utc(session.expiration)
                    ));
                    self.store(
                        &key,
                        &Entry {
                            kind: EntryKind::MfaSession,
                            // It serves every profile of these keys: name it after them.
                            profile: self
                                .source_profile()
                                .unwrap_or_else(|| self.plan.profile.clone()),
                            source_profile: self.source_profile(),
                            source_access_key_id: src.credentials.access_key_id.clone(),
                            mfa_serial: Some(serial.clone()),
                            role_arn: None,
                            assumed_role_arn: None,
                            session: session.clone(),
                        },
                    );
                    return Ok(MfaSession {
                        session,
                        serial,
                        from_cache: false,
                        key,
                    });
                }
                Err(Error::Aws(e)) if mfa::is_code_rejected(&e) => {
                    if tries < TRIES && codes.can_ask_again() {
                        eprintln!("aws-session: AWS refused the MFA code ({}); wait for the next code and enter it", e.message.trim());
                        continue;
                    }
                    return Err(code_refused(&serial, &e));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Carry out a role plan, starting from the newest step the cache still holds.
    fn assume_roles(&self, roles: &roles::Plan, codes: &mut dyn CodeSource) -> Result<Established> {
        let src = &self.plan.source;
        let schedule = roles::schedule(
            roles,
            self.rt.duration.map(|d| (d, self.rt.duration_name)),
            src.credentials.session_token.is_some(),
        )?;
        let steps = &roles.steps;
        let n = steps.len();
        let serial = self.plan.serial.as_ref().map(|(s, _)| s.as_str());
        let with_mfa = schedule.first_hop != FirstHop::Direct;
        let key_serial = if with_mfa { serial } else { None };
        self.debug(format_args!(
            "roles: {} ({})",
            steps
                .iter()
                .map(|s| format!("{} of profile \"{}\"", s.role_arn, s.profile))
                .collect::<Vec<_>>()
                .join(", then "),
            match schedule.first_hop {
                FirstHop::Direct => "assumed without MFA: no mfa_serial in the profiles",
                FirstHop::ViaMfaSession => "the first assumed with the MFA session",
                FirstHop::DirectWithMfa =>
                    "the first assumed from the keys with the MFA code: longer than an hour, or temporary keys",
            }
        ));
        let parts: Vec<RoleKeyPart> = steps
            .iter()
            .zip(&schedule.durations)
            .map(|(s, d)| RoleKeyPart {
                role_arn: &s.role_arn,
                external_id: s.external_id.as_deref(),
                duration: *d,
                session_name: s.role_session_name.as_deref(),
            })
            .collect();
        let keys: Vec<String> = (1..=parts.len())
            .map(|i| {
                cache::role_session_key(
                    &src.credentials,
                    key_serial,
                    &self.rt.sts_endpoint,
                    &parts[..i],
                )
            })
            .collect();
        let no_role = || Error::Config("the role profile has no role to assume".to_string());
        let (Some(first_step), Some(&first_duration), Some(first_key)) =
            (steps.first(), schedule.durations.first(), keys.first())
        else {
            return Err(no_role());
        };

        // The newest step still cached (never the final one when it is to be made anew).
        let cached_steps = match self.rt.reads {
            CacheReads::All => n,
            CacheReads::AllButFinal => n.saturating_sub(1),
            CacheReads::Nothing => 0,
        };
        let mut current: Option<(SessionCredentials, String)> = None;
        let mut start = 0;
        for (i, key) in keys.iter().enumerate().take(cached_steps).rev() {
            if let Some(e) = self.lookup(key) {
                current = Some((e.session, e.assumed_role_arn.unwrap_or_default()));
                start = i + 1;
                break;
            }
        }
        let from_cache = start == n;
        if start == 0 {
            let (step, d) = (first_step, first_duration);
            // The MFA session is never the final session of a role plan.
            let read_mfa = self.rt.reads != CacheReads::Nothing;
            let first = match (schedule.first_hop, serial) {
                (FirstHop::ViaMfaSession, Some(serial)) => {
                    let mfa = self.mfa_session(Some(serial), None, read_mfa, codes)?;
                    match self.assume(step, d, &mfa.session.credentials, None) {
                        Err(Error::Aws(e))
                            if mfa.from_cache
                                && matches!(
                                    e.code.as_str(),
                                    "ExpiredToken" | "InvalidClientTokenId"
                                ) =>
                        {
                            // The cached MFA session was revoked or cut short: make a new one.
                            eprintln!(
                                "aws-session: note: AWS no longer accepts the cached MFA session ({}); making a new one",
                                e.code
                            );
                            if let Some(c) = self.cache {
                                let _ = c.remove(&mfa.key);
                            }
                            let mfa = self.mfa_session(Some(serial), None, false, codes)?;
                            self.assume(step, d, &mfa.session.credentials, None)?
                        }
                        other => other?,
                    }
                }
                (FirstHop::DirectWithMfa, Some(serial)) => {
                    self.assume_with_code(step, d, serial, codes)?
                }
                _ => self.assume(step, d, &src.credentials, None)?,
            };
            self.store_role(first_key, step, key_serial, &first);
            current = Some((first.0, first.1.arn));
            start = 1;
        }
        for ((step, key), d) in steps.iter().zip(&keys).zip(&schedule.durations).skip(start) {
            let Some((creds, _)) = &current else { break };
            let next = self.assume(step, *d, &creds.credentials, None)?;
            self.store_role(key, step, key_serial, &next);
            current = Some((next.0, next.1.arn));
        }
        let (session, assumed_role_arn) = current.ok_or_else(no_role)?;
        Ok(Established {
            session,
            mfa_serial: key_serial.map(str::to_string),
            role: steps.last().map(|s| AssumedRole {
                role_arn: s.role_arn.clone(),
                assumed_role_arn,
            }),
            from_cache,
        })
    }

    fn store_role(
        &self,
        key: &str,
        step: &RoleStep,
        serial: Option<&str>,
        made: &(SessionCredentials, sts::AssumedRoleUser),
    ) {
        self.store(
            key,
            &Entry {
                kind: EntryKind::Role,
                profile: step.profile.clone(),
                source_profile: self.source_profile(),
                source_access_key_id: self.plan.source.credentials.access_key_id.clone(),
                mfa_serial: serial.map(str::to_string),
                role_arn: Some(step.role_arn.clone()),
                assumed_role_arn: Some(made.1.arn.clone()),
                session: made.0.clone(),
            },
        );
    }

    /// One AssumeRole call signed with `creds`.
    fn assume(
        &self,
        step: &RoleStep,
        duration: Option<u32>,
        creds: &Credentials,
        mfa: Option<(&str, &str)>,
    ) -> Result<(SessionCredentials, sts::AssumedRoleUser)> {
        let name = step.role_session_name.clone().unwrap_or_else(|| {
            roles::default_session_name(
                self.rt.user.as_deref(),
                OffsetDateTime::now_utc().unix_timestamp(),
            )
        });
        let req = sts::assume_role(
            &step.role_arn,
            &name,
            duration,
            step.external_id.as_deref(),
            mfa,
        );
        let body = self.rt.client.call(&req, creds).map_err(|e| {
            role_hint(
                e,
                step,
                duration,
                mfa.is_some() || creds.session_token.is_some(),
            )
        })?;
        let (session, user) = sts::parse_assume_role(&body)
            .map_err(|e| e.into_error(&format!("AssumeRole of {}", step.role_arn)))?;
        self.debug(format_args!(
            "role session: {} as {} until {}",
            session.credentials.access_key_id,
            user.arn,
            iso8601_utc(session.expiration)
        ));
        Ok((session, user))
    }

    /// AssumeRole from the source keys with SerialNumber + TokenCode.
    fn assume_with_code(
        &self,
        step: &RoleStep,
        duration: Option<u32>,
        serial: &str,
        codes: &mut dyn CodeSource,
    ) -> Result<(SessionCredentials, sts::AssumedRoleUser)> {
        const TRIES: u32 = 3;
        let mut tries = 0;
        loop {
            tries += 1;
            let code = codes.next_code("your")?;
            match self.assume(
                step,
                duration,
                &self.plan.source.credentials,
                Some((serial, &code)),
            ) {
                Err(Error::Aws(e)) if mfa::is_code_rejected(&e) => {
                    if tries < TRIES && codes.can_ask_again() {
                        eprintln!("aws-session: AWS refused the MFA code ({}); wait for the next code and enter it", e.message.trim());
                        continue;
                    }
                    return Err(code_refused(serial, &e));
                }
                other => return other,
            }
        }
    }
}

fn code_refused(serial: &str, e: &AwsError) -> Error {
    Error::MfaCode(format!(
        "AWS refused the MFA code for {serial}: {}: {} (enter a current code that was not used before; check the device's clock and that mfa_serial is this user's device)",
        e.code,
        e.message.trim()
    ))
}

/// Add what the role profile has to do with an AssumeRole error to its message.
fn role_hint(e: Error, step: &RoleStep, duration: Option<u32>, had_mfa_context: bool) -> Error {
    let Error::Aws(mut aws) = e else { return e };
    let lower = aws.message.to_ascii_lowercase();
    let hint = if aws.code == "AccessDenied" && !mfa::is_code_refusal_message(&lower) {
        if had_mfa_context {
            format!(
                "check that role {} trusts these keys (its trust policy) and that profile \"{}\" names the right role_arn and external_id",
                step.role_arn, step.profile
            )
        } else {
            format!(
                "profile \"{}\" assumed it without MFA: if the role's trust policy requires MFA, set mfa_serial in the profile or its source_profile",
                step.profile
            )
        }
    } else if lower.contains("maxsessionduration") || lower.contains("role chaining") {
        format!(
            "profile \"{}\" asks for {} s: lower its duration_seconds (or --session-duration), or raise the role's MaxSessionDuration",
            step.profile,
            duration.map_or_else(|| "the default".to_string(), |d| d.to_string())
        )
    } else {
        return Error::Aws(aws);
    };
    aws.message = format!("{} [{hint}]", aws.message.trim_end());
    Error::Aws(aws)
}

/// Whether an MFA serial is a FIDO security key's (`arn:aws:iam::ACCOUNT:u2f/...`):
/// it makes no codes, so GetSessionToken and AssumeRole cannot use it.
///
/// ```
/// use aws_session::session::is_security_key;
/// assert!(is_security_key("arn:aws:iam::123456789012:u2f/user/alice/fidosecuritykey-ABC"));
/// assert!(!is_security_key("arn:aws:iam::123456789012:mfa/alice"));
/// assert!(!is_security_key("GAHT12345678"));
/// ```
pub fn is_security_key(serial: &str) -> bool {
    serial.contains(":u2f/")
}

/// Find the signing user's MFA device: ListMFADevices without UserName (AWS takes
/// the user from the key), skipping FIDO security keys (no codes).
///
/// Of several devices that take codes (AWS allows up to eight) the first is used, as
/// the original script did, with a one-line note that names them all and says that
/// `mfa_serial` picks one: a user whose first device is the one at hand goes on working,
/// and one who types a code of another device learns from the note which device is
/// asked for and how to choose (refusing to run would break setups that work today).
/// No usable device: one GetCallerIdentity to name the user.
fn discover_serial(client: &Client, creds: &Credentials) -> Result<String> {
    let body = client.call(&iam::list_mfa_devices(None), creds)?;
    let devices = iam::parse_list_mfa_devices(&body).map_err(|e| e.into_error("ListMFADevices"))?;
    let user = devices.iter().find_map(|d| d.user_name.clone());
    let (keys, usable): (Vec<String>, Vec<String>) = devices
        .into_iter()
        .map(|d| d.serial_number)
        .partition(|s| is_security_key(s));
    if let Some(first) = usable.first() {
        if usable.len() > 1 {
            eprintln!(
                "aws-session: note: IAM user '{}' has {} MFA devices that take codes ({}): asking for a code of {first}; set mfa_serial in the profile to use another",
                user.as_deref().unwrap_or(&creds.access_key_id),
                usable.len(),
                usable.join(", ")
            );
        }
        return Ok(first.clone());
    }
    let who = client
        .call(&sts::get_caller_identity(), creds)
        .ok()
        .and_then(|b| sts::parse_get_caller_identity(&b).ok());
    let name = who
        .as_ref()
        .and_then(|w| w.iam_user_name().map(str::to_string))
        .or_else(|| who.map(|w| w.arn))
        .or(user)
        .unwrap_or_else(|| creds.access_key_id.clone());
    if !keys.is_empty() {
        return Err(Error::NoMfaDevice(format!(
            "IAM user '{name}' has only FIDO security keys as MFA devices ({}), and a security key makes no codes for STS sessions: add a virtual or hardware TOTP MFA device to the user (IAM console), then set mfa_serial in the profile to it",
            keys.join(", ")
        )));
    }
    Err(Error::NoMfaDevice(format!(
        "IAM user '{name}' has no MFA device configured: run aws-session provision-mfa, or set mfa_serial in the profile"
    )))
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
    let mut ch = session_changes(est);
    ch.push(source_key_change(src));
    ch.push(("AWS_SESSION", Some(exe.to_string())));
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
    } else if opts.duration_default_on_cli {
        ch.push(("AWS_SESSION_DURATION", None));
    }
    if opts.debug_from_cli {
        ch.push(("AWS_SESSION_DEBUG", Some("1".into())));
    }
    ch.push(("AWS_SESSION_MFA_CODE", None));
    ch
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
    (
        "AWS_SESSION_SOURCE_KEY_ID",
        Some(src.credentials.access_key_id.clone()),
    )
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
            // `set -e` of an unset variable returns 4: erase only what is set, so the
            // sourced script ends with status 0.
            None => out.push_str(&format!("set -q {k}; and set -e {k}\n")),
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
            source_credentials_for(&env, &ps, None).unwrap().origin,
            Origin::ParentStash
        );
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ]);
        let s = source_credentials_for(&env, &ps, None).unwrap();
        assert_eq!(
            (s.origin, s.credentials.access_key_id.as_str()),
            (Origin::Environment, "AKENV")
        );
        let s = source_credentials_for(&Env::default(), &ps, None).unwrap();
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
        let s = source_credentials_for(&env, &ps, None).unwrap();
        assert_eq!(s.credentials.access_key_id, "AKP");
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let ps = profiles(
            "[dev]\naws_access_key_id=a\naws_secret_access_key=b\n",
            "[profile ops]\nregion=x\n",
        );
        let e = source_credentials_for(&Env::default(), &ps, Some(("prod", Source::Environment)))
            .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("\"prod\"") && m.contains("dev") && m.contains("ops"),
            "{m}"
        );
        assert_eq!(e.exit_code(), 2);
        let e = source_credentials_for(&Env::default(), &ps, None).unwrap_err();
        assert!(e.to_string().contains("no AWS credentials"));
    }

    #[test]
    fn export_lines_quote_and_unset() {
        let ch: EnvChanges = vec![("A", Some("it's".into())), ("B", None)];
        assert_eq!(export_lines(&ch), "export A='it'\\''s'\nunset B\n");
        assert_eq!(
            fish_lines(&ch),
            "set -gx A 'it\\'s'\nset -q B; and set -e B\n"
        );
    }
}
