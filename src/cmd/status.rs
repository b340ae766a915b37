//! `status [--format text|json]`: the session of the environment and the cached
//! sessions, without secrets, as text or as one JSON object with the same fields.

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use crate::cache::{Entry, Lookup};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::json::Value;
use crate::session::cached::{cache_location, existing_cache, ProfileFilter};
use crate::timefmt::iso8601_utc;
use std::path::PathBuf;
use time::OffsetDateTime;

pub const SPEC: Spec = Spec {
    name: "status",
    about: "show the session and the cache, no secrets",
    help: concat!(
        "Usage: aws-session [--profile P] status [--format text|json]\n",
        "\n",
        "Shows the profile, identity kind, MFA serial, expiry and time left of the current\n",
        "environment and of the cached sessions. Never shows a secret.\n",
        "--format json prints the same fields as one JSON object, for scripts and prompts.\n",
    ),
    options: &[FORMAT],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

/// `--format` of status.
pub const FORMAT: Opt = Opt {
    short: None,
    long: "format",
    value: true,
    about: "text|json",
};

/// The options of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    /// `--format json`.
    pub json: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if !arg.is(&FORMAT) {
            return Err(args.unexpected(arg));
        }
        a.json = match args.value("--format")?.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(Error::Usage(format!(
                    "status --format \"{}\" is not known: use text or json",
                    other.chars().take(20).collect::<String>()
                )))
            }
        };
    }
    Ok(a)
}

/// "11h 58m left", "4m 10s left", "expired 3m ago".
///
/// ```
/// use aws_session::cmd::status::remaining;
/// assert_eq!(remaining(43_080), "11h 58m left");
/// assert_eq!(remaining(250), "4m 10s left");
/// assert_eq!(remaining(0), "expired");
/// assert_eq!(remaining(-180), "expired 3m ago");
/// ```
pub fn remaining(secs: i64) -> String {
    let span = |s: i64| {
        if s >= 3600 {
            format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
        } else if s >= 60 {
            format!("{}m {:02}s", s / 60, s % 60)
        } else {
            format!("{s}s")
        }
    };
    match secs {
        s if s > 0 => format!("{} left", span(s)).replace("m 00s left", "m left"),
        0 => "expired".to_string(),
        s => format!("expired {} ago", span(-s)).replace("m 00s ago", "m ago"),
    }
}

/// `status`: the session of the current environment and the cached sessions (of
/// `--profile P`, or all), without secrets; as text, or as one JSON object with the
/// same fields (`--format json`).
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let session = env_session(env, now);
    let filter = ProfileFilter::chosen(&opts.settings(), env)?;
    let cache = existing_cache(env)?;
    let entries = match &cache {
        Some(c) => c.entries()?,
        None => Vec::new(),
    };
    let shown: Vec<&(String, Lookup)> = entries
        .iter()
        .filter(|(_, l)| match (&filter, l) {
            (None, _) => true,
            (Some(f), Lookup::Found(e)) => f.matches(e),
            (Some(_), _) => false,
        })
        .collect();
    let report = Report {
        session,
        dir: cache.as_ref().map(|c| c.dir().to_path_buf()),
        location: cache_location(env),
        profile: filter.as_ref().map(|f| f.name.as_str()),
        used: !opts.no_cache,
        shown,
        now,
    };
    crate::out::print(&if args.json {
        report.json()
    } else {
        report.text()
    })
}

/// What `status` shows, before it is written as text or JSON.
struct Report<'a> {
    session: Option<EnvSession<'a>>,
    /// The cache directory, when it exists.
    dir: Option<PathBuf>,
    /// Where the cache directory is (or would be).
    location: Option<PathBuf>,
    /// The profile of `--profile`.
    profile: Option<&'a str>,
    /// Whether this run would use the cache (not --no-cache).
    used: bool,
    shown: Vec<&'a (String, Lookup)>,
    now: OffsetDateTime,
}

