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
    let ctx = Context::load(&opts.settings(), env)?;
    let (profile, path) = rotatable(&ctx, env)?;
    let shown = path.display().to_string();
    let old = ctx.plan.source.credentials.clone();

    // The MFA session of these keys, whatever roles the profile assumes.
    let mut plan = ctx.plan.clone();
    plan.roles = None;
    let mfa = ctx
        .establish_plan(&plan, session::CacheReads::All)?
        .session
        .credentials;
    let call = |req| ctx.client.call(&req, &mfa);

    let id = sts::parse_get_caller_identity(&call(sts::get_caller_identity())?)
        .map_err(|e| e.into_error("GetCallerIdentity"))?;
    let Some(user) = id.iam_user_name().map(str::to_string) else {
        return Err(Error::Config(format!(
            "the keys of profile \"{profile}\" are not an IAM user's ({}): only IAM user keys can be rotated",
            id.arn
        )));
    };
    let keys = iam::parse_list_access_keys(&call(iam::list_access_keys(&user))?)
        .map_err(|e| e.into_error("ListAccessKeys"))?;
    if keys.len() >= 2 {
        let other: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| *k != old.access_key_id)
            .collect();
        return Err(Error::Config(format!(
            "IAM user {user} already has two access keys ({}), the most AWS allows, so no new one can be made; nothing was changed: delete the one not in use (aws iam delete-access-key --user-name {user} --access-key-id {}) and run rotate again",
            keys.join(", "),
            other.first().copied().unwrap_or("KEY")
        )));
    }

    let new = iam::parse_create_access_key(&call(iam::create_access_key(&user))?)
        .map_err(|e| e.into_error("CreateAccessKey"))?;
    let undo_create = || {
        match call(iam::delete_access_key(&user, &new.access_key_id)) {
        Ok(_) => format!("the new key {} was deleted again", new.access_key_id),
        Err(e) => format!(
            "the new key {} could not be deleted again ({e}): delete it with aws iam delete-access-key --user-name {user} --access-key-id {}",
            new.access_key_id, new.access_key_id
        ),
    }
    };

    if let Err(e) = write_keys(&path, &profile, &new) {
        return Err(e.with_note(format!(
            "{shown} still holds the old key {}, which works; {}",
            old.access_key_id,
            undo_create()
        )));
    }

    if let Err(e) = wait_accepted(&ctx, &new) {
        let state = match write_keys(&path, &profile, &old) {
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
    crate::out::print(&format!(
        "Rotated the access key of IAM user {user} (profile \"{profile}\" in {shown}): {} replaces {}, which is deleted{}.\n",
        new.access_key_id,
        old.access_key_id,
        match dropped {
            0 => String::new(),
            n => format!("; {n} cached session(s) of the old key removed"),
        }
    ))
}

/// The profile whose keys are rotated and the credentials file that holds them; an
/// error for keys we cannot write back.
fn rotatable(ctx: &Context, env: &Env) -> Result<(String, PathBuf)> {
    let src = &ctx.plan.source;
    if let Some(why) = src.origin.no_rotation() {
        return Err(Error::Config(crate::session::source::name_the_files(
            &why, env,
        )));
    }
    let profile = src.origin.profile().unwrap_or("default").to_string();
    if src.credentials.session_token.is_some() {
        return Err(Error::Config(format!(
            "profile \"{profile}\" holds temporary credentials (aws_session_token), not an IAM user's access key: nothing to rotate"
        )));
    }
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), env.get("HOME"));
    let Some(path) = paths.credentials else {
        return Err(Error::Config(
            "no credentials file: set HOME or AWS_SHARED_CREDENTIALS_FILE".into(),
        ));
    };
    // Read as load_profiles reads it (a regular file, bounded); the profile's keys were
    // found there, so a failure here leaves `in_file` empty and the run is refused below.
    let text = crate::fsutil::read_regular_file(&path, crate::config::files::MAX_CONFIG_BYTES)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let in_file = config::parse(&text, FileKind::Credentials, &path.to_string_lossy())
        .ok()
        .and_then(|f| {
            config::merge(None, Some(f))
                .get(&profile)
                .and_then(|p| p.get("aws_access_key_id"))
                .map(str::to_string)
        });
    if in_file.as_deref() != Some(src.credentials.access_key_id.as_str()) {
        return Err(Error::Config(format!(
            "the keys of profile \"{profile}\" are not in the credentials file {}: rotate writes only there; move aws_access_key_id and aws_secret_access_key of [{profile}] into it",
            path.display()
        )));
    }
    Ok((profile, path))
}

/// Set `profile`'s two key values in the credentials file at `path` to `keys`.
fn write_keys(path: &Path, profile: &str, keys: &Credentials) -> Result<()> {
    let shown = path.display().to_string();
    write_atomically(path, |text| {
        let set = |text: &str, key, value| {
            config::set_property(text, FileKind::Credentials, &shown, profile, key, value)
                .map_err(Error::from)
        };
        let text = set(text, "aws_access_key_id", &keys.access_key_id)?;
        set(&text, "aws_secret_access_key", &keys.secret_access_key)
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
