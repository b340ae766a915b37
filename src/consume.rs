//! The ways other tools consume credentials: `export` (eval-able lines or JSON),
//! `credential-process` (the AWS SDKs' external process protocol), `status`, `clear`
//! and `completions`.

use crate::cache::{self, json_string, Cache, Entry, Lookup};
use crate::cli::{Options, OutputFormat, Source};
use crate::commands::{load_profiles, Context};
use crate::error::{Error, Result};
use crate::session::{self, Env, EnvChanges, Established};
use crate::timefmt::iso8601_utc;
use std::path::PathBuf;
use time::OffsetDateTime;

/// `export [--format env|fish|json|credential-process]`: the session's credentials (from
/// the cache, or a new session) as `export` lines, fish `set -gx` lines, a JSON object
/// of the same variables, or the credential_process JSON.
pub fn export(opts: &Options, env: &Env) -> Result<()> {
    let ctx = Context::load(opts, env)?;
    let est = ctx.establish()?;
    let mut changes = session::session_changes(&est);
    // AWS_SESSION_MFADEVICE is trusted later only with the keys it belongs to.
    changes.push(session::source_key_change(&ctx.plan.source));
    if let Some(r) = ctx.region() {
        if env.get("AWS_REGION").is_none() && env.get("AWS_DEFAULT_REGION").is_none() {
            changes.push(("AWS_REGION", Some(r.to_string())));
            changes.push(("AWS_DEFAULT_REGION", Some(r.to_string())));
        }
    }
    print!(
        "{}",
        match opts.format {
            OutputFormat::Env => session::export_lines(&changes),
            OutputFormat::Fish => session::fish_lines(&changes),
            OutputFormat::Json => json_lines(&changes),
            OutputFormat::CredentialProcess => credential_process_json(&est),
        }
    );
    Ok(())
}

/// `credential-process`: the credential_process JSON for the AWS SDKs and CLI
/// (`credential_process = aws-session credential-process --profile P`). A code, when
/// one is needed, is asked on /dev/tty (the SDK owns stdin, stdout and stderr).
pub fn credential_process(opts: &Options, env: &Env) -> Result<()> {
    let ctx = Context::load(opts, env)?;
    let est = ctx.establish()?;
    print!("{}", credential_process_json(&est));
    Ok(())
}

/// The credential_process document: Version 1 with the keys, the token and the
/// expiry (ISO 8601 UTC), one line.
///
/// ```
/// use aws_session::credentials::{Credentials, SessionCredentials};
/// use aws_session::session::Established;
/// let est = Established {
///     session: SessionCredentials {
///         credentials: Credentials { access_key_id: "ASIA1".into(), secret_access_key: "s".into(),
///                                    session_token: Some("t".into()) },
///         expiration: time::OffsetDateTime::from_unix_timestamp(1_795_597_484).unwrap(),
///     },
///     mfa_serial: None, role: None, from_cache: false,
/// };
/// assert_eq!(
///     aws_session::consume::credential_process_json(&est),
///     "{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2026-11-25T09:04:44Z\"}\n"
/// );
/// ```
pub fn credential_process_json(est: &Established) -> String {
    let c = &est.session.credentials;
    let mut out = format!(
        "{{\"Version\":1,\"AccessKeyId\":{},\"SecretAccessKey\":{}",
        json_string(&c.access_key_id),
        json_string(&c.secret_access_key)
    );
    if let Some(t) = &c.session_token {
        out.push_str(&format!(",\"SessionToken\":{}", json_string(t)));
    }
    out.push_str(&format!(
        ",\"Expiration\":{}}}\n",
        json_string(&iso8601_utc(est.session.expiration))
    ));
    out
}

/// The variables that are set, as one JSON object (unset ones are left out).
///
/// ```
/// let ch = vec![("A", Some("1".to_string())), ("B", None)];
/// assert_eq!(aws_session::consume::json_lines(&ch), "{\n  \"A\": \"1\"\n}\n");
/// ```
pub fn json_lines(changes: &EnvChanges) -> String {
    let body: Vec<String> = changes
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("  {}: {}", json_string(k), json_string(v)))
        })
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

