//! `rotate`: replace the access key of the profile's IAM user with a new one.
//!
//! With the MFA session of the old key (cached, or made with a code as usual): find the
//! user (GetCallerIdentity), check that it has room for a second key (ListAccessKeys),
//! CreateAccessKey, write the new key into the credentials file (only the profile's two
//! values change), wait until AWS accepts the new key (IAM is eventually consistent),
//! DeleteAccessKey the old one and drop the cached sessions made from it. When a step
//! fails the file holds a key that works, and the error says what AWS and the file hold.

use super::args::{CmdArgs, Options, Run, Spec};
use crate::aws::{iam, sts};
use crate::cache::Lookup;
use crate::config::files::write_atomically;
use crate::config::{self, FileKind};
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::session;
use crate::session::Context;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const SPEC: Spec = Spec {
    name: "rotate",
    about: "replace the access key of the profile with a new one",
    help: concat!(
        "Usage: aws-session [--profile P] rotate\n",
        "\n",
        "Creates a new access key for the profile's IAM user, writes it into the credentials\n",
        "file (~/.aws/credentials or AWS_SHARED_CREDENTIALS_FILE; only the profile's two\n",
        "values change), waits until AWS accepts it, then deletes the old key and the\n",
        "sessions cached from it. The IAM calls use the MFA session (a code is asked for\n",
        "when none is cached). A user who already has two keys is left as it is.\n",
    ),
    options: &[],
    operands: "",
    makes_session: true,
    reads_switches: true,
    parse: |a| parse(a).map(|()| Box::new(Args) as Box<dyn Run>),
};

/// `rotate` takes no arguments of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args;

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(opts, env)
    }
}

/// How long the new key may take to be accepted.
const ACCEPT_WAIT: Duration = Duration::from_secs(15);

pub fn parse(args: &mut CmdArgs) -> Result<()> {
    match args.next_arg()? {
        None => Ok(()),
        Some(arg) => Err(args.unexpected(arg)),
    }
}

pub fn run(opts: &Options, env: &Env) -> Result<()> {
    let path = credentials_path(env)?;
    let shown = path.display().to_string();
    editable(&path)?;
    // One rotate at a time per credentials file, and the profile is read under the lock:
    // a second rotate starts from the key the first one wrote, never from the one it
    // deleted.
    let _lock = lock_rotation(&path)?;
    let ctx = Context::load(&opts.settings(), env)?;
    let (profile, holders) = rotatable(&ctx, &path)?;
    let old = ctx.plan.source.credentials.clone();

    // The MFA session of these keys, whatever roles the profile assumes.
    let mut plan = ctx.plan.clone();
    plan.roles = None;
    let mfa = ctx
        .establish_plan(&plan, session::CacheReads::All)?
        .session
        .credentials;
    let call = |req| ctx.client.call(&req, &mfa);

    let id = ctx.client.send(&sts::caller_identity(), &mfa)?;
    let Some(user) = id.iam_user_name().map(str::to_string) else {
        return Err(Error::Config(format!(
            "the keys of profile \"{profile}\" are not an IAM user's ({}): only IAM user keys can be rotated",
            id.arn
        )));
    };
    let keys = ctx.client.send(&iam::access_keys(&user), &mfa)?;
    if keys.len() >= 2 {
        return Err(two_keys(&user, &keys, &old.access_key_id, &shown));
    }

    // An answer that cannot be read is one whose key nobody has seen: create_failed
    // says so, as for a lost answer.
    let new = ctx
        .client
        .send(&iam::new_access_key(&user), &mfa)
        .map_err(|e| create_failed(e, &user, &old.access_key_id, &shown))?;
    let undo_create = || {
        match call(iam::delete_access_key(&user, &new.access_key_id)) {
        Ok(_) => format!("the new key {} was deleted again", new.access_key_id),
        Err(e) => format!(
            "the new key {} could not be deleted again ({e}): delete it with aws iam delete-access-key --user-name {user} --access-key-id {}",
            new.access_key_id, new.access_key_id
        ),
    }
    };

    if let Err(e) = write_keys(&path, &holders, &old, &new) {
        return Err(e.with_note(format!("{shown} is unchanged; {}", undo_create())));
    }

    if let Err(e) = wait_accepted(&ctx, &new) {
        let state = match write_keys(&path, &holders, &new, &old) {
            Ok(()) => format!(
                "{shown} holds the old key {} again, which works; {}",
                old.access_key_id,
                undo_create()
            ),
            Err(w) => format!(
                "putting the old key back into {shown} failed too ({w}): it holds the new key {}; both keys are active at AWS",
                new.access_key_id
            ),
        };
        return Err(e.with_note(state));
    }

    if let Err(e) = call(iam::delete_access_key(&user, &old.access_key_id)) {
        return Err(e.with_note(format!(
            "{shown} holds the new key {}, which works; the old key {} is still active at AWS: delete it with aws iam delete-access-key --user-name {user} --access-key-id {}",
            new.access_key_id, old.access_key_id, old.access_key_id
        )));
    }
    let dropped = drop_cached(&ctx, &old.access_key_id);
    let others = match holders.len() {
        1 => String::new(),
        _ => format!(
            " (and in profiles {}, which held the same key)",
            holders[1..].join(", ")
        ),
    };
    crate::out::print(&format!(
        "Rotated the access key of IAM user {user} (profile \"{profile}\" in {shown}{others}): {} replaces {}, which is deleted{}.\n",
        new.access_key_id,
        old.access_key_id,
        match dropped {
            0 => String::new(),
            n => format!("; {n} cached session(s) of the old key removed"),
        }
    ))
}

