//! Make a session: find it in the cache or call STS (GetSessionToken, AssumeRole) with a
//! code, retrying a refused code with a new one, and store what was made.
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
//! makes a new one. The cache is a decorator around these calls ([`cached`]); the
//! retry-with-a-new-code loop is on its own ([`codes`]).

mod cached;
mod codes;

use super::discover::discover_serial;
use super::plan::SessionPlan;
use super::roles::{self, FirstHop, RoleStep};
use super::source::Origin;
use crate::aws::client::{Answer, Client};
use crate::aws::sts;
use crate::cache::{self, Cache, Entry, EntryKind, RoleKeyPart};
use crate::credentials::{Credentials, SessionCredentials};
use crate::error::{Error, Result};
use crate::msg;
use crate::timefmt::iso8601_utc;
use crate::tty::CodeSource;
use cached::Cached;
use codes::Coded;
use std::cell::RefCell;
use std::time::Duration;
use time::OffsetDateTime;

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
    /// For a sign-in (`login_session`): when the sign-in ends (estimated), the horizon
    /// the prompt shows while the credentials themselves last 15 minutes.
    pub login_until: Option<OffsetDateTime>,
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
    /// The local user name, for role session names that are not configured.
    pub user: Option<String>,
    /// The environment (the sign-in token's directory, AWS_LOGIN_CACHE_DIRECTORY).
    pub env: &'a crate::env::Env,
    /// `Some(secs)`: a cached session with fewer than five minutes but more than `secs`
    /// seconds left is still used (`credential-process` when no code can be had).
    pub last_minutes: Option<i64>,
}

/// Make (or find in the cache) the session `plan` asks for.
///
/// The cache lock is held around cache reads and writes and the requests between
/// them, never while a person types a code: it is let go before the code is asked
/// for and taken again after, and the cache is looked at again then, so that a
/// session another run stored meanwhile is used and the code is not spent.
/// A refused code is asked again (up to 3 tries) when a terminal is there, never resent.
pub fn establish(
    rt: &Runtime,
    plan: &SessionPlan,
    codes: &mut dyn CodeSource,
) -> Result<Established> {
    let run = Run {
        rt,
        plan,
        cache: RefCell::new(Cached::new(rt.cache, rt.last_minutes)),
    };
    run.debug(format_args!(
        "credentials: {} from {}",
        plan.source.credentials.access_key_id,
        plan.source.origin.describe()
    ));
    run.relock();
    if let Origin::Login { profile, session } = &plan.source.origin {
        let result = run.login(profile, session);
        run.unlock();
        return result;
    }
    let result = match &plan.roles {
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
                login_until: None,
            })
        }
        Some(roles) => run.assume_roles(roles, codes),
    };
    run.unlock();
    result
}

/// One run of [`establish`].
struct Run<'a> {
    rt: &'a Runtime<'a>,
    plan: &'a SessionPlan,
    /// The session cache around the plan's calls.
    cache: RefCell<Cached<'a>>,
}

/// An MFA session and how it was had.
struct MfaSession {
    session: SessionCredentials,
    serial: String,
    from_cache: bool,
    key: String,
}

