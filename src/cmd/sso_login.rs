//! `login` and `logout` of an IAM Identity Center profile, as `aws sso login` /
//! `aws sso logout` of the AWS CLI v2 do them, into the CLI's own cache:
//!
//! 1. The client registration the CLI cached for this sso-session (its file name is the
//!    CLI's registration key) is reused while it has more than 15 minutes left, else a
//!    new one is registered and cached there.
//! 2. An sso-session profile signs in with the authorization-code flow and PKCE: the
//!    browser at `{oidc}/authorize` (state and S256 challenge), the code back on a
//!    one-shot loopback listener, CreateToken with the verifier. `login --remote` and
//!    legacy profiles use the device-code flow: the verification URL and code shown,
//!    CreateToken polled at the service's interval (SlowDown adds 5 s).
//! 3. The token is written to `~/.aws/sso/cache/<sha1>.json` (0600, atomically).
//!
//! `logout`: the portal's Logout, then the token and the role credentials cached from
//! it are deleted.
//!
//! `exec` and `shell` on a terminal offer to sign in right there when the sign-in has
//! ended ([`establish_or_sign_in`]); without a terminal the error says what to run.

use crate::aws::callback::CallbackServer;
use crate::aws::client::Client;
use crate::aws::dpop::random_bytes;
use crate::aws::endpoint::{sso_base, SsoService};
use crate::aws::signin::{self, Callback};
use crate::aws::sso_oidc::{self, ClientKind, Grant, Registration, TokenAnswer};
use crate::aws::sso_portal;
use crate::cache::sso_token::{self, read_json, write_json, CachedRegistration, SsoToken};
use crate::cache::Lookup;
use crate::config::ProfileSet;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::msg;
use crate::session::cached::existing_cache;
use crate::session::context::{make_client, Context};
use crate::session::{self, source::sso, source::sso::SsoProfile, Established, Origin};
use crate::shell;
use crate::timefmt::iso8601_utc;
use crate::tty::Terminal;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// [`Context::establish`], and when the IAM Identity Center sign-in it needs has ended
/// (an error whose advice is to log in) and a person is at the terminal: the error,
/// an offer to sign in now, and on yes the sign-in and a second try.
pub(crate) fn establish_or_sign_in(ctx: &Context) -> Result<Established> {
    let first = ctx.establish();
    let (Err(e), Origin::Sso(sso)) = (&first, &ctx.plan.source.origin) else {
        return first;
    };
    if e.exit_code() != crate::error::exit::CONFIG || !e.to_string().ends_with(&sso.login_again()) {
        return first;
    }
    let Ok(mut tty) = Terminal::open() else {
        return first;
    };
    tty.print(&format!(
        "aws-session: {e}\nSign in to IAM Identity Center now? [Y/n] "
    ))?;
    let answer = tty.read_line("while waiting for an answer", &|_| None)?;
    let yes = matches!(
        answer.as_deref().map(str::trim),
        Some("" | "y" | "Y" | "yes" | "Yes")
    );
    if !yes {
        return first;
    }
    login(sso, false, LOGIN_TIMEOUT_SECS, &ctx.env, &ctx.profiles)?;
    ctx.establish()
}

/// How long a sign-in offered by `exec` or `shell` waits for the browser.
const LOGIN_TIMEOUT_SECS: u64 = 600;

/// `login [--remote]` of IAM Identity Center profile `sso`.
pub fn login(
    sso: &SsoProfile,
    remote: bool,
    timeout: u64,
    env: &Env,
    profiles: &ProfileSet,
) -> Result<()> {
    let path = sso::token_path(env, sso)?;
    let endpoints = session::endpoint_settings(env, profiles, Some(&sso.profile));
    let oidc = sso_base(SsoService::Oidc, &endpoints, &sso.region)?;
    let client = make_client(env, endpoints)?;
    let pkce = sso.session_name.is_some() && !remote;
    let reg = registration(&client, env, sso, pkce)?;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let answer = if pkce {
        authorization_code(&client, &oidc, sso, &reg, deadline, env)?
    } else {
        device_code(&client, sso, &reg, deadline, remote, env)?
    };
    let now = OffsetDateTime::now_utc();
    let token = SsoToken::new(
        &sso.start_url,
        &sso.region,
        &answer.access_token,
        now + time::Duration::seconds(answer.expires_in),
        (&reg.client_id, &reg.client_secret, reg.expires_at),
        answer.refresh_token.as_deref(),
    );
    write_json(&path, &token.to_json()).map_err(|e| {
        Error::Local(format!(
            "cannot write the IAM Identity Center token {}: {e}; fix the directory's permissions and run aws-session --profile {} login again",
            path.display(),
            sso.profile
        ))
    })?;
    let renews = if answer.refresh_token.is_some() {
        "; renewed with its refresh token from then on"
    } else {
        " (no refresh token: sign in again then)"
    };
    msg::say(format_args!(
        "signed in to IAM Identity Center ({}) for profile \"{}\" until {}{renews}",
        sso.start_url,
        sso.profile,
        iso8601_utc(now + time::Duration::seconds(answer.expires_in))
    ));
    Ok(())
}

