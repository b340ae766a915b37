//! Where the long-term keys come from, one file per kind of source: the environment
//! ([`environment`]: the caller's AWS_ACCESS_KEY_ID, or the keys an enclosing session
//! stashed), a profile's own keys ([`profile`]) and a profile's `credential_process`
//! ([`process`]) and a sign-in ([`login`]). This file decides which one wins.
//!
//! Each kind of source describes itself in its file (`KIND`, a [`Kind`]: its profile
//! settings, what a child keeps, whether rotation applies); the places that differ by
//! source ask [`Origin::kind`] instead of matching on the origin. Adding a source: its
//! file with its `KIND`, its [`Origin`] variant and its line in [`KINDS`] and in the
//! matches of [`Origin`] here (the compiler finds each).

pub mod environment;
pub mod login;
pub mod process;
pub mod profile;
pub mod sso;

pub use environment::env_source;

use crate::config::ProfileSet;
use crate::credentials::Credentials;
use crate::env::{Env, Source};
use crate::error::Result;
use crate::error::{capped_list, Error};
use crate::session::roles;

/// What a kind of key source says about itself.
#[derive(Debug)]
pub struct Kind {
    /// The profile settings that make a profile this kind of source (a `--server`
    /// child's copy of the profile leaves them out).
    pub settings: &'static [&'static str],
    /// Whether the access key id names long-term keys (AWS_SESSION_SOURCE_KEY_ID, so
    /// that an inherited MFA device is used only with them).
    pub long_term_keys: bool,
    /// Whether a child gets the keys themselves for a later refresh
    /// (AWS_SESSION_PARENT_*): sources a refresh cannot read again. Otherwise a
    /// refresh reads the profile again (and runs its credential_process, or renews
    /// the sign-in, again).
    pub child_keeps_keys: bool,
    /// Why `rotate` cannot replace its keys (`{profile}`: the profile's name), or
    /// `None` when it can rewrite them in the credentials file.
    pub no_rotation: Option<&'static str>,
}

/// Every kind of source (the registration of a source's file).
pub const KINDS: &[&Kind] = &[
    &environment::KIND,
    &profile::KIND,
    &process::KIND,
    &login::KIND,
    &sso::KIND,
];

/// Whether `key` is a setting that gives credentials: a key source's or a role's.
pub fn is_credential_setting(key: &str) -> bool {
    KINDS.iter().any(|k| k.settings.contains(&key)) || roles::ROLE_SETTINGS.contains(&key)
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
    /// A profile's `credential_process`: the keys are empty in a plan until
    /// [`process::resolve`] runs it.
    Process { profile: String, command: String },
    /// A profile's `login_session` (`profile`, the ARN `session`): the credentials are
    /// read from the sign-in token when the session is established, and
    /// [`SourceCredentials::credentials`] is empty.
    Login { profile: String, session: String },
    /// An IAM Identity Center profile: the role credentials are had from its sign-in's
    /// token when the session is established, and [`SourceCredentials::credentials`]
    /// is empty.
    Sso(Box<sso::SsoProfile>),
}

impl Origin {
    /// The profile the keys belong to, when they come from one.
    pub fn profile(&self) -> Option<&str> {
        match self {
            Origin::Profile(p)
            | Origin::Process { profile: p, .. }
            | Origin::Login { profile: p, .. } => Some(p),
            Origin::Sso(s) => Some(&s.profile),
            Origin::Environment | Origin::ParentStash => None,
        }
    }