impl Report<'_> {
    fn text(&self) -> String {
        let mut out = match &self.session {
            Some(s) => s.text(),
            None => "environment: no aws-session credentials (AWS_SESSION_EXPIRATION is not set)\n"
                .to_string(),
        };
        let Some(dir) = &self.dir else {
            out.push_str(&format!(
                "cache: empty ({} does not exist)\n",
                self.location.as_ref().map_or_else(
                    || "no HOME or XDG_CACHE_HOME".to_string(),
                    |d| d.display().to_string()
                )
            ));
            return out;
        };
        out.push_str(&format!(
            "cache: {}{}{}\n",
            dir.display(),
            self.profile
                .map_or_else(String::new, |p| format!(", profile \"{p}\"")),
            if self.shown.is_empty() {
                " (no sessions)"
            } else {
                ""
            }
        ));
        if !self.used {
            out.push_str("  (not used by this run: --no-cache or AWS_SESSION_CACHE=0)\n");
        }
        for (key, lookup) in &self.shown {
            out.push_str(&entry_status(key, lookup, self.now));
        }
        out
    }

    fn json(&self) -> String {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or(Value::Null, |d| Value::String(d.display().to_string()))
        };
        let mut sessions = Vec::new();
        let mut ignored = Vec::new();
        let mut removed = Vec::new();
        for (key, lookup) in &self.shown {
            match lookup {
                Lookup::Found(e) => sessions.push(entry_json(e, self.now)),
                Lookup::Ignored(why) => ignored.push(file_and_why(&entry_file(key), why)),
                Lookup::Removed(why) => removed.push(file_and_why(&format!("{key}.json"), why)),
                Lookup::Missing => {}
            }
        }
        let cache = Value::Object(vec![
            ("dir".into(), path(&self.location)),
            ("exists".into(), Value::Bool(self.dir.is_some())),
            ("profile".into(), opt(self.profile)),
            ("used".into(), Value::Bool(self.used)),
            ("sessions".into(), Value::Array(sessions)),
            ("ignored".into(), Value::Array(ignored)),
            ("removed".into(), Value::Array(removed)),
        ]);
        let environment = self.session.as_ref().map_or(Value::Null, EnvSession::json);
        let doc = Value::Object(vec![
            ("environment".into(), environment),
            ("cache".into(), cache),
        ]);
        format!("{}\n", doc.to_json())
    }
}

/// A string member, or `null`.
fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_string()))
}

fn number(n: i64) -> Value {
    Value::Number(n.to_string())
}

fn file_and_why(file: &str, why: &str) -> Value {
    Value::object_of_strings(&[("file", file), ("why", why)])
}

/// The file name of a cache entry `key` (a leftover temp file keeps its own name).
fn entry_file(key: &str) -> String {
    if key.ends_with(".tmp") {
        key.to_string()
    } else {
        format!("{key}.json")
    }
}

/// The aws-session credentials of the environment (never the secret or the token).
struct EnvSession<'a> {
    role: Option<&'a str>,
    profile: &'a str,
    key: Option<&'a str>,
    mfa: Option<&'a str>,
    expires_epoch: i64,
    /// Seconds left, when the expiry is a time aws-session sets.
    left: Option<i64>,
}

fn env_session(env: &Env, now: OffsetDateTime) -> Option<EnvSession<'_>> {
    let exp = env
        .get("AWS_SESSION_EXPIRATION")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|_| env.get("AWS_SESSION_TOKEN").is_some())?;
    // Checked: the value is from outside. A session ending more than the longest
    // AWS session ahead, or a century ago, is no time aws-session sets.
    let left = exp
        .checked_sub(now.unix_timestamp())
        .filter(|l| (-100 * 365 * 86400..=crate::shell::LONGEST_SESSION_SECS).contains(l));
    Some(EnvSession {
        role: env.get("AWS_SESSION_ROLE_ARN"),
        profile: env
            .get("AWS_SESSION_PROFILE")
            .or_else(|| env.get("AWS_PROFILE"))
            .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
            .unwrap_or("default"),
        key: env.get("AWS_ACCESS_KEY_ID"),
        mfa: env.get("AWS_SESSION_MFADEVICE"),
        expires_epoch: exp,
        left,
    })
}

