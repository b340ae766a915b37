//! `refresh [--format env|fish] [--reuse-mfa]`: export lines for a new session.

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use super::format::{parse_format, render, OutputFormat};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::session;
use crate::session::{serve, Context};

pub const SPEC: Spec = Spec {
    name: "refresh",
    about: "print export lines for a new session (for eval)",
    help: concat!(
        "Usage: aws-session [OPTIONS] refresh [--format env|fish] [--reuse-mfa]\n",
        "\n",
        "Gets a new session from the parent credentials and prints shell export lines for it,\n",
        "for eval (used by aws-session-refresh inside the shell); it asks for a code.\n",
        "With --reuse-mfa (what the shell's aws function runs) a role session is assumed\n",
        "again with a still-valid cached MFA session, without a code.\n",
    ),
    options: &[FORMAT, REUSE_MFA],
    operands: "",
    makes_session: true,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

/// `--format` of refresh: the formats that are shell lines.
const FORMAT: Opt = Opt {
    short: None,
    long: "format",
    value: true,
    about: "env|fish",
};

const REUSE_MFA: Opt = Opt {
    short: None,
    long: "reuse-mfa",
    value: false,
    about: "renew a role session from the cached MFA session",
};

/// The options of `refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    /// env or fish.
    pub format: OutputFormat,
    /// Make only the final session anew (the sub-shell's `aws` function).
    pub reuse_mfa: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&FORMAT) {
            a.format = parse_format(&args.value("--format")?)?;
        } else if arg.is(&REUSE_MFA) {
            a.reuse_mfa = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    if matches!(
        a.format,
        OutputFormat::Json | OutputFormat::CredentialProcess
    ) && !args.help
    {
        return Err(Error::Usage(
            "refresh prints --format env or fish; for JSON use aws-session export --format json"
                .into(),
        ));
    }
    Ok(a)
}

/// A new session every time (the cached one may be what is being replaced), stored in
/// the cache for the runs that follow. --reuse-mfa (the shell's `aws` function) makes
/// only the final session anew: a role session that ran out rides on the cached MFA
/// session without a code while that lasts.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let ctx = Context::load(&opts.settings(), env)?;
    let est = ctx.establish_with(if args.reuse_mfa {
        session::CacheReads::AllButFinal
    } else {
        session::CacheReads::Nothing
    })?;
    let changes = if env.get("AWS_SESSION_SERVER").is_some() {
        // Inside `--server` the server hands out the credentials: the shell learns only
        // how long the MFA session it renews them from now lasts.
        vec![
            (
                "AWS_SESSION_EXPIRATION",
                Some(
                    serve::code_needed_by(&ctx, &est)
                        .unix_timestamp()
                        .to_string(),
                ),
            ),
            ("AWS_SESSION_MFADEVICE", est.mfa_serial.clone()),
        ]
    } else {
        let mut changes = session::session_changes(&est);
        changes.push(session::source_key_change(&ctx.plan.source));
        changes
    };
    crate::out::print(&render(args.format, &changes, &est))
}
