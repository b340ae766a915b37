//! `sso-profiles [--write]`: the accounts and roles an IAM Identity Center sign-in may
//! use (ListAccounts, ListAccountRoles, every page), printed as ready-to-use profile
//! blocks; `--write` appends the ones the config lacks (the rest of the file kept as
//! it is, written atomically).

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use crate::aws::client::Client;
use crate::aws::endpoint::SsoService;
use crate::aws::sso_portal::{self, Account, PortalRequest};
use crate::cache::sso_token::SsoToken;
use crate::config::files::{load_profiles, write_atomically};
use crate::config::{self, ProfileSet};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::msg;
use crate::session::context::make_client;
use crate::session::{self, source::sso, source::sso::SsoProfile};

pub const SPEC: Spec = Spec {
    name: "sso-profiles",
    about: "list the accounts and roles of an IAM Identity Center sign-in as profiles",
    help: concat!(
        "Usage: aws-session [--profile P] sso-profiles [--write]\n",
        "\n",
        "Lists the accounts and roles the IAM Identity Center sign-in of profile P may\n",
        "use, as profile blocks for ~/.aws/config (on the same sso-session). Sign in\n",
        "first: aws-session --profile P login.\n",
        "\n",
        "Options:\n",
        "      --write   append the profiles the config does not have yet\n",
    ),
    options: &[WRITE],
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

const WRITE: Opt = Opt {
    short: None,
    long: "write",
    value: false,
    about: "append the missing profiles to the config",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    pub write: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&WRITE) {
            a.write = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

/// At most this many pages of one list (a loop of next tokens ends here).
const MAX_PAGES: usize = 100;

/// Every page of `page(next)`'s items.
fn all_pages<T>(
    client: &Client,
    sso: &SsoProfile,
    token: &SsoToken,
    page: impl Fn(Option<&str>) -> PortalRequest,
    parse: impl Fn(&str) -> Result<(Vec<T>, Option<String>)>,
) -> Result<Vec<T>> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = page(next.as_deref());
        client.restart_deadline();
        let body = client.sso_call(
            SsoService::Portal,
            &sso.region,
            req.action,
            &req.path_and_query,
            None,
            Some(token.access_token()),
        )?;
        let (mut got, more) = parse(&body)?;
        items.append(&mut got);
        match more {
            Some(n) => next = Some(n),
            None => return Ok(items),
        }
    }
    Err(Error::Network(format!(
        "IAM Identity Center gave more than {MAX_PAGES} pages of accounts or roles; try again later"
    )))
}

/// A profile name for `role` in `account`: `ACCOUNTNAME-ROLE`, with anything but
/// letters, digits, `-`, `_` and `.` made `-`.
///
/// ```
/// use aws_session::aws::sso_portal::Account;
/// let a = Account { account_id: "1".into(), account_name: "My Dev".into(), email: String::new() };
/// assert_eq!(aws_session::cmd::sso_profiles::profile_name(&a, "Admin[1]"), "My-Dev-Admin-1-");
/// ```
pub fn profile_name(account: &Account, role: &str) -> String {
    let base = if account.account_name.is_empty() {
        &account.account_id
    } else {
        &account.account_name
    };
    format!("{base}-{role}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The profile of `profiles` that already uses `role` in `account` on `sso`'s sign-in.
fn existing<'a>(
    profiles: &'a ProfileSet,
    sso: &SsoProfile,
    account: &str,
    role: &str,
) -> Option<&'a str> {
    profiles.names().into_iter().find(|n| {
        profiles.get(n).is_some_and(|p| {
            p.get("sso_account_id") == Some(account)
                && p.get("sso_role_name") == Some(role)
                && sso::resolve(profiles, p).is_ok_and(|s| s.identity() == sso.identity())
        })
    })
}

/// The config block of profile `name` for `role` in `account`.
fn block(
    sso: &SsoProfile,
    region: Option<&str>,
    name: &str,
    account: &Account,
    role: &str,
) -> String {
    let mut b = format!("[profile {name}]\n");
    match &sso.session_name {
        Some(s) => b.push_str(&format!("sso_session = {s}\n")),
        None => b.push_str(&format!(
            "sso_start_url = {}\nsso_region = {}\n",
            sso.start_url, sso.region
        )),
    }
    b.push_str(&format!(
        "sso_account_id = {}\nsso_role_name = {role}\n",
        account.account_id
    ));
    if let Some(r) = region {
        b.push_str(&format!("region = {r}\n"));
    }
    b
}

pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    let profiles = load_profiles(env)?;
    let name = opts.profile.as_ref().map_or("default", |(p, _)| p.as_str());
    if !profiles.get(name).is_some_and(sso::is_sso) {
        if profiles.get(name).is_none() {
            return Err(session::source::profile_not_found(&profiles, name));
        }
        return Err(Error::Config(format!(
            "profile \"{name}\" is not an IAM Identity Center profile (no sso_session or sso_start_url): name one with --profile"
        )));
    }
    let sso = sso::sso_profile(&profiles, name)?;
    let config_path = config::file_paths(|k| env.get(k).map(str::to_string), env.get("HOME"))
        .config
        .ok_or_else(|| Error::Config("no AWS config file: set HOME or AWS_CONFIG_FILE".into()))?;
    let endpoints = session::endpoint_settings(env, &profiles, Some(name));
    let client = make_client(env, endpoints)?;
    let token = sso::fresh_token(&client, env, &sso)?;
    let accounts = all_pages(
        &client,
        &sso,
        &token,
        sso_portal::list_accounts,
        sso_portal::parse_accounts,
    )?;
    let region = profiles
        .get(name)
        .and_then(|p| p.get("region"))
        .filter(|r| !r.is_empty());
    let (mut shown, mut missing) = (String::new(), String::new());
    let mut taken: Vec<String> = profiles.names().iter().map(|s| s.to_string()).collect();
    for account in &accounts {
        let roles = all_pages(
            &client,
            &sso,
            &token,
            |next| sso_portal::list_account_roles(&account.account_id, next),
            sso_portal::parse_roles,
        )?;
        for role in roles {
            if let Some(have) = existing(&profiles, &sso, &account.account_id, &role) {
                shown.push_str(&format!(
                    "# {} {} ({}): profile {have}\n",
                    account.account_id, role, account.account_name
                ));
                continue;
            }
            let mut pname = profile_name(account, &role);
            let mut n = 2;
            while taken.contains(&pname) {
                pname = format!("{}-{n}", profile_name(account, &role));
                n += 1;
            }
            taken.push(pname.clone());
            let b = block(&sso, region, &pname, account, &role);
            shown.push_str(&format!("\n{b}"));
            missing.push_str(&format!("\n{b}"));
        }
    }
    crate::out::print(&shown)?;
    if args.write && !missing.is_empty() {
        write_atomically(&config_path, "AWS_CONFIG_FILE", |text| {
            let sep = if text.is_empty() || text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            Ok(format!("{text}{sep}{missing}"))
        })?;
        msg::say(format_args!(
            "added {} profile(s) to {}",
            missing.matches("[profile ").count(),
            config_path.display()
        ));
    }
    Ok(())
}
