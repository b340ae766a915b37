//! What `status` and `clear` share: which profile they are about, which cache entries
//! belong to it, and the cache directory opened only if it exists.

use super::Settings;
use crate::cache::{self, Cache, Entry};
use crate::config::files::load_profiles;
use crate::env::{Env, Source};
use crate::error::Result;
use std::path::PathBuf;

/// The profile `status` and `clear` are about: only one given on the command line
/// (inside an aws-session shell AWS_SESSION_PROFILE is set, and `clear` there means all).
pub fn chosen_profile(settings: &Settings) -> Option<&str> {
    match &settings.profile {
        Some((p, Source::CommandLine)) => Some(p.as_str()),
        _ => None,
    }
}

/// Which cache entries belong to a profile: those made for it or from its keys
/// profile, and every session made from the same long-term keys (the MFA session they
/// share): after `clear --profile P`, P needs a code again.
pub struct ProfileFilter {
    pub name: String,
    source_key: Option<String>,
}

impl ProfileFilter {
    /// The filter of the profile given with `--profile`, if one was: a name the AWS
    /// files do not define is refused as every other command refuses it (a typo must
    /// not look like "nothing cached").
    pub fn chosen(settings: &Settings, env: &Env) -> Result<Option<Self>> {
        let Some(name) = chosen_profile(settings) else {
            return Ok(None);
        };
        let profiles = load_profiles(env)?;
        if profiles.get(name).is_none() {
            return Err(super::source::profile_not_found(&profiles, name));
        }
        let source_key = super::plan_session_for(env, &profiles, Some((name, Source::CommandLine)))
            .ok()
            .map(|p| p.source.credentials.access_key_id);
        Ok(Some(ProfileFilter {
            name: name.to_string(),
            source_key,
        }))
    }

    pub fn matches(&self, e: &Entry) -> bool {
        e.profile == self.name
            || e.source_profile.as_deref() == Some(self.name.as_str())
            || self.source_key.as_deref() == Some(e.source_access_key_id.as_str())
    }
}

pub fn cache_location(env: &Env) -> Option<PathBuf> {
    cache::cache_dir(env.get("XDG_CACHE_HOME"), env.get("HOME"))
}

/// Open the cache directory only if it exists (status and clear never create it).
pub fn existing_cache(env: &Env) -> Result<Option<Cache>> {
    let Some(dir) = cache_location(env) else {
        return Ok(None);
    };
    if std::fs::symlink_metadata(&dir).is_err() {
        return Ok(None);
    }
    Cache::open(&dir).map(Some)
}
