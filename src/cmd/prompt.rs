//! `prompt`: the prompt prefix for the current environment, for other prompt tools.

use super::Spec;
use crate::env::Env;
use crate::error::Result;
use crate::shell;
use std::io::IsTerminal;

pub const SPEC: Spec = Spec {
    name: "prompt",
    about: "print the prompt prefix, e.g. (aws+12h)",
    help: concat!(
        "Usage: aws-session prompt\n",
        "\n",
        "Prints the prompt prefix for the current environment, e.g. (aws+12h), or nothing outside\n",
        "a session; for starship, powerlevel10k and other prompts.\n",
    ),
    options: &[],
    makes_session: false,
};

pub fn run(env: &Env) -> Result<()> {
    print!("{}", prompt_text(env));
    Ok(())
}

/// The prompt prefix for the environment, or nothing outside a session. In a sign-in's
/// session (login) it shows how long the sign-in lasts (AWS_SESSION_LOGIN_UNTIL), not
/// its 15-minute credentials, which the shell's `aws` function renews.
fn prompt_text(env: &Env) -> String {
    let number = |k: &str| env.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let Some(exp) = number("AWS_SESSION_EXPIRATION") else {
        return String::new();
    };
    let exp = number("AWS_SESSION_LOGIN_UNTIL").unwrap_or(exp);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let color = shell::color_enabled(
        |k| env.get(k).map(str::to_string),
        std::io::stdout().is_terminal(),
    );
    shell::prompt_prefix(exp - now, color, shell::EscapeStyle::Plain)
}
