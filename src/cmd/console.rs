//! `console [--print] [--duration SECONDS] [--destination URL|SERVICE]`: the AWS
//! Management Console, signed in with the profile's credentials (the federation
//! endpoint, [`crate::aws::federation`]).
//!
//! Which credentials, by what the profile is (AWS takes only role sessions and
//! federation tokens there, and `SessionDuration` only for a role session assumed
//! with long-term keys):
//! - a role profile: its role session, made anew so that `--duration` holds: above an
//!   hour assumed from the long-term keys with the MFA code (then `SessionDuration` is
//!   sent), within an hour on the cached MFA session (chained: no `SessionDuration`);
//! - a profile with long-term keys: GetFederationToken (no MFA context: said on stderr);
//! - anything else (a sign-in, temporary keys, the session of the enclosing
//!   `aws-session shell`): used as it is; a refusal says why and what works instead.

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use crate::aws::client::Client;
use crate::aws::endpoint::console_domain;
use crate::aws::federation::{self, Credential};
use crate::aws::sts;
use crate::config::files::{load_profiles, note_warnings};
use crate::credentials::Credentials;
use crate::env::{Env, Source};
use crate::error::{Error, Result};
use crate::session::context::make_client;
use crate::session::roles::{self, FirstHop};
use crate::session::{self, CacheReads, Context, Origin};
use time::OffsetDateTime;

pub const SPEC: Spec = Spec {
    name: "console",
    about: "open the AWS console signed in with the profile's credentials",
    help: concat!(
        "Usage: aws-session [--profile P] console [--print] [--duration SECONDS] [--destination URL|SERVICE]\n",
        "\n",
        "Opens the AWS Management Console in the browser ($BROWSER, else xdg-open; open on\n",
        "macOS), signed in with profile P's credentials, without a password:\n",
        "  a role profile    its role session; above 3600 s assumed from the keys with the\n",
        "                    MFA code (the console lasts --duration), else on the MFA session\n",
        "  IAM user keys     a federation token (GetFederationToken, up to 36 h), which\n",
        "                    carries no MFA context\n",
        "  inside a shell    the shell's session, when the console takes it\n",
        "\n",
        "Options:\n",
        "      --print                write the sign-in URL to stdout instead (valid 15 minutes;\n",
        "                             it signs in whoever opens it)\n",
        "      --duration SECONDS     how long the console session lasts: 900..43200 for a role,\n",
        "                             900..129600 for a federation token\n",
        "      --destination D        a console URL, or a service: s3, ec2, iam, lambda, ...\n",
        "                             (default: the console home of the profile's region)\n",
        "\n",
        "Federation endpoint: https://signin.aws.amazon.com (per partition), or\n",
        "AWS_ENDPOINT_URL_SIGNIN / AWS_ENDPOINT_URL.\n",
    ),
    options: &[PRINT, DURATION, DESTINATION],
    operands: "",
    makes_session: true,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

const PRINT: Opt = Opt {
    short: None,
    long: "print",
    value: false,
    about: "write the sign-in URL to stdout instead of opening it",
};

const DURATION: Opt = Opt {
    short: None,
    long: "duration",
    value: true,
    about: "console session length in seconds",
};

const DESTINATION: Opt = Opt {
    short: None,
    long: "destination",
    value: true,
    about: "console URL or service name (s3, ec2, ...)",
};

/// The options of `console`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub print: bool,
    /// Seconds, checked to lie in 900..=129600 (the per-kind limit is checked once the
    /// profile is known, before anything is sent).
    pub duration: Option<u32>,
    pub destination: Option<String>,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&PRINT) {
            a.print = true;
        } else if arg.is(&DURATION) {
            a.duration = Some(parse_duration(&args.value("--duration")?)?);
        } else if arg.is(&DESTINATION) {
            a.destination = Some(args.value("--destination")?);
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// `--duration`'s value: whole seconds from 900 to 129600 (the longest federation token).
fn parse_duration(v: &str) -> Result<u32> {
    let (min, max) = (sts::MIN_DURATION_SECS, sts::FEDERATION_TOKEN_MAX_SECS);
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (min..=max).contains(d))
        .ok_or_else(|| {
            Error::Usage(format!(
                "--duration must be whole seconds from {min} to {max}, got \"{}\"",
                v.chars().take(20).collect::<String>()
            ))
        })
}

/// Temporary credentials for the console and what is known of them.
struct ForConsole {
    creds: Credentials,
    kind: Credential,
    /// Who they are, when known (for the note on stderr).
    arn: Option<String>,
    /// What to say when the endpoint refuses them: what works instead.
    instead: String,
}

pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
    let endpoints = session::endpoint_settings(env, &profiles, profile);
    let region = endpoints.region.clone().filter(|r| !r.is_empty());
    let destination = federation::destination(
        args.destination.as_deref(),
        console_domain(region.as_deref()),
        region.as_deref(),
    )
    .map_err(Error::Usage)?;
    if let Some(shell) = shell_session(args, opts, env)? {
        let client = make_client(env, endpoints)?;
        let url = signin_url(&client, &shell, args.duration, &destination)?;
        return deliver(args, env, &url, None);
    }
    note_warnings(&profiles);
    let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
    let ctx = Context::with_profiles(&opts.settings(), env, profiles, choice)?;
    let got = credentials_for(&ctx, args.duration)?;
    let url = signin_url(&ctx.client, &got, args.duration, &destination)?;
    deliver(args, env, &url, got.arn.as_deref())
}

/// The session of the enclosing `aws-session shell` (or `exec`), when this run is to
/// use it: the environment holds one, and neither `--profile` nor `--duration` asks
/// for another. One that has ended is an error saying what to run.
fn shell_session(args: &Args, opts: &Options, env: &Env) -> Result<Option<ForConsole>> {
    let (Some(key), Some(secret), Some(token), Some(exp)) = (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
        env.get("AWS_SESSION_TOKEN"),
        env.get("AWS_SESSION_EXPIRATION"),
    ) else {
        return Ok(None);
    };
    if matches!(opts.profile, Some((_, Source::CommandLine))) || args.duration.is_some() {
        return Ok(None);
    }
    let profile = env.get("AWS_SESSION_PROFILE").unwrap_or("default");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if exp.trim().parse::<i64>().map_or(true, |e| e <= now) {
        return Err(Error::Config(format!(
            "the session of this aws-session shell has ended (AWS_SESSION_EXPIRATION): run aws-session-refresh, then aws-session console; or aws-session --profile {profile} console"
        )));
    }
    Ok(Some(ForConsole {
        creds: Credentials {
            access_key_id: key.to_string(),
            secret_access_key: secret.to_string(),
            session_token: Some(token.to_string()),
        },
        kind: Credential::Unknown,
        arn: None,
        instead: format!(
            "this shell's session is not a role session (an MFA session of an IAM user, say); run aws-session --profile {profile} console, which signs in with a federation token of the profile's keys or its role"
        ),
    }))
}

/// The credentials `ctx`'s profile gives the console (see the module docs).
fn credentials_for(ctx: &Context, duration: Option<u32>) -> Result<ForConsole> {
    let source = &ctx.plan.source;
    let login = matches!(source.origin, Origin::Login { .. });
    let temporary = login || source.credentials.session_token.is_some();
    if let Some(roles) = &ctx.plan.roles {
        return role_session(ctx, roles, duration, temporary);
    }
    if temporary {
        let profile = source
            .origin
            .profile()
            .unwrap_or(&ctx.plan.profile)
            .to_string();
        // A sign-in's credentials are read (and renewed) by the session's making; other
        // temporary keys are used as they are.
        let (creds, what) = if login {
            (
                ctx.establish()?.session.credentials,
                "a sign-in's (login_session)",
            )
        } else {
            (source.credentials.clone(), "these temporary")
        };
        return Ok(ForConsole {
            creds,
            kind: Credential::Unknown,
            arn: None,
            instead: format!(
                "the console takes role sessions and federation tokens only, and {what} credentials are neither; use a role profile with source_profile = {profile}"
            ),
        });
    }
    federation_token(ctx, duration)
}