/// The cached client registration of `sso` for the flow (`pkce`), or a new one,
/// cached where the CLI looks for it.
fn registration(client: &Client, env: &Env, sso: &SsoProfile, pkce: bool) -> Result<Registration> {
    let dir = sso_token::cache_dir(env.get("HOME"))
        .ok_or_else(|| Error::Config("no IAM Identity Center token cache: set HOME".into()))?;
    let path = dir.join(sso_token::registration_file_name(
        &sso.start_url,
        &sso.region,
        sso.scopes.as_deref(),
        sso.session_name.as_deref(),
    ));
    let now = OffsetDateTime::now_utc();
    let cached = read_json(&path)
        .ok()
        .flatten()
        .and_then(|t| CachedRegistration::parse(&t))
        .filter(|r| {
            r.auth_code == pkce
                && (r.expires_at - now).whole_seconds() > sso_oidc::REFRESH_WINDOW_SECS
        });
    if let Some(r) = cached {
        return Ok(Registration {
            client_id: r.client_id,
            client_secret: r.client_secret,
            expires_at: r.expires_at,
        });
    }
    let scopes = sso.scopes.clone().unwrap_or_default();
    let name = sso_oidc::client_name(sso.session_name.as_deref(), now);
    let kind = if pkce {
        ClientKind::AuthCode {
            issuer: &sso.start_url,
        }
    } else {
        ClientKind::Device
    };
    let req = sso_oidc::register_client(&name, &scopes, kind);
    let body = client.sso_call(
        SsoService::Oidc,
        &sso.region,
        req.action,
        req.path,
        Some(&req.body),
        None,
    )?;
    let reg = sso_oidc::parse_register_client(&body)?;
    let mut listed: Vec<&str> = scopes.iter().map(String::as_str).collect();
    if pkce && listed.is_empty() {
        listed.push(sso_oidc::DEFAULT_SCOPE);
    }
    let cached = CachedRegistration {
        client_id: reg.client_id.clone(),
        client_secret: reg.client_secret.clone(),
        expires_at: reg.expires_at,
        auth_code: pkce,
    };
    if let Err(e) = write_json(&path, &cached.to_json(&listed)) {
        msg::note(format_args!(
            "cannot cache the client registration {}: {e}",
            path.display()
        ));
    }
    Ok(reg)
}

fn no_random() -> Error {
    Error::Local("the system gave no random bytes for the sign-in".into())
}

/// The authorization-code flow with PKCE: browser, loopback callback, CreateToken.
fn authorization_code(
    client: &Client,
    oidc: &str,
    sso: &SsoProfile,
    reg: &Registration,
    deadline: Instant,
    env: &Env,
) -> Result<TokenAnswer> {
    let verifier = signin::code_verifier(&random_bytes::<64>().ok_or_else(no_random)?);
    let state = signin::uuid4(random_bytes::<16>().ok_or_else(no_random)?);
    let server = CallbackServer::bind()?;
    let redirect = server.redirect_uri();
    let scopes = sso.scopes.clone().unwrap_or_default();
    let url = sso_oidc::authorize_url(
        oidc,
        &reg.client_id,
        &redirect,
        &state,
        &signin::code_challenge(&verifier),
        &scopes,
    );
    msg::say(format_args!(
        "opening IAM Identity Center's sign-in page in your browser; if it does not open, open this URL (or use login --remote):\n\n{url}\n"
    ));
    if let Err(e) = shell::open_browser(&url, env.get("BROWSER")) {
        msg::note(format_args!("{e}; open the URL above yourself"));
    }
    let code = match server.wait(deadline, &state, None)? {
        Callback::Code { code, state: got } if got == state => code,
        Callback::Code { .. } => {
            return Err(Error::Network(
                "the sign-in answer's state does not match this sign-in: nothing was written; run aws-session login again".into(),
            ))
        }
        Callback::Refused(why) => {
            return Err(Error::Network(format!(
                "the IAM Identity Center sign-in did not complete ({why}): nothing was written; run aws-session --profile {} login again",
                sso.profile
            )))
        }
    };
    client.restart_deadline();
    let grant = Grant::AuthCode {
        code: &code,
        redirect_uri: &redirect,
        verifier: &verifier,
    };
    let req = sso_oidc::create_token(&reg.client_id, &reg.client_secret, grant);
    client
        .sso_call(
            SsoService::Oidc,
            &sso.region,
            req.action,
            req.path,
            Some(&req.body),
            None,
        )
        .and_then(|b| sso_oidc::parse_create_token(&b))
        .map_err(|e| {
            e.with_note(format!(
                "nothing was written; run aws-session --profile {} login again",
                sso.profile
            ))
        })
}