impl Run<'_> {
    fn relock(&self) {
        self.cache.borrow_mut().relock();
    }

    /// Let the cache lock go (before a person is asked for a code).
    fn unlock(&self) {
        self.cache.borrow_mut().unlock();
    }

    fn lookup(&self, key: &str) -> Option<Entry> {
        self.cache.borrow_mut().lookup(key)
    }

    fn store(&self, key: &str, entry: &Entry) {
        self.cache.borrow_mut().store(key, entry);
    }

    /// A cached MFA session of the plan's keys, of whichever device made it: an entry
    /// of these keys whose file is the key `key_of` gives for its device (so duration,
    /// endpoint and secret match too).
    fn cached_session_of_any_device(
        &self,
        key_of: &dyn Fn(&str) -> String,
    ) -> Option<(Entry, String)> {
        let id = &self.plan.source.credentials.access_key_id;
        self.cache.borrow_mut().any_device(id, key_of)
    }

    /// [`codes::with_code`] under this run's cache lock.
    fn with_code<T>(
        &self,
        codes: &mut dyn CodeSource,
        serial: &mut dyn FnMut() -> Result<String>,
        recheck: impl FnMut() -> Option<Entry>,
        attempt: impl FnMut(&str, &str) -> Result<T>,
    ) -> Result<Coded<T>> {
        codes::with_code(&self.cache, self.rt.client, codes, serial, recheck, attempt)
    }

    fn debug(&self, m: std::fmt::Arguments) {
        msg::debug(m);
    }

    fn source_profile(&self) -> Option<String> {
        self.plan.source.origin.profile().map(str::to_string)
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
        // One MFA session per (keys, device, duration, endpoint): the key names the
        // device, however it was found (the profile, AWS_SESSION_MFADEVICE, discovery).
        let key_of = |serial: &str| {
            cache::mfa_session_key(
                &src.credentials,
                Some(serial),
                duration,
                &self.rt.sts_endpoint,
            )
        };
        if read {
            let found = match serial {
                Some(s) => self.lookup(&key_of(s)).map(|e| (e, s.to_string())),
                // No device named: any device's session of these keys serves.
                None => self.cached_session_of_any_device(&key_of),
            };
            if let Some((e, serial)) = found {
                return Ok(MfaSession {
                    session: e.session,
                    key: key_of(&serial),
                    serial,
                    from_cache: true,
                });
            }
        }
        // Without a configured device it is discovered while the person types the code
        // (the prompt is not held up), else before the code is asked for; the code is
        // not sent without it.
        let client = self.rt.client;
        let creds = &src.credentials;
        let person = codes.asks_a_person();
        let said = |found: &str| {
            self.debug(format_args!(
                "MFA device: {found} (discovered with ListMFADevices)"
            ))
        };
        let (serial, coded) = std::thread::scope(|scope| -> Result<(String, Coded<Answer>)> {
            let mut device = match serial {
                Some(s) => Device::Known(s.to_string()),
                None if person => {
                    Device::Pending(Some(scope.spawn(move || discover_serial(client, creds))))
                }
                None => Device::Pending(None).found(discover_serial(client, creds), &said)?,
            };
            let mut serial_of = || device.get(&said);
            // Another run may store the session while the code is typed.
            let recheck = || {
                if !read {
                    return None;
                }
                match serial {
                    Some(wanted) => self.lookup(&key_of(wanted)),
                    None => self.cached_session_of_any_device(&key_of).map(|(e, _)| e),
                }
            };
            let coded = self.with_code(codes, &mut serial_of, recheck, |serial, code| {
                let req = sts::get_session_token(duration, Some((serial, code)));
                self.rt.client.call_dated(&req, &src.credentials)
            })?;
            let serial = match &coded {
                Coded::Answer(_) => serial_of()?,
                Coded::Cached(e) => e
                    .mfa_serial
                    .clone()
                    .or(serial.map(str::to_string))
                    .unwrap_or_default(),
            };
            Ok((serial, coded))
        })?;
        let key = key_of(&serial);
        let answer = match coded {
            Coded::Answer(answer) => answer,
            Coded::Cached(e) => {
                return Ok(MfaSession {
                    session: e.session,
                    serial,
                    from_cache: true,
                    key,
                })
            }
        };
        self.new_mfa_session(&answer, serial, key)
    }

    /// The MFA session GetSessionToken answered with (`answer`), checked and stored
    /// under `key`.
    fn new_mfa_session(&self, answer: &Answer, serial: String, key: String) -> Result<MfaSession> {
        let session = sts::parse_get_session_token(&answer.body)
            .map_err(|e| e.into_error("GetSessionToken"))?;
        sts::check_session_times(
            "GetSessionToken",
            session.expiration,
            sts::GET_SESSION_TOKEN_MAX_SECS,
            answer.date,
            OffsetDateTime::now_utc(),
        )?;
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
                source_access_key_id: self.plan.source.credentials.access_key_id.clone(),
                mfa_serial: Some(serial.clone()),
                role_arn: None,
                assumed_role_arn: None,
                session: session.clone(),
            },
        );
        Ok(MfaSession {
            session,
            serial,
            from_cache: false,
            key,
        })
    }

    /// The credentials of a sign-in, and the plan's roles assumed with them (no MFA
    /// code; role sessions made this way are not cached: the sign-in's credentials
    /// change every 15 minutes).
    fn login(&self, profile: &str, session: &str) -> Result<Established> {
        let force = self.rt.reads == CacheReads::Nothing && self.plan.roles.is_none();
        let login = super::source::login::credentials(
            self.rt.client,
            self.rt.env,
            profile,
            session,
            force,
        )?;
        let Some(roles) = &self.plan.roles else {
            return Ok(Established {
                session: login.session,
                mfa_serial: None,
                role: None,
                from_cache: false,
                login_until: login.horizon,
            });
        };
        let schedule = roles::schedule(
            roles,
            self.rt.duration.map(|d| (d, self.rt.duration_name)),
            true,
        )?;
        let mut current = login.session;
        let mut role = None;
        for (step, d) in roles.steps.iter().zip(&schedule.durations) {
            let (next, user) = self.assume(step, *d, &current.credentials, None)?;
            current = next;
            role = Some(AssumedRole {
                role_arn: step.role_arn.clone(),
                assumed_role_arn: user.arn,
            });
        }
        Ok(Established {
            session: current,
            mfa_serial: None,
            role,
            from_cache: false,
            login_until: None,
        })
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
            let first = self.first_role(
                schedule.first_hop,
                serial,
                step,
                d,
                first_key,
                cached_steps,
                codes,
            )?;
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
            login_until: None,
            session,
            mfa_serial: key_serial.map(str::to_string),
            role: steps.last().map(|s| AssumedRole {
                role_arn: s.role_arn.clone(),
                assumed_role_arn,
            }),
            from_cache,
        })
    }

    /// The first role session of a plan: assumed with the MFA session, or from the keys
    /// with a code, or from the keys as they are (`first_hop`).
    #[allow(clippy::too_many_arguments)]
    fn first_role(
        &self,
        first_hop: FirstHop,
        serial: Option<&str>,
        step: &RoleStep,
        d: Option<u32>,
        first_key: &str,
        cached_steps: usize,
        codes: &mut dyn CodeSource,
    ) -> Result<(SessionCredentials, sts::AssumedRoleUser)> {
        let src = &self.plan.source;
        // The MFA session is never the final session of a role plan.
        let read_mfa = self.rt.reads != CacheReads::Nothing;
        Ok(match (first_hop, serial) {
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
                        msg::note(format_args!(
                            "AWS no longer accepts the cached MFA session ({}); making a new one",
                            e.code
                        ));
                        self.cache.borrow_mut().remove(&mfa.key);
                        let mfa = self.mfa_session(Some(serial), None, false, codes)?;
                        self.assume(step, d, &mfa.session.credentials, None)?
                    }
                    other => other?,
                }
            }
            (FirstHop::DirectWithMfa, Some(serial)) => {
                let recheck = || self.lookup(first_key).filter(|_| cached_steps > 0);
                let mut known = || Ok(serial.to_string());
                match self.with_code(codes, &mut known, recheck, |serial, code| {
                    self.assume(step, d, &src.credentials, Some((serial, code)))
                })? {
                    Coded::Answer(made) => made,
                    Coded::Cached(e) => {
                        let arn = e.assumed_role_arn.clone().unwrap_or_default();
                        let user = sts::AssumedRoleUser {
                            arn,
                            assumed_role_id: String::new(),
                        };
                        (e.session, user)
                    }
                }
            }
            _ => self.assume(step, d, &src.credentials, None)?,
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
        let answer = self.rt.client.call_dated(&req, creds).map_err(|e| {
            role_hint(
                e,
                step,
                duration,
                mfa.is_some() || creds.session_token.is_some(),
            )
        })?;
        let (session, user) = sts::parse_assume_role(&answer.body)
            .map_err(|e| e.into_error(&format!("AssumeRole of {}", step.role_arn)))?;
        sts::check_session_times(
            &format!("AssumeRole of {}", step.role_arn),
            session.expiration,
            sts::ASSUME_ROLE_MAX_SECS,
            answer.date,
            OffsetDateTime::now_utc(),
        )?;
        self.debug(format_args!(
            "role session: {} as {} until {}",
            session.credentials.access_key_id,
            user.arn,
            iso8601_utc(session.expiration)
        ));
        Ok((session, user))
    }
}

