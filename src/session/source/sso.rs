//! Credentials of an IAM Identity Center (SSO) profile, as the AWS CLI v2 configures
//! them: `sso_session = NAME` with a `[sso-session NAME]` section (`sso_start_url`,
//! `sso_region`, `sso_registration_scopes`), or the legacy form (`sso_start_url` and
//! `sso_region` in the profile); `sso_account_id` + `sso_role_name` name the role.
//!
//! The sign-in's token is the CLI's (`~/.aws/sso/cache`, [`crate::cache::sso_token`]);
//! with less than 15 minutes left it is refreshed with its refresh token and written
//! back in place. The role's credentials come from the portal's GetRoleCredentials.
//! The caller holds the session cache lock, so parallel runs make one refresh and one
//! GetRoleCredentials between them.

use crate::aws::client::Client;
use crate::aws::endpoint::SsoService;
use crate::aws::{sso_oidc, sso_portal};
use crate::cache::sso_token::{self, read_json, write_json, ReadFailure, SsoToken};
use crate::config::ProfileSet;
use crate::credentials::SessionCredentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::msg;
pub use crate::session::sso_profile::{is_sso, resolve, SsoProfile};
use crate::timefmt::iso8601_utc;
use std::path::PathBuf;
use time::OffsetDateTime;

/// The IAM Identity Center source.
pub const KIND: super::Kind = super::Kind {
    settings: &[
        "sso_session",
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
    ],
    // Role credentials: their key id names no long-term keys.
    long_term_keys: false,
    child_keeps_keys: false,
    no_rotation: Some(
        "profile \"{profile}\" signs in to IAM Identity Center and has no access key to rotate",
    ),
};

/// A token with less than this left is not used for a call (it could end on the way).
const MIN_USABLE_SECS: i64 = 60;

/// The SSO settings of profile `name` (which [`is_sso`]), as [`resolve`] checks them.
pub fn sso_profile(profiles: &ProfileSet, name: &str) -> Result<SsoProfile> {
    // Callers have found the profile already (it is one [`is_sso`] says yes to).
    let p = profiles.get(name).ok_or_else(|| {
        Error::Config(format!(
            "profile \"{name}\" not found in the AWS config file"
        ))
    })?;
    resolve(profiles, p).map_err(Error::Config)
}

/// The token file of `sso`.
pub fn token_path(env: &Env, sso: &SsoProfile) -> Result<PathBuf> {
    sso_token::cache_dir(env.get("HOME"))
        .map(|d| {
            d.join(sso_token::token_file_name(
                sso.session_name.as_deref(),
                &sso.start_url,
            ))
        })
        .ok_or_else(|| {
            Error::Config(
                "no IAM Identity Center token cache: HOME is not set to an absolute path; set HOME"
                    .into(),
            )
        })
}

/// The cached token of `sso`, as it is; `Ok(None)` when there is none.
pub fn read_token(env: &Env, sso: &SsoProfile) -> Result<Option<(PathBuf, SsoToken)>> {
    let path = token_path(env, sso)?;
    let shown = path.display().to_string();
    let text = match read_json(&path) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(ReadFailure::Unreadable(why)) => {
            return Err(Error::Local(format!(
                "cannot read the IAM Identity Center token {shown}: {why}; fix it or {}",
                sso.login_again()
            )))
        }
    };
    let token = SsoToken::parse(&text).map_err(|why| {
        Error::Local(format!(
            "the IAM Identity Center token {shown} cannot be used: {why}; {}",
            sso.login_again()
        ))
    })?;
    Ok(Some((path, token)))
}