impl EnvSession<'_> {
    fn expires(&self) -> String {
        OffsetDateTime::from_unix_timestamp(self.expires_epoch)
            .map(iso8601_utc)
            .unwrap_or_else(|_| self.expires_epoch.to_string())
    }

    fn left_text(&self) -> String {
        self.left
            .map(remaining)
            .unwrap_or_else(|| "not a time aws-session sets".to_string())
    }

    fn text(&self) -> String {
        let mut line = String::from("environment: ");
        match self.role {
            Some(role) => line.push_str(&format!("role session of {role}")),
            None => line.push_str("MFA session"),
        }
        line.push_str(&format!(", profile \"{}\"", self.profile));
        if let Some(key) = self.key {
            line.push_str(&format!(", key {key}"));
        }
        match self.mfa {
            Some(serial) => line.push_str(&format!(", MFA {serial}")),
            None => line.push_str(", no MFA"),
        }
        line.push_str(&format!(
            "\n  expires {} ({})\n",
            self.expires(),
            self.left_text()
        ));
        line
    }

    fn json(&self) -> Value {
        let kind = if self.role.is_some() {
            "role-session"
        } else {
            "mfa-session"
        };
        Value::Object(vec![
            ("kind".into(), Value::String(kind.into())),
            ("role_arn".into(), opt(self.role)),
            ("profile".into(), Value::String(self.profile.into())),
            ("access_key_id".into(), opt(self.key)),
            ("mfa_serial".into(), opt(self.mfa)),
            ("expiration".into(), Value::String(self.expires())),
            ("expiration_epoch".into(), number(self.expires_epoch)),
            ("seconds_left".into(), self.left.map_or(Value::Null, number)),
            ("left".into(), Value::String(self.left_text())),
        ])
    }
}

fn entry_json(e: &Entry, now: OffsetDateTime) -> Value {
    let left = (e.session.expiration - now).whole_seconds();
    Value::Object(vec![
        ("kind".into(), Value::String(e.kind.name().into())),
        ("profile".into(), Value::String(e.profile.clone())),
        (
            "assumed_role_arn".into(),
            opt(e.assumed_role_arn.as_deref()),
        ),
        (
            "access_key_id".into(),
            Value::String(e.session.credentials.access_key_id.clone()),
        ),
        ("source_profile".into(), opt(e.source_profile.as_deref())),
        (
            "source_access_key_id".into(),
            Value::String(e.source_access_key_id.clone()),
        ),
        ("mfa_serial".into(), opt(e.mfa_serial.as_deref())),
        (
            "expiration".into(),
            Value::String(iso8601_utc(e.session.expiration)),
        ),
        ("seconds_left".into(), number(left)),
        ("left".into(), Value::String(remaining(left))),
        ("usable".into(), Value::Bool(left > 0 && e.is_fresh(now))),
    ])
}

fn entry_status(key: &str, lookup: &Lookup, now: OffsetDateTime) -> String {
    match lookup {
        Lookup::Found(e) => {
            let mut line = format!("  {} of profile \"{}\"", e.kind.name(), e.profile);
            if let Some(role) = &e.assumed_role_arn {
                line.push_str(&format!(" as {role}"));
            }
            line.push_str(&format!(
                "\n    key {} from {}",
                e.session.credentials.access_key_id,
                match &e.source_profile {
                    Some(p) => format!("the keys of profile \"{p}\" ({})", e.source_access_key_id),
                    None => format!("keys from the environment ({})", e.source_access_key_id),
                }
            ));
            match &e.mfa_serial {
                Some(s) => line.push_str(&format!(", MFA {s}")),
                None => line.push_str(", no MFA"),
            }
            let left = (e.session.expiration - now).whole_seconds();
            line.push_str(&format!(
                "\n    expires {} ({}{})\n",
                iso8601_utc(e.session.expiration),
                remaining(left),
                if left > 0 && !e.is_fresh(now) {
                    ", too close to expiry to be used"
                } else {
                    ""
                }
            ));
            line
        }
        Lookup::Ignored(why) => format!(
            "  ignored {}: {why} (it will be replaced; `aws-session clear` removes it)\n",
            entry_file(key)
        ),
        Lookup::Removed(why) => format!("  removed {key}.json: {why}\n"),
        Lookup::Missing => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_times() {
        assert_eq!(remaining(3600), "1h 00m left");
        assert_eq!(remaining(59), "59s left");
        assert_eq!(remaining(60), "1m left");
        assert_eq!(remaining(-30), "expired 30s ago");
    }
}
