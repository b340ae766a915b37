//! `login [--remote]`: sign in through the browser, without access keys (AWS Sign-In,
//! as `aws login` of the AWS CLI v2 does), and make the profile use the sign-in.
//!
//! 1. Refuse a profile that has other credentials, and find the files to write, before
//!    anything is asked or sent.
//! 2. A new P-256 DPoP key, a PKCE verifier and a random state.
//! 3. Same device: a one-shot listener on 127.0.0.1 and the browser ($BROWSER, else
//!    `open` on macOS, xdg-open elsewhere) at the authorization URL; the code comes
//!    back to the listener.
//!    `--remote`: the URL is printed and the code shown by the sign-in page is pasted.
//! 4. The state is checked, the code traded for a token (`CreateOAuth2Token`, once).
//! 5. The token is written to the AWS CLI's cache (same file name and format, 0600,
//!    atomically), then `login_session = <ARN>` into the profile (comments kept).

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use crate::aws::callback::{self, CallbackServer};
use crate::aws::dpop::{random_bytes, DpopKey};
use crate::aws::signin::{self, Callback, LoginToken};
use crate::config::files::{load_profiles, write_atomically};
use crate::config::{self, FileKind};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::fsutil::{write_atomic, AtSymlink};
use crate::session::context::make_client;
use crate::session::{self, source::login, source::sso};
use crate::shell;
use crate::timefmt::iso8601_utc;
use crate::tty::Terminal;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