/// The MFA device of a GetSessionToken: configured, or being discovered (in a thread
/// while the person types the code), or found.
enum Device<'scope> {
    Known(String),
    Pending(Option<std::thread::ScopedJoinHandle<'scope, DiscoveryResult>>),
}

type DiscoveryResult = Result<(String, Option<String>)>;

impl Device<'_> {
    /// The device found by `discovered` (its note shown now), as a known one.
    fn found(self, discovered: DiscoveryResult, debug: &dyn Fn(&str)) -> Result<Self> {
        let (serial, note) = discovered?;
        if let Some(note) = note {
            msg::line(note);
        }
        debug(&serial);
        Ok(Device::Known(serial))
    }

    /// The serial, waiting for the discovery when it still runs; `debug` is told a
    /// discovered one. Its failure is returned (once; after it the device is unknown).
    fn get(&mut self, debug: &dyn Fn(&str)) -> Result<String> {
        match self {
            Device::Known(s) => Ok(s.clone()),
            Device::Pending(handle) => {
                let result = match handle.take() {
                    Some(h) => h.join().unwrap_or_else(|_| {
                        Err(Error::Network(
                            "the MFA device could not be discovered (ListMFADevices failed): set mfa_serial in the profile".into(),
                        ))
                    }),
                    None => Err(Error::Network(
                        "the MFA device could not be discovered: set mfa_serial in the profile".into(),
                    )),
                };
                let serial = match result {
                    Ok((serial, note)) => {
                        if let Some(note) = note {
                            msg::line(note);
                        }
                        serial
                    }
                    Err(e) => return Err(e),
                };
                debug(&serial);
                *self = Device::Known(serial.clone());
                Ok(serial)
            }
        }
    }
}

/// Add what the role profile has to do with an AssumeRole error to its message.
fn role_hint(e: Error, step: &RoleStep, duration: Option<u32>, had_mfa_context: bool) -> Error {
    let Error::Aws(mut aws) = e else { return e };
    let lower = aws.message.to_ascii_lowercase();
    let hint = if aws.code == "AccessDenied" && !crate::error::is_code_refusal_message(&lower) {
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
    // The advice reads the message: made anew for the message with the hint.
    crate::aws::advice::with_advice(*aws)
}