/// The profile `status` and `clear` are about: only one given on the command line
/// (inside an aws-session shell AWS_PROFILE is always set, and `clear` there means all).
fn chosen_profile(opts: &Options) -> Option<&str> {
    match &opts.profile {
        Some((p, Source::CommandLine)) => Some(p.as_str()),
        _ => None,
    }
}

/// Which cache entries belong to a profile: those made for it or from its keys
/// profile, and every session made from the same long-term keys (the MFA session they
/// share): after `clear --profile P`, P needs a code again.
struct ProfileFilter {
    name: String,
    source_key: Option<String>,
}

impl ProfileFilter {
    fn new(name: &str, env: &Env) -> Self {
        let source_key = load_profiles(env)
            .ok()
            .and_then(|ps| {
                session::plan_session_for(env, &ps, Some((name, Source::CommandLine))).ok()
            })
            .map(|p| p.source.credentials.access_key_id);
        ProfileFilter {
            name: name.to_string(),
            source_key,
        }
    }

    fn matches(&self, e: &Entry) -> bool {
        e.profile == self.name
            || e.source_profile.as_deref() == Some(self.name.as_str())
            || self.source_key.as_deref() == Some(e.source_access_key_id.as_str())
    }
}

fn cache_location(env: &Env) -> Option<PathBuf> {
    cache::cache_dir(env.get("XDG_CACHE_HOME"), env.get("HOME"))
}

/// Open the cache directory only if it exists (status and clear never create it).
fn existing_cache(env: &Env) -> Result<Option<Cache>> {
    let Some(dir) = cache_location(env) else {
        return Ok(None);
    };
    if std::fs::symlink_metadata(&dir).is_err() {
        return Ok(None);
    }
    Cache::open(&dir).map(Some)
}

/// "11h 58m left", "4m 10s left", "expired 3m ago".
///
/// ```
/// use aws_session::consume::remaining;
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
pub fn status(opts: &Options, env: &Env) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let mut out = String::new();
    out.push_str(&environment_status(env, now));
    let filter = chosen_profile(opts).map(|p| ProfileFilter::new(p, env));
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
    print!("{out}");
    Ok(())
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
        env.get("AWS_PROFILE")
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
    line.push_str(&format!(
        "\n  expires {expires} ({})\n",
        remaining(exp - now.unix_timestamp())
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
        Lookup::Missing => String::new(),
    }
}

/// `clear [--profile P]`: delete the cached sessions of P (see `ProfileFilter`), or
/// all of them, with whatever the cache directory holds that is not trusted.
pub fn clear(opts: &Options, env: &Env) -> Result<()> {
    let Some(cache) = existing_cache(env)? else {
        println!("aws-session: the session cache is empty; nothing to clear");
        return Ok(());
    };
    // Wait briefly for a run that is storing a session; removal is atomic anyway.
    let _lock = cache.lock(std::time::Duration::from_secs(10), || {}).ok();
    let filter = chosen_profile(opts).map(|p| ProfileFilter::new(p, env));
    let mut removed = 0;
    for (key, lookup) in cache.entries()? {
        let remove = match (&filter, &lookup) {
            (None, _) => true,
            (Some(f), Lookup::Found(e)) => f.matches(e),
            (Some(_), _) => false,
        };
        if remove {
            cache.remove_listed(&key)?;
            if matches!(lookup, Lookup::Found(_)) {
                removed += 1;
            }
        }
    }
    let whose = filter
        .as_ref()
        .map_or_else(String::new, |f| format!(" of profile \"{}\"", f.name));
    println!(
        "aws-session: removed {removed} cached session{}{whose} from {}",
        if removed == 1 { "" } else { "s" },
        cache.dir().display()
    );
    Ok(())
}

