//! Command line and environment defaults → a plain [`Options`] value (pure).
//!
//! Compatible with the original script: `[OPTIONS] [shell|exec CMD ARGS...|refresh|
//! provision-mfa]`, `--` ends options, and each option has an environment default.
//! Global options may also follow the command name, for every command but `exec`,
//! whose arguments after the command are the child's.

use crate::error::{Error, Result};
use std::ffi::OsString;

/// Shortest session AWS grants (GetSessionToken DurationSeconds).
pub const MIN_DURATION: u32 = 900;
/// Longest session AWS grants to an IAM user (36 h).
pub const MAX_DURATION: u32 = 129_600;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Interactive sub-shell (the default).
    Shell,
    /// Replace this process with a command.
    Exec(Vec<OsString>),
    /// Print `export` lines for a new session.
    Refresh,
    /// Create and enable a virtual MFA device.
    ProvisionMfa,
    /// Print the prompt prefix for the current environment.
    Prompt,
    /// Print credentials for eval or scripts (`--format env|fish|json`).
    Export,
    /// Print the `credential_process` JSON for SDKs.
    CredentialProcess,
    /// Show the current session and the cache, without secrets.
    Status,
    /// Delete cached sessions (of `--profile`, or all).
    Clear,
    /// Print a completion script for a shell.
    Completions(String),
    /// Print help (for the tool, or for one command).
    Help(Option<String>),
    /// Print the version.
    Version,
}

/// Where a setting came from; only settings from the command line are exported
/// into the child, as the original did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
}

/// Everything the command line and the environment defaults decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub command: Command,
    /// Profile name and where it came from.
    pub profile: Option<(String, Source)>,
    /// MFA code (6 digits, checked). Used once, never passed on.
    pub code: Option<String>,
    /// Requested session duration in seconds (validated), and where it came from.
    pub duration: Option<(u32, Source)>,
    /// `--session-duration 0` was given: AWS's default, whatever AWS_SESSION_DURATION
    /// says (and the child does not inherit AWS_SESSION_DURATION either).
    pub duration_default_on_cli: bool,
    /// Trace requests on stderr.
    pub debug: bool,
    pub debug_from_cli: bool,
    /// Start a shell even inside a live session.
    pub force_nested: bool,
    /// Output format of `refresh` / `export`.
    pub format: OutputFormat,
    /// Neither read nor write the session cache (`--no-cache`, AWS_SESSION_CACHE=0).
    pub no_cache: bool,
    /// provision-mfa: write `mfa_serial` into the profile without asking.
    pub save: bool,
    /// provision-mfa: draw the QR code with background colours instead of blocks.
    pub qr_ansi: bool,
    /// refresh: make the final session anew but reuse a fresh cached MFA session
    /// (`--reuse-mfa`, used by the sub-shell's `aws` function).
    pub reuse_mfa: bool,
}

/// How `refresh` / `export` print credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `export NAME='value'` (bash, zsh, sh).
    Env,
    /// `set -gx NAME 'value'` (fish).
    Fish,
    /// A JSON object (export only).
    Json,
    /// The credential_process JSON (export only).
    CredentialProcess,
}

/// The usage line of the tool.
pub const USAGE: &str = "Usage: aws-session [OPTIONS] [shell | exec COMMAND [ARGS...] | refresh | provision-mfa | export | credential-process | status | clear | prompt | completions SHELL]";

