//! The session cache as a decorator around the plan's calls: a session is looked up
//! before it is made and stored after, under the cache lock, which is let go while a
//! person types a code.

use super::CACHE_LOCK_WAIT;
use crate::aws::sts;
use crate::cache::{Cache, CacheLock, Entry, EntryKind, Lookup};
use crate::msg;
use crate::timefmt::iso8601_utc;
use time::OffsetDateTime;

/// The cache of one run of [`super::establish`], and its lock while it is held.
pub(super) struct Cached<'a> {
    /// The cache, while it is usable (`None` once its lock could not be had).
    cache: Option<&'a Cache>,
    /// The cache lock, while it is held.
    lock: Option<CacheLock>,
    /// See [`super::Runtime::last_minutes`].
    last_minutes: Option<i64>,
}

impl<'a> Cached<'a> {
    /// `cache` (none: the cache is off), not locked yet.
    pub(super) fn new(cache: Option<&'a Cache>, last_minutes: Option<i64>) -> Self {
        Cached {
            cache,
            lock: None,
            last_minutes,
        }
    }

    /// Take the cache lock (waiting for a run that is storing a session); when it
    /// cannot be had, a note, and the run goes on without the cache.
    pub(super) fn relock(&mut self) {
        let Some(c) = self.cache else { return };
        if self.lock.is_some() {
            return;
        }
        let waiting = || {
            msg::say(format_args!(
                "waiting for another aws-session to finish with the session cache {}",
                c.dir().display()
            ))
        };
        match c.lock(CACHE_LOCK_WAIT, waiting) {
            Ok(lock) => self.lock = Some(lock),
            Err(e) => {
                msg::note(format_args!("{e}; going on without the session cache"));
                self.cache = None;
            }
        }
    }

    /// Let the cache lock go (before a person is asked for a code).
    pub(super) fn unlock(&mut self) {
        self.lock = None;
    }

    /// The cache, when its lock is held.
    pub(super) fn locked(&self) -> Option<&'a Cache> {
        self.lock.as_ref()?;
        self.cache
    }

    /// Whether a cached session has enough time left: more than five minutes, or
    /// [`super::Runtime::last_minutes`] when the run cannot get a code (then a note says how
    /// long the session handed out has left).
    fn usable(&self, e: &Entry) -> bool {
        let now = OffsetDateTime::now_utc();
        if e.is_fresh(now) {
            return true;
        }
        let left = (e.session.expiration - now).whole_seconds();
        match self.last_minutes {
            Some(min) if left >= min => {
                msg::note(format_args!(
                    "handing out the cached session with {left} s left: \
                     no MFA code can be had here (no terminal, no --code) for a new one"
                ));
                true
            }
            _ => false,
        }
    }

    /// A fresh entry of `key`, if the cache has one it trusts.
    pub(super) fn lookup(&mut self, key: &str) -> Option<Entry> {
        // Keys are 64 hex digits; the debug lines show the first 12.
        let short = key.get(..12).unwrap_or(key);
        let cache = self.locked()?;
        let now = OffsetDateTime::now_utc();
        match cache.load(key) {
            // No AWS session lasts longer: an entry that claims to was not written by a
            // run of ours from a true answer; it is replaced.
            Lookup::Found(e)
                if (e.session.expiration - now).whole_seconds()
                    > i64::from(sts::GET_SESSION_TOKEN_MAX_SECS) + sts::SESSION_SLACK_SECS =>
            {
                msg::note(format_args!(
                    "ignoring session cache entry {}/{key}.json: it expires at {}, longer than any AWS session; it will be replaced",
                    cache.dir().display(),
                    iso8601_utc(e.session.expiration)
                ));
                None
            }
            Lookup::Found(e) if self.usable(&e) => {
                msg::debug(format_args!(
                    "cache: using {} {} of profile \"{}\" (key {}, until {})",
                    e.kind.name(),
                    e.session.credentials.access_key_id,
                    e.profile,
                    short,
                    iso8601_utc(e.session.expiration)
                ));
                Some(*e)
            }
            Lookup::Found(e) => {
                msg::debug(format_args!(
                    "cache: {} of profile \"{}\" expires at {}: making a new one",
                    e.kind.name(),
                    e.profile,
                    iso8601_utc(e.session.expiration)
                ));
                None
            }
            Lookup::Missing => {
                msg::debug(format_args!("cache: no entry {short}"));
                None
            }
            Lookup::Removed(why) => {
                msg::note(format_args!(
                    "removed session cache entry {}/{key}.json: {why}",
                    cache.dir().display()
                ));
                None
            }
            Lookup::Ignored(why) => {
                msg::note(format_args!(
                    "ignoring session cache entry {}/{key}.json: {why}; it will be replaced",
                    cache.dir().display()
                ));
                None
            }
        }
    }

    /// A cached MFA session of the plan's keys, of whichever device made it: an entry
    /// of these keys whose file is the key `key_of` gives for its device (so duration,
    /// endpoint and secret match too).
    pub(super) fn any_device(
        &mut self,
        id: &str,
        key_of: &dyn Fn(&str) -> String,
    ) -> Option<(Entry, String)> {
        for (key, found) in self.locked()?.entries().ok()? {
            if let Lookup::Found(e) = found {
                if e.kind == EntryKind::MfaSession && e.source_access_key_id == id {
                    if let Some(serial) = e.mfa_serial {
                        if key_of(&serial) == key {
                            if let Some(e) = self.lookup(&key) {
                                return Some((e, serial));
                            }
                        }
                    }
                }
            }
        }
        None
    }

    pub(super) fn store(&mut self, key: &str, entry: &Entry) {
        let Some(cache) = self.locked() else {
            return;
        };
        match cache.store(key, entry) {
            Ok(()) => msg::debug(format_args!(
                "cache: stored {} {} (key {})",
                entry.kind.name(),
                entry.session.credentials.access_key_id,
                key.get(..12).unwrap_or(key)
            )),
            Err(e) => msg::note(format_args!("{e}; the session is not cached")),
        }
    }

    /// Remove the entry `key` (a session AWS no longer accepts).
    pub(super) fn remove(&mut self, key: &str) {
        if let Some(c) = self.locked() {
            let _ = c.remove(key);
        }
    }
}