/// The commands `completions` offers, with a short description (as in `--help`).
pub const COMMANDS: &[(&str, &str)] = &[
    ("shell", "run an interactive shell (default)"),
    ("exec", "run one command with the session credentials"),
    ("refresh", "print export lines for a new session"),
    ("provision-mfa", "create and enable a virtual MFA device"),
    ("export", "print the credentials"),
    ("credential-process", "print credential_process JSON"),
    ("status", "show the session and the cache"),
    ("clear", "delete cached sessions"),
    ("prompt", "print the prompt prefix"),
    ("completions", "print a completion script"),
    ("help", "show help for a command"),
];

/// The options `completions` offers: short form, long form, takes a value, description.
pub const OPTIONS: &[(Option<char>, &str, bool, &str)] = &[
    (Some('p'), "profile", true, "profile from ~/.aws"),
    (Some('c'), "code", true, "the 6 digit MFA code"),
    (
        Some('d'),
        "session-duration",
        true,
        "session validity in seconds",
    ),
    (None, "debug", false, "trace requests on stderr"),
    (
        None,
        "no-cache",
        false,
        "neither use nor store cached sessions",
    ),
    (None, "force", false, "start a shell inside a live session"),
    (None, "format", true, "output format"),
    (
        None,
        "save",
        false,
        "provision-mfa: write mfa_serial into the profile",
    ),
    (
        None,
        "qr-ansi",
        false,
        "provision-mfa: QR code in background colours",
    ),
    (
        None,
        "reuse-mfa",
        false,
        "refresh: reuse a cached MFA session for a new role session",
    ),
    (Some('h'), "help", false, "show help"),
    (Some('V'), "version", false, "print the version"),
];

/// The values of `--format`.
pub const FORMATS: &str = "env fish json credential-process";

/// `completions bash|zsh|fish`.
pub fn completions(shell: &str) -> Result<()> {
    print!("{}", completion_script(shell)?);
    Ok(())
}

/// A shell's completion script for aws-session: commands, options, `--format` values,
/// profile names (from the AWS files), and the command after `exec`.
///
/// ```
/// let bash = aws_session::consume::completion_script("bash").unwrap();
/// assert!(bash.contains("complete -F _aws_session aws-session"));
/// assert!(aws_session::consume::completion_script("tcsh").is_err());
/// ```
pub fn completion_script(shell: &str) -> Result<String> {
    let commands: Vec<&str> = COMMANDS.iter().map(|(c, _)| *c).collect();
    let mut long_opts: Vec<String> = Vec::new();
    for (short, long, _, _) in OPTIONS {
        if let Some(s) = short {
            long_opts.push(format!("-{s}"));
        }
        long_opts.push(format!("--{long}"));
    }
    match shell {
        "bash" => Ok(BASH
            .replace("@COMMANDS@", &commands.join(" "))
            .replace("@OPTIONS@", &long_opts.join(" "))
            .replace("@FORMATS@", FORMATS)),
        "zsh" => {
            let cmds: Vec<String> = COMMANDS
                .iter()
                .map(|(c, d)| format!("    '{c}:{d}'"))
                .collect();
            let opts: Vec<String> = OPTIONS
                .iter()
                .map(|(short, long, value, desc)| {
                    let arg = match (*long, *value) {
                        ("profile", _) => ":profile:_aws_session_profiles".to_string(),
                        ("format", _) => format!(":format:({FORMATS})"),
                        (_, true) => format!(":{long}:"),
                        (_, false) => String::new(),
                    };
                    let exclusive = if matches!(*long, "help" | "version") {
                        "(- *)".to_string()
                    } else {
                        match short {
                            Some(s) => format!("(-{s} --{long})"),
                            None => String::new(),
                        }
                    };
                    match short {
                        Some(s) => format!("    '{exclusive}'{{-{s},--{long}}}'[{desc}]{arg}'"),
                        None => format!("    '{exclusive}--{long}[{desc}]{arg}'"),
                    }
                })
                .collect();
            Ok(ZSH
                .replace("@COMMANDS@", &cmds.join("\n"))
                .replace("@OPTIONS@", &opts.join(" \\\n")))
        }
        "fish" => {
            let mut out = String::from(FISH_HEAD);
            let list = commands.join(" ");
            for (c, d) in COMMANDS {
                out.push_str(&format!(
                    "complete -c aws-session -n 'not __fish_seen_subcommand_from {list}' -a {c} -d '{d}'\n"
                ));
            }
            for (short, long, value, desc) in OPTIONS {
                let mut line = String::from("complete -c aws-session");
                if let Some(s) = short {
                    line.push_str(&format!(" -s {s}"));
                }
                line.push_str(&format!(" -l {long}"));
                if *value {
                    line.push_str(" -x");
                }
                match *long {
                    "profile" => line.push_str(" -a '(__aws_session_profiles)'"),
                    "format" => line.push_str(&format!(" -a '{FORMATS}'")),
                    _ => {}
                }
                line.push_str(&format!(
                    " -n 'not __fish_seen_subcommand_from exec' -d '{desc}'\n"
                ));
                out.push_str(&line);
            }
            out.push_str(FISH_TAIL);
            Ok(out)
        }
        other => Err(Error::Usage(format!(
            "completions for \"{other}\" are not available: use bash, zsh or fish"
        ))),
    }
}