    /// The kind of source this is.
    pub fn kind(&self) -> &'static Kind {
        match self {
            Origin::Environment | Origin::ParentStash => &environment::KIND,
            Origin::Profile(_) => &profile::KIND,
            Origin::Process { .. } => &process::KIND,
            Origin::Login { .. } => &login::KIND,
            Origin::Sso(_) => &sso::KIND,
        }
    }

    /// Where the keys came from, for `--debug`.
    pub fn describe(&self) -> String {
        match self {
            Origin::Environment => "the environment".to_string(),
            Origin::ParentStash => "the enclosing session's parent keys".to_string(),
            Origin::Profile(p) => format!("profile \"{p}\""),
            Origin::Process { profile, .. } => {
                format!("the credential_process of profile \"{profile}\"")
            }
            Origin::Login { profile, session } => {
                format!("the sign-in of {session} (profile \"{profile}\")")
            }
            Origin::Sso(sso) => format!(
                "the IAM Identity Center sign-in {} (profile \"{}\")",
                sso.identity(),
                sso.profile
            ),
        }
    }

    /// Why `rotate` cannot replace these keys, or `None` when it can.
    pub fn no_rotation(&self) -> Option<String> {
        let why = self.kind().no_rotation?;
        Some(why.replace("{profile}", self.profile().unwrap_or_default()))
    }

    /// The profile whose credential_process gave the keys.
    pub fn process_profile(&self) -> Option<&str> {
        match self {
            Origin::Process { profile, .. } => Some(profile),
            _ => None,
        }
    }
}

impl SourceCredentials {
    /// The sign-in of `profile` as `session`.
    pub fn login(profile: &str, session: &str) -> SourceCredentials {
        SourceCredentials {
            credentials: Credentials::long_term("", ""),
            origin: Origin::Login {
                profile: profile.to_string(),
                session: session.to_string(),
            },
        }
    }
}

impl SourceCredentials {
    /// The IAM Identity Center sign-in of `sso`.
    pub fn sso(sso: sso::SsoProfile) -> SourceCredentials {
        SourceCredentials {
            credentials: Credentials::long_term("", ""),
            origin: Origin::Sso(Box::new(sso)),
        }
    }
}

/// The credentials a session is made from, and their origin.
#[derive(Debug, Clone)]
pub struct SourceCredentials {
    pub credentials: Credentials,
    pub origin: Origin,
}

