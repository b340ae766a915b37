//! `clear [--profile P]`: delete cached sessions.

use super::args::{no_arguments, Options, Run, Spec};
use crate::cache::Lookup;
use crate::env::Env;
use crate::error::Result;
use crate::session::cached::{existing_cache, ProfileFilter};

pub const SPEC: Spec = Spec {
    name: "clear",
    about: "delete cached sessions (of --profile, or all)",
    help: concat!(
        "Usage: aws-session [--profile P] clear\n",
        "\n",
        "Deletes the cached sessions of the profile, or all of them without --profile.\n",
    ),
    options: &[],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| no_arguments(a, Args),
};

/// `clear` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
}

/// `clear [--profile P]`: delete the cached sessions of P (see `ProfileFilter`), or
/// all of them, with whatever the cache directory holds that is not trusted.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let filter = ProfileFilter::chosen(&opts.settings(), env)?;
    let Some(cache) = existing_cache(env)? else {
        return crate::out::print("aws-session: the session cache is empty; nothing to clear\n");
    };
    // Wait briefly for a run that is storing a session; removal is atomic anyway.
    let _lock = cache.lock(std::time::Duration::from_secs(10), || {}).ok();
    // Only our entries and temp files are listed (and so removed): whatever else the
    // directory holds is the user's.
    let (mut sessions, mut unusable) = (0, 0);
    for (key, lookup) in cache.entries()? {
        let remove = match (&filter, &lookup) {
            (None, _) => true,
            (Some(f), Lookup::Found(e)) => f.matches(e),
            (Some(_), _) => false,
        };
        match lookup {
            // Removed when it was read (others could read it).
            Lookup::Removed(_) => unusable += 1,
            Lookup::Missing => {}
            _ if !remove => {}
            Lookup::Found(_) => {
                cache.remove_listed(&key)?;
                sessions += 1;
            }
            Lookup::Ignored(_) => {
                cache.remove_listed(&key)?;
                unusable += 1;
            }
        }
    }
    let whose = filter
        .as_ref()
        .map_or_else(String::new, |f| format!(" of profile \"{}\"", f.name));
    let also = match unusable {
        0 => String::new(),
        1 => " and 1 unusable entry".to_string(),
        n => format!(" and {n} unusable entries"),
    };
    crate::out::print(&format!(
        "aws-session: removed {sessions} cached session{}{also}{whose} from {}\n",
        if sessions == 1 { "" } else { "s" },
        cache.dir().display()
    ))
}