const BASH: &str = r#"# bash completion for aws-session
# Install: aws-session completions bash > ~/.local/share/bash-completion/completions/aws-session
# or add to ~/.bashrc: eval "$(aws-session completions bash)"

_aws_session_profiles() {
    local f
    for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
        [ -r "$f" ] || continue
        sed -n -e 's/^[[:space:]]*\[profile[[:space:]][[:space:]]*\([^]]*\)\].*/\1/p' \
               -e 's/^[[:space:]]*\[\([^] ]*\)\].*/\1/p' "$f"
    done | sed -e 's/[[:space:]]*$//' | sort -u
}

_aws_session() {
    local cur prev i
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -p|--profile|-c|--code|-d|--session-duration|--format) ((i++)) ;;
            exec)
                if declare -F _command_offset >/dev/null; then
                    _command_offset $((i + 1))
                elif ((COMP_CWORD == i + 1)); then
                    COMPREPLY=($(compgen -c -- "$cur"))
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return 0
                ;;
            completions)
                COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
                return 0
                ;;
        esac
    done
    case "$prev" in
        -p|--profile)
            COMPREPLY=($(compgen -W "$(_aws_session_profiles)" -- "$cur"))
            return 0
            ;;
        --format)
            COMPREPLY=($(compgen -W "@FORMATS@" -- "$cur"))
            return 0
            ;;
        -c|--code|-d|--session-duration)
            return 0
            ;;
        help)
            COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
            return 0
            ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "@OPTIONS@" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
    fi
    return 0
}

complete -F _aws_session aws-session
"#;

const ZSH: &str = r#"#compdef aws-session
# zsh completion for aws-session
# Install: aws-session completions zsh > "${fpath[1]}/_aws-session"
# or add to ~/.zshrc (after compinit): eval "$(aws-session completions zsh)"

_aws_session_profiles() {
    local -a profiles
    local f
    for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
        [[ -r $f ]] || continue
        profiles+=(${(f)"$(sed -n -e 's/^[[:space:]]*\[profile[[:space:]][[:space:]]*\([^]]*\)\].*/\1/p' \
                                  -e 's/^[[:space:]]*\[\([^] ]*\)\].*/\1/p' "$f")"})
    done
    _describe -t profiles 'AWS profile' profiles
}

_aws-session() {
    local -a commands
    commands=(
@COMMANDS@
    )
    local curcontext="$curcontext" state line
    _arguments -C \
@OPTIONS@ \
        '1: :->command' \
        '*:: :->args' && return 0
    case $state in
        command)
            _describe -t commands 'aws-session command' commands
            ;;
        args)
            case $words[1] in
                exec)
                    shift words
                    (( CURRENT-- ))
                    _normal
                    ;;
                completions)
                    _values 'shell' bash zsh fish
                    ;;
                help)
                    _describe -t commands 'aws-session command' commands
                    ;;
            esac
            ;;
    esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _aws-session "$@"
else
    compdef _aws-session aws-session
fi
"#;

