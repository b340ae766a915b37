//! `doctor [--profile P]`: a checklist of the setup a person reads in ten seconds —
//! which profile and why, where its keys come from, the device, the clock against AWS's,
//! the STS endpoint and region, proxy and trust roots, the cache directory, the shell.
//! Each line is ok, warn or fail with the fix; one request at most (GetCallerIdentity,
//! which needs no code); never a secret (key ids are masked).

use super::args::{no_arguments, Options, Run, Spec};
use crate::aws::endpoint::{self, EndpointSettings};
use crate::aws::query::Service;
use crate::aws::sts;
use crate::config::files::load_profiles;
use crate::config::ProfileSet;
use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::session::cached::cache_location;
use crate::session::context::make_client;
use crate::session::source::{self, Origin, SourceCredentials};
use crate::session::{self, SessionPlan};
use std::os::unix::fs::MetadataExt;
use time::OffsetDateTime;

pub const SPEC: Spec = Spec {
    name: "doctor",
    about: "check the setup: profile, keys, device, clock, endpoint, cache",
    help: concat!(
        "Usage: aws-session [--profile P] doctor\n",
        "\n",
        "Checks what a session needs, one line each (ok, warn or fail, with the fix):\n",
        "the profile and why it was chosen, where its keys come from (key id masked),\n",
        "the MFA device, the local clock against AWS's Date header, the STS endpoint and\n",
        "region, proxy and CA bundle, the cache directory's modes and the shell.\n",
        "Sends one request at most (GetCallerIdentity, no MFA code). Exits 0 when no\n",
        "check fails, else 2. Never shows a secret.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| no_arguments(a, Args),
};

/// `doctor` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
}

/// Clock differences (seconds) that earn a warning, and a failure: AWS refuses a
/// request whose time is five minutes off.
const CLOCK_WARN_SECS: i64 = 60;
const CLOCK_FAIL_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// The lines found so far.
#[derive(Default)]
struct Checklist {
    lines: Vec<(Level, String, Option<String>)>,
}

impl Checklist {
    fn ok(&mut self, what: String) {
        self.lines.push((Level::Ok, what, None));
    }
    fn warn(&mut self, what: String, fix: String) {
        self.lines.push((Level::Warn, what, Some(fix)));
    }
    fn fail(&mut self, what: String, fix: String) {
        self.lines.push((Level::Fail, what, Some(fix)));
    }
    fn count(&self, level: Level) -> usize {
        self.lines.iter().filter(|(l, ..)| *l == level).count()
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for (level, what, fix) in &self.lines {
            let tag = match level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            out.push_str(&format!("{tag}  {what}\n"));
            if let Some(fix) = fix {
                out.push_str(&format!("      fix: {fix}\n"));
            }
        }
        out.push_str(&format!(
            "{} checks: {} ok, {} warnings, {} failed\n",
            self.lines.len(),
            self.count(Level::Ok),
            self.count(Level::Warn),
            self.count(Level::Fail)
        ));
        out
    }
}

/// `doctor`: print the checklist; a failed check makes the run fail (exit 2).
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let mut list = Checklist::default();
    if let Some((profiles, plan)) = profile_and_keys(&mut list, opts, env) {
        let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
        let endpoints = session::endpoint_settings(env, &profiles, profile);
        network_settings(&mut list, env, &endpoints);
        identity(&mut list, env, endpoints, &plan);
    }
    cache_dir(&mut list, opts, env);
    shell(&mut list, env);
    crate::out::print(&list.text())?;
    match list.count(Level::Fail) {
        0 => Ok(()),
        n => Err(Error::Config(format!(
            "doctor: {n} of {} checks failed (the fixes are above)",
            list.lines.len()
        ))),
    }
}