/// The credentials file rotate writes (AWS_SHARED_CREDENTIALS_FILE or
/// ~/.aws/credentials).
fn credentials_path(env: &Env) -> Result<PathBuf> {
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), env.get("HOME"));
    paths.credentials.ok_or_else(|| {
        Error::Config("no credentials file: set HOME or AWS_SHARED_CREDENTIALS_FILE".into())
    })
}

/// Refuse, before any request, a credentials file rotate could not replace: a
/// symbolic link (never written through), not a regular file, or in a directory this
/// user cannot write (the new file is made beside it and renamed).
fn editable(path: &Path) -> Result<()> {
    let shown = path.display();
    let nothing = "nothing was changed and no request was sent";
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::Local(format!(
                "{shown} is a symbolic link: aws-session does not write through links; {nothing} (point AWS_SHARED_CREDENTIALS_FILE at the real file to let rotate write it)"
            )))
        }
        Ok(m) if !m.is_file() => {
            return Err(Error::Local(format!(
                "{shown} is not a regular file; {nothing} (point AWS_SHARED_CREDENTIALS_FILE at a file)"
            )))
        }
        _ => {}
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !crate::fsutil::can_write_dir(dir) {
        return Err(Error::Local(format!(
            "cannot write in {} (the new {} is made there and renamed over the old one); {nothing}: fix the directory's permissions",
            dir.display(),
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        )));
    }
    Ok(())
}

/// How long a rotate waits for another one on the same file (which may be waiting
/// for an MFA code).
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// The rotate lock: `flock` on the directory of the credentials file (stable across
/// the rename that replaces the file; no lock file is left behind).
fn lock_rotation(path: &Path) -> Result<std::fs::File> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let waiting = || {
        crate::msg::say(format_args!(
            "waiting for another aws-session rotate of {} to finish",
            path.display()
        ))
    };
    crate::fsutil::lock_dir(dir, LOCK_WAIT, waiting).map_err(|e| {
        Error::Local(format!(
            "cannot lock {} for the rotate: {e}; nothing was changed and no request was sent",
            dir.display()
        ))
    })
}

/// The user has two keys already: which one to delete, never the one in the file.
fn two_keys(user: &str, keys: &[String], in_use: &str, shown: &str) -> Error {
    let other = keys.iter().find(|k| *k != in_use);
    let advice = match other {
        Some(k) if keys.iter().any(|k| k == in_use) => format!(
            "{k} is not the key in {shown} ({in_use}): if nothing else uses it, delete it (aws iam delete-access-key --user-name {user} --access-key-id {k}) and run rotate again"
        ),
        _ => format!(
            "neither is the key in {shown} ({in_use}): check aws iam list-access-keys --user-name {user} before deleting anything"
        ),
    };
    Error::Config(format!(
        "IAM user {user} already has two access keys ({}), the most AWS allows, so no new one can be made; nothing was changed: {advice}",
        keys.join(", ")
    ))
}

/// CreateAccessKey failed. An answer that was lost (the request may have reached AWS)
/// may have made a key nobody has seen: say how to find it, and that the key in the
/// file is the one to keep.
fn create_failed(e: Error, user: &str, in_use: &str, shown: &str) -> Error {
    match e {
        Error::Aws(_) => e.with_note(format!("no key was made; {shown} is unchanged")),
        other => other.with_note(format!(
            "{shown} is unchanged and its key {in_use} works; AWS may have made a second key whose answer was lost: list the keys (aws iam list-access-keys --user-name {user}) and delete the one that is not {in_use}, if there is one"
        )),
    }
}

