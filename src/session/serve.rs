//! `--server` for `exec` and `shell`: aws-session stays the child's parent and serves
//! renewing credentials on loopback ([`credential_server`]) instead of handing it keys.
//!
//! The child must find no other credential source before the endpoint: the SDKs read
//! the environment's keys, the shared credentials file and the profile's credential
//! settings first. So the child gets no keys and no profile, AWS_SHARED_CREDENTIALS_FILE
//! points at an empty file, and AWS_CONFIG_FILE at a private copy of the chosen
//! profile's other settings (region, output, service settings) as `[default]`, with
//! the `[services X]` section its `services = X` names. The real
//! files stay reachable to aws-session itself through AWS_SESSION_CONFIG_FILE and
//! AWS_SESSION_CREDENTIALS_FILE.
//!
//! Renewal: the current session is handed out while it has more than the margin left;
//! then a role session is made anew from the cached MFA session without a code, and
//! when the MFA session itself ends a code is asked on the terminal, if there is one.
//! Otherwise the SDKs get an error that says what to do.

use super::source::is_credential_setting;
use super::{Context, Settings};
use crate::aws::credential_server::{Renewing, Served, Server};
use crate::cache::{EntryKind, Lookup};
use crate::config;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::session::{self, EnvChanges, Established};
use crate::shell;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use time::OffsetDateTime;

/// The message the SDKs show when no credentials can be had without a person.
pub const MFA_ENDED: &str = "the MFA session of aws-session has ended and there is no terminal to ask for a code: run aws-session-refresh in the aws-session shell, or restart the command with a new code";

/// The context of a `--server` run, shared with the server's threads, which renew
/// sessions with it until the child ends.
pub fn context(settings: &Settings, env: &Env) -> Result<Arc<Context>> {
    // The child's config copy goes into the private directory: one that cannot be
    // used (made by another user, say) is found before a credential_process runs or a
    // code is asked for and spent.
    shell::private_dir(env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR"))?;
    Ok(Arc::new(Context::load(settings, env)?))
}

/// Run the child `build` makes from the environment changes, serving it credentials
/// until it ends; then exit with its status. Returns only on failure before the start.
pub fn run(
    ctx: Arc<Context>,
    est: Established,
    build: impl FnOnce(&EnvChanges) -> Result<(Command, String)>,
) -> Result<()> {
    let initial = served(&est);
    let renewer = Arc::clone(&ctx);
    let server =
        Server::start(Arc::new(Renewing::new(initial, move || renew(&renewer)))).map_err(|e| {
            Error::Local(format!(
                "cannot start the credential server on 127.0.0.1: {e}"
            ))
        })?;
    server.hold_port_in_children().map_err(|e| {
        Error::Local(format!(
            "cannot hand the credential server's port on to the command: {e}"
        ))
    })?;
    let config_copy = write_config_copy(&ctx)?;
    let mut changes = ctx.child_environment(&est);
    changes.extend(server_changes(&ctx, &est, &server, &config_copy));
    let outcome =
        build(&changes).and_then(|(cmd, program)| shell::supervise::run_child(cmd, &program));
    server.stop();
    let _ = std::fs::remove_file(&config_copy);
    if let Some(path) = crate::session::stash::named_in(&changes) {
        crate::session::stash::remove(&path);
    }
    let status = outcome?;
    std::process::exit(status);
}

/// The environment of a `--server` child, applied after the usual one.
fn server_changes(
    ctx: &Context,
    est: &Established,
    server: &Server,
    config_copy: &std::path::Path,
) -> EnvChanges {
    let paths = config::file_paths(|k| ctx.env.get(k).map(str::to_string), ctx.env.get("HOME"));
    let path_str = |p: Option<PathBuf>| p.map(|p| p.to_string_lossy().into_owned());
    let mut ch: EnvChanges = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", Some(server.url())),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            Some(server.token().to_string()),
        ),
        ("AWS_SESSION_SERVER", Some(server.url())),
        (
            "AWS_CONFIG_FILE",
            Some(config_copy.to_string_lossy().into_owned()),
        ),
        ("AWS_SHARED_CREDENTIALS_FILE", Some("/dev/null".to_string())),
        ("AWS_SESSION_CONFIG_FILE", path_str(paths.config)),
        ("AWS_SESSION_CREDENTIALS_FILE", path_str(paths.credentials)),
        // What a code is needed for next: the prompt shows it.
        (
            "AWS_SESSION_EXPIRATION",
            Some(code_needed_by(ctx, est).unix_timestamp().to_string()),
        ),
    ];
    // Every source the SDKs would try before the container endpoint.
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SDK_LOAD_CONFIG",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ] {
        ch.push((name, None));
    }
    ch
}