/// Keys of the environment that take the place of the chosen profile's keys.
///
/// With no profile, or one from AWS_PROFILE / AWS_DEFAULT_PROFILE: [`env_source`] (the
/// AWS SDKs' order, environment first). With `--profile P` (the command line): the AWS
/// CLI lets an explicit profile win over AWS_ACCESS_KEY_ID, so only the stash of an
/// enclosing session, and only when P is that session's own profile (AWS_SESSION_PROFILE = P);
/// P's `credential_source = Environment` is the way to ask for the environment's keys.
fn keys_over_profile(env: &Env, choice: Option<(&str, Source)>) -> Option<SourceCredentials> {
    match choice {
        Some((name, Source::CommandLine)) => {
            if env.get("AWS_SESSION_PROFILE") == Some(name) {
                environment::parent_stash(env)
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
/// use aws_session::env::Source;
/// use aws_session::config::{merge, parse, FileKind};
/// use aws_session::env::Env;
/// use aws_session::session::{source_credentials_for, Origin};
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
        return Err(if profile.is_some() {
            profile_not_found(profiles, name)
        } else {
            Error::Config(format!(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add keys to {} (aws configure), or pick a profile with --profile",
                credentials_file_name(env)
            ))
        });
    };
    profile::profile_keys(name, p, explicit, credentials_file_name(env))
}

/// The error for a profile `name` that the AWS files do not define: the known names,
/// and why a section that looks like it was ignored.
pub fn profile_not_found(profiles: &ProfileSet, name: &str) -> Error {
    let known = profiles.names();
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        capped_list(&known, ", ")
    };
    Error::Config(match roles::ignored_sections(profiles, name).as_slice() {
        [] => format!(
            "profile \"{name}\" not found in the AWS config or credentials file (known: {known}); check --profile / AWS_PROFILE"
        ),
        why => format!(
            "profile \"{name}\" not found (known: {known}): {}",
            capped_list(why, "; ")
        ),
    })
}

/// The credentials file as messages name it, the one `config::file_paths` reads:
/// AWS_SESSION_CREDENTIALS_FILE (inside `--server`), else AWS_SHARED_CREDENTIALS_FILE
/// as set, else `~/.aws/credentials`.
///
/// ```
/// use aws_session::env::Env;
/// use aws_session::session::source::credentials_file_name;
/// assert_eq!(credentials_file_name(&Env::default()), "~/.aws/credentials");
/// let env = Env::from_pairs([("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/creds")]);
/// assert_eq!(credentials_file_name(&env), "/etc/aws/creds");
/// ```
pub fn credentials_file_name(env: &Env) -> &str {
    env.get("AWS_SESSION_CREDENTIALS_FILE")
        .or_else(|| env.get("AWS_SHARED_CREDENTIALS_FILE"))
        .unwrap_or("~/.aws/credentials")
}

/// The config file as messages name it: AWS_SESSION_CONFIG_FILE (inside `--server`),
/// else AWS_CONFIG_FILE as set, else `~/.aws/config`.
///
/// ```
/// use aws_session::env::Env;
/// use aws_session::session::source::config_file_name;
/// assert_eq!(config_file_name(&Env::default()), "~/.aws/config");
/// ```
pub fn config_file_name(env: &Env) -> &str {
    env.get("AWS_SESSION_CONFIG_FILE")
        .or_else(|| env.get("AWS_CONFIG_FILE"))
        .unwrap_or("~/.aws/config")
}

/// `message` (written with the default file names, as the SDKs word it) naming the
/// files this run reads instead.
pub fn name_the_files(message: &str, env: &Env) -> String {
    message
        .replace("~/.aws/credentials", credentials_file_name(env))
        .replace("~/.aws/config", config_file_name(env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, FileKind};
    use crate::env::Env;

    #[test]
    fn every_source_answers_for_itself() {
        let login = Origin::Login {
            profile: "p".into(),
            session: "arn:aws:iam::1:user/u".into(),
        };
        let process = Origin::Process {
            profile: "p".into(),
            command: "pass".into(),
        };
        // Only the environment's keys are handed to the child for a refresh.
        assert!(Origin::Environment.kind().child_keeps_keys);
        assert!(Origin::ParentStash.kind().child_keeps_keys);
        assert!(!Origin::Profile("p".into()).kind().child_keeps_keys);
        assert!(!login.kind().child_keeps_keys);
        // A sign-in's key id names no long-term keys.
        assert!(!login.kind().long_term_keys);
        assert!(process.kind().long_term_keys);
        // Rotation applies to a profile's own keys only.
        assert_eq!(Origin::Profile("p".into()).no_rotation(), None);
        assert!(process
            .no_rotation()
            .is_some_and(|m| m.contains("profile \"p\" come from its credential_process")));
        assert!(login
            .no_rotation()
            .is_some_and(|m| m.contains("profile \"p\" signs in")));
        assert!(Origin::Environment.no_rotation().is_some());
        // Every source's settings are left out of a --server child's copy.
        for kind in KINDS {
            for s in kind.settings {
                assert!(is_credential_setting(s), "{s}");
            }
        }
        assert!(is_credential_setting("login_session") && is_credential_setting("role_arn"));
        assert!(!is_credential_setting("region"));
    }

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
        let tmp = tempfile::tempdir().unwrap();
        let tmp = tmp.path().to_str().unwrap();
        let keys = Credentials::long_term("AKPARENT", "x");
        let stash =
            crate::session::stash::write(&Env::from_pairs([("TMPDIR", tmp)]), &keys, 1).unwrap();
        let env = Env::from_pairs([
            ("TMPDIR", tmp),
            ("AWS_SESSION_PARENT_STASH", stash.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", "ASIASESSION"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
            ("AWS_SESSION_TOKEN", "t"),
        ]);
        let s = source_credentials_for(&env, &ps, None).unwrap();
        assert_eq!(
            (s.origin, s.credentials.access_key_id.as_str()),
            (Origin::ParentStash, "AKPARENT")
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
}
