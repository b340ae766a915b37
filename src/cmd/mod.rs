//! The commands, one file each: its options, its help text and its run function. This
//! file holds what they share: the options every command takes ([`Options`]), a
//! command's view of the command line ([`CmdArgs`]), the table of commands
//! ([`COMMANDS`]), the dispatch ([`run`]) and the [`Context`] of a run that makes a
//! session (profiles, plan, client, cache).
//!
//! Adding a command: a file here with `SPEC`, `Args`, `parse` and `run`; a `mod` line, a
//! [`Command`] variant, a [`COMMANDS`] entry and a [`run`] arm here.

pub mod clear;
pub mod completions;
pub mod credential_process;
pub mod exec;
pub mod export;
pub mod login;
pub mod logout;
pub mod prompt;
pub mod provision_mfa;
pub mod refresh;
pub mod rotate;
pub mod serve;
pub mod shell;
pub mod status;
pub mod suggest;

use crate::aws::client::Client;
use crate::aws::endpoint;
use crate::aws::http::{Timeouts, Transport};
use crate::aws::query::Service;
use crate::cache::{self, Cache};
use crate::config::{self, FileKind, ProfileSet};
use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::session::mfa_process::{self, ProcessCodes};
use crate::session::{self, EnvChanges, Established, Origin, SessionPlan};
use crate::tty::{CodeSource, TerminalPrompt};
use std::ffi::OsString;
use std::time::Duration;

/// What to do, with the command's own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Interactive sub-shell (the default).
    Shell(shell::Args),
    /// Replace this process with a command.
    Exec(Vec<OsString>),
    /// `exec --server`: run a command as our child and serve it renewing credentials.
    ExecServer(Vec<OsString>),
    /// Print `export` lines for a new session.
    Refresh(refresh::Args),
    /// Create and enable a virtual MFA device.
    ProvisionMfa(provision_mfa::Args),
    /// Replace the profile's access key with a new one.
    Rotate,
    /// Print the prompt prefix for the current environment.
    Prompt,
    /// Print credentials for eval or scripts.
    Export(export::Args),
    /// Sign in through the browser (AWS Sign-In).
    Login(login::Args),
    /// Delete the profile's sign-in token.
    Logout,
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

/// The command and the options every command takes, with the environment's defaults
/// filled in.
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
    /// Neither read nor write the session cache (`--no-cache`, AWS_SESSION_CACHE=0).
    pub no_cache: bool,
}

/// One option: short form, long form, whether it takes a value, a description (for
/// completions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    pub short: Option<char>,
    pub long: &'static str,
    pub value: bool,
    pub about: &'static str,
}

/// The options every command takes, before or after its name (but after `exec`, whose
/// arguments are the child's).
pub const GLOBAL_OPTIONS: &[Opt] = &[
    Opt {
        short: Some('p'),
        long: "profile",
        value: true,
        about: "profile from ~/.aws",
    },
    Opt {
        short: Some('c'),
        long: "code",
        value: true,
        about: "the 6 digit MFA code",
    },
    Opt {
        short: Some('d'),
        long: "session-duration",
        value: true,
        about: "session validity in seconds",
    },
    Opt {
        short: None,
        long: "debug",
        value: false,
        about: "trace requests on stderr",
    },
    Opt {
        short: None,
        long: "no-cache",
        value: false,
        about: "neither use nor store cached sessions",
    },
    Opt {
        short: Some('h'),
        long: "help",
        value: false,
        about: "show help",
    },
    Opt {
        short: Some('V'),
        long: "version",
        value: false,
        about: "print the version",
    },
];

/// A command as the command line and the help know it.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    /// One line for the command list of `--help` and the completions.
    pub about: &'static str,
    /// `aws-session COMMAND --help`.
    pub help: &'static str,
    /// The command's own options.
    pub options: &'static [Opt],
    /// What follows the command's name and options on the command line (for the usage
    /// line and the command list of `--help`), e.g. `COMMAND [ARGS...]`; empty for none.
    pub operands: &'static str,
    /// Whether it makes a session (then AWS_SESSION_MFA_CODE and AWS_SESSION_DURATION
    /// are read and checked; other commands ignore them).
    pub makes_session: bool,
}