/// Parse `args` (without the program name); `env` gives environment defaults.
///
/// ```
/// use aws_session::cli::{parse, Command};
/// let o = parse(vec!["--profile".into(), "dev".into(), "exec".into(), "true".into()], |_| None).unwrap();
/// assert_eq!(o.command, Command::Exec(vec!["true".into()]));
/// assert_eq!(o.profile.unwrap().0, "dev");
/// ```
pub fn parse(args: Vec<OsString>, env: impl Fn(&str) -> Option<String>) -> Result<Options> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let mut command: Option<Command> = None;
    let mut profile = None;
    let mut code = None;
    let mut duration = None;
    // `-d 0` asks for AWS's default: the environment must not fill it in again.
    let mut duration_on_cli = false;
    let mut debug = false;
    let mut force_nested = false;
    let mut help = false;
    let mut format = OutputFormat::Env;
    let mut no_cache = false;
    let mut save = false;
    let mut qr_ansi = false;
    let mut reuse_mfa = false;

    loop {
        let arg = match parser.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return Err(usage_error(e)),
        };
        match arg {
            Long("profile") | Short('p') => {
                let v = string_value(&mut parser, "--profile")?;
                if v.is_empty() {
                    return Err(Error::Usage(
                        "--profile needs a profile name, e.g. --profile dev".into(),
                    ));
                }
                profile = Some((v, Source::CommandLine));
            }
            Long("code") | Short('c') => {
                let v = string_value(&mut parser, "--code")?;
                code = Some(check_code(&v, "--code")?);
            }
            Long("session-duration") | Short('d') => {
                let v = string_value(&mut parser, "--session-duration")?;
                duration_on_cli = true;
                duration =
                    check_duration(&v, "--session-duration")?.map(|d| (d, Source::CommandLine));
            }
            Long("format") => {
                let v = string_value(&mut parser, "--format")?;
                format = match v.as_str() {
                    "env" | "sh" | "bash" | "zsh" => OutputFormat::Env,
                    "fish" => OutputFormat::Fish,
                    "json" => OutputFormat::Json,
                    "credential-process" => OutputFormat::CredentialProcess,
                    other => {
                        return Err(Error::Usage(format!(
                        "--format \"{}\" is not known: use env, fish, json or credential-process",
                        other.chars().take(20).collect::<String>()
                    )))
                    }
                };
            }
            Long("debug") => debug = true,
            Long("no-cache") => no_cache = true,
            Long("save") => save = true,
            Long("qr-ansi") => qr_ansi = true,
            Long("reuse-mfa") => reuse_mfa = true,
            Long("force") => force_nested = true,
            Long("help") | Short('h') => help = true,
            Long("version") | Short('V') => {
                if command.is_none() {
                    command = Some(Command::Version)
                }
            }
            Value(v) if command.is_none() => {
                let name = v.to_string_lossy().into_owned();
                command = Some(match name.as_str() {
                    "shell" => Command::Shell,
                    "refresh" => Command::Refresh,
                    "provision-mfa" => Command::ProvisionMfa,
                    "prompt" => Command::Prompt,
                    "export" => Command::Export,
                    "credential-process" => Command::CredentialProcess,
                    "status" => Command::Status,
                    "clear" => Command::Clear,
                    "completions" => match parser.value() {
                        Ok(v) => {
                            let shell = v.to_string_lossy().into_owned();
                            if !["bash", "zsh", "fish"].contains(&shell.as_str()) {
                                return Err(Error::Usage(format!(
                                    "completions for \"{shell}\" are not available: use bash, zsh or fish"
                                )));
                            }
                            Command::Completions(shell)
                        }
                        Err(_) => {
                            return Err(Error::Usage(
                                "completions needs a shell: aws-session completions bash|zsh|fish".into(),
                            ))
                        }
                    },
                    "help" => {
                        let topic = parser
                            .raw_args()
                            .ok()
                            .and_then(|mut raw| raw.next())
                            .map(|t| t.to_string_lossy().into_owned());
                        Command::Help(topic)
                    }
                    "exec" => {
                        let rest: Vec<OsString> = match parser.raw_args() {
                            Ok(raw) => raw.collect(),
                            Err(e) => return Err(usage_error(e)),
                        };
                        if rest.first().is_some_and(|a| a == "--help" || a == "-h") {
                            Command::Help(Some("exec".into()))
                        } else {
                            let rest: Vec<OsString> = if rest.first().is_some_and(|a| a == "--") {
                                rest.into_iter().skip(1).collect()
                            } else {
                                rest
                            };
                            if rest.is_empty() {
                                return Err(Error::Usage(
                                    "exec needs a command: aws-session exec COMMAND [ARGS...], e.g. aws-session exec aws s3 ls".into(),
                                ));
                            }
                            Command::Exec(rest)
                        }
                    }
                    other => {
                        return Err(Error::Usage(format!(
                            "unknown command \"{other}\" (commands: shell, exec, refresh, provision-mfa, prompt, export, credential-process, status, clear, completions, help; see aws-session --help)"
                        )))
                    }
                });
            }
            Value(v) => {
                return Err(Error::Usage(format!(
                "unexpected argument \"{}\" (only exec takes arguments; see aws-session --help)",
                v.to_string_lossy()
            )))
            }
            _ => return Err(usage_error(arg.unexpected())),
        }
    }

    let command = command.unwrap_or(Command::Shell);
    let command = if help {
        Command::Help(match command {
            Command::Shell => None,
            Command::Exec(_) => Some("exec".into()),
            Command::Refresh => Some("refresh".into()),
            Command::ProvisionMfa => Some("provision-mfa".into()),
            Command::Prompt => Some("prompt".into()),
            Command::Export => Some("export".into()),
            Command::CredentialProcess => Some("credential-process".into()),
            Command::Status => Some("status".into()),
            Command::Clear => Some("clear".into()),
            Command::Completions(_) => Some("completions".into()),
            Command::Help(t) => t,
            Command::Version => None,
        })
    } else {
        command
    };

    // Environment defaults for what the command line left open.
    if profile.is_none() {
        profile = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.is_empty()))
            .map(|v| (v, Source::Environment));
    }
    // The code and duration defaults matter only to commands that make a session; a
    // bad value must not break `--help`, `prompt` (run at every prompt) or `status`.
    let makes_session = matches!(
        command,
        Command::Shell
            | Command::Exec(_)
            | Command::Refresh
            | Command::Export
            | Command::CredentialProcess
    );
    if code.is_none() && makes_session {
        if let Some(v) = env("AWS_SESSION_MFA_CODE").filter(|v| !v.is_empty()) {
            code = Some(check_code(&v, "AWS_SESSION_MFA_CODE")?);
        }
    }
    if !duration_on_cli && makes_session {
        if let Some(v) = env("AWS_SESSION_DURATION").filter(|v| !v.is_empty()) {
            duration =
                check_duration(&v, "AWS_SESSION_DURATION")?.map(|d| (d, Source::Environment));
        }
    }
    if !no_cache {
        no_cache = env("AWS_SESSION_CACHE").is_some_and(|v| {
            v.trim() == "0" || v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("off")
        });
    }
    let debug_from_cli = debug;
    if !debug {
        debug = env("AWS_SESSION_DEBUG").is_some_and(|v| truthy(&v));
    }

    Ok(Options {
        duration_default_on_cli: duration_on_cli && duration.is_none(),
        command,
        profile,
        code,
        duration,
        debug,
        debug_from_cli,
        force_nested,
        format,
        no_cache,
        save,
        qr_ansi,
        reuse_mfa,
    })
}

