//! `credential-process`: the AWS SDKs' external process protocol.

use super::args::{no_arguments, Options, Run, Spec};
use super::format::credential_process_json;
use crate::config::files::{load_profiles, note_warnings};
use crate::config::Profile;
use crate::env::{Env, Source};
use crate::error::Result;
use crate::session::roles;
use crate::session::Context;

pub const SPEC: Spec = Spec {
    name: "credential-process",
    about: "print credential_process JSON for the AWS SDKs",
    help: concat!(
        "Usage: aws-session [--profile P] credential-process\n",
        "\n",
        "Prints the credential_process JSON (Version 1) for the AWS SDKs and CLI:\n",
        "  credential_process = aws-session credential-process --profile P\n",
        "Asks for a code on the terminal when no cached session is left.\n",
    ),
    options: &[],
    operands: "",
    makes_session: true,
    reads_switches: true,
    parse: |a| no_arguments(a, Args),
};

/// `credential-process` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
}

/// `credential-process`: the credential_process JSON for the AWS SDKs and CLI
/// (`credential_process = aws-session credential-process --profile P`). A code, when
/// one is needed, is asked on /dev/tty (the SDK owns stdin, stdout and stderr).
///
/// A profile chosen by AWS_PROFILE (not `--profile`) whose only credentials are a
/// `credential_process` naming aws-session is the profile the SDK runs this for (it
/// passes its environment on): the line `credential_process = aws-session
/// credential-process` then means the default credentials, as it does when the SDK's
/// profile was chosen another way.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    note_warnings(&profiles);
    let choice = opts
        .profile
        .as_ref()
        .map(|(p, s)| (p.as_str(), *s))
        .filter(|&(name, source)| {
            source != Source::Environment
                || !profiles.get(name).is_some_and(runs_a_credential_process)
        });
    let ctx = Context::with_profiles(&opts.settings(), env, profiles, choice)?;
    let est = ctx.establish_for_sdk()?;
    crate::out::print(&credential_process_json(&est))
}

/// Whether `p` gets its credentials only from a `credential_process` that is
/// aws-session: no keys, no role, no source_profile.
fn runs_a_credential_process(p: &Profile) -> bool {
    p.get("credential_process")
        .is_some_and(crate::shell::process::is_aws_session)
        && p.get("aws_access_key_id").is_none_or(str::is_empty)
        && !roles::is_indirect(p)
}
