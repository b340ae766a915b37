//! A command's view of the command line: the [`Spec`] that defines a command (name,
//! help, options, parser), the parsed [`Command`] that runs, the [`Options`] every
//! command takes, and [`CmdArgs`], the arguments handed to a command's parser.

use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::session::Settings;
use std::any::Any;
use std::ffi::OsString;

/// A parsed command, ready to run: its arguments, and what it does with them. A
/// command's `Args` implement it (`run` is the command's body).
pub trait Run: std::fmt::Debug + DynEq {
    /// Carry the command out. `exec` and `shell` return only on failure.
    fn run(&self, opts: &Options, env: &Env) -> Result<()>;
}

/// Equality of two parsed commands of unknown type (for tests of the parser).
pub trait DynEq {
    fn as_any(&self) -> &dyn Any;
    fn dyn_eq(&self, other: &dyn Any) -> bool;
}

impl<T: PartialEq + Any> DynEq for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn dyn_eq(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<T>().is_some_and(|o| o == self)
    }
}

/// What the command line asks for: a command of the table (`spec`) or a built-in one
/// (help, version), with its arguments.
#[derive(Debug)]
pub struct Command {
    /// The table entry; `None` for help and version.
    pub spec: Option<&'static Spec>,
    pub run: Box<dyn Run>,
}

impl Command {
    /// Command `spec` with its parsed arguments `run`.
    ///
    /// ```
    /// use aws_session::cmd::{exec, Command};
    /// let c = Command::of(&exec::SPEC, exec::Args { argv: vec!["true".into()], server: false });
    /// assert_eq!(c.name(), "exec");
    /// ```
    pub fn of(spec: &'static Spec, run: impl Run + 'static) -> Command {
        Command {
            spec: Some(spec),
            run: Box::new(run),
        }
    }

    /// A command that is no entry of the table (help, version).
    pub fn built_in(run: impl Run + 'static) -> Command {
        Command {
            spec: None,
            run: Box::new(run),
        }
    }

    /// The command's name (`help` or `version` for the built-in ones).
    pub fn name(&self) -> &'static str {
        match self.spec {
            Some(s) => s.name,
            None if self.run.as_any().is::<Version>() => "version",
            None => "help",
        }
    }

    /// The parsed arguments, when they are of type `A`.
    pub fn args<A: Any>(&self) -> Option<&A> {
        self.run.as_any().downcast_ref::<A>()
    }
}

impl PartialEq for Command {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.run.dyn_eq(other.run.as_any())
    }
}

impl Eq for Command {}

/// `help [COMMAND]`, `--help`, `COMMAND --help`: the tool's help or one command's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help(pub Option<String>);

/// `--version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version;

/// The command and the options every command takes, with the environment's defaults
/// filled in.
#[derive(Debug, PartialEq, Eq)]
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

impl Options {
    /// What making a session needs of these options.
    pub fn settings(&self) -> Settings {
        Settings {
            profile: self.profile.clone(),
            code: self.code.clone(),
            duration: self.duration,
            duration_default_on_cli: self.duration_default_on_cli,
            debug_from_cli: self.debug_from_cli,
            no_cache: self.no_cache,
        }
    }
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

/// A global option: the option, how `--help` shows it and what it sets. The table of
/// them ([`crate::cmd::GLOBAL_OPTIONS`]) is the one place a global option is defined.
#[derive(Clone, Copy)]
pub struct GlobalOpt {
    pub opt: Opt,
    /// The value's name in `--help` (`PROFILE`); empty for a switch.
    pub value_name: &'static str,
    /// What `--help` says of it (`{min}` and `{max}`: the session duration limits).
    pub help: &'static str,
    /// Take it, with its value (empty for a switch), into what was given.
    pub take: fn(&mut Given, String) -> Result<()>,
}

impl std::ops::Deref for GlobalOpt {
    type Target = Opt;
    fn deref(&self) -> &Opt {
        &self.opt
    }
}

/// The global options as given on the command line.
#[derive(Debug, Default)]
pub struct Given {
    pub profile: Option<String>,
    pub code: Option<String>,
    /// `Some(None)`: `--session-duration 0`, AWS's default.
    pub duration: Option<Option<u32>>,
    pub debug: bool,
    pub no_cache: bool,
}

/// Check a session duration in seconds. `0` means "AWS's default" (no DurationSeconds sent).
///
/// ```
/// assert_eq!(aws_session::cli::check_duration("3600", "--session-duration").unwrap(), Some(3600));
/// assert_eq!(aws_session::cli::check_duration("0", "--session-duration").unwrap(), None);
/// assert!(aws_session::cli::check_duration("60", "--session-duration").is_err());
/// ```
pub fn check_duration(v: &str, name: &str) -> Result<Option<u32>> {
    use crate::aws::sts::{GET_SESSION_TOKEN_MAX_SECS as MAX, MIN_DURATION_SECS as MIN};
    let t = v.trim();
    let n: u64 = match t.parse() {
        Ok(n) if t.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            return Err(Error::Usage(format!(
                "{name} must be a number of seconds from {MIN} to {MAX}, got \"{}\"",
                t.chars().take(40).collect::<String>()
            )))
        }
    };
    if n == 0 {
        return Ok(None);
    }
    if !(u64::from(MIN)..=u64::from(MAX)).contains(&n) {
        return Err(Error::Usage(format!(
            "{name} {n} is out of range: AWS allows {MIN} to {MAX} seconds (15 minutes to 36 hours)"
        )));
    }
    Ok(Some(n as u32))
}

/// `--server` of exec and shell.
pub const SERVER: Opt = Opt {
    short: None,
    long: "server",
    value: false,
    about: "serve renewing credentials on 127.0.0.1 instead of keys",
};

/// A command as the command line and the help know it.
#[derive(Clone, Copy)]
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
    /// Whether it reads the switches AWS_SESSION_CACHE and AWS_SESSION_DEBUG (then a
    /// value that is not a boolean is a usage error naming it).
    pub reads_switches: bool,
    /// Its parser: the arguments after (and options before) its name → what to run.
    pub parse: fn(&mut CmdArgs) -> Result<Box<dyn Run>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec").field("name", &self.name).finish()
    }
}

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
    /// Every command, to name the owner of an option this one does not take.
    commands: &'static [Spec],
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
        commands: &'static [Spec],
        before: Vec<OsString>,
        after: Vec<OsString>,
        global: GlobalHandler<'a>,
    ) -> Self {
        CmdArgs {
            command,
            commands,
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
        let owners: Vec<&str> = self
            .commands
            .iter()
            .filter(|c| c.options.iter().any(|o| arg.is(o)))
            .map(|c| c.name)
            .collect();
        match owners.as_slice() {
            [] => Error::Usage(format!(
                "unknown option {}{} (see aws-session {cmd} --help)",
                arg.name(),
                super::suggest::option_hint(
                    &arg,
                    self.commands
                        .iter()
                        .filter(|c| c.name == cmd)
                        .flat_map(|c| c.options)
                )
            )),
            [first, ..] => Error::Usage(format!(
                "{} is an option of {}, not of {cmd}; see aws-session {first} --help",
                arg.name(),
                owners.join(" and ")
            )),
        }
    }
}

/// A command that takes no arguments of its own: `run` once they are checked.
pub fn no_arguments(args: &mut CmdArgs, run: impl Run + 'static) -> Result<Box<dyn Run>> {
    match args.next_arg()? {
        None => Ok(Box::new(run)),
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
                Some(long) => super::suggest::any_option_hint(&Arg::Long(long.into())),
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
