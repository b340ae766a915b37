//! `export [--format env|fish|json|credential-process]`.

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use super::format::{parse_format, render, OutputFormat};
use crate::env::Env;
use crate::error::Result;
use crate::session::Context;
use crate::session::{self};

pub const SPEC: Spec = Spec {
    name: "export",
    about: "print the credentials (env, fish, json, credential-process)",
    help: concat!(
        "Usage: aws-session [OPTIONS] export [--format env|fish|json|credential-process]\n",
        "\n",
        "Prints the session credentials (from the cache, or a new session) for eval or scripts.\n",
    ),
    options: &[FORMAT],
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

/// `--format` of export (refresh has its own, with fewer formats).
pub const FORMAT: Opt = Opt {
    short: None,
    long: "format",
    value: true,
    about: "env|fish|json|credential-process",
};

/// The options of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    pub format: OutputFormat,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&FORMAT) {
            a.format = parse_format(&args.value("--format")?)?;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// `export [--format env|fish|json|credential-process]`: the session's credentials (from
/// the cache, or a new session) as `export` lines, fish `set -gx` lines, a JSON object
/// of the same variables, or the credential_process JSON.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let ctx = Context::load(&opts.settings(), env)?;
    let est = ctx.establish()?;
    let mut changes = session::session_changes(&est);
    // AWS_SESSION_MFADEVICE is trusted later only with the keys it belongs to.
    changes.push(session::source_key_change(&ctx.plan.source));
    changes.extend(session::region_changes(ctx.region(), env));
    crate::out::print(&render(args.format, &changes, &est))
}
