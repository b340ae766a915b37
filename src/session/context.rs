//! The context of a run that makes a session: the profiles, the plan, the client, the
//! cache and the settings of the command line, read once and shared by the commands
//! that make sessions (and, behind an `Arc`, by the credential server's threads).

use super::mfa_process::{self, ProcessCodes};
use super::{EnvChanges, Established, Origin, SessionPlan};
use crate::aws::client::Client;
use crate::aws::endpoint;
use crate::aws::http::{Timeouts, Transport};
use crate::aws::query::Service;
use crate::cache::{self, Cache};
use crate::config::files::{load_profiles, note_warnings};
use crate::config::ProfileSet;
use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::tty::{CodeSource, TerminalPrompt};
use std::time::Duration;

/// What making a session needs of the command line: the global options, with the
/// environment's defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Profile name and where it came from.
    pub profile: Option<(String, Source)>,
    /// MFA code (6 digits, checked). Used once, never passed on.
    pub code: Option<String>,
    /// Requested session duration in seconds (validated), and where it came from.
    pub duration: Option<(u32, Source)>,
    /// `--session-duration 0` was given: AWS's default, whatever AWS_SESSION_DURATION
    /// says (and the child does not inherit AWS_SESSION_DURATION either).
    pub duration_default_on_cli: bool,
    /// `--debug` was on the command line (the child inherits it).
    pub debug_from_cli: bool,
    /// Neither read nor write the session cache (`--no-cache`, AWS_SESSION_CACHE=0).
    pub no_cache: bool,
}

/// Least time left on a cached session `credential-process` hands out when it cannot
/// get a code (the AWS SDKs refresh credentials some minutes before they expire).
const LAST_MINUTE_SECS: i64 = 60;

/// Everything a session needs, read once. It owns its settings and environment, so a
/// `--server` can share it with its threads (behind an `Arc`).
pub struct Context {
    pub settings: Settings,
    pub env: Env,
    pub profiles: ProfileSet,
    pub plan: SessionPlan,
    pub client: Client,
    sts_endpoint: String,
    pub cache: Option<Cache>,
    /// The mfa_process command and where it was set, when there is one.
    mfa_process: Option<(String, String)>,
}

impl Context {
    pub fn load(settings: &Settings, env: &Env) -> Result<Self> {
        let profiles = load_profiles(env)?;
        note_warnings(&profiles);
        let choice = settings.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
        Self::with_profiles(settings, env, profiles, choice)
    }

    /// As [`Context::load`], with the AWS files already read and the profile `choice`
    /// made.
    pub fn with_profiles(
        settings: &Settings,
        env: &Env,
        profiles: ProfileSet,
        choice: Option<(&str, Source)>,
    ) -> Result<Self> {
        let profile = choice.map(|(p, _)| p);
        let mut plan = super::plan_session_for(env, &profiles, choice)?;
        let mfa_process =
            mfa_process::command_for(env, &profiles, profile, plan.source.origin.profile());
        if let Some((command, from)) = &mfa_process {
            // Checked now, so that a bad setting is found before anything is run or sent.
            ProcessCodes::new(None, command, from, env)?;
        }
        let endpoints = super::endpoint_settings(env, &profiles, profile);
        let sts_endpoint = endpoint::resolve(Service::Sts, &endpoints)?.url;
        let client = make_client(env, endpoints)?;
        let cache = open_cache(settings, env);
        plan.source = super::source::process::resolve(plan.source, env)?;
        if let (Some(p), Some(_), None) = (
            plan.source.origin.process_profile(),
            &plan.source.credentials.session_token,
            &plan.roles,
        ) {
            return Err(Error::Config(format!(
                "the credential_process of profile \"{p}\" gave temporary credentials (with a SessionToken), and AWS refuses those for an MFA session (GetSessionToken): make it print long-term keys, or use the profile as the source_profile of a role"
            )));
        }
        Ok(Context {
            settings: settings.clone(),
            env: env.clone(),
            profiles,
            plan,
            client,
            sts_endpoint,
            cache,
            mfa_process,
        })
    }

    /// A session from the cache, or a new one (asking for a code when needed).
    pub fn establish(&self) -> Result<Established> {
        self.establish_with(super::CacheReads::All)
    }

    /// A session using the cached sessions `reads` allows (every session made is
    /// stored in the cache for later runs).
    pub fn establish_with(&self, reads: super::CacheReads) -> Result<Established> {
        self.establish_from(&self.plan, reads, self.settings.code.clone(), false)
    }

