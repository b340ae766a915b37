//! The command line and the environment's defaults → [`Options`] (pure).
//!
//! `aws-session [OPTIONS] [COMMAND [ITS OPTIONS AND ARGUMENTS]]`, the default command
//! being `shell`. This file takes the options every command has ([`GLOBAL_OPTIONS`]:
//! `--profile`, `--code`, `--session-duration`, `--debug`, `--no-cache`, `--help`,
//! `--version`), finds the command name and hands the rest to that command's own parser
//! (`cmd::NAME::parse`), which takes the global options too, except after `exec`
//! (whose arguments are the child's). A command's option may come before its name
//! (`--format json export`); given to a command that does not have it, it is a usage
//! error that names the command which has it. `--` ends the options.

use crate::cmd::{self, Arg, CmdArgs, Given, Help, Version};
use crate::env::{parse_bool, Source};
use crate::error::{Error, Result};
use crate::tty::check_code;
use std::ffi::OsString;

pub use crate::cmd::{check_duration, help, usage, Command, Options, GLOBAL_OPTIONS};

/// Take `arg` if it is a global option (with its value from `parser`). `-h` and `-V`
/// after a command's name are that command's to refuse (`--version` there is ignored).
fn take_global(given: &mut Given, arg: &Arg, parser: &mut lexopt::Parser) -> Result<bool> {
    if matches!(arg, Arg::Short('h' | 'V')) {
        return Ok(false);
    }
    let Some(g) = cmd::global_option(arg) else {
        return Ok(false);
    };
    let value = if g.value {
        cmd::string_value(parser, &format!("--{}", g.long))?
    } else {
        String::new()
    };
    (g.take)(given, value)?;
    Ok(true)
}

/// Parse `args` (without the program name); `env` gives environment defaults.
///
/// ```
/// use aws_session::cli::{parse, Command};
/// let o = parse(vec!["--profile".into(), "dev".into(), "exec".into(), "true".into()], |_| None).unwrap();
/// use aws_session::cmd::exec;
/// assert_eq!(o.command, Command::of(&exec::SPEC, exec::Args { argv: vec!["true".into()], server: false }));
/// assert_eq!(o.profile.unwrap().0, "dev");
/// ```
pub fn parse(args: Vec<OsString>, env: impl Fn(&str) -> Option<String>) -> Result<Options> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut given = Given::default();
    // Options of a command given before its name, handed to its parser.
    let mut before: Vec<OsString> = Vec::new();
    let mut help = false;
    let mut version = false;
    let mut name: Option<String> = None;
    loop {
        let arg = match parser.next() {
            Ok(Some(a)) => Arg::from_lexopt(a),
            Ok(None) => break,
            Err(e) => return Err(cmd::usage_error(e)),
        };
        if arg == Arg::Long("help".into()) || arg == Arg::Short('h') {
            help = true;
            continue;
        }
        if arg == Arg::Long("version".into()) || arg == Arg::Short('V') {
            version = true;
            continue;
        }
        if take_global(&mut given, &arg, &mut parser)? {
            continue;
        }
        if let Arg::Value(v) = &arg {
            let v = v.to_string_lossy().into_owned();
            if version {
                return Err(Error::Usage(format!(
                    "unexpected argument \"{v}\" (only exec takes arguments; see aws-session --help)"
                )));
            }
            name = Some(v);
            break;
        }
        match cmd::command_option(&arg) {
            Some(o) => {
                before.push(arg.name().into());
                if o.value {
                    before.push(cmd::string_value(&mut parser, &arg.name())?.into());
                }
            }
            None => {
                return Err(Error::Usage(format!(
                    "unknown option {}{} (see aws-session --help)",
                    arg.name(),
                    cmd::suggest::any_option_hint(&arg)
                )))
            }
        }
    }

    let command = match name.as_deref() {
        None if version && !help => Command::built_in(Version),
        None if help => Command::built_in(Help(None)),
        Some("help") => Command::built_in(Help(
            parser
                .raw_args()
                .ok()
                .and_then(|mut raw| raw.next())
                .map(|t| t.to_string_lossy().into_owned()),
        )),
        name => {
            let spec = match name {
                None => &cmd::COMMANDS[0],
                Some(n) => cmd::spec(n).ok_or_else(|| cmd::unknown_command(n))?,
            };
            let rest: Vec<OsString> = match parser.raw_args() {
                Ok(raw) => raw.collect(),
                Err(e) => return Err(cmd::usage_error(e)),
            };
            let mut global = |a: &Arg, p: &mut lexopt::Parser| take_global(&mut given, a, p);
            let mut args = CmdArgs::new(spec.name, cmd::COMMANDS, before, rest, &mut global);
            let run = (spec.parse)(&mut args)?;
            if help || args.help {
                Command::built_in(Help(Some(spec.name.to_string())))
            } else {
                Command {
                    spec: Some(spec),
                    run,
                }
            }
        }
    };
    defaults(command, given, env)
}