/// Every command, in the order `--help` lists them.
pub const COMMANDS: &[Spec] = &[
    shell::SPEC,
    exec::SPEC,
    refresh::SPEC,
    provision_mfa::SPEC,
    login::SPEC,
    logout::SPEC,
    export::SPEC,
    credential_process::SPEC,
    rotate::SPEC,
    status::SPEC,
    clear::SPEC,
    prompt::SPEC,
    completions::SPEC,
];

/// The command named `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// An option of some command (not a global one), by its long or short name.
pub fn command_option(arg: &Arg) -> Option<&'static Opt> {
    COMMANDS.iter().flat_map(|c| c.options).find(|o| arg.is(o))
}

/// Parse the arguments that belong to command `name` into a [`Command`].
pub fn parse_command(name: &str, args: &mut CmdArgs) -> Result<Command> {
    Ok(match name {
        "shell" => Command::Shell(shell::parse(args)?),
        "exec" => {
            let a = exec::parse(args)?;
            if a.server {
                Command::ExecServer(a.argv)
            } else {
                Command::Exec(a.argv)
            }
        }
        "refresh" => Command::Refresh(refresh::parse(args)?),
        "provision-mfa" => Command::ProvisionMfa(provision_mfa::parse(args)?),
        "export" => Command::Export(export::parse(args)?),
        "login" => Command::Login(login::parse(args)?),
        "logout" => no_arguments(args).map(|_| Command::Logout)?,
        "credential-process" => no_arguments(args).map(|_| Command::CredentialProcess)?,
        "rotate" => rotate::parse(args).map(|_| Command::Rotate)?,
        "status" => no_arguments(args).map(|_| Command::Status)?,
        "clear" => no_arguments(args).map(|_| Command::Clear)?,
        "prompt" => no_arguments(args).map(|_| Command::Prompt)?,
        "completions" => Command::Completions(completions::parse(args)?),
        other => return Err(unknown_command(other)),
    })
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
    match &opts.command {
        Command::Help(topic) => crate::out::print(&help(topic.as_deref())?),
        Command::Version => {
            crate::out::print(&format!("aws-session {}\n", env!("CARGO_PKG_VERSION")))
        }
        Command::Prompt => prompt::run(env),
        Command::Exec(argv) => exec::run(argv, false, opts, env),
        Command::ExecServer(argv) => exec::run(argv, true, opts, env),
        Command::Shell(args) => shell::run(args, opts, env),
        Command::Refresh(args) => refresh::run(args, opts, env),
        Command::ProvisionMfa(args) => provision_mfa::run(args, opts, env),
        Command::Export(args) => export::run(args, opts, env),
        Command::Login(args) => login::run(args, opts, env),
        Command::Logout => logout::run(opts, env),
        Command::CredentialProcess => credential_process::run(opts, env),
        Command::Rotate => rotate::run(opts, env),
        Command::Status => status::run(opts, env),
        Command::Clear => clear::run(opts, env),
        Command::Completions(shell) => completions::run(shell),
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
                suggest::command_hint(name),
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
            "  -p, --profile PROFILE            profile from ~/.aws (default: AWS_PROFILE, AWS_DEFAULT_PROFILE)\n",
            "  -c, --code CODE                  the 6 digit MFA code (default: AWS_SESSION_MFA_CODE; else asked)\n",
            "  -d, --session-duration SECONDS   session validity, {min}..{max} (default: AWS_SESSION_DURATION; else AWS's 12 h)\n",
            "      --debug                      trace requests on stderr, never secrets (default: AWS_SESSION_DEBUG=1)\n",
            "      --no-cache                   neither use nor store cached sessions (default: AWS_SESSION_CACHE=0)\n",
            "  -h, --help                       this help; COMMAND --help for one command\n",
            "  -V, --version                    print the version\n",
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
        command_options = command_options_help(),
        min = crate::aws::sts::MIN_DURATION_SECS,
        max = crate::aws::sts::GET_SESSION_TOKEN_MAX_SECS,
        commands = commands,
    )
}

// ---------------------------------------------------------------------------
// A command's view of the command line
// ---------------------------------------------------------------------------

/// One argument, owned (so that it can be handed on together with the parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Short(char),
    Long(String),
    Value(OsString),
}

impl Arg {
    pub fn from_lexopt(a: lexopt::Arg<'_>) -> Arg {
        match a {
            lexopt::Arg::Short(c) => Arg::Short(c),
            lexopt::Arg::Long(l) => Arg::Long(l.to_string()),
            lexopt::Arg::Value(v) => Arg::Value(v),
        }
    }

