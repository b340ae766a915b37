//! `exec COMMAND [ARGS...]`: replace aws-session with a command run with the session.

use super::{CmdArgs, Context, Options, Spec};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::shell;
use std::ffi::OsString;

pub const SPEC: Spec = Spec {
    name: "exec",
    about: "run one command with the session credentials",
    help: concat!(
        "Usage: aws-session [OPTIONS] exec COMMAND [ARGS...]\n",
        "\n",
        "Replaces aws-session with COMMAND, run with temporary credentials in its environment.\n",
        "The exit status and signals are COMMAND's own. Options must come before exec.\n",
    ),
    options: &[],
    makes_session: true,
};

/// Everything after `exec` is the child's, verbatim (a leading `--` is dropped);
/// `exec --help` and `exec -h` ask for this command's help.
pub fn parse(args: &mut CmdArgs) -> Result<Vec<OsString>> {
    let rest = args.raw_rest()?;
    if rest.first().is_some_and(|a| a == "--help" || a == "-h") {
        args.help = true;
        return Ok(Vec::new());
    }
    let rest: Vec<OsString> = if rest.first().is_some_and(|a| a == "--") {
        rest.into_iter().skip(1).collect()
    } else {
        rest
    };
    if rest.is_empty() && !args.help {
        return Err(Error::Usage(
            "exec needs a command: aws-session exec COMMAND [ARGS...], e.g. aws-session exec aws s3 ls".into(),
        ));
    }
    Ok(rest)
}

/// Make the session and exec `argv`; returns only on failure.
pub fn run(argv: &[OsString], opts: &Options, env: &Env) -> Result<()> {
    let ctx = Context::load(opts, env)?;
    let est = ctx.establish()?;
    let changes = ctx.child_environment(&est);
    Err(shell::exec(argv, &changes))
}