const FISH_HEAD: &str = r#"# fish completion for aws-session
# Install: aws-session completions fish > ~/.config/fish/completions/aws-session.fish

function __aws_session_profiles
    set -l config ~/.aws/config
    set -q AWS_CONFIG_FILE; and set config $AWS_CONFIG_FILE
    set -l credentials ~/.aws/credentials
    set -q AWS_SHARED_CREDENTIALS_FILE; and set credentials $AWS_SHARED_CREDENTIALS_FILE
    for f in $config $credentials
        test -r $f; or continue
        string match -r -g '^\s*\[(?:profile\s+)?([^\]\s]+)\s*\]' < $f
    end | string match -v -r '^sso-session$' | sort -u
end

complete -c aws-session -f
"#;

const FISH_TAIL: &str = r#"complete -c aws-session -n '__fish_seen_subcommand_from completions' -x -a 'bash zsh fish'
complete -c aws-session -n '__fish_seen_subcommand_from help' -x -a 'shell exec refresh provision-mfa export credential-process status clear prompt completions'
complete -c aws-session -n '__fish_seen_subcommand_from exec' -x -a '(__fish_complete_subcommand --fcs-skip=2)'
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_lists_match_the_cli() {
        let help = crate::cli::help(None).unwrap();
        for (c, _) in COMMANDS {
            if *c != "help" {
                assert!(
                    crate::cli::USAGE.contains(c),
                    "{c} is not in the usage line"
                );
            }
            assert!(
                crate::cli::parse(vec![(*c).into(), "--help".into()], |_| None).is_ok()
                    || *c == "completions",
                "{c} is not a command"
            );
        }
        for (short, long, value, _) in OPTIONS {
            assert!(
                help.contains(&format!("--{long}")),
                "--{long} is not in --help"
            );
            if let Some(s) = short {
                assert!(
                    help.contains(&format!("-{s}, --{long}")),
                    "-{s} is not in --help"
                );
            }
            let mut args: Vec<std::ffi::OsString> =
                vec!["status".into(), format!("--{long}").into()];
            if *value {
                args.push(
                    match *long {
                        "code" => "123456",
                        "session-duration" => "900",
                        "format" => "json",
                        _ => "x",
                    }
                    .into(),
                );
            }
            assert!(
                crate::cli::parse(args, |_| None).is_ok(),
                "--{long} is not accepted"
            );
        }
        for f in FORMATS.split(' ') {
            let args = vec!["--format".into(), f.into(), "export".into()];
            assert!(crate::cli::parse(args, |_| None).is_ok(), "{f}");
        }
    }

    #[test]
    fn scripts_name_every_command_and_option() {
        for shell in ["bash", "zsh", "fish"] {
            let s = completion_script(shell).unwrap();
            for placeholder in ["@COMMANDS@", "@OPTIONS@", "@FORMATS@"] {
                assert!(!s.contains(placeholder), "{shell}: {placeholder}");
            }
            for (c, _) in COMMANDS {
                assert!(s.contains(c), "{shell}: {c}");
            }
            for (_, long, _, _) in OPTIONS {
                assert!(s.contains(long), "{shell}: {long}");
            }
        }
    }

    #[test]
    fn remaining_times() {
        assert_eq!(remaining(3600), "1h 00m left");
        assert_eq!(remaining(59), "59s left");
        assert_eq!(remaining(60), "1m left");
        assert_eq!(remaining(-30), "expired 30s ago");
    }

    #[test]
    fn credential_process_json_escapes_and_omits_missing_token() {
        let est = Established {
            session: crate::credentials::SessionCredentials {
                credentials: crate::credentials::Credentials {
                    access_key_id: "AKID".into(),
                    secret_access_key: "a\"b".into(),
                    session_token: None,
                },
                expiration: OffsetDateTime::from_unix_timestamp(0).unwrap(),
            },
            mfa_serial: None,
            role: None,
            from_cache: false,
        };
        assert_eq!(
            credential_process_json(&est),
            "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"a\\\"b\",\"Expiration\":\"1970-01-01T00:00:00Z\"}\n"
        );
    }
}