    /// `credential-process`: as [`Context::establish`], but when no code can be had (no
    /// terminal, no --code, no mfa_process) a cached session with a minute or more left
    /// is handed out rather than failing for want of a code; the SDK asks again before
    /// it runs out.
    pub fn establish_for_sdk(&self) -> Result<Established> {
        self.establish_from(
            &self.plan,
            super::CacheReads::All,
            self.settings.code.clone(),
            true,
        )
    }

    /// A later session of a long run (the credential server): the code of the command
    /// line was spent on the first, so a code, when one is needed, is asked anew.
    pub fn establish_without_given_code(&self, reads: super::CacheReads) -> Result<Established> {
        self.establish_from(&self.plan, reads, None, false)
    }

    /// [`Context::establish_with`] for `plan` (this run's plan, or one derived from it).
    pub fn establish_plan(
        &self,
        plan: &SessionPlan,
        reads: super::CacheReads,
    ) -> Result<Established> {
        self.establish_from(plan, reads, self.settings.code.clone(), false)
    }

    /// Make `plan`'s session; codes from `given` (--code) first, then the mfa_process
    /// or the terminal. `last_minutes_ok`: a session in its last minutes may be used
    /// when no code can be had (see [`Context::establish_for_sdk`]).
    fn establish_from(
        &self,
        plan: &SessionPlan,
        reads: super::CacheReads,
        given: Option<String>,
        last_minutes_ok: bool,
    ) -> Result<Established> {
        // AWS_SESSION_TIMEOUT bounds the network work of this session's making.
        self.client.restart_deadline();
        let mut terminal;
        let mut process;
        let mut last_minutes = None;
        let codes: &mut dyn CodeSource = match &self.mfa_process {
            Some((command, from)) => {
                process = ProcessCodes::new(given, command, from, &self.env)?;
                &mut process
            }
            None => {
                terminal = TerminalPrompt::new(given);
                if last_minutes_ok && !terminal.can_give_a_code() {
                    last_minutes = Some(LAST_MINUTE_SECS);
                }
                &mut terminal
            }
        };
        let rt = super::Runtime {
            client: &self.client,
            cache: self.cache.as_ref(),
            reads,
            sts_endpoint: self.sts_endpoint.clone(),
            duration: self.settings.duration.map(|(d, _)| d),
            duration_name: match self.settings.duration {
                Some((_, Source::Environment)) => "AWS_SESSION_DURATION",
                _ => "--session-duration",
            },
            user: self
                .env
                .get("USER")
                .or_else(|| self.env.get("LOGNAME"))
                .map(str::to_string),
            env: &self.env,
            last_minutes,
        };
        super::establish(&rt, plan, codes)
    }

    /// The region of the chosen profile, when it has one.
    pub fn region(&self) -> Option<&str> {
        let profile = self
            .settings
            .profile
            .as_ref()
            .map(|(p, _)| p.as_str())
            .unwrap_or("default");
        self.profiles
            .get(profile)
            .and_then(|p| p.get("region"))
            .filter(|r| !r.is_empty())
    }

    /// The environment of the child (`exec`, `shell`).
    pub fn child_environment(&self, est: &Established) -> EnvChanges {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "aws-session".into());
        let passed = super::Passed {
            profile: self.settings.profile.as_ref().map(|(p, _)| p.as_str()),
            duration_from_cli: match self.settings.duration {
                Some((d, Source::CommandLine)) => Some(d),
                _ => None,
            },
            duration_default_on_cli: self.settings.duration_default_on_cli,
            debug_from_cli: self.settings.debug_from_cli,
        };
        let stash = self.write_stash();
        super::child_environment(
            est,
            &self.plan.source,
            &passed,
            &exe,
            self.region(),
            &self.env,
            stash.as_deref(),
        )
    }

    /// Stash the keys from the environment for refreshes inside the session (for the
    /// child `exec`/`shell` becomes, which keeps this process's id); its path. When it
    /// cannot be written, a note says so and the child gets none.
    fn write_stash(&self) -> Option<String> {
        let src = &self.plan.source;
        if !matches!(src.origin, Origin::Environment | Origin::ParentStash) {
            return None;
        }
        match super::stash::write(&self.env, &src.credentials, std::process::id()) {
            Ok(path) => Some(path.to_string_lossy().into_owned()),
            Err(e) => {
                crate::msg::note(format_args!(
                    "{e}; a refresh inside the session will not find the keys it was made from"
                ));
                None
            }
        }
    }
}