/// The device-code flow: the URL and code shown, CreateToken polled until approved,
/// denied, expired or `deadline`.
fn device_code(
    client: &Client,
    sso: &SsoProfile,
    reg: &Registration,
    deadline: Instant,
    remote: bool,
    env: &Env,
) -> Result<TokenAnswer> {
    let req =
        sso_oidc::start_device_authorization(&reg.client_id, &reg.client_secret, &sso.start_url);
    let body = client.sso_call(
        SsoService::Oidc,
        &sso.region,
        req.action,
        req.path,
        Some(&req.body),
        None,
    )?;
    let auth = sso_oidc::parse_device_authorization(&body)?;
    let url = auth
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&auth.verification_uri);
    msg::say(format_args!(
        "to sign in to IAM Identity Center, open this URL on any device and check that it shows the code {}:\n\n{url}\n",
        auth.user_code
    ));
    if !remote {
        if let Err(e) = shell::open_browser(url, env.get("BROWSER")) {
            msg::note(format_args!("{e}; open the URL above yourself"));
        }
    }
    let ends = Instant::now() + Duration::from_secs(u64::try_from(auth.expires_in).unwrap_or(600));
    let deadline = deadline.min(ends);
    let mut interval = auth.interval;
    let again = format!("run aws-session --profile {} login again", sso.profile);
    loop {
        client.restart_deadline();
        let req = sso_oidc::create_token(
            &reg.client_id,
            &reg.client_secret,
            Grant::DeviceCode(&auth.device_code),
        );
        match client
            .sso_call(SsoService::Oidc, &sso.region, req.action, req.path, Some(&req.body), None)
            .and_then(|b| sso_oidc::parse_create_token(&b))
        {
            Ok(t) => return Ok(t),
            Err(Error::Aws(a)) if a.code == "AuthorizationPendingException" => {}
            Err(Error::Aws(a)) if a.code == "SlowDownException" => interval += sso_oidc::SLOW_DOWN_SECS,
            Err(Error::Aws(a)) if a.code == "ExpiredTokenException" => {
                return Err(Error::Network(format!(
                    "the sign-in code {} expired before it was approved: nothing was written; {again}",
                    auth.user_code
                )))
            }
            Err(Error::Aws(a)) if a.code == "AccessDeniedException" => {
                return Err(Error::Network(format!(
                    "the sign-in with code {} was denied: nothing was written; {again}",
                    auth.user_code
                )))
            }
            Err(e) => return Err(e.with_note(format!("nothing was written; {again}"))),
        }
        if Instant::now() + Duration::from_secs(interval) >= deadline {
            return Err(Error::Network(format!(
                "the sign-in with code {} was not approved in time: nothing was written; {again}",
                auth.user_code
            )));
        }
        std::thread::sleep(Duration::from_secs(interval));
    }
}

/// `logout` of IAM Identity Center profile `sso`: the portal's Logout (a failure is a
/// note), then the token and the role credentials cached from it are deleted.
pub fn logout(sso: &SsoProfile, env: &Env, profiles: &ProfileSet) -> Result<()> {
    let Some((path, token)) = sso::read_token(env, sso)? else {
        return crate::out::print(&format!(
            "aws-session: profile \"{}\" is not signed in to IAM Identity Center; nothing to remove\n",
            sso.profile
        ));
    };
    let endpoints = session::endpoint_settings(env, profiles, Some(&sso.profile));
    let client = make_client(env, endpoints)?;
    let req = sso_portal::logout();
    if let Err(e) = client.sso_call(
        SsoService::Portal,
        &sso.region,
        req.action,
        &req.path_and_query,
        Some(""),
        Some(token.access_token()),
    ) {
        msg::note(format_args!(
            "IAM Identity Center's Logout failed ({e}); removing the token here anyway"
        ));
    }
    std::fs::remove_file(&path).map_err(|e| {
        Error::Local(format!(
            "cannot remove the IAM Identity Center token {}: {e}",
            path.display()
        ))
    })?;
    let mut removed = 0;
    if let Some(cache) = existing_cache(env)? {
        let _lock = cache.lock(Duration::from_secs(10), || {}).ok();
        let marker = format!("sso:{}", sso.identity());
        for (key, lookup) in cache.entries()? {
            if matches!(&lookup, Lookup::Found(e) if e.source_access_key_id == marker) {
                cache.remove_listed(&key)?;
                removed += 1;
            }
        }
    }
    crate::out::print(&format!(
        "aws-session: signed out of IAM Identity Center ({}): removed the token {} and {removed} cached role credential{}\n",
        sso.start_url,
        path.display(),
        if removed == 1 { "" } else { "s" }
    ))
}