/// `AKIA…WXYZ`: enough of a key id to tell keys apart, not the whole id.
///
/// ```
/// use aws_session::cmd::doctor::masked;
/// assert_eq!(masked("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
/// assert_eq!(masked("short"), "…");
/// ```
pub fn masked(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Which profile and why, and where its keys come from. `None` when nothing further
/// can be checked (no files, no profile, no keys).
fn profile_and_keys(
    list: &mut Checklist,
    opts: &Options,
    env: &Env,
) -> Option<(ProfileSet, SessionPlan)> {
    let profiles = match load_profiles(env) {
        Ok(p) => p,
        Err(e) => {
            list.fail(format!("AWS files: {e}"), "fix the file named".into());
            return None;
        }
    };
    let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
    let name = choice.map_or("default", |(p, _)| p);
    let why = match opts.profile.as_ref() {
        Some((_, Source::CommandLine)) => "--profile",
        Some((p, Source::Environment)) => ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
            .into_iter()
            .find(|k| env.get(k) == Some(p.as_str()))
            .unwrap_or("AWS_SESSION_PROFILE, the enclosing session's"),
        None => "none chosen: the default",
    };
    if choice.is_some() && profiles.get(name).is_none() {
        let e = source::profile_not_found(&profiles, name);
        list.fail(
            format!("profile \"{name}\" ({why}): {e}"),
            "name a profile of the AWS files".into(),
        );
        return None;
    }
    list.ok(format!(
        "profile \"{name}\" ({why}); files {} and {}",
        source::config_file_name(env),
        source::credentials_file_name(env)
    ));
    let plan = session::plan_session_for(env, &profiles, choice)
        .and_then(|mut plan| {
            plan.source = source::process::resolve(plan.source, env)?;
            Ok(plan)
        })
        .map_err(|e| list.fail(format!("keys: {e}"), "see the message".into()))
        .ok()?;
    list.ok(format!("keys: {}", keys_origin(&plan.source, env)));
    if let Some(roles) = &plan.roles {
        let arns: Vec<&str> = roles.steps.iter().map(|s| s.role_arn.as_str()).collect();
        list.ok(format!("roles: assumes {}", arns.join(", then ")));
    }
    Some((profiles, plan))
}

fn keys_origin(src: &SourceCredentials, env: &Env) -> String {
    let key = masked(&src.credentials.access_key_id);
    match &src.origin {
        Origin::Environment => format!("{key} from AWS_ACCESS_KEY_ID"),
        Origin::ParentStash => format!("{key} kept by the enclosing aws-session session"),
        Origin::Profile(p) => format!(
            "{key} of profile \"{p}\" ({} or {})",
            source::credentials_file_name(env),
            source::config_file_name(env)
        ),
        Origin::Process { profile, .. } => {
            format!("{key} from the credential_process of profile \"{profile}\"")
        }
        Origin::Login { profile, .. } => format!(
            "the console sign-in of profile \"{profile}\" (login_session), renewed when a session is made"
        ),
        Origin::Sso(sso) => format!(
            "the IAM Identity Center sign-in {} (profile \"{}\"), role credentials made from its token",
            sso.identity(),
            sso.profile
        ),
    }
}

/// The STS endpoint and region, the proxy and the trust roots.
fn network_settings(list: &mut Checklist, env: &Env, endpoints: &EndpointSettings) {
    match endpoint::resolve(Service::Sts, endpoints) {
        Ok(e) => {
            let region = match endpoints.region.as_deref() {
                Some(r) => {
                    let from = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                        .into_iter()
                        .find(|k| env.get(k) == Some(r))
                        .unwrap_or("the profile");
                    format!("region {r} (from {from})")
                }
                None => "no region (global endpoint)".to_string(),
            };
            list.ok(format!(
                "STS endpoint {} (signed for {}), {region}",
                crate::aws::url::redact_url(&e.url),
                e.signing_region
            ));
        }
        Err(e) => list.fail(format!("STS endpoint: {e}"), "see the message".into()),
    }
    match crate::aws::http::proxy_from_env(|k| env.get(k).map(str::to_string)) {
        Ok(Some(p)) => list.ok(format!("network: {}", p.described())),
        Ok(None) => list.ok("network: no proxy".into()),
        Err(e) => list.fail(format!("proxy: {e}"), "see the message".into()),
    }
    match env.get("AWS_CA_BUNDLE") {
        Some(path) => list.ok(format!("trust roots: AWS_CA_BUNDLE {path}")),
        None => list.ok("trust roots: the built-in Mozilla roots".into()),
    }
}

/// One GetCallerIdentity with the long-term keys: who they are, whether the device
/// can be theirs, and the local clock against the answer's Date header.
fn identity(list: &mut Checklist, env: &Env, endpoints: EndpointSettings, plan: &SessionPlan) {
    let device = plan.serial.clone();
    if matches!(plan.source.origin, Origin::Login { .. }) {
        list.ok("identity: checked when the sign-in is renewed (no request now)".into());
        return;
    }
    let client = match make_client(env, endpoints) {
        Ok(c) => c,
        Err(e) => {
            list.fail(format!("HTTPS: {e}"), "see the message".into());
            return;
        }
    };
    let now = OffsetDateTime::now_utc();
    match client.call_dated(&sts::get_caller_identity(), &plan.source.credentials) {
        Ok(answer) => {
            let id = sts::parse_get_caller_identity(&answer.body).ok();
            let account = id.as_ref().map(|i| i.account.clone());
            match &id {
                Some(i) => list.ok(format!("identity: {} (account {})", i.arn, i.account)),
                None => list.warn(
                    "identity: the answer did not name one".into(),
                    "check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL".into(),
                ),
            }
            device_check(list, device, account.as_deref());
            clock(list, answer.date.map(|d| (d - now).whole_seconds()));
        }
        Err(Error::Aws(e)) => {
            list.fail(
                format!(
                    "identity: GetCallerIdentity failed: {}: {}",
                    e.code, e.message
                ),
                e.advice.clone().unwrap_or_else(|| "see the message".into()),
            );
            device_check(list, device, None);
            clock(list, e.clock_skew_secs);
        }
        Err(e) => {
            list.fail(format!("identity: {e}"), "see the message".into());
            device_check(list, device, None);
        }
    }
}

/// The MFA device: configured (and then of the keys' account) or found when a
/// session is made.
fn device_check(list: &mut Checklist, device: Option<(String, String)>, account: Option<&str>) {
    let Some((serial, from)) = device else {
        list.ok("MFA device: none configured; found with ListMFADevices when a session is made (set mfa_serial to save that request)".into());
        return;
    };
    let arn_account = serial
        .strip_prefix("arn:")
        .and_then(|r| r.split(':').nth(3))
        .filter(|_| serial.contains(":mfa/") || serial.contains(":u2f/"));
    if serial.starts_with("arn:") && arn_account.is_none() {
        list.fail(
            format!("MFA device {serial} ({from}) is not an MFA device ARN"),
            format!("set {from} to the device's ARN, arn:aws:iam::ACCOUNT:mfa/NAME (aws-session provision-mfa shows it)"),
        );
        return;
    }
    match (arn_account, account) {
        (Some(dev), Some(keys)) if dev != keys => list.fail(
            format!("MFA device {serial} ({from}) is unknown to the keys: it belongs to account {dev}, the keys to {keys}"),
            format!("set {from} to a device of account {keys}, or remove it to have the device found"),
        ),
        _ => list.ok(format!("MFA device {serial} ({from})")),
    }
}

/// The local clock against AWS's (`skew`: AWS's minus ours).
fn clock(list: &mut Checklist, skew: Option<i64>) {
    let Some(s) = skew else {
        list.warn(
            "clock: the answer had no Date header to compare with".into(),
            "make sure the clock is synchronised (timedatectl set-ntp true)".into(),
        );
        return;
    };
    let what = format!(
        "clock: {} {} AWS's",
        crate::timefmt::describe_seconds(s.unsigned_abs()),
        if s > 0 { "behind" } else { "ahead of" }
    );
    let fix = "synchronise the clock, e.g. timedatectl set-ntp true".to_string();
    match s.abs() {
        a if a >= CLOCK_FAIL_SECS => {
            list.fail(format!("{what}: AWS refuses requests 5 minutes off"), fix)
        }
        a if a >= CLOCK_WARN_SECS => list.warn(what, fix),
        _ => list.ok(format!("clock: within {CLOCK_WARN_SECS} s of AWS's")),
    }
}

/// The cache directory: private to this user, or not there yet.
fn cache_dir(list: &mut Checklist, opts: &Options, env: &Env) {
    if opts.no_cache {
        list.ok("cache: off (--no-cache or AWS_SESSION_CACHE=0)".into());
        return;
    }
    let Some(dir) = cache_location(env) else {
        list.warn(
            "cache: no HOME or XDG_CACHE_HOME, so no cache".into(),
            "set HOME".into(),
        );
        return;
    };
    let shown = dir.display();
    let meta = match std::fs::symlink_metadata(&dir) {
        Ok(m) => m,
        Err(_) => {
            list.ok(format!("cache: {shown} (made on first use, mode 0700)"));
            return;
        }
    };
    let mode = meta.mode() & 0o7777;
    if !meta.is_dir() {
        list.fail(
            format!("cache: {shown} is not a directory"),
            format!("remove {shown}"),
        );
    } else if meta.uid() != crate::fsutil::euid() {
        list.fail(
            format!(
                "cache: {shown} belongs to another user (uid {})",
                meta.uid()
            ),
            format!("remove {shown}, or set XDG_CACHE_HOME to a directory of yours"),
        );
    } else if mode & 0o077 != 0 {
        list.fail(
            format!(
                "cache: {shown} is open to others (mode {mode:04o}): the cached sessions hold keys"
            ),
            format!("chmod 700 {shown}"),
        );
    } else {
        list.ok(format!("cache: {shown} (mode {mode:04o})"));
    }
}

/// The shell integration: inside a session or not, and the shell `shell` would start.
fn shell(list: &mut Checklist, env: &Env) {
    let sh = env.get("SHELL").unwrap_or("/bin/sh");
    let name = sh.rsplit('/').next().unwrap_or(sh);
    if ["bash", "zsh", "fish"].contains(&name) {
        list.ok(format!(
            "shell: {sh} (prompt, aws function and completion supported)"
        ));
    } else {
        list.warn(
            format!("shell: {sh}: aws-session shell starts it without its prompt and aws function"),
            "set SHELL to bash, zsh or fish for the prompt integration".into(),
        );
    }
    if env.get("AWS_SESSION_EXPIRATION").is_some() && env.get("AWS_SESSION_TOKEN").is_some() {
        list.ok(format!(
            "inside an aws-session session of profile \"{}\"",
            env.get("AWS_SESSION_PROFILE").unwrap_or("default")
        ));
    }
}