pub const SPEC: Spec = Spec {
    name: "login",
    about: "sign in through the browser, without access keys",
    help: concat!(
        "Usage: aws-session [--profile P] login [--remote]\n",
        "\n",
        "Signs in with the AWS console's sign-in (password and MFA in the browser), as\n",
        "`aws login` does, and makes profile P use it (login_session = <your ARN>). Its\n",
        "credentials last 15 minutes and are renewed by aws-session for up to 12 hours;\n",
        "then sign in again. The token is kept where the AWS CLI v2 keeps it\n",
        "(~/.aws/login/cache, AWS_LOGIN_CACHE_DIRECTORY), so either tool can use it.\n",
        "\n",
        "On an IAM Identity Center profile (sso_session, or legacy sso_start_url) it\n",
        "signs in there, as `aws sso login` does, into ~/.aws/sso/cache: in the browser\n",
        "(authorization code with PKCE); --remote and legacy profiles use a device\n",
        "code (open the printed URL on any device).\n",
        "\n",
        "Options:\n",
        "      --remote   no browser here (SSH): open the printed URL on any device and\n",
        "                 paste the code it shows\n",
        "\n",
        "The browser is $BROWSER, else open on macOS, xdg-open elsewhere.\n",
        "AWS_SESSION_LOGIN_TIMEOUT: seconds to wait for the browser (default 600).\n",
        "Sign-in endpoint: https://REGION.signin.aws.amazon.com,\n",
        "or AWS_ENDPOINT_URL_SIGNIN / AWS_ENDPOINT_URL.\n",
    ),
    options: &[REMOTE],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

const REMOTE: Opt = Opt {
    short: None,
    long: "remote",
    value: false,
    about: "paste a code instead of using a browser here",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    pub remote: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&REMOTE) {
            a.remote = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// Settings of a profile that give it credentials of another kind.
const OTHER_CREDENTIALS: &[(&str, &str)] = &[
    ("aws_access_key_id", "access keys"),
    ("role_arn", "a role (role_arn)"),
    ("credential_process", "credential_process"),
    ("web_identity_token_file", "web identity"),
];

/// A token written where others can write would be theirs to replace: refused before
/// the browser opens, as reading one from there is.
fn refuse_shared_cache_dir(cache_dir: &std::path::Path) -> Result<()> {
    match cache_dir
        .exists()
        .then(|| crate::fsutil::shared_dir_problem(cache_dir))
        .flatten()
    {
        Some(why) => Err(Error::Local(format!(
            "the sign-in token directory {}: {why}; use a directory only you can write (chmod go-w it, or set AWS_LOGIN_CACHE_DIRECTORY to one)",
            cache_dir.display()
        ))),
        None => Ok(()),
    }
}

pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
    let name = profile.unwrap_or("default");
    if let Some(p) = profiles.get(name) {
        for (key, what) in OTHER_CREDENTIALS {
            if p.get(key).is_some_and(|v| !v.is_empty()) {
                return Err(Error::Config(format!(
                    "profile \"{name}\" already has {what} ({key}): sign in with another profile, e.g. aws-session --profile {name}-login login"
                )));
            }
        }
    }
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), env.get("HOME"));
    let config_path = paths.config.ok_or_else(|| {
        Error::Config(
            "no AWS config file to write login_session to: set HOME or AWS_CONFIG_FILE".into(),
        )
    })?;
    let cache_dir = login::cache_dir(env).ok_or_else(|| {
        Error::Config(
            "no login token cache: HOME is not set; set HOME or AWS_LOGIN_CACHE_DIRECTORY".into(),
        )
    })?;
    refuse_shared_cache_dir(&cache_dir)?;
    let timeout = login_timeout(env)?;
    if profiles.get(name).is_some_and(sso::is_sso) {
        let sso = sso::sso_profile(&profiles, name)?;
        return super::sso_login::login(&sso, args.remote, timeout, env, &profiles);
    }
    let endpoints = session::endpoint_settings(env, &profiles, profile);
    let client = make_client(env, endpoints)?;
    let base = client.signin_base()?;
    // Before the browser is opened: a sign-in whose token could not be fetched is lost.
    client.prepare()?;

    let no_random = || Error::Local("the system gave no random bytes for the sign-in".into());
    let key = DpopKey::generate().ok_or_else(no_random)?;
    let verifier = signin::code_verifier(&random_bytes::<64>().ok_or_else(no_random)?);
    let state = signin::uuid4(random_bytes::<16>().ok_or_else(no_random)?);
    let challenge = signin::code_challenge(&verifier);

    let (client_id, redirect_uri, callback) = if args.remote {
        remote_answer(&base, &state, &challenge)?
    } else {
        browser_answer(&base, &state, &challenge, env, timeout)?
    };
    let code = this_sign_ins_code(callback, &state)?;

    let out = client
        .signin_token(
            &signin::auth_code_body(client_id, &code, &verifier, &redirect_uri),
            &key,
        )
        .map_err(|e| e.with_note("nothing was written; run aws-session login again"))?;
    let claims = out.id_token.as_deref().and_then(signin::jwt_claims);
    let sub = claims
        .as_ref()
        .and_then(|c| c.str("sub"))
        .filter(|s| signin::is_principal_arn(s))
        .ok_or_else(|| {
            Error::Network(
                "the sign-in service's answer names no principal ARN (idToken sub is missing or not an IAM/STS ARN): nothing was written; run aws-session login again".into(),
            )
        })?
        .to_string();
    let account = signin::account_of(&sub).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let token = LoginToken::new(&out, client_id, account, now, &key.to_pem());

    std::fs::create_dir_all(&cache_dir).map_err(|e| {
        Error::Local(format!(
            "cannot create {}: {e}; nothing was written",
            cache_dir.display()
        ))
    })?;
    let path = cache_dir.join(signin::cache_file_name(&sub));
    write_atomic(&path, token.to_json().as_bytes(), 0o600, AtSymlink::Replace).map_err(|e| {
        Error::Local(format!(
            "cannot write the sign-in token {}: {e}; nothing was written",
            path.display()
        ))
    })?;
    let shown = config_path.display().to_string();
    if profiles.get(name).and_then(|p| p.get("login_session")) != Some(sub.as_str()) {
        write_atomically(&config_path, "AWS_CONFIG_FILE", |text| {
            config::set_property(text, FileKind::Config, &shown, name, "login_session", &sub)
                .map_err(Error::from)
        })
        .map_err(|e| e.with_note(format!("the sign-in is stored; add \"login_session = {sub}\" to profile {name} in {shown} yourself")))?;
    }
    let until = token
        .horizon()
        .map(iso8601_utc)
        .unwrap_or_else(|| "about 12 hours".into());
    crate::msg::say(format_args!(
        "signed in as {sub}; profile \"{name}\" uses it (login_session in {shown}) until {until}"
    ));
    Ok(())
}

