//! `shell` (the default command): an interactive sub-shell with the session.

use super::{CmdArgs, Context, Opt, Options, Spec};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::shell;
use std::io::IsTerminal;

pub const SPEC: Spec = Spec {
    name: "shell",
    about: "run an interactive shell (default)",
    help: concat!(
        "Usage: aws-session [OPTIONS] shell [--force]\n",
        "\n",
        "Starts $SHELL -i with temporary credentials in its environment. In bash, zsh and fish the\n",
        "prompt shows the time left, e.g. (aws+12h), and the aws function refreshes expired\n",
        "credentials; aws-session-refresh gets a new session at any time.\n",
        "Refused inside a live aws-session shell unless --force is given.\n",
    ),
    options: &[FORCE],
    makes_session: true,
};

const FORCE: Opt = Opt {
    short: None,
    long: "force",
    value: false,
    about: "start a shell inside a live session",
};

/// The options of `shell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    /// Start a shell even inside a live session.
    pub force_nested: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&FORCE) {
            a.force_nested = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// Make the session and exec the shell; returns only on failure.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    refuse_nested_shell(args, env)?;
    // The switches the shell's prompt hook reads, checked before anything is asked or
    // sent, and handed on as 1/0.
    let color = shell::color_enabled(
        |k| env.get(k).map(str::to_string),
        std::io::stdout().is_terminal(),
    )?;
    let show_prompt = env.flag("AWS_SESSION_PROMPT")?;
    let ctx = Context::load(opts, env)?;
    let est = ctx.establish()?;
    let mut changes = ctx.child_environment(&est);
    changes.push((
        "AWS_SESSION_COLOR",
        Some(if color { "1" } else { "0" }.to_string()),
    ));
    if let Some(on) = show_prompt {
        changes.push((
            "AWS_SESSION_PROMPT",
            Some(if on { "1" } else { "0" }.to_string()),
        ));
    }
    let sh = env.get("SHELL").unwrap_or("/bin/sh").to_string();
    let rc_dir = match shell::shell_kind(&sh) {
        shell::ShellKind::Bash | shell::ShellKind::Zsh => {
            match shell::private_dir(env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR")) {
                Ok(d) => Some(d),
                Err(e) => {
                    // One note with the reason; exec_shell stays quiet for None.
                    eprintln!(
                        "aws-session: note: {e}; {sh} starts without the prompt and automatic refresh"
                    );
                    None
                }
            }
        }
        _ => None,
    };
    Err(shell::exec_shell(
        &sh,
        &changes,
        rc_dir.as_deref(),
        env.get("ZDOTDIR"),
    ))
}

/// A shell inside a live session would stack credentials; refuse unless --force.
fn refuse_nested_shell(args: &Args, env: &Env) -> Result<()> {
    if args.force_nested {
        return Ok(());
    }
    let live = env
        .get("AWS_SESSION_EXPIRATION")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|exp| exp > time::OffsetDateTime::now_utc().unix_timestamp())
        && env.get("AWS_SESSION_TOKEN").is_some();
    if live {
        return Err(Error::Usage(
            "already inside an aws-session shell (AWS_SESSION_EXPIRATION is in the future): use aws-session-refresh for new credentials, exit first, or pass --force to start a nested shell anyway".into(),
        ));
    }
    Ok(())
}