/// When a code is needed next: the end of the MFA session the final session rides on
/// (from the cache), else the end of the session itself.
pub fn code_needed_by(ctx: &Context, est: &Established) -> OffsetDateTime {
    let mfa_end = ctx.cache.as_ref().and_then(|cache| {
        let entries = cache.entries().ok()?;
        entries
            .into_iter()
            .filter_map(|(_, lookup)| match lookup {
                Lookup::Found(e) => Some(*e),
                _ => None,
            })
            .filter(|e| {
                e.kind == EntryKind::MfaSession
                    && e.source_access_key_id == ctx.plan.source.credentials.access_key_id
                    && e.mfa_serial.is_some()
                    && e.mfa_serial == est.mfa_serial
            })
            .map(|e| e.session.expiration)
            .max()
    });
    match (&est.role, mfa_end) {
        (Some(_), Some(end)) => end.max(est.session.expiration),
        _ => est.session.expiration,
    }
}

/// A new session for the server: a role session anew from the cached MFA session, or
/// the MFA session from the cache; a code only when the MFA session has ended.
fn renew(ctx: &Context) -> std::result::Result<Served, String> {
    let reads = if ctx.plan.roles.is_some() {
        session::CacheReads::AllButFinal
    } else {
        session::CacheReads::All
    };
    match ctx.establish_without_given_code(reads) {
        Ok(est) => Ok(served(&est)),
        Err(Error::MfaCode(_)) => Err(MFA_ENDED.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn served(est: &Established) -> Served {
    Served {
        session: est.session.clone(),
        account_id: est
            .role
            .as_ref()
            .and_then(|r| r.assumed_role_arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_string),
    }
}

/// The chosen profile's settings but its credential settings, as `[default]`, in a
/// private file of the rc directory.
fn write_config_copy(ctx: &Context) -> Result<PathBuf> {
    let name = ctx
        .settings
        .profile
        .as_ref()
        .map(|(p, _)| p.as_str())
        .unwrap_or("default");
    let text = config_copy(&ctx.profiles, name);
    let dir = shell::private_dir(ctx.env.get("XDG_RUNTIME_DIR"), ctx.env.get("TMPDIR"))?;
    shell::write_private(&dir.join(format!("config-{}", std::process::id())), &text)
}

/// The text of the child's config file: profile `name`'s settings but its credential
/// settings, as `[default]`, and every section a setting of it names (`services = X`
/// selects `[services X]`), so that the child's SDKs see what the profile means.
fn config_copy(profiles: &config::ProfileSet, name: &str) -> String {
    let mut text = format!(
        "# aws-session --server: the settings of profile \"{name}\" without its credentials,\n# so that the SDKs take their credentials from the server. Removed when the command ends.\n[default]\n"
    );
    let Some(profile) = profiles.get(name) else {
        return text;
    };
    let kept = profile
        .properties()
        .filter(|(key, _)| !is_credential_setting(key) && !key.starts_with("sso_"));
    write_properties(&mut text, profile, kept);
    let services = profile.get("services").filter(|s| !s.is_empty());
    if let Some((svc, section)) = services.and_then(|s| Some((s, profiles.services(s)?))) {
        text.push_str(&format!("[services {svc}]\n"));
        write_properties(&mut text, section, section.properties());
    }
    text
}

/// `key = value` lines (and indented sub-properties) of `section`, for `keys`.
fn write_properties<'a>(
    text: &mut String,
    section: &config::Profile,
    keys: impl Iterator<Item = (&'a str, &'a str)>,
) {
    for (key, value) in keys {
        if value.contains('\n') {
            text.push_str(&format!("{key} =\n"));
            for (sub, v) in section.sub_properties(key) {
                text.push_str(&format!("  {sub} = {v}\n"));
            }
        } else {
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credential_setting_is_left_in_the_copy() {
        for key in [
            "aws_access_key_id",
            "role_arn",
            "credential_process",
            "mfa_serial",
        ] {
            assert!(is_credential_setting(key), "{key}");
        }
        assert!(!is_credential_setting("region"));
    }

    #[test]
    fn the_copy_keeps_the_services_section_the_profile_names() {
        use crate::config::{merge, parse, FileKind};
        let text = "[profile dev]\nregion = eu-west-1\nservices = local\nca_bundle = /etc/ca.pem\nmfa_serial = arn:x\ns3 =\n  addressing_style = path\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:5000\n[services other]\niam =\n  endpoint_url = http://127.0.0.1:1\n";
        let set = merge(Some(parse(text, FileKind::Config, "c").unwrap()), None);
        let copy = config_copy(&set, "dev");
        let reread = merge(Some(parse(&copy, FileKind::Config, "copy").unwrap()), None);
        let default = reread.get("default").unwrap();
        assert_eq!(default.get("services"), Some("local"));
        assert_eq!(default.get("ca_bundle"), Some("/etc/ca.pem"));
        assert_eq!(default.get("mfa_serial"), None);
        assert_eq!(
            default.sub_properties("s3"),
            vec![("addressing_style", "path")]
        );
        let local = reread.services("local").map(|s| s.sub_properties("sts"));
        assert_eq!(local, Some(vec![("endpoint_url", "http://127.0.0.1:5000")]));
        assert!(reread.services("other").is_none());
        assert!(reread.warnings().is_empty(), "{:?}", reread.warnings());
    }
}
