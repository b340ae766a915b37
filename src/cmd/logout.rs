//! `logout`: delete the sign-in token of the profile's `login_session` (as `aws logout`
//! does: the profile keeps its `login_session`, nothing is revoked at AWS).

use super::args::{no_arguments, Options, Run, Spec};
use crate::config::files::load_profiles;
use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::session::source::{self, login};

pub const SPEC: Spec = Spec {
    name: "logout",
    about: "delete the sign-in token of the profile (see login)",
    help: concat!(
        "Usage: aws-session [--profile P] logout\n",
        "\n",
        "Deletes the cached sign-in token of profile P's login_session, so no tool can\n",
        "renew its credentials. Credentials already handed out last until they expire\n",
        "(15 minutes at most). The profile keeps login_session: aws-session login signs in again.\n",
        "On an IAM Identity Center profile: signs out there (Logout), deletes the token in\n",
        "~/.aws/sso/cache and the role credentials cached from it.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| no_arguments(a, Args),
};

/// `logout` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
}

pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    let name = opts.profile.as_ref().map_or("default", |(p, _)| p.as_str());
    if matches!(opts.profile, Some((_, Source::CommandLine))) && profiles.get(name).is_none() {
        return Err(source::profile_not_found(&profiles, name));
    }
    if profiles.get(name).is_some_and(source::sso::is_sso) {
        let sso = source::sso::sso_profile(&profiles, name)?;
        return super::sso_login::logout(&sso, env, &profiles);
    }
    let Some(session) = profiles
        .get(name)
        .and_then(|p| p.get("login_session"))
        .filter(|s| !s.is_empty())
    else {
        return crate::out::print(&format!(
            "aws-session: profile \"{name}\" has no login_session; nothing to remove\n"
        ));
    };
    let path = login::cache_path(env, session)?;
    // Removing a link would leave the token it points to, still able to renew
    // credentials, while saying it is gone: refused, naming what to remove.
    if let Ok(target) = std::fs::read_link(&path) {
        let target = path.parent().map_or(target.clone(), |d| d.join(&target));
        return Err(Error::Local(format!(
            "the sign-in token {} is a symbolic link to {}: nothing was removed; remove the token it points to and the link yourself (rm {} {})",
            path.display(),
            target.display(),
            crate::shell::quote::sh_quote(&target.to_string_lossy()),
            crate::shell::quote::sh_quote(&path.to_string_lossy()),
        )));
    }
    match std::fs::remove_file(&path) {
        Ok(()) => crate::out::print(&format!(
            "aws-session: removed the sign-in token of profile \"{name}\" ({}); credentials already handed out expire within 15 minutes\n",
            path.display()
        ))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => crate::out::print(&format!(
            "aws-session: profile \"{name}\" is not signed in; nothing to remove\n"
        ))?,
        Err(e) => {
            return Err(Error::Local(format!(
                "cannot remove the sign-in token {}: {e}",
                path.display()
            )))
        }
    }
    Ok(())
}