/// True for "1", "true", "yes", "on" (and any positive number), as the original's `-gt 0`.
pub fn truthy(v: &str) -> bool {
    let v = v.trim();
    v.parse::<i64>().map(|n| n > 0).unwrap_or(false)
        || ["true", "yes", "on"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
}

fn string_value(parser: &mut lexopt::Parser, name: &str) -> Result<String> {
    let v = parser
        .value()
        .map_err(|_| Error::Usage(format!("{name} needs a value (see aws-session --help)")))?;
    v.into_string()
        .map_err(|_| Error::Usage(format!("{name} value is not valid UTF-8")))
}

fn usage_error(e: lexopt::Error) -> Error {
    // lexopt's messages name the option; never echo a value that may be a secret.
    let text = match &e {
        lexopt::Error::UnexpectedOption(o) => {
            format!("unknown option {o} (see aws-session --help)")
        }
        lexopt::Error::MissingValue { option: Some(o) } => {
            format!("{o} needs a value (see aws-session --help)")
        }
        lexopt::Error::UnexpectedValue { option, .. } => {
            format!("{option} takes no value (see aws-session --help)")
        }
        _ => format!("{e} (see aws-session --help)"),
    };
    Error::Usage(text)
}

/// Check an MFA code: exactly 6 ASCII digits. The code itself is not echoed in errors.
///
/// ```
/// assert!(aws_session::cli::check_code("123456", "--code").is_ok());
/// assert!(aws_session::cli::check_code("12345", "--code").is_err());
/// ```
pub fn check_code(v: &str, name: &str) -> Result<String> {
    let v = v.trim();
    if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err(Error::Usage(format!(
            "{name} must be the 6 digits your MFA device shows now (got {} characters)",
            v.chars().count()
        )))
    }
}

