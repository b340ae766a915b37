//! The commands, one file each: its `SPEC` (name, help, options, parser) and its
//! `Args`, whose [`Run`] is the command's body. This file is the registry: the table
//! of commands ([`COMMANDS`]), the table of global options ([`GLOBAL_OPTIONS`]), and
//! the dispatch ([`run`]). `--help`, the completions and the unknown-command list are
//! made from the tables.
//!
//! Adding a command: a file here with its `SPEC`, `Args` and `impl Run`, a `mod` line
//! and its line in [`COMMANDS`].

pub mod args;
pub mod format;
pub mod help;

pub mod clear;
pub mod completions;
pub mod console;
pub mod credential_process;
pub mod exec;
pub mod export;
pub mod login;
pub mod logout;
pub mod prompt;
pub mod provision_mfa;
pub mod refresh;
pub mod rotate;
pub mod shell;
pub mod status;
pub mod suggest;

pub use args::{
    check_duration, string_value, usage_error, Arg, CmdArgs, Command, Given, GlobalOpt, Help, Opt,
    Options, Run, Spec, Version,
};
pub use help::{help, usage};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::tty::check_code;

/// Every command, in the order `--help` lists them; the first is the default.
pub const COMMANDS: &[Spec] = &[
    shell::SPEC,
    exec::SPEC,
    refresh::SPEC,
    provision_mfa::SPEC,
    login::SPEC,
    logout::SPEC,
    console::SPEC,
    export::SPEC,
    credential_process::SPEC,
    rotate::SPEC,
    status::SPEC,
    clear::SPEC,
    prompt::SPEC,
    completions::SPEC,
];

/// The options every command takes, before or after its name (but after `exec`, whose
/// arguments are the child's), in the order `--help` lists them.
pub const GLOBAL_OPTIONS: &[GlobalOpt] = &[
    GlobalOpt {
        opt: Opt {
            short: Some('p'),
            long: "profile",
            value: true,
            about: "profile from ~/.aws",
        },
        value_name: "PROFILE",
        help: "profile from ~/.aws (default: AWS_PROFILE, AWS_DEFAULT_PROFILE)",
        take: |given, v| {
            if v.is_empty() {
                return Err(Error::Usage(
                    "--profile needs a profile name, e.g. --profile dev".into(),
                ));
            }
            given.profile = Some(v);
            Ok(())
        },
    },
    GlobalOpt {
        opt: Opt {
            short: Some('c'),
            long: "code",
            value: true,
            about: "the 6 digit MFA code",
        },
        value_name: "CODE",
        help: "the 6 digit MFA code (default: AWS_SESSION_MFA_CODE; else asked)",
        take: |given, v| {
            given.code = Some(check_code(&v, "--code")?);
            Ok(())
        },
    },
    GlobalOpt {
        opt: Opt {
            short: Some('d'),
            long: "session-duration",
            value: true,
            about: "session validity in seconds",
        },
        value_name: "SECONDS",
        help: "session validity, {min}..{max} (default: AWS_SESSION_DURATION; else AWS's 12 h)",
        take: |given, v| {
            given.duration = Some(check_duration(&v, "--session-duration")?);
            Ok(())
        },
    },
    GlobalOpt {
        opt: Opt {
            short: None,
            long: "debug",
            value: false,
            about: "trace requests on stderr",
        },
        value_name: "",
        help: "trace requests on stderr, never secrets (default: AWS_SESSION_DEBUG=1)",
        take: |given, _| {
            given.debug = true;
            Ok(())
        },
    },
    GlobalOpt {
        opt: Opt {
            short: None,
            long: "no-cache",
            value: false,
            about: "neither use nor store cached sessions",
        },
        value_name: "",
        help: "neither use nor store cached sessions (default: AWS_SESSION_CACHE=0)",
        take: |given, _| {
            given.no_cache = true;
            Ok(())
        },
    },
    GlobalOpt {
        opt: Opt {
            short: Some('h'),
            long: "help",
            value: false,
            about: "show help",
        },
        value_name: "",
        help: "this help; COMMAND --help for one command",
        // Taken by the parsers before the global options (it asks for help).
        take: |_, _| Ok(()),
    },
    GlobalOpt {
        opt: Opt {
            short: Some('V'),
            long: "version",
            value: false,
            about: "print the version",
        },
        value_name: "",
        help: "print the version",
        // After a command name `--version` has always been ignored.
        take: |_, _| Ok(()),
    },
];

/// The command named `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The global option `arg` is, by its long or short name.
pub fn global_option(arg: &Arg) -> Option<&'static GlobalOpt> {
    GLOBAL_OPTIONS.iter().find(|g| arg.is(&g.opt))
}

/// An option of some command (not a global one), by its long or short name.
pub fn command_option(arg: &Arg) -> Option<&'static Opt> {
    COMMANDS.iter().flat_map(|c| c.options).find(|o| arg.is(o))
}

/// The error for a command name that is not one.
pub fn unknown_command(name: &str) -> Error {
    let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    Error::Usage(format!(
        "unknown command \"{name}\"{} (commands: {}, help; see aws-session --help)",
        suggest::command_hint(name),
        names.join(", ")
    ))
}

/// Run the command `opts` asks for. `exec` and `shell` only return on failure.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    crate::msg::set_debug(opts.debug);
    opts.command.run.run(opts, env)
}
