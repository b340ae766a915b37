//! `prompt`: the prompt prefix for the current environment, for other prompt tools.

use super::args::{no_arguments, Options, Run, Spec};
use crate::env::Env;
use crate::error::Result;
use crate::shell;
use std::io::IsTerminal;

pub const SPEC: Spec = Spec {
    name: "prompt",
    about: "print the prompt prefix, e.g. (aws+11h)",
    help: concat!(
        "Usage: aws-session prompt\n",
        "\n",
        "Prints the prompt prefix for the current environment, e.g. (aws+11h), or nothing outside\n",
        "a session; for starship, powerlevel10k and other prompts.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: false,
    parse: |a| no_arguments(a, Args),
};

/// `prompt` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, _: &Options, env: &Env) -> Result<()> {
        run(env)
    }
}

pub fn run(env: &Env) -> Result<()> {
    crate::out::print(&prompt_text(env)?)
}

/// The prompt prefix for the environment, or nothing outside a session. In a sign-in's
/// session (login) it shows how long the sign-in lasts (AWS_SESSION_LOGIN_UNTIL), not
/// its 15-minute credentials, which the shell's `aws` function renews.
fn prompt_text(env: &Env) -> Result<String> {
    // Text that is no number at all is not ours: no prefix.
    let number = |k: &str| {
        env.get(k).filter(|v| {
            let digits = v.trim().strip_prefix('-').unwrap_or(v.trim());
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let Some(value) = number("AWS_SESSION_EXPIRATION") else {
        return Ok(String::new());
    };
    let value = number("AWS_SESSION_LOGIN_UNTIL").unwrap_or(value);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Any number but a time from now to the longest session ahead shows as expired
    // (`(aws!exp) `); the subtraction is checked, so no value can overflow.
    let left = value
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|exp| exp.checked_sub(now))
        .filter(|left| *left <= shell::LONGEST_SESSION_SECS)
        .unwrap_or(0);
    let color = shell::color_enabled(
        |k| env.get(k).map(str::to_string),
        std::io::stdout().is_terminal(),
    )?;
    Ok(shell::prompt_prefix(left, color, shell::EscapeStyle::Plain))
}

#[cfg(test)]
mod tests {
    /// The prompt's bound (in `shell/`, which sits below `aws/` and cannot name it) is
    /// STS's longest session plus its slack.
    #[test]
    fn longest_session_is_sts_longest_plus_slack() {
        use crate::aws::sts::{GET_SESSION_TOKEN_MAX_SECS, SESSION_SLACK_SECS};
        assert_eq!(
            crate::shell::LONGEST_SESSION_SECS,
            i64::from(GET_SESSION_TOKEN_MAX_SECS) + SESSION_SLACK_SECS
        );
    }
}
