//! `exec COMMAND [ARGS...]`: replace aws-session with a command run with the session.

use super::args::{CmdArgs, Options, Run, Spec, SERVER};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::session::{serve, Context};
use crate::shell;
use std::ffi::OsString;

pub const SPEC: Spec = Spec {
    name: "exec",
    about: "run one command with the session credentials",
    help: concat!(
        "Usage: aws-session [OPTIONS] exec [--server] COMMAND [ARGS...]\n",
        "\n",
        "Replaces aws-session with COMMAND, run with temporary credentials in its environment.\n",
        "The exit status and signals are COMMAND's own. Options must come before exec.\n",
        "\n",
        "  --server   stay COMMAND's parent and serve it renewing credentials on 127.0.0.1\n",
        "             (the AWS container credentials protocol) instead of fixed keys: for\n",
        "             jobs that outlive a session. Signals go to COMMAND; the exit status\n",
        "             is COMMAND's (128+n for a signal).\n",
    ),
    options: &[SERVER],
    operands: "COMMAND [ARGS...]",
    makes_session: true,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

/// The options of `exec`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    /// The command and its arguments.
    pub argv: Vec<OsString>,
    /// `--server`: serve renewing credentials to the command.
    pub server: bool,
}

/// Everything after `exec` is the child's, verbatim (a leading `--` is dropped), but
/// a leading `--server`; `exec --help` and `exec -h` ask for this command's help.
pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let (server_before, mut rest) = args.raw_rest(&[SERVER])?;
    let mut server = !server_before.is_empty();
    while rest.first().is_some_and(|a| a == "--server") {
        server = true;
        rest.remove(0);
    }
    if rest.first().is_some_and(|a| a == "--help" || a == "-h") {
        args.help = true;
        return Ok(Args::default());
    }
    // A command never starts with `-`: an option here was meant for aws-session, and
    // running on without it could spend a code on the wrong profile.
    if let Some(first) = rest
        .first()
        .filter(|a| a.to_string_lossy().starts_with('-'))
    {
        if first != "--" {
            let shown = first.to_string_lossy();
            return Err(Error::Usage(format!(
                "{shown} after exec is not a command: options go before exec (aws-session {shown} … exec COMMAND), or end them with -- if COMMAND starts with -",
                shown = shown.chars().take(40).collect::<String>()
            )));
        }
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
    Ok(Args { argv: rest, server })
}

/// Make the session and exec the command (or, with `--server`, run it as our child
/// and serve it credentials); returns only on failure.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let argv = &args.argv;
    if args.server {
        let ctx = serve::context(&opts.settings(), env)?;
        let est = super::sso_login::establish_or_sign_in(&ctx)?;
        let argv = argv.to_vec();
        return serve::run(ctx, est, move |changes| {
            let program = argv[0].to_string_lossy().into_owned();
            Ok((shell::command(&argv, changes)?, program))
        });
    }
    let ctx = Context::load(&opts.settings(), env)?;
    let est = super::sso_login::establish_or_sign_in(&ctx)?;
    let changes = ctx.child_environment(&est);
    let e = shell::exec(argv, &changes);
    if let Some(path) = crate::session::stash::named_in(&changes) {
        crate::session::stash::remove(&path);
    }
    Err(e)
}