/// The session cache for this run, unless it is off (--no-cache, AWS_SESSION_CACHE=0)
/// or unusable (then a note says why and the run goes on without it).
pub fn open_cache(settings: &Settings, env: &Env) -> Option<Cache> {
    if settings.no_cache {
        crate::msg::debug("cache: off (--no-cache or AWS_SESSION_CACHE=0)");
        return None;
    }
    let Some(dir) = cache::cache_dir(env.get("XDG_CACHE_HOME"), env.get("HOME")) else {
        crate::msg::debug("cache: off (neither XDG_CACHE_HOME nor HOME is an absolute path)");
        return None;
    };
    match Cache::open(&dir) {
        Ok(c) => {
            crate::msg::debug(format_args!("cache: {}", dir.display()));
            for (path, why) in c.remove_exposed() {
                crate::msg::note(format_args!(
                    "removed session cache entry {}: {why}",
                    path.display()
                ));
            }
            Some(c)
        }
        Err(e) => {
            crate::msg::note(format_args!("{e}; going on without the session cache"));
            None
        }
    }
}

/// The one AWS client of a run: `endpoints`, the AWS_SESSION_TIMEOUT timeouts and the
/// trust roots (AWS_CA_BUNDLE, else the built-in Mozilla roots). Used by every command
/// that calls AWS, provision-mfa included.
pub fn make_client(env: &Env, endpoints: endpoint::EndpointSettings) -> Result<Client> {
    let timeouts = timeouts(env)?;
    // Checked now (a stat, no read), read and parsed when the first request needs it.
    let ca = match env.get("AWS_CA_BUNDLE") {
        Some(path) => Some(ca_bundle_loader(path)?),
        None => None,
    };
    // Every usage error before anything is sent: both endpoints, and the proxy.
    endpoint::resolve(Service::Sts, &endpoints)?;
    endpoint::resolve(Service::Iam, &endpoints)?;
    let proxy = crate::aws::http::proxy_from_env(|k| env.get(k).map(str::to_string))?;
    let transport = Transport::new(timeouts, ca, proxy);
    Ok(Client::new(transport, endpoints)
        .naming_credentials_file(super::source::credentials_file_name(env)))
}

/// The largest AWS_CA_BUNDLE read (4 MiB): the whole Mozilla bundle is about 200 KiB,
/// and a wrong path (a device, a log file) must not cost more.
pub const MAX_CA_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// The reader of the AWS_CA_BUNDLE file `path`, once `path` was found to be a regular
/// file of at most [`MAX_CA_BUNDLE_BYTES`] (so a FIFO cannot hang the run nor a device
/// fill memory, and a wrong path is refused before a code is asked for). The reader
/// checks again when it reads.
fn ca_bundle_loader(path: &str) -> Result<crate::aws::http::CaBundleLoader> {
    use crate::fsutil::regular_file_len;
    match regular_file_len(std::path::Path::new(path), MAX_CA_BUNDLE_BYTES) {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ca_bundle_error(path, None)),
        Err(e) => return Err(ca_bundle_error(path, Some(e))),
    }
    let path = path.to_string();
    Ok(Box::new(move || {
        read_ca_bundle(&path).map_err(|e| e.to_string())
    }))
}

/// The bytes of the AWS_CA_BUNDLE file `path` (see [`ca_bundle_loader`]).
fn read_ca_bundle(path: &str) -> Result<Vec<u8>> {
    use crate::fsutil::read_regular_file;
    match read_regular_file(std::path::Path::new(path), MAX_CA_BUNDLE_BYTES) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(ca_bundle_error(path, None)),
        Err(e) => Err(ca_bundle_error(path, Some(e))),
    }
}

/// Why the AWS_CA_BUNDLE file `path` cannot be used (`None`: there is no such file).
fn ca_bundle_error(path: &str, e: Option<crate::fsutil::ReadError>) -> Error {
    use crate::fsutil::ReadError;
    let why = match e {
        None => std::io::Error::from_raw_os_error(libc::ENOENT).to_string(),
        Some(ReadError::NotRegular(found)) => format!("not a regular file ({found})"),
        Some(ReadError::TooLarge(n)) => {
            format!("{n} bytes, more than the 4 MiB a bundle of CA certificates may have")
        }
        Some(ReadError::Io(e)) => e.to_string(),
    };
    Error::Config(format!(
        "cannot read AWS_CA_BUNDLE {path}: {why} (point it at a PEM file or unset it)"
    ))
}

fn timeouts(env: &Env) -> Result<Timeouts> {
    let mut t = Timeouts::default();
    if let Some(v) = env.get("AWS_SESSION_TIMEOUT") {
        let secs: u64 = v
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "AWS_SESSION_TIMEOUT must be whole seconds from 1 to 3600, got \"{}\"",
                    v.chars().take(20).collect::<String>()
                ))
            })?;
        t.total = Duration::from_secs(secs);
        t.connect = t.connect.min(t.total);
    }
    Ok(t)
}