/// AWS_SESSION_LOGIN_TIMEOUT: how long the browser sign-in may take (600 s unless set).
fn login_timeout(env: &Env) -> Result<u64> {
    match env.get("AWS_SESSION_LOGIN_TIMEOUT") {
        None => Ok(600),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "AWS_SESSION_LOGIN_TIMEOUT must be whole seconds from 1 to 3600, got \"{}\"",
                    v.chars().take(20).collect::<String>()
                ))
            }),
    }
}

/// `login --remote`: the URL to open on any device, and the code pasted back on the
/// terminal; the client id, the redirect URI and the answer.
fn remote_answer(
    base: &str,
    state: &str,
    challenge: &str,
) -> Result<(&'static str, String, Callback)> {
    let redirect_uri = signin::confirmation_uri(base);
    let url = signin::authorize_url(base, signin::CROSS_DEVICE, state, challenge, &redirect_uri);
    let mut tty = Terminal::open().map_err(|_| {
        Error::Usage(
            "login --remote reads the code from the terminal, and /dev/tty cannot be opened: run it in a terminal"
                .into(),
        )
    })?;
    tty.print(&format!(
        "Open this URL in a browser on any device and sign in:\n\n{url}\n\nThen enter the code the page shows: "
    ))?;
    let line = tty.read_line("while waiting for the code", &|_| None)?;
    let (code, got) = signin::decode_pasted_code(line.as_deref().unwrap_or_default())
        .map_err(|why| {
            Error::Usage(format!(
                "the code entered cannot be used: {why}; run aws-session login --remote again and paste the whole code"
            ))
        })?;
    Ok((
        signin::CROSS_DEVICE,
        redirect_uri,
        Callback::Code { code, state: got },
    ))
}

/// `login`: the sign-in page opened in the browser, and its answer on a loopback
/// callback (this sign-in's only, within `timeout` seconds).
fn browser_answer(
    base: &str,
    state: &str,
    challenge: &str,
    env: &Env,
    timeout: u64,
) -> Result<(&'static str, String, Callback)> {
    let server = CallbackServer::bind()?;
    let redirect_uri = server.redirect_uri();
    let url = signin::authorize_url(base, signin::SAME_DEVICE, state, challenge, &redirect_uri);
    crate::msg::say(format_args!(
        "opening the sign-in page in your browser; if it does not open, open this URL (or use login --remote):\n\n{url}\n"
    ));
    // The browser's arguments are readable by every local user: they get a random
    // loopback path that redirects (once) to the authorize URL, never the state or
    // the PKCE challenge.
    let random = random_bytes::<16>()
        .ok_or_else(|| Error::Local("the system gave no random bytes for the sign-in".into()))?;
    let start = callback::Start {
        path: format!("/start/{}", hex::encode(random)),
        location: url,
    };
    if let Err(e) = shell::open_browser(&server.start_url(&start), env.get("BROWSER")) {
        crate::msg::note(format_args!("{e}; open the URL above yourself"));
    }
    // Only this sign-in's answer ends the wait (its state is checked there).
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let cb = server.wait(deadline, state, Some(start))?;
    Ok((signin::SAME_DEVICE, redirect_uri, cb))
}

/// The code of the answer, when it answers this sign-in (`state`).
fn this_sign_ins_code(callback: Callback, state: &str) -> Result<String> {
    match callback {
        Callback::Code { code, state: got } if got == state => Ok(code),
        Callback::Code { .. } => {
            Err(Error::Network(
                "the sign-in answer's state does not match this sign-in (an answer to another request): nothing was written; run aws-session login again".into(),
            ))
        }
        Callback::Refused(why) => {
            Err(Error::Network(format!(
                "the sign-in did not complete ({why}): nothing was written; run aws-session login again"
            )))
        }
    }
}