/// The token of `sso`, refreshed first when less than 15 minutes are left (written
/// back in place; a refresh that fails while the token still lasts is a note).
pub fn fresh_token(client: &Client, env: &Env, sso: &SsoProfile) -> Result<SsoToken> {
    let Some((path, mut token)) = read_token(env, sso)? else {
        return Err(Error::Config(format!(
            "profile \"{}\" is not signed in to IAM Identity Center ({}): {}",
            sso.profile,
            sso.start_url,
            sso.login_again()
        )));
    };
    let shown = path.display().to_string();
    let now = OffsetDateTime::now_utc();
    let expires = token.expires_at().unwrap_or(now);
    let left = (expires - now).whole_seconds();
    if left > sso_oidc::REFRESH_WINDOW_SECS {
        msg::debug(format_args!("sso: {shown}: {left} s left, no refresh"));
        return Ok(token);
    }
    let ended = |why: &str| {
        Error::Config(format!(
            "the IAM Identity Center sign-in of profile \"{}\" ended at {}{why}: {}",
            sso.profile,
            iso8601_utc(expires),
            sso.login_again()
        ))
    };
    let refresh = match (token.refresh_token(), token.registration()) {
        (Some(r), Some((id, secret, reg_expires))) if reg_expires > now => {
            Ok((r.to_string(), id.to_string(), secret.to_string()))
        }
        (Some(_), Some((_, _, reg_expires))) => Err(format!(
            " and its client registration expired at {}, so it cannot be refreshed",
            iso8601_utc(reg_expires)
        )),
        _ => Err(" and it has no refresh token".to_string()),
    };
    let (refresh_token, id, secret) = match refresh {
        Ok(r) => r,
        Err(_) if left > MIN_USABLE_SECS => return Ok(token),
        Err(why) => return Err(ended(&why)),
    };
    msg::debug(format_args!("sso: {shown}: {left} s left, refreshing"));
    let req = sso_oidc::create_token(&id, &secret, sso_oidc::Grant::Refresh(&refresh_token));
    let answer = client
        .sso_call(
            SsoService::Oidc,
            &sso.region,
            req.action,
            req.path,
            Some(&req.body),
            None,
        )
        .and_then(|body| sso_oidc::parse_create_token(&body));
    let answer = match answer {
        Ok(a) => a,
        Err(e) if left > MIN_USABLE_SECS => {
            msg::note(format_args!(
                "the IAM Identity Center token of profile \"{}\" could not be refreshed ({e}); using it for the {left} s it has left",
                sso.profile
            ));
            return Ok(token);
        }
        Err(Error::Aws(a)) => {
            return Err(ended(&format!(
                " and IAM Identity Center refused to refresh it ({}: {})",
                a.code,
                a.message.trim()
            )))
        }
        Err(e) => return Err(e),
    };
    let now = OffsetDateTime::now_utc();
    token.refreshed(
        &answer.access_token,
        now + time::Duration::seconds(answer.expires_in),
        answer.refresh_token.as_deref(),
    );
    write_json(&path, &token.to_json()).map_err(|e| {
        Error::Local(format!(
            "cannot write the refreshed IAM Identity Center token {shown}: {e}; fix the directory's permissions or {}",
            sso.login_again()
        ))
    })?;
    Ok(token)
}

/// GetRoleCredentials of `sso`'s role with `token`.
pub fn role_credentials(
    client: &Client,
    sso: &SsoProfile,
    token: &SsoToken,
) -> Result<SessionCredentials> {
    let (account, role) = sso.role()?;
    let req = sso_portal::get_role_credentials(account, role);
    let body = client
        .sso_call(
            SsoService::Portal,
            &sso.region,
            req.action,
            &req.path_and_query,
            None,
            Some(token.access_token()),
        )
        .map_err(|e| match e {
            Error::Aws(a) if a.status == 401 || a.code == "UnauthorizedException" => {
                Error::Config(format!(
                    "IAM Identity Center no longer accepts the sign-in of profile \"{}\" ({}: {}): {}",
                    sso.profile,
                    a.code,
                    a.message.trim(),
                    sso.login_again()
                ))
            }
            Error::Aws(mut a) if matches!(a.status, 403 | 404) => {
                a.message = format!(
                    "{} [the sign-in of profile \"{}\" may not use role {role} in account {account}: check sso_account_id and sso_role_name; aws-session --profile {} sso-profiles lists the ones it may use]",
                    a.message.trim(),
                    sso.profile,
                    sso.profile
                );
                Error::Aws(a)
            }
            other => other,
        })?;
    sso_portal::parse_role_credentials(&body)
}
