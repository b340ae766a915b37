//! `clear [--profile P]`: delete cached sessions.

use super::status::{chosen_profile, existing_cache, ProfileFilter};
use super::{Options, Spec};
use crate::cache::Lookup;
use crate::env::Env;
use crate::error::Result;

pub const SPEC: Spec = Spec {
    name: "clear",
    about: "delete cached sessions (of --profile, or all)",
    help: concat!(
        "Usage: aws-session [--profile P] clear\n",
        "\n",
        "Deletes the cached sessions of the profile, or all of them without --profile.\n",
    ),
    options: &[],
    makes_session: false,
};

/// `clear [--profile P]`: delete the cached sessions of P (see `ProfileFilter`), or
/// all of them, with whatever the cache directory holds that is not trusted.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let Some(cache) = existing_cache(env)? else {
        println!("aws-session: the session cache is empty; nothing to clear");
        return Ok(());
    };
    // Wait briefly for a run that is storing a session; removal is atomic anyway.
    let _lock = cache.lock(std::time::Duration::from_secs(10), || {}).ok();
    let filter = chosen_profile(opts).map(|p| ProfileFilter::new(p, env));
    let mut removed = 0;
    for (key, lookup) in cache.entries()? {
        let remove = match (&filter, &lookup) {
            (None, _) => true,
            (Some(f), Lookup::Found(e)) => f.matches(e),
            (Some(_), _) => false,
        };
        if remove {
            cache.remove_listed(&key)?;
            if matches!(lookup, Lookup::Found(_)) {
                removed += 1;
            }
        }
    }
    let whose = filter
        .as_ref()
        .map_or_else(String::new, |f| format!(" of profile \"{}\"", f.name));
    println!(
        "aws-session: removed {removed} cached session{}{whose} from {}",
        if removed == 1 { "" } else { "s" },
        cache.dir().display()
    );
    Ok(())
}