/// Check a session duration in seconds. `0` means "AWS's default", as in the original.
///
/// ```
/// assert_eq!(aws_session::cli::check_duration("3600", "--session-duration").unwrap(), Some(3600));
/// assert_eq!(aws_session::cli::check_duration("0", "--session-duration").unwrap(), None);
/// assert!(aws_session::cli::check_duration("60", "--session-duration").is_err());
/// ```
pub fn check_duration(v: &str, name: &str) -> Result<Option<u32>> {
    let t = v.trim();
    let n: u64 = match t.parse() {
        Ok(n) if t.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            return Err(Error::Usage(format!(
            "{name} must be a number of seconds from {MIN_DURATION} to {MAX_DURATION}, got \"{}\"",
            t.chars().take(40).collect::<String>()
        )))
        }
    };
    if n == 0 {
        return Ok(None);
    }
    if !(MIN_DURATION as u64..=MAX_DURATION as u64).contains(&n) {
        return Err(Error::Usage(format!(
            "{name} {n} is out of range: AWS allows {MIN_DURATION} to {MAX_DURATION} seconds (15 minutes to 36 hours)"
        )));
    }
    Ok(Some(n as u32))
}

/// Help text for the tool or one command.
pub fn help(topic: Option<&str>) -> Result<String> {
    let text = match topic {
        None => format!(
            "aws-session {version}: run a shell or a command with temporary AWS MFA credentials\n\n\
{USAGE}\n\n\
Options:\n\
  -p, --profile PROFILE            profile from ~/.aws (default: AWS_PROFILE, AWS_DEFAULT_PROFILE)\n\
  -c, --code CODE                  the 6 digit MFA code (default: AWS_SESSION_MFA_CODE; else asked)\n\
  -d, --session-duration SECONDS   session validity, {MIN_DURATION}..{MAX_DURATION} (default: AWS_SESSION_DURATION; else AWS's 12 h)\n\
      --debug                      trace requests on stderr, never secrets (default: AWS_SESSION_DEBUG=1)\n\
      --no-cache                   neither use nor store cached sessions (default: AWS_SESSION_CACHE=0)\n\
      --force                      start a shell even inside a live aws-session shell\n\
      --format FORMAT              refresh: env|fish; export: env|fish|json|credential-process\n\
      --save                       provision-mfa: write mfa_serial into the profile\n\
      --qr-ansi                    provision-mfa: draw the QR code with background colours\n\
      --reuse-mfa                  refresh: renew a role session from the cached MFA session\n\
  -h, --help                       this help; COMMAND --help for one command\n\
  -V, --version                    print the version\n\n\
Commands:\n\
  shell                            run an interactive shell (default)\n\
  exec COMMAND [ARGS...]           run one command with the session credentials\n\
  refresh                          print export lines for a new session (for eval)\n\
  provision-mfa                    create and enable a virtual MFA device\n\
  export                           print the credentials (env, fish, json, credential-process)\n\
  credential-process               print credential_process JSON for the AWS SDKs\n\
  status                           show the session and the cache, no secrets\n\
  clear                            delete cached sessions (of --profile, or all)\n\
  prompt                           print the prompt prefix, e.g. (aws+12h)\n\
  completions bash|zsh|fish        print a completion script\n\n\
Environment:\n\
  AWS_PROFILE, AWS_DEFAULT_PROFILE  default for --profile\n\
  AWS_SESSION_MFA_CODE             default for --code\n\
  AWS_SESSION_DURATION             default for --session-duration\n\
  AWS_SESSION_DEBUG                1/0, default for --debug\n\
  AWS_SESSION_CACHE                0 turns the session cache off\n\
  AWS_SESSION_TIMEOUT              seconds per request (default 30)\n\
  AWS_SESSION_COLOR                1/0 coloured prompt (default: from the terminal; NO_COLOR disables)\n\
  AWS_SESSION_MFADEVICE            MFA serial to use (skips discovery)\n\
  AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL[_STS|_IAM], AWS_REGION, AWS_CA_BUNDLE\n\n\
Exit codes: 0 ok, 1 usage, 2 config, 3 MFA code, 4 AWS error, 5 network, 6 local file,\n\
10 no MFA device, 126/127 command not executable/not found, 130 interrupted;\n\
exec passes on the command's own status.\n",
            version = env!("CARGO_PKG_VERSION")
        ),
        Some("shell") => "Usage: aws-session [OPTIONS] shell\n\n\
Starts $SHELL -i with temporary credentials in its environment. In bash, zsh and fish the\n\
prompt shows the time left, e.g. (aws+12h), and the aws function refreshes expired\n\
credentials; aws-session-refresh gets a new session at any time.\n\
Refused inside a live aws-session shell unless --force is given.\n"
            .to_string(),
        Some("exec") => "Usage: aws-session [OPTIONS] exec COMMAND [ARGS...]\n\n\
Replaces aws-session with COMMAND, run with temporary credentials in its environment.\n\
The exit status and signals are COMMAND's own. Options must come before exec.\n"
            .to_string(),
        Some("refresh") => "Usage: aws-session [OPTIONS] refresh [--format env|fish] [--reuse-mfa]\n\n\
Gets a new session from the parent credentials and prints shell export lines for it,\n\
for eval (used by aws-session-refresh inside the shell); it asks for a code.\n\
With --reuse-mfa (what the shell's aws function runs) a role session is assumed\n\
again with a still-valid cached MFA session, without a code.\n"
            .to_string(),
        Some("provision-mfa") => "Usage: aws-session [OPTIONS] provision-mfa [--save] [--qr-ansi]\n\n\
Creates a virtual MFA device for the calling IAM user, draws its QR code in the terminal,\n\
asks for two consecutive codes and enables it; on any failure the device is deleted again.\n\
Then offers to write mfa_serial into the profile (--save: without asking).\n\
--qr-ansi draws the QR code with background colours (for dark-on-light terminals).\n"
            .to_string(),
        Some("prompt") => "Usage: aws-session prompt\n\n\
Prints the prompt prefix for the current environment, e.g. (aws+12h), or nothing outside\n\
a session; for starship, powerlevel10k and other prompts.\n"
            .to_string(),
        Some("export") => "Usage: aws-session [OPTIONS] export [--format env|fish|json|credential-process]\n\n\
Prints the session credentials (from the cache, or a new session) for eval or scripts.\n"
            .to_string(),
        Some("credential-process") => "Usage: aws-session [--profile P] credential-process\n\n\
Prints the credential_process JSON (Version 1) for the AWS SDKs and CLI:\n\
  credential_process = aws-session credential-process --profile P\n\
Asks for a code on the terminal when no cached session is left.\n"
            .to_string(),
        Some("status") => "Usage: aws-session [--profile P] status\n\n\
Shows the profile, identity kind, MFA serial, expiry and time left of the current\n\
environment and of the cached sessions. Never shows a secret.\n"
            .to_string(),
        Some("clear") => "Usage: aws-session [--profile P] clear\n\n\
Deletes the cached sessions of the profile, or all of them without --profile.\n"
            .to_string(),
        Some("completions") => "Usage: aws-session completions bash|zsh|fish\n\n\
Prints a completion script, e.g. aws-session completions bash > /etc/bash_completion.d/aws-session\n"
            .to_string(),
        Some(other) => {
            return Err(Error::Usage(format!(
                "no help for unknown command \"{other}\" (commands: shell, exec, refresh, provision-mfa, prompt)"
            )))
        }
    };
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options> {
        parse(args.iter().map(OsString::from).collect(), |_| None)
    }

    #[test]
    fn default_command_is_shell() {
        assert_eq!(p(&[]).unwrap().command, Command::Shell);
    }

    #[test]
    fn exec_takes_the_rest_verbatim() {
        let o = p(&["--debug", "exec", "aws", "--profile", "x", "--", "y"]).unwrap();
        assert_eq!(
            o.command,
            Command::Exec(
                ["aws", "--profile", "x", "--", "y"]
                    .map(OsString::from)
                    .to_vec()
            )
        );
        assert!(o.profile.is_none());
        assert!(o.debug);
    }

    #[test]
    fn double_dash_ends_options() {
        let o = p(&["--", "exec", "ls"]).unwrap();
        assert_eq!(o.command, Command::Exec(vec!["ls".into()]));
        let o = p(&["exec", "--", "ls"]).unwrap();
        assert_eq!(o.command, Command::Exec(vec!["ls".into()]));
    }

    #[test]
    fn options_may_follow_non_exec_commands() {
        let o = p(&["refresh", "--profile", "dev", "--code=123456"]).unwrap();
        assert_eq!(o.command, Command::Refresh);
        assert_eq!(o.profile, Some(("dev".into(), Source::CommandLine)));
        assert_eq!(o.code.as_deref(), Some("123456"));
    }

    #[test]
    fn env_defaults_and_precedence() {
        let env = |k: &str| match k {
            "AWS_PROFILE" => Some("a".to_string()),
            "AWS_DEFAULT_PROFILE" => Some("b".to_string()),
            "AWS_SESSION_DURATION" => Some("3600".to_string()),
            "AWS_SESSION_DEBUG" => Some("1".to_string()),
            "AWS_SESSION_MFA_CODE" => Some("654321".to_string()),
            _ => None,
        };
        let o = parse(vec![], env).unwrap();
        assert_eq!(o.profile, Some(("a".into(), Source::Environment)));
        assert_eq!(o.duration, Some((3600, Source::Environment)));
        assert!(o.debug && !o.debug_from_cli);
        assert_eq!(o.code.as_deref(), Some("654321"));
        let o = parse(vec!["--profile".into(), "c".into()], env).unwrap();
        assert_eq!(o.profile, Some(("c".into(), Source::CommandLine)));
    }

    #[test]
    fn duration_bounds() {
        assert!(p(&["--session-duration", "899"]).is_err());
        assert!(p(&["--session-duration", "900"]).is_ok());
        assert!(p(&["--session-duration", "129600"]).is_ok());
        assert!(p(&["--session-duration", "129601"]).is_err());
        assert!(p(&["--session-duration", "-5"]).is_err());
        assert!(p(&["--session-duration", "1h"]).is_err());
        assert!(p(&["--session-duration"]).is_err());
        assert_eq!(p(&["--session-duration", "0"]).unwrap().duration, None);
        // `-d 0` means AWS's default even when the environment has a duration.
        let env = |k: &str| (k == "AWS_SESSION_DURATION").then(|| "3600".to_string());
        let o = parse(
            vec!["-d".into(), "0".into(), "exec".into(), "true".into()],
            env,
        )
        .unwrap();
        assert_eq!(o.duration, None);
        let o = parse(vec!["exec".into(), "true".into()], env).unwrap();
        assert_eq!(o.duration, Some((3600, Source::Environment)));
    }

    #[test]
    fn bad_codes_are_usage_errors_without_echo() {
        let e = p(&["--code", "12a456"]).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(!e.to_string().contains("12a456"));
        let e = parse(vec![], |k| {
            (k == "AWS_SESSION_MFA_CODE").then(|| "99".to_string())
        })
        .unwrap_err();
        assert!(e.to_string().contains("AWS_SESSION_MFA_CODE"));
    }

    #[test]
    fn unknown_things_are_named() {
        assert!(p(&["--nope"]).unwrap_err().to_string().contains("--nope"));
        assert!(p(&["nope"]).unwrap_err().to_string().contains("nope"));
        assert!(p(&["shell", "extra"])
            .unwrap_err()
            .to_string()
            .contains("extra"));
        assert!(p(&["exec"])
            .unwrap_err()
            .to_string()
            .contains("needs a command"));
    }

    #[test]
    fn help_per_command() {
        assert_eq!(p(&["--help"]).unwrap().command, Command::Help(None));
        assert_eq!(
            p(&["exec", "--help"]).unwrap().command,
            Command::Help(Some("exec".into()))
        );
        assert_eq!(
            p(&["refresh", "-h"]).unwrap().command,
            Command::Help(Some("refresh".into()))
        );
        assert_eq!(
            p(&["help", "shell"]).unwrap().command,
            Command::Help(Some("shell".into()))
        );
        for t in [
            None,
            Some("shell"),
            Some("exec"),
            Some("refresh"),
            Some("provision-mfa"),
        ] {
            assert!(help(t).is_ok());
        }
        assert!(help(Some("nope")).is_err());
    }

    #[test]
    fn bad_environment_defaults_do_not_break_commands_that_ignore_them() {
        let env = |k: &str| match k {
            "AWS_SESSION_MFA_CODE" => Some("abc".to_string()),
            "AWS_SESSION_DURATION" => Some("5".to_string()),
            _ => None,
        };
        for args in [
            &["--help"][..],
            &["prompt"],
            &["status"],
            &["--version"],
            &["completions", "bash"],
        ] {
            let argv = args.iter().map(OsString::from).collect();
            assert!(parse(argv, env).is_ok(), "{args:?}");
        }
        let e = parse(vec!["exec".into(), "true".into()], env).unwrap_err();
        assert!(e.to_string().contains("AWS_SESSION_MFA_CODE"));
    }

    #[test]
    fn errors_are_one_line() {
        for args in [
            &["nope"][..],
            &["--nope"],
            &["-d"],
            &["exec"],
            &["--format", "x"],
        ] {
            let e = p(args).unwrap_err().to_string();
            assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        }
    }

    #[test]
    fn truthy_values() {
        assert!(truthy("1") && truthy("true") && truthy("2"));
        assert!(!truthy("0") && !truthy("") && !truthy("no"));
    }
}
