//! `aws-session man` (not listed: a build step of scripts/release runs it): the manual
//! page aws-session.1 in roff, made from the same tables as `--help` (the global
//! options, the commands and their options and help), so the two cannot drift.

use super::args::{no_arguments, Options, Run, Spec};
use super::{COMMANDS, GLOBAL_OPTIONS};
use crate::aws::sts::{GET_SESSION_TOKEN_MAX_SECS, MIN_DURATION_SECS};
use crate::env::Env;
use crate::error::Result;

pub const SPEC: Spec = Spec {
    name: "man",
    about: "print the manual page aws-session.1 (roff)",
    help: concat!(
        "Usage: aws-session man > aws-session.1\n",
        "\n",
        "Prints the manual page, made from the tables --help is made from.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: false,
    parse: |a| no_arguments(a, Args),
};

/// `man` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, _: &Options, _: &Env) -> Result<()> {
        crate::out::print(&man_page())
    }
}

/// Text for roff: backslashes and dashes escaped, a line that would start with a
/// control character (`.`, `'`) made plain.
///
/// ```
/// use aws_session::cmd::man::roff;
/// assert_eq!(roff("--code C\n.x"), "\\-\\-code C\n\\&.x");
/// ```
pub fn roff(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The manual page.
pub fn man_page() -> String {
    let mut out = format!(
        ".TH AWS\\-SESSION 1 \"\" \"aws\\-session {}\" \"User Commands\"\n\
         .SH NAME\naws\\-session \\- run a shell or a command with temporary AWS MFA credentials\n\
         .SH SYNOPSIS\n.nf\n{}\n.fi\n.SH OPTIONS\n",
        env!("CARGO_PKG_VERSION"),
        roff(&super::usage())
    );
    for g in GLOBAL_OPTIONS {
        let mut left = match g.short {
            Some(c) => format!("\\fB\\-{c}\\fR, \\fB{}\\fR", roff(&format!("--{}", g.long))),
            None => format!("\\fB{}\\fR", roff(&format!("--{}", g.long))),
        };
        if !g.value_name.is_empty() {
            left.push_str(&format!(" \\fI{}\\fR", g.value_name));
        }
        let help = g
            .help
            .replace("{min}", &MIN_DURATION_SECS.to_string())
            .replace("{max}", &GET_SESSION_TOKEN_MAX_SECS.to_string());
        out.push_str(&format!(".TP\n{left}\n{}\n", roff(&help)));
    }
    out.push_str(".SH COMMANDS\n");
    for c in COMMANDS {
        out.push_str(&format!(".SS {}\n{}\n", roff(c.name), roff(c.about)));
        for o in c.options {
            let value = if o.value {
                format!(" \\fI{}\\fR", o.long.to_uppercase())
            } else {
                String::new()
            };
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR{value}\n{}\n",
                roff(&format!("--{}", o.long)),
                roff(o.about)
            ));
        }
        out.push_str(&format!(".PP\n.nf\n{}\n.fi\n", roff(c.help)));
    }
    out.push_str(&format!(
        ".SH EXIT STATUS\n.nf\n{}\n.fi\n.SH SEE ALSO\n\\fBaws\\fR(1); the guide and the error table in the docs of the source tree.\n",
        roff(concat!(
            "0 ok, 1 usage, 2 config (doctor: a check failed), 3 MFA code, 4 AWS error,\n",
            "5 network, 6 local file, 10 no MFA device, 126/127 command not executable/not found,\n",
            "130 interrupted; exec passes on the command's own status."
        ))
    ));
    out
}
