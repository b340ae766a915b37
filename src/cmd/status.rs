//! `status`: the session of the environment and the cached sessions, without secrets.
//! Also what `status` and `clear` share: which profile, which entries, where the cache is.

use super::args::{no_arguments, Options, Run, Spec};
use crate::cache::Lookup;
use crate::env::Env;
use crate::error::Result;
use crate::session::cached::{cache_location, existing_cache, ProfileFilter};
use crate::timefmt::iso8601_utc;
use time::OffsetDateTime;

pub const SPEC: Spec = Spec {
    name: "status",
    about: "show the session and the cache, no secrets",
    help: concat!(
        "Usage: aws-session [--profile P] status\n",
        "\n",
        "Shows the profile, identity kind, MFA serial, expiry and time left of the current\n",
        "environment and of the cached sessions. Never shows a secret.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| no_arguments(a, Args),
};

/// `status` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
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
/// `--profile P`, or all), without secrets.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let mut out = String::new();
    out.push_str(&environment_status(env, now));
    let filter = ProfileFilter::chosen(&opts.settings(), env)?;
    match existing_cache(env)? {
        None => out.push_str(&format!(
            "cache: empty ({} does not exist)\n",
            cache_location(env).map_or_else(
                || "no HOME or XDG_CACHE_HOME".to_string(),
                |d| d.display().to_string()
            )
        )),
        Some(cache) => {
            let entries = cache.entries()?;
            let shown: Vec<&(String, Lookup)> = entries
                .iter()
                .filter(|(_, l)| match (&filter, l) {
                    (None, _) => true,
                    (Some(f), Lookup::Found(e)) => f.matches(e),
                    (Some(_), _) => false,
                })
                .collect();
            out.push_str(&format!(
                "cache: {}{}{}\n",
                cache.dir().display(),
                filter
                    .as_ref()
                    .map_or_else(String::new, |f| format!(", profile \"{}\"", f.name)),
                if shown.is_empty() {
                    " (no sessions)"
                } else {
                    ""
                }
            ));
            if opts.no_cache {
                out.push_str("  (not used by this run: --no-cache or AWS_SESSION_CACHE=0)\n");
            }
            for (key, lookup) in shown {
                out.push_str(&entry_status(key, lookup, now));
            }
        }
    }
    crate::out::print(&out)
}

fn environment_status(env: &Env, now: OffsetDateTime) -> String {
    let Some(exp) = env
        .get("AWS_SESSION_EXPIRATION")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|_| env.get("AWS_SESSION_TOKEN").is_some())
    else {
        return "environment: no aws-session credentials (AWS_SESSION_EXPIRATION is not set)\n"
            .to_string();
    };
    let mut line = String::from("environment: ");
    match env.get("AWS_SESSION_ROLE_ARN") {
        Some(role) => line.push_str(&format!("role session of {role}")),
        None => line.push_str("MFA session"),
    }
    line.push_str(&format!(
        ", profile \"{}\"",
        env.get("AWS_SESSION_PROFILE")
            .or_else(|| env.get("AWS_PROFILE"))
            .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
            .unwrap_or("default")
    ));
    if let Some(key) = env.get("AWS_ACCESS_KEY_ID") {
        line.push_str(&format!(", key {key}"));
    }
    match env.get("AWS_SESSION_MFADEVICE") {
        Some(serial) => line.push_str(&format!(", MFA {serial}")),
        None => line.push_str(", no MFA"),
    }
    let expires = OffsetDateTime::from_unix_timestamp(exp)
        .map(iso8601_utc)
        .unwrap_or_else(|_| exp.to_string());
    // Checked: the value is from outside. A session ending more than the longest
    // AWS session ahead, or a century ago, is no time aws-session sets.
    let left = exp
        .checked_sub(now.unix_timestamp())
        .filter(|l| (-100 * 365 * 86400..=crate::shell::LONGEST_SESSION_SECS).contains(l));
    line.push_str(&format!(
        "\n  expires {expires} ({})\n",
        left.map(remaining)
            .unwrap_or_else(|| "not a time aws-session sets".to_string())
    ));
    line
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
            if key.ends_with(".tmp") {
                key.to_string()
            } else {
                format!("{key}.json")
            }
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
