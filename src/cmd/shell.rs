//! `shell` (the default command): an interactive sub-shell with the session.

use super::args::{CmdArgs, Opt, Options, Run, Spec, SERVER};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::session::EnvChanges;
use crate::session::{serve, Context};
use crate::shell;
use std::io::IsTerminal;
use std::path::PathBuf;

pub const SPEC: Spec = Spec {
    name: "shell",
    about: "run an interactive shell (default)",
    help: concat!(
        "Usage: aws-session [OPTIONS] shell [--force] [--server]\n",
        "\n",
        "Starts $SHELL -i with temporary credentials in its environment. In bash, zsh and fish the\n",
        "prompt shows the time left, e.g. (aws+11h), and the aws function refreshes expired\n",
        "credentials; aws-session-refresh gets a new session at any time.\n",
        "Refused inside a live aws-session shell unless --force is given.\n",
        "\n",
        "  --force    start a shell inside a live session\n",
        "  --server   stay the shell's parent and serve it renewing credentials on 127.0.0.1\n",
        "             (the AWS container credentials protocol) instead of fixed keys; the\n",
        "             prompt shows how long the MFA session lasts, aws-session-refresh renews it\n",
    ),
    options: &[FORCE, SERVER],
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

const FORCE: Opt = Opt {
    short: None,
    long: "force",
    value: false,
    about: "start a shell even inside a live aws-session shell",
};

/// The options of `shell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    /// Start a shell even inside a live session.
    pub force_nested: bool,
    /// Serve renewing credentials to the shell instead of handing it keys.
    pub server: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&FORCE) {
            a.force_nested = true;
        } else if arg.is(&SERVER) {
            a.server = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// Make the session and exec the shell (or, with `--server`, run it as our child and
/// serve it credentials); returns only on failure.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    refuse_nested_shell(args, env)?;
    // The switches the shell's prompt hook reads, checked before anything is asked or
    // sent, and handed on as 1/0.
    let switches = Switches {
        color: shell::color_enabled(
            |k| env.get(k).map(str::to_string),
            std::io::stdout().is_terminal(),
        )?,
        prompt: env.flag("AWS_SESSION_PROMPT")?,
    };
    if args.server {
        let ctx = serve::context(&opts.settings(), env)?;
        let est = ctx.establish()?;
        return serve::run(ctx, est, |changes| {
            let (sh, changes, rc_dir) = prepare(changes.clone(), env, switches);
            let cmd = shell::shell_command(&sh, &changes, rc_dir.as_deref(), env.get("ZDOTDIR"));
            Ok((cmd, sh))
        });
    }
    let ctx = Context::load(&opts.settings(), env)?;
    let est = ctx.establish()?;
    let (sh, changes, rc_dir) = prepare(ctx.child_environment(&est), env, switches);
    Err(shell::exec_shell(
        &sh,
        &changes,
        rc_dir.as_deref(),
        env.get("ZDOTDIR"),
    ))
}

/// The switches of the shell's prompt hook, read (and checked) when the shell starts.
#[derive(Debug, Clone, Copy)]
struct Switches {
    /// Whether the prompt is coloured (AWS_SESSION_COLOR(S), NO_COLOR, the terminal).
    color: bool,
    /// AWS_SESSION_PROMPT, when set.
    prompt: Option<bool>,
}

/// The shell to start, its environment (with the switches of the prompt hook as 1/0)
/// and the private directory for its rc files, when it has any.
fn prepare(
    mut changes: EnvChanges,
    env: &Env,
    switches: Switches,
) -> (String, EnvChanges, Option<PathBuf>) {
    let one_zero = |on: bool| Some(if on { "1" } else { "0" }.to_string());
    changes.push(("AWS_SESSION_COLOR", one_zero(switches.color)));
    if let Some(on) = switches.prompt {
        changes.push(("AWS_SESSION_PROMPT", one_zero(on)));
    }
    let sh = env.get("SHELL").unwrap_or("/bin/sh").to_string();
    let rc_dir = match shell::shell_kind(&sh) {
        shell::ShellKind::Bash | shell::ShellKind::Zsh => {
            match shell::private_dir(env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR")) {
                Ok(d) => Some(d),
                Err(e) => {
                    // One note with the reason; exec_shell stays quiet for None.
                    crate::msg::note(format_args!(
                        "{e}; {sh} starts without the prompt and automatic refresh"
                    ));
                    None
                }
            }
        }
        _ => None,
    };
    (sh, changes, rc_dir)
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
        && (env.get("AWS_SESSION_TOKEN").is_some() || env.get("AWS_SESSION_SERVER").is_some());
    if live {
        return Err(Error::Usage(
            "already inside an aws-session shell (AWS_SESSION_EXPIRATION is in the future): use aws-session-refresh for new credentials, exit first, or pass --force to start a nested shell anyway".into(),
        ));
    }
    Ok(())
}