    /// Whether this is option `o` (long or short form).
    pub fn is(&self, o: &Opt) -> bool {
        match self {
            Arg::Long(l) => l == o.long,
            Arg::Short(c) => o.short == Some(*c),
            Arg::Value(_) => false,
        }
    }

    /// `--name` or `-c`, as the user wrote it.
    pub fn name(&self) -> String {
        match self {
            Arg::Short(c) => format!("-{c}"),
            Arg::Long(l) => format!("--{l}"),
            Arg::Value(v) => v.to_string_lossy().into_owned(),
        }
    }
}

/// Handles a global option for a command's parser; `Ok(true)` when it was one.
pub type GlobalHandler<'a> = &'a mut dyn FnMut(&Arg, &mut lexopt::Parser) -> Result<bool>;

/// The arguments of one command: its own options given before its name (`before`),
/// then everything after its name. Global options are handed to `global`, `-h`/`--help`
/// is noted in `help`; [`CmdArgs::next_arg`] returns the rest, which the command either
/// takes or refuses with [`CmdArgs::unexpected`].
pub struct CmdArgs<'a> {
    command: &'static str,
    before: lexopt::Parser,
    after: lexopt::Parser,
    global: GlobalHandler<'a>,
    /// Whether the last argument came from `before`.
    from_before: bool,
    /// `-h`/`--help` was given.
    pub help: bool,
}

impl<'a> CmdArgs<'a> {
    pub fn new(
        command: &'static str,
        before: Vec<OsString>,
        after: Vec<OsString>,
        global: GlobalHandler<'a>,
    ) -> Self {
        CmdArgs {
            command,
            before: lexopt::Parser::from_args(before),
            after: lexopt::Parser::from_args(after),
            global,
            from_before: false,
            help: false,
        }
    }

    /// The next argument that is neither global nor `--help`.
    pub fn next_arg(&mut self) -> Result<Option<Arg>> {
        loop {
            let (arg, from_before) = match self.before.next() {
                Ok(Some(a)) => (Arg::from_lexopt(a), true),
                Ok(None) => match self.after.next() {
                    Ok(Some(a)) => (Arg::from_lexopt(a), false),
                    Ok(None) => return Ok(None),
                    Err(e) => return Err(usage_error(e)),
                },
                Err(e) => return Err(usage_error(e)),
            };
            if matches!(arg, Arg::Long(ref l) if l == "help") || arg == Arg::Short('h') {
                self.help = true;
                continue;
            }
            let parser = if from_before {
                &mut self.before
            } else {
                &mut self.after
            };
            if (self.global)(&arg, parser)? {
                continue;
            }
            self.from_before = from_before;
            return Ok(Some(arg));
        }
    }

    /// The value of the option just returned by [`CmdArgs::next_arg`].
    pub fn value(&mut self, name: &str) -> Result<String> {
        let parser = if self.from_before {
            &mut self.before
        } else {
            &mut self.after
        };
        string_value(parser, name)
    }

    /// Everything after the command name, as given (for `exec`), once the options given
    /// before the name are checked: the flags of `own` found there are returned first.
    pub fn raw_rest(&mut self, own: &[Opt]) -> Result<(Vec<&'static str>, Vec<OsString>)> {
        let mut flags = Vec::new();
        while let Some(arg) = self.before.next().map_err(usage_error)? {
            let arg = Arg::from_lexopt(arg);
            if let Some(o) = own.iter().find(|o| !o.value && arg.is(o)) {
                flags.push(o.long);
                continue;
            }
            if !(self.global)(&arg, &mut self.before)? {
                return Err(self.unexpected(arg));
            }
        }
        Ok((flags, self.after.raw_args().map_err(usage_error)?.collect()))
    }