/// Fill in what the command line left open from the environment.
fn defaults(
    command: Command,
    given: Given,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Options> {
    let profile = match given.profile {
        Some(p) => Some((p, Source::CommandLine)),
        // AWS_SESSION_PROFILE: the profile of the session this runs inside (an exec or
        // shell child has no AWS_PROFILE, see session::profile_changes).
        None => ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_PROFILE"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.is_empty()))
            .map(|v| (v, Source::Environment)),
    };
    // The code and duration defaults matter only to commands that make a session; a
    // bad value must not break `--help`, `prompt` (run at every prompt) or `status`.
    let makes_session = command.spec.is_some_and(|s| s.makes_session);
    let mut code = given.code;
    if code.is_none() && makes_session {
        if let Some(v) = env("AWS_SESSION_MFA_CODE").filter(|v| !v.is_empty()) {
            code = Some(check_code(&v, "AWS_SESSION_MFA_CODE")?);
        }
    }
    let duration_on_cli = given.duration.is_some();
    let mut duration = given.duration.flatten().map(|d| (d, Source::CommandLine));
    if !duration_on_cli && makes_session {
        if let Some(v) = env("AWS_SESSION_DURATION").filter(|v| !v.is_empty()) {
            duration =
                check_duration(&v, "AWS_SESSION_DURATION")?.map(|d| (d, Source::Environment));
        }
    }
    // The switches of the commands that read them (not help, version, prompt or
    // completions): a value that is not a boolean is a usage error naming it.
    let reads_switches = command.spec.is_some_and(|s| s.reads_switches);
    let flag = |k: &str| -> Result<Option<bool>> {
        match env(k) {
            Some(v) if reads_switches => parse_bool(k, &v),
            _ => Ok(None),
        }
    };
    let no_cache = given.no_cache || flag("AWS_SESSION_CACHE")? == Some(false);
    let debug_from_cli = given.debug;
    let debug = flag("AWS_SESSION_DEBUG")? == Some(true) || given.debug;
    Ok(Options {
        duration_default_on_cli: duration_on_cli && duration.is_none(),
        command,
        profile,
        code,
        duration,
        debug,
        debug_from_cli,
        no_cache,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(argv: &[&str]) -> Command {
        Command::of(
            &cmd::exec::SPEC,
            cmd::exec::Args {
                argv: argv.iter().map(OsString::from).collect(),
                server: false,
            },
        )
    }

    fn help_of(topic: Option<&str>) -> Command {
        Command::built_in(Help(topic.map(str::to_string)))
    }

    fn p(args: &[&str]) -> Result<Options> {
        parse(args.iter().map(OsString::from).collect(), |_| None)
    }

    #[test]
    fn default_command_is_shell() {
        assert_eq!(
            p(&[]).unwrap().command,
            Command::of(&cmd::shell::SPEC, cmd::shell::Args::default())
        );
    }

    #[test]
    fn exec_takes_the_rest_verbatim() {
        let o = p(&["--debug", "exec", "aws", "--profile", "x", "--", "y"]).unwrap();
        assert_eq!(o.command, exec(&["aws", "--profile", "x", "--", "y"]));
        assert!(o.profile.is_none());
        assert!(o.debug);
    }

    #[test]
    fn double_dash_ends_options() {
        let o = p(&["--", "exec", "ls"]).unwrap();
        assert_eq!(o.command, exec(&["ls"]));
        let o = p(&["exec", "--", "ls"]).unwrap();
        assert_eq!(o.command, exec(&["ls"]));
    }

    #[test]
    fn options_may_follow_non_exec_commands() {
        let o = p(&["refresh", "--profile", "dev", "--code=123456"]).unwrap();
        assert_eq!(
            o.command,
            Command::of(&cmd::refresh::SPEC, cmd::refresh::Args::default())
        );
        assert_eq!(o.profile, Some(("dev".into(), Source::CommandLine)));
        assert_eq!(o.code.as_deref(), Some("123456"));
    }

    #[test]
    fn the_session_profile_is_the_last_default_for_the_profile() {
        let env = |k: &str| (k == "AWS_SESSION_PROFILE").then(|| "s".to_string());
        let o = parse(vec![], env).unwrap();
        assert_eq!(o.profile, Some(("s".into(), Source::Environment)));
        let env = |k: &str| match k {
            "AWS_SESSION_PROFILE" => Some("s".to_string()),
            "AWS_PROFILE" => Some("a".to_string()),
            _ => None,
        };
        let o = parse(vec![], env).unwrap();
        assert_eq!(o.profile, Some(("a".into(), Source::Environment)));
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
        assert_eq!(p(&["--help"]).unwrap().command, help_of(None));
        assert_eq!(
            p(&["exec", "--help"]).unwrap().command,
            help_of(Some("exec"))
        );
        assert_eq!(
            p(&["refresh", "-h"]).unwrap().command,
            help_of(Some("refresh"))
        );
        assert_eq!(
            p(&["help", "shell"]).unwrap().command,
            help_of(Some("shell"))
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
    fn completion_lists_match_the_cli() {
        let help = help(None).unwrap();
        // Indentation survives: option and command lines start with two blanks.
        assert!(help.contains("\n  -p, --profile PROFILE "), "{help}");
        assert!(help.contains("\n  exec COMMAND [ARGS...] "), "{help}");
        assert!(cmd::help(Some("credential-process"))
            .unwrap()
            .contains("\n  credential_process = aws-session"));
        for c in cmd::COMMANDS {
            assert!(
                usage().contains(c.name),
                "{} is not in the usage line",
                c.name
            );
            assert_eq!(
                p(&[c.name, "--help"]).unwrap().command,
                help_of(Some(c.name)),
                "{} has no help",
                c.name
            );
            let h = cmd::help(Some(c.name)).unwrap();
            assert!(h.starts_with("Usage: aws-session"), "{}", c.name);
        }
        let value = value_for;
        for o in GLOBAL_OPTIONS {
            assert!(
                help.contains(&format!("--{}", o.long)),
                "--{} is not in --help",
                o.long
            );
            if let Some(s) = o.short {
                assert!(
                    help.contains(&format!("-{s}, --{}", o.long)),
                    "-{s} is not in --help"
                );
            }
            let mut args = vec!["status".to_string(), format!("--{}", o.long)];
            if o.value {
                args.push(value(o.long).into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert!(p(&args).is_ok(), "--{} is not accepted", o.long);
        }
        // Every command the unknown-command error names is in the command list.
        let Err(crate::error::Error::Usage(unknown)) = p(&["nope"]) else {
            panic!("nope is a command")
        };
        let names = unknown
            .split_once("(commands: ")
            .and_then(|(_, r)| r.split_once(';'))
            .map_or("", |(l, _)| l);
        assert!(names.contains("help"), "{unknown}");
        for name in names.split(", ") {
            assert!(
                help.contains(&format!("\n  {name} ")),
                "{name} is not in --help's command list"
            );
        }
    }

    /// The value a test gives an option that takes one.
    fn value_for(long: &str) -> &'static str {
        match long {
            "code" => "123456",
            "session-duration" | "duration" => "900",
            "format" => "env",
            _ => "x",
        }
    }

    #[test]
    fn command_options_are_listed_and_refused_elsewhere() {
        let help = help(None).unwrap();
        let value = value_for;
        // The block of command options is made from the table: each option's line
        // names every command that takes it.
        assert!(
            help.contains("refresh: env|fish; export: env|fish|json|credential-process\n"),
            "{help}"
        );
        for c in cmd::COMMANDS {
            for o in c.options {
                assert!(
                    help.lines()
                        .any(|l| l.starts_with(&format!("      --{} ", o.long))
                            && l.contains(c.name)
                            && l.contains(o.about)),
                    "--{} of {} is not in --help's command options",
                    o.long,
                    c.name
                );
                assert!(
                    help.contains(&format!("--{}", o.long)),
                    "--{} is not in --help",
                    o.long
                );
                let flag = format!("--{}", o.long);
                let mut after = vec![c.name, flag.as_str()];
                let mut before = vec![flag.as_str()];
                if o.value {
                    after.push(value(o.long));
                    before.push(value(o.long));
                }
                before.push(c.name);
                if c.name == "exec" {
                    continue;
                }
                assert!(p(&after).is_ok(), "{} {flag} is not accepted", c.name);
                assert!(p(&before).is_ok(), "{flag} {} is not accepted", c.name);
                let mut wrong = before.clone();
                *wrong.last_mut().unwrap() = "prompt";
                let e = p(&wrong).unwrap_err();
                assert_eq!(e.exit_code(), 1);
                let m = e.to_string();
                assert!(
                    m.contains(&format!("{flag} is an option of"))
                        && m.contains(c.name)
                        && m.contains("not of prompt"),
                    "{m}"
                );
            }
        }
        for f in cmd::completions::FORMATS.split(' ') {
            assert!(p(&["--format", f, "export"]).is_ok(), "{f}");
        }
    }

    #[test]
    fn options_of_other_commands_are_refused_with_their_owner() {
        for (args, owner) in [
            (&["--save", "prompt"][..], "provision-mfa"),
            (&["--format", "json", "prompt"], "refresh and export"),
            (&["--reuse-mfa", "status"], "refresh"),
            (&["--qr-ansi", "clear"], "provision-mfa"),
            (&["--force", "exec", "true"], "shell"),
            (&["status", "--reuse-mfa"], "refresh"),
        ] {
            let e = p(args).unwrap_err();
            assert_eq!(e.exit_code(), 1, "{args:?}");
            let m = e.to_string();
            assert!(
                m.contains(&format!("is an option of {owner}, not of")),
                "{args:?}: {m}"
            );
            assert_eq!(m.lines().count(), 1);
        }
        assert_eq!(
            p(&["--save", "prompt"]).unwrap_err().to_string(),
            "--save is an option of provision-mfa, not of prompt; see aws-session provision-mfa --help"
        );
    }

    #[test]
    fn shell_and_completions_have_their_own_help() {
        assert_eq!(
            p(&["shell", "--help"]).unwrap().command,
            help_of(Some("shell"))
        );
        assert_eq!(
            p(&["completions", "--help"]).unwrap().command,
            help_of(Some("completions"))
        );
        assert!(help(Some("shell")).unwrap().contains("--force"));
    }
}