/// The profile whose keys are rotated and every profile of the credentials file
/// holding the same key (the chosen one first): all of them get the new key, since the
/// old one stops working. An error for keys rotate cannot write back, or a copy of
/// the key in the config file, which rotate does not edit.
fn rotatable(ctx: &Context, path: &Path) -> Result<(String, Vec<String>)> {
    let src = &ctx.plan.source;
    if let Some(why) = src.origin.no_rotation() {
        return Err(Error::Config(crate::session::source::name_the_files(
            &why, &ctx.env,
        )));
    }
    let profile = src.origin.profile().unwrap_or("default").to_string();
    if src.credentials.session_token.is_some() {
        return Err(Error::Config(format!(
            "profile \"{profile}\" holds temporary credentials (aws_session_token), not an IAM user's access key: nothing to rotate"
        )));
    }
    let key = src.credentials.access_key_id.as_str();
    let in_file = credentials_file_profiles(path);
    let holding = |set: &config::ProfileSet| -> Vec<String> {
        set.names()
            .into_iter()
            .filter(|n| set.get(n).and_then(|p| p.get("aws_access_key_id")) == Some(key))
            .map(str::to_string)
            .collect()
    };
    let file_holders = holding(&in_file);
    if !file_holders.contains(&profile) {
        return Err(Error::Config(format!(
            "the keys of profile \"{profile}\" are not in the credentials file {}: rotate writes only there; move aws_access_key_id and aws_secret_access_key of [{profile}] into it",
            path.display()
        )));
    }
    let elsewhere: Vec<String> = holding(&ctx.profiles)
        .into_iter()
        .filter(|n| !file_holders.contains(n))
        .collect();
    if !elsewhere.is_empty() {
        return Err(Error::Config(format!(
            "the key {key} of profile \"{profile}\" is also the key of profile(s) {} in the config file, which rotate does not edit: after a rotate they would hold a deleted key; move their keys into {} (or remove them) and run rotate again; nothing was changed",
            elsewhere.join(", "),
            path.display()
        )));
    }
    let mut holders = vec![profile.clone()];
    holders.extend(file_holders.into_iter().filter(|n| *n != profile));
    Ok((profile, holders))
}

/// The profiles of the credentials file alone, read as load_profiles reads it (a
/// regular file, bounded); empty when it cannot be read (the caller then refuses).
fn credentials_file_profiles(path: &Path) -> config::ProfileSet {
    let text = crate::fsutil::read_regular_file(path, crate::config::files::MAX_CONFIG_BYTES)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    config::parse(&text, FileKind::Credentials, &path.to_string_lossy())
        .map(|f| config::merge(None, Some(f)))
        .unwrap_or_default()
}

/// Set the two key values of every profile in `holders` from `from` to `to` in the
/// credentials file at `path`. The file is compared before it is written: when a
/// profile no longer holds `from` (someone changed it during the rotate), nothing is
/// written.
fn write_keys(path: &Path, holders: &[String], from: &Credentials, to: &Credentials) -> Result<()> {
    let shown = path.display().to_string();
    write_atomically(path, "AWS_SHARED_CREDENTIALS_FILE", |text| {
        let now = config::parse(text, FileKind::Credentials, &shown)
            .map(|f| config::merge(None, Some(f)))
            .map_err(Error::from)?;
        for p in holders {
            let held = now.get(p).and_then(|p| p.get("aws_access_key_id"));
            if held != Some(from.access_key_id.as_str()) {
                return Err(Error::Local(format!(
                    "the key of profile \"{p}\" in {shown} changed during the rotate (it is {} now, not {}): not overwritten",
                    held.unwrap_or("gone"),
                    from.access_key_id
                )));
            }
        }
        let mut text = text.to_string();
        for p in holders {
            let set = |text: &str, key, value| {
                config::set_property(text, FileKind::Credentials, &shown, p, key, value)
                    .map_err(Error::from)
            };
            text = set(&text, "aws_access_key_id", &to.access_key_id)?;
            text = set(&text, "aws_secret_access_key", &to.secret_access_key)?;
        }
        Ok(text)
    })
}

/// GetCallerIdentity signed with `keys` until it succeeds, for up to [`ACCEPT_WAIT`].
fn wait_accepted(ctx: &Context, keys: &Credentials) -> Result<()> {
    let start = Instant::now();
    loop {
        match ctx.client.call(&sts::get_caller_identity(), keys) {
            Ok(_) => return Ok(()),
            Err(e) if start.elapsed() >= ACCEPT_WAIT => {
                return Err(e.with_note(format!(
                    "AWS did not accept the new key {} within {} s",
                    keys.access_key_id,
                    ACCEPT_WAIT.as_secs()
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}

/// Remove the cached sessions made from `access_key_id`; how many were removed.
fn drop_cached(ctx: &Context, access_key_id: &str) -> usize {
    let Some(cache) = &ctx.cache else { return 0 };
    let Ok(entries) = cache.entries() else {
        return 0;
    };
    entries
        .iter()
        .filter(|(_, l)| matches!(l, Lookup::Found(e) if e.source_access_key_id == access_key_id))
        .filter(|(key, _)| cache.remove(key).is_ok())
        .count()
}
