//! The help texts, made from the tables: `aws-session --help` (the global options, the
//! options of each command, the command list), `COMMAND --help` and the usage line.

use super::args::{Help, Opt, Options, Run, Spec, Version};
use super::{spec, COMMANDS, GLOBAL_OPTIONS};
use crate::aws::sts::{GET_SESSION_TOKEN_MAX_SECS, MIN_DURATION_SECS};
use crate::env::Env;
use crate::error::{Error, Result};

impl Run for Help {
    fn run(&self, _: &Options, _: &Env) -> Result<()> {
        crate::out::print(&help(self.0.as_deref())?)
    }
}

impl Run for Version {
    fn run(&self, _: &Options, _: &Env) -> Result<()> {
        crate::out::print(&format!("aws-session {}\n", env!("CARGO_PKG_VERSION")))
    }
}

/// The help of the tool (`None`) or of one command.
pub fn help(topic: Option<&str>) -> Result<String> {
    match topic {
        None => Ok(tool_help()),
        Some(name) => spec(name).map(|c| c.help.to_string()).ok_or_else(|| {
            let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
            Error::Usage(format!(
                "no help for unknown command \"{name}\"{} (commands: {})",
                super::suggest::command_hint(name),
                names.join(", ")
            ))
        }),
    }
}

/// A command as the usage line and the command list write it: its name and operands.
fn synopsis(c: &Spec) -> String {
    if c.operands.is_empty() {
        c.name.to_string()
    } else {
        format!("{} {}", c.name, c.operands)
    }
}

/// The usage line of the tool, from [`COMMANDS`].
pub fn usage() -> String {
    let commands: Vec<String> = COMMANDS.iter().map(synopsis).collect();
    format!("Usage: aws-session [OPTIONS] [{}]", commands.join(" | "))
}

/// The "Options of one command" block of `--help`, from the options of [`COMMANDS`]:
/// one line per option name, saying which commands take it and what it does there.
fn command_options_help() -> String {
    let mut seen: Vec<(&Opt, Vec<(&str, &str)>)> = Vec::new();
    for c in COMMANDS {
        for o in c.options {
            match seen.iter_mut().find(|(s, _)| s.long == o.long) {
                Some((_, uses)) => uses.push((c.name, o.about)),
                None => seen.push((o, vec![(c.name, o.about)])),
            }
        }
    }
    let mut out = String::new();
    for (o, uses) in seen {
        let mut left = format!("--{}", o.long);
        if o.value {
            left.push(' ');
            left.push_str(&o.long.to_uppercase());
        }
        let right = if uses.iter().all(|(_, a)| *a == uses[0].1) {
            let names: Vec<&str> = uses.iter().map(|(n, _)| *n).collect();
            format!("{}: {}", names.join(", "), uses[0].1)
        } else {
            let each: Vec<String> = uses.iter().map(|(n, a)| format!("{n}: {a}")).collect();
            each.join("; ")
        };
        out.push_str(&format!("      {left:<29}{right}\n"));
    }
    out
}

/// The "Options" block of `--help`, from [`GLOBAL_OPTIONS`].
fn global_options_help() -> String {
    let mut out = String::new();
    for g in GLOBAL_OPTIONS {
        let short = g
            .short
            .map_or_else(|| "    ".to_string(), |c| format!("-{c}, "));
        let mut left = format!("{short}--{}", g.long);
        if !g.value_name.is_empty() {
            left.push(' ');
            left.push_str(g.value_name);
        }
        let help = g
            .help
            .replace("{min}", &MIN_DURATION_SECS.to_string())
            .replace("{max}", &GET_SESSION_TOKEN_MAX_SECS.to_string());
        out.push_str(&format!("  {left:<33}{help}\n"));
    }
    out
}

/// `aws-session --help`.
fn tool_help() -> String {
    let mut commands = String::new();
    for c in COMMANDS {
        commands.push_str(&format!("  {:<33}{}\n", synopsis(c), c.about));
    }
    // `help` is no entry of the table (it takes no options and makes nothing), but the
    // command line takes it, the completions offer it and errors list it.
    commands.push_str(&format!(
        "  {:<33}{}\n",
        "help [COMMAND]", "this help, or one command's (as COMMAND --help)"
    ));
    format!(
        concat!(
            "aws-session {version}: run a shell or a command with temporary AWS MFA credentials\n",
            "\n",
            "{usage}\n",
            "\n",
            "Options:\n",
            "{global_options}",
            "\n",
            "Options of one command (see COMMAND --help):\n",
            "{command_options}",
            "\n",
            "Commands:\n",
            "{commands}",
            "\n",
            "Environment:\n",
            "  AWS_PROFILE, AWS_DEFAULT_PROFILE  default for --profile\n",
            "  AWS_SESSION_PROFILE              the enclosing session's profile (set by exec, shell); then default for --profile\n",
            "  AWS_SESSION_MFA_CODE             default for --code\n",
            "  AWS_SESSION_DURATION             default for --session-duration\n",
            "  AWS_SESSION_DEBUG                1/0, default for --debug\n",
            "  AWS_SESSION_CACHE                0 turns the session cache off\n",
            "  AWS_SESSION_TIMEOUT              seconds for all network work of a run (default 30)\n",
            "  AWS_SESSION_COLOR                1/0 coloured prompt (default: from the terminal; NO_COLOR disables)\n",
            "  AWS_SESSION_MFADEVICE            MFA serial to use (skips discovery)\n",
            "  AWS_SESSION_MFA_PROCESS          command that prints the MFA code (instead of asking)\n",
            "  AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL[_STS|_IAM|_SIGNIN], AWS_REGION, AWS_CA_BUNDLE\n",
            "  AWS_LOGIN_CACHE_DIRECTORY        sign-in tokens of login (default ~/.aws/login/cache)\n",
            "\n",
            "Exit codes: 0 ok, 1 usage, 2 config, 3 MFA code, 4 AWS error, 5 network, 6 local file,\n",
            "10 no MFA device, 126/127 command not executable/not found, 130 interrupted;\n",
            "exec passes on the command's own status.\n",
        ),
        version = env!("CARGO_PKG_VERSION"),
        usage = usage(),
        global_options = global_options_help(),
        command_options = command_options_help(),
        commands = commands,
    )
}