    /// The error for an argument this command does not take: for an option of another
    /// command, which command has it.
    pub fn unexpected(&self, arg: Arg) -> Error {
        let cmd = self.command;
        if let Arg::Value(v) = &arg {
            return Error::Usage(format!(
                "unexpected argument \"{}\" (only exec takes arguments; see aws-session {cmd} --help)",
                v.to_string_lossy()
            ));
        }
        let owners: Vec<&str> = COMMANDS
            .iter()
            .filter(|c| c.options.iter().any(|o| arg.is(o)))
            .map(|c| c.name)
            .collect();
        match owners.as_slice() {
            [] => Error::Usage(format!(
                "unknown option {}{} (see aws-session {cmd} --help)",
                arg.name(),
                suggest::option_hint(&arg, spec(cmd).into_iter().flat_map(|s| s.options))
            )),
            [first, ..] => Error::Usage(format!(
                "{} is an option of {}, not of {cmd}; see aws-session {first} --help",
                arg.name(),
                owners.join(" and ")
            )),
        }
    }
}

/// A command that takes no arguments of its own.
fn no_arguments(args: &mut CmdArgs) -> Result<()> {
    match args.next_arg()? {
        None => Ok(()),
        Some(arg) => Err(args.unexpected(arg)),
    }
}

/// An option's value as UTF-8.
pub fn string_value(parser: &mut lexopt::Parser, name: &str) -> Result<String> {
    let v = parser
        .value()
        .map_err(|_| Error::Usage(format!("{name} needs a value (see aws-session --help)")))?;
    v.into_string()
        .map_err(|_| Error::Usage(format!("{name} value is not valid UTF-8")))
}

