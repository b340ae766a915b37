//! An IAM Identity Center profile's settings (pure): which profiles are SSO profiles,
//! and their sso-session or legacy settings resolved and checked. Kept apart from the
//! SSO source ([`crate::session::source::sso`]) so that role planning can use it.

use crate::config::{Profile, ProfileSet};
use crate::error::{Error, Result};

/// An SSO profile's settings, resolved (sso-session or legacy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    /// The profile.
    pub profile: String,
    /// The sso-session; `None` for a legacy profile.
    pub session_name: Option<String>,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes`, split at commas; `None` when not set.
    pub scopes: Option<Vec<String>>,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
}

impl SsoProfile {
    /// What the token is cached under: the session name, else the start URL.
    pub fn identity(&self) -> &str {
        self.session_name.as_deref().unwrap_or(&self.start_url)
    }

    /// The account and role, or the error that says which setting is missing.
    pub fn role(&self) -> Result<(&str, &str)> {
        match (self.account_id.as_deref(), self.role_name.as_deref()) {
            (Some(a), Some(r)) => Ok((a, r)),
            _ => Err(Error::Config(format!(
                "profile \"{}\" signs in to IAM Identity Center but names no role: add sso_account_id and sso_role_name (aws-session --profile {} sso-profiles lists the ones you may use)",
                self.profile, self.profile
            ))),
        }
    }

    /// The advice every "sign in again" error ends with.
    pub fn login_again(&self) -> String {
        format!("run aws-session --profile {} login", self.profile)
    }
}

fn value<'a>(p: &'a Profile, key: &str) -> Option<&'a str> {
    p.get(key).map(str::trim).filter(|v| !v.is_empty())
}

/// Whether profile `p` gets its credentials from IAM Identity Center.
pub fn is_sso(p: &Profile) -> bool {
    [
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    ]
    .iter()
    .any(|k| value(p, k).is_some())
}

/// The SSO settings of profile `p` (pure), checked as the SDKs check them (the
/// assume-role conformance suite's SSO cases): the sso-session must exist and hold
/// `sso_start_url` and `sso_region` (a profile that repeats them must agree); a legacy
/// profile holds both itself; `sso_account_id` and `sso_role_name` go together.
pub fn resolve(profiles: &ProfileSet, p: &Profile) -> std::result::Result<SsoProfile, String> {
    let name = p.name();
    let (session_name, start_url, region, scopes) = match value(p, "sso_session") {
        Some(s) => {
            let sec = profiles.sso_session(s).ok_or_else(|| {
                format!(
                    "sso-session named `{s}` (referenced by profile `{name}`) was not found: add a [sso-session {s}] section with sso_start_url and sso_region"
                )
            })?;
            let need = |k: &str| {
                match (value(sec, k), value(p, k)) {
                (Some(v), _) => Ok(v.to_string()),
                (None, Some(_)) => Err(format!(
                    "profile `{name}`: `{k}` can only be specified in the [sso-session] config when a session name is given: move it to [sso-session {s}]"
                )),
                (None, None) => Err(format!("[sso-session {s}] has no {k}: add it")),
            }
            };
            let (url, region) = (need("sso_start_url")?, need("sso_region")?);
            for (k, v) in [("sso_start_url", &url), ("sso_region", &region)] {
                if let Some(mine) = value(p, k).filter(|mine| mine != v) {
                    return Err(format!(
                        "profile `{name}` has {k} = {mine}, but its sso-session `{s}` has {v}: remove it from the profile"
                    ));
                }
            }
            let scopes = value(sec, "sso_registration_scopes").map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            });
            (Some(s.to_string()), url, region, scopes)
        }
        None => {
            let need = |k: &str| {
                value(p, k).map(str::to_string).ok_or_else(|| {
                    format!(
                        "profile `{name}` uses IAM Identity Center but has no {k}: add it, or sso_session naming an [sso-session] section"
                    )
                })
            };
            (None, need("sso_start_url")?, need("sso_region")?, None)
        }
    };
    let account_id = value(p, "sso_account_id").map(str::to_string);
    let role_name = value(p, "sso_role_name").map(str::to_string);
    match (&account_id, &role_name) {
        (None, Some(_)) => {
            return Err(format!(
            "profile `{name}`: if `sso_role_name` is set, then `sso_account_id` must also be set"
        ))
        }
        (Some(_), None) => {
            return Err(format!(
            "profile `{name}`: if `sso_account_id` is set, then `sso_role_name` must also be set"
        ))
        }
        _ => {}
    }
    Ok(SsoProfile {
        profile: name.to_string(),
        session_name,
        start_url,
        region,
        scopes,
        account_id,
        role_name,
    })
}