/// A role profile's session, made anew for the console (the MFA session may come from
/// the cache): the last role lasts `duration` when given.
fn role_session(
    ctx: &Context,
    roles: &roles::Plan,
    duration: Option<u32>,
    temporary: bool,
) -> Result<ForConsole> {
    let mut plan = ctx.plan.clone();
    let mut role_plan = roles.clone();
    let chained = temporary || role_plan.steps.len() > 1;
    if let (Some(d), Some(last)) = (duration, role_plan.steps.last_mut()) {
        let max = sts::ASSUME_ROLE_MAX_SECS;
        if d > max {
            return Err(Error::Usage(format!(
                "--duration {d} is too long for role profile `{}`: a role's console session lasts at most {max} s",
                last.profile
            )));
        }
        let cap = sts::ROLE_CHAINING_MAX_SECS;
        if chained && d > cap {
            return Err(Error::Usage(format!(
                "--duration {d} is too long for role profile `{}`: it is assumed with temporary credentials, and AWS caps role chaining at {cap} s; use --duration {cap} or less",
                last.profile
            )));
        }
        last.duration_seconds = Some(d);
    }
    let schedule = roles::schedule(&role_plan, None, temporary)?;
    let from_keys = role_plan.steps.len() == 1 && !temporary;
    let kind = match schedule.first_hop {
        FirstHop::Direct | FirstHop::DirectWithMfa if from_keys => Credential::RoleFromKeys,
        _ => Credential::ChainedRole,
    };
    plan.roles = Some(role_plan);
    let est = ctx
        .establish_plan(&plan, CacheReads::AllButFinal)
        .map_err(|e| match (duration, &e) {
            (Some(d), Error::Aws(aws)) if aws.message.contains("MaxSessionDuration") => e
                .with_note(format!(
                    "console --duration {d} asks for a role session that long: use the role's maximum or less"
                )),
            _ => e,
        })?;
    Ok(ForConsole {
        creds: est.session.credentials,
        kind,
        arn: est.role.map(|r| r.assumed_role_arn),
        instead: "check the role's trust and permissions".into(),
    })
}

/// GetFederationToken with the profile's long-term keys, named after the IAM user,
/// with the allow-all session policy (so its permissions are the user's own); one
/// line on stderr that it carries no MFA context.
fn federation_token(ctx: &Context, duration: Option<u32>) -> Result<ForConsole> {
    let keys = &ctx.plan.source.credentials;
    ctx.client.restart_deadline();
    let body = ctx.client.call(&sts::get_caller_identity(), keys)?;
    let id =
        sts::parse_get_caller_identity(&body).map_err(|e| xml_error("GetCallerIdentity", e))?;
    let user = id
        .iam_user_name()
        .map(str::to_string)
        .or_else(|| ctx.env.get("USER").map(str::to_string))
        .unwrap_or_else(|| "aws-session".into());
    let req =
        sts::get_federation_token(&sts::federated_name(&user), duration, sts::ALLOW_ALL_POLICY);
    let body = ctx.client.call(&req, keys)?;
    let (session, arn) =
        sts::parse_get_federation_token(&body).map_err(|e| xml_error("GetFederationToken", e))?;
    crate::msg::note(format_args!(
        "the console session is a federation token of {}: it carries no MFA context, so policies that require aws:MultiFactorAuthPresent deny it (a role profile with mfa_serial gives one with MFA)",
        id.arn
    ));
    Ok(ForConsole {
        creds: session.credentials,
        kind: Credential::FederationToken,
        arn: Some(arn),
        instead: "check the user's permissions".into(),
    })
}

fn xml_error(action: &str, e: crate::aws::xml::XmlError) -> Error {
    Error::Network(format!(
        "{action}: the answer is not what AWS sends ({e}): check AWS_ENDPOINT_URL and HTTPS_PROXY"
    ))
}

/// getSigninToken for `got` and the login URL that opens `destination`.
fn signin_url(
    client: &Client,
    got: &ForConsole,
    duration: Option<u32>,
    destination: &str,
) -> Result<String> {
    let sent = federation::session_duration(got.kind, duration);
    let base = client.federation_base()?;
    match client.federation_signin_token(&got.creds, sent)? {
        Ok(token) => Ok(federation::login_url(&base, destination, &token)),
        Err(reason) => Err(Error::Refused(format!(
            "the federation endpoint {base}/federation refused the credentials: {reason}; {}",
            got.instead
        ))),
    }
}

/// Print the URL (`--print`), or open it in the browser; with no browser to open, the
/// URL is printed after a line saying so.
fn deliver(args: &Args, env: &Env, url: &str, arn: Option<&str>) -> Result<()> {
    if args.print {
        return crate::out::print(&format!("{url}\n"));
    }
    let who = arn.map(|a| format!(" as {a}")).unwrap_or_default();
    match crate::shell::open_browser(url, env.get("BROWSER")) {
        Ok(()) => {
            crate::msg::say(format_args!("opened the AWS console{who} in your browser"));
            Ok(())
        }
        Err(why) => {
            crate::msg::say(format_args!(
                "no browser could be opened ({why}): open the URL below within 15 minutes (it signs in whoever opens it; --print writes only the URL)"
            ));
            crate::out::print(&format!("{url}\n"))
        }
    }
}