/// lexopt's error as a usage error. lexopt's messages name the option; a value (which
/// may be a secret) is never echoed.
pub fn usage_error(e: lexopt::Error) -> Error {
    let text = match &e {
        lexopt::Error::UnexpectedOption(o) => {
            let hint = match o.strip_prefix("--") {
                Some(long) => suggest::any_option_hint(&Arg::Long(long.into())),
                None => String::new(),
            };
            format!("unknown option {o}{hint} (see aws-session --help)")
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

// ---------------------------------------------------------------------------
// Output of credentials
// ---------------------------------------------------------------------------

/// How `refresh` / `export` print credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// `export NAME='value'` (bash, zsh, sh).
    #[default]
    Env,
    /// `set -gx NAME 'value'` (fish).
    Fish,
    /// A JSON object (export only).
    Json,
    /// The credential_process JSON (export only).
    CredentialProcess,
}

/// The value of `--format`.
pub fn parse_format(v: &str) -> Result<OutputFormat> {
    Ok(match v {
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
    })
}

/// `changes` (of session `est`) in `format`: the one place the output formats meet.
pub fn render(format: OutputFormat, changes: &EnvChanges, est: &Established) -> String {
    use crate::shell::quote;
    match format {
        OutputFormat::Env => quote::export_lines(changes),
        OutputFormat::Fish => quote::fish_lines(changes),
        OutputFormat::Json => export::json_lines(changes),
        OutputFormat::CredentialProcess => credential_process::credential_process_json(est),
    }
}

// ---------------------------------------------------------------------------
// The context of a run that makes a session
// ---------------------------------------------------------------------------

/// Least time left on a cached session `credential-process` hands out when it cannot
/// get a code (the AWS SDKs refresh credentials some minutes before they expire).
const LAST_MINUTE_SECS: i64 = 60;

/// Everything a session needs, read once. It owns its options and environment, so a
/// `--server` can share it with its threads (behind an `Arc`).
pub(crate) struct Context {
    pub(crate) opts: Options,
    pub(crate) env: Env,
    pub(crate) profiles: ProfileSet,
    pub(crate) plan: SessionPlan,
    pub(crate) client: Client,
    sts_endpoint: String,
    pub(crate) cache: Option<Cache>,
    /// The mfa_process command and where it was set, when there is one.
    mfa_process: Option<(String, String)>,
}

impl Context {
    pub(crate) fn load(opts: &Options, env: &Env) -> Result<Self> {
        let profiles = load_profiles(env)?;
        note_warnings(&profiles);
        let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
        Self::with_profiles(opts, env, profiles, choice)
    }

    /// As [`Context::load`], with the AWS files already read and the profile `choice`
    /// made.
    pub(crate) fn with_profiles(
        opts: &Options,
        env: &Env,
        profiles: ProfileSet,
        choice: Option<(&str, Source)>,
    ) -> Result<Self> {
        let profile = choice.map(|(p, _)| p);
        let mut plan = session::plan_session_for(env, &profiles, choice)?;
        let mfa_process =
            mfa_process::command_for(env, &profiles, profile, plan.source.origin.profile());
        if let Some((command, from)) = &mfa_process {
            // Checked now, so that a bad setting is found before anything is run or sent.
            ProcessCodes::new(None, command, from)?;
        }
        let endpoints = session::endpoint_settings(env, &profiles, profile);
        let sts_endpoint = endpoint::resolve(Service::Sts, &endpoints)?.url;
        let client = make_client(env, endpoints)?;
        let cache = open_cache(opts, env);
        plan.source = session::source::process::resolve(plan.source, env)?;
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
            opts: opts.clone(),
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
    pub(crate) fn establish(&self) -> Result<Established> {
        self.establish_with(session::CacheReads::All)
    }

    /// A session using the cached sessions `reads` allows (every session made is
    /// stored in the cache for later runs).
    pub(crate) fn establish_with(&self, reads: session::CacheReads) -> Result<Established> {
        self.establish_from(&self.plan, reads, self.opts.code.clone(), false)
    }

    /// `credential-process`: as [`Context::establish`], but when no code can be had (no
    /// terminal, no --code, no mfa_process) a cached session with a minute or more left
    /// is handed out rather than failing for want of a code; the SDK asks again before
    /// it runs out.
    pub(crate) fn establish_for_sdk(&self) -> Result<Established> {
        self.establish_from(
            &self.plan,
            session::CacheReads::All,
            self.opts.code.clone(),
            true,
        )
    }

    /// A later session of a long run (the credential server): the code of the command
    /// line was spent on the first, so a code, when one is needed, is asked anew.
    pub(crate) fn establish_without_given_code(
        &self,
        reads: session::CacheReads,
    ) -> Result<Established> {
        self.establish_from(&self.plan, reads, None, false)
    }

    /// [`Context::establish_with`] for `plan` (this run's plan, or one derived from it).
    pub(crate) fn establish_plan(
        &self,
        plan: &SessionPlan,
        reads: session::CacheReads,
    ) -> Result<Established> {
        self.establish_from(plan, reads, self.opts.code.clone(), false)
    }

    /// Make `plan`'s session; codes from `given` (--code) first, then the mfa_process
    /// or the terminal. `last_minutes_ok`: a session in its last minutes may be used
    /// when no code can be had (see [`Context::establish_for_sdk`]).
    fn establish_from(
        &self,
        plan: &SessionPlan,
        reads: session::CacheReads,
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
                process = ProcessCodes::new(given, command, from)?;
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
        let rt = session::Runtime {
            client: &self.client,
            cache: self.cache.as_ref(),
            reads,
            sts_endpoint: self.sts_endpoint.clone(),
            duration: self.opts.duration.map(|(d, _)| d),
            duration_name: match self.opts.duration {
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
        session::establish(&rt, plan, codes)
    }

    /// The region of the chosen profile, when it has one.
    pub(crate) fn region(&self) -> Option<&str> {
        let profile = self
            .opts
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
    pub(crate) fn child_environment(&self, est: &Established) -> EnvChanges {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "aws-session".into());
        let passed = session::Passed {
            profile: self.opts.profile.as_ref().map(|(p, _)| p.as_str()),
            duration_from_cli: match self.opts.duration {
                Some((d, Source::CommandLine)) => Some(d),
                _ => None,
            },
            duration_default_on_cli: self.opts.duration_default_on_cli,
            debug_from_cli: self.opts.debug_from_cli,
        };
        let stash = self.write_stash();
        session::child_environment(
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
        match session::stash::write(&self.env, &src.credentials, std::process::id()) {
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

/// The parent stash named in `changes`, if any (to remove it when the child could not
/// start, or has ended under `--server`).
pub(crate) fn stash_of(changes: &EnvChanges) -> Option<std::path::PathBuf> {
    changes
        .iter()
        .find(|(k, _)| *k == session::stash::VAR)
        .and_then(|(_, v)| v.as_ref())
        .map(std::path::PathBuf::from)
}

/// The session cache for this run, unless it is off (--no-cache, AWS_SESSION_CACHE=0)
/// or unusable (then a note says why and the run goes on without it).
pub(crate) fn open_cache(opts: &Options, env: &Env) -> Option<Cache> {
    if opts.no_cache {
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
pub(crate) fn make_client(env: &Env, endpoints: endpoint::EndpointSettings) -> Result<Client> {
    let timeouts = timeouts(env)?;
    let ca = match env.get("AWS_CA_BUNDLE") {
        Some(path) => Some(read_ca_bundle(path)?),
        None => None,
    };
    // Every usage error before anything is sent: both endpoints, and the proxy.
    endpoint::resolve(Service::Sts, &endpoints)?;
    endpoint::resolve(Service::Iam, &endpoints)?;
    let proxy = crate::aws::http::proxy_from_env(|k| env.get(k).map(str::to_string))?;
    let transport = Transport::new(timeouts, ca.as_deref(), proxy).map_err(|e| {
        Error::Config(format!(
            "cannot set up HTTPS: {e} (point AWS_CA_BUNDLE at a PEM file of CA certificates, or unset it)"
        ))
    })?;
    Ok(Client::new(transport, endpoints)
        .naming_credentials_file(session::source::credentials_file_name(env)))
}

/// The largest AWS_CA_BUNDLE read (4 MiB): the whole Mozilla bundle is about 200 KiB,
/// and a wrong path (a device, a log file) must not cost more.
pub const MAX_CA_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of the AWS_CA_BUNDLE file `path`: only a regular file of at most
/// [`MAX_CA_BUNDLE_BYTES`] is read, so a FIFO cannot hang the run nor a device fill
/// memory.
fn read_ca_bundle(path: &str) -> Result<Vec<u8>> {
    use crate::fsutil::{read_regular_file, ReadError};
    let fail = |why: String| {
        Error::Config(format!(
            "cannot read AWS_CA_BUNDLE {path}: {why} (point it at a PEM file or unset it)"
        ))
    };
    match read_regular_file(std::path::Path::new(path), MAX_CA_BUNDLE_BYTES) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(fail(
            std::io::Error::from_raw_os_error(libc::ENOENT).to_string(),
        )),
        Err(ReadError::NotRegular(found)) => Err(fail(format!("not a regular file ({found})"))),
        Err(ReadError::TooLarge(n)) => Err(fail(format!(
            "{n} bytes, more than the 4 MiB a bundle of CA certificates may have"
        ))),
        Err(ReadError::Io(e)) => Err(fail(e.to_string())),
    }
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

/// Under --debug, every warning of the AWS files' reader (sections and properties it
/// ignored, with file and line) as an `aws-session: note:` line.
pub fn note_warnings(profiles: &ProfileSet) {
    if crate::msg::debug_on() {
        for w in profiles.warnings() {
            crate::msg::note(w);
        }
    }
}

/// The largest AWS config or credentials file read (16 MiB): far more than any real
/// one, and a bound on what a wrong path (a device, a log file) can cost.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Read and parse the config and credentials files (a missing file is no error). Only
/// a regular file of at most [`MAX_CONFIG_BYTES`] is read.
pub fn load_profiles(env: &Env) -> Result<ProfileSet> {
    use crate::fsutil::{read_regular_file, ReadError};
    let home = env.get("HOME");
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), home);
    let read = |path: &Option<std::path::PathBuf>,
                kind: FileKind|
     -> Result<Option<config::ParsedFile>> {
        let Some(path) = path else { return Ok(None) };
        let (var, what) = match kind {
            FileKind::Config => ("AWS_CONFIG_FILE", "config"),
            FileKind::Credentials => ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        };
        let fail = |why: String| {
            Error::Config(format!(
                "cannot read {}: {why} (point {var} at your AWS {what} file)",
                path.display()
            ))
        };
        match read_regular_file(path, MAX_CONFIG_BYTES) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                Ok(Some(config::parse(&text, kind, &path.to_string_lossy())?))
            }
            Ok(None) => Ok(None),
            Err(ReadError::NotRegular(found)) => Err(fail(format!("not a regular file ({found})"))),
            Err(ReadError::TooLarge(n)) => Err(fail(format!(
                "{n} bytes, more than the 16 MiB an AWS {what} file may have"
            ))),
            Err(ReadError::Io(e)) => Err(Error::Config(format!(
                "cannot read {}: {e} (fix its permissions or point {var} elsewhere)",
                path.display()
            ))),
        }
    };
    let config = read(&paths.config, FileKind::Config)?;
    let credentials = read(&paths.credentials, FileKind::Credentials)?;
    Ok(config::merge(config, credentials))
}
