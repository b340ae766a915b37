//! One function per command: read what the command needs (files, environment),
//! call [`session`], and start the child or print.

use crate::cache::{self, Cache};
use crate::cli::{Command, Options, OutputFormat};
use crate::client::Client;
use crate::config::{self, FileKind, ProfileSet};
use crate::endpoint;
use crate::error::{Error, Result};
use crate::http::{Timeouts, Transport};
use crate::mfa::TerminalPrompt;
use crate::query::Service;
use crate::session::{self, Env, Established, SessionPlan};
use crate::shell;
use std::io::IsTerminal;
use std::time::Duration;

/// Run the command `opts` asks for. `exec` and `shell` only return on failure.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    match &opts.command {
        Command::Help(topic) => {
            print!("{}", crate::cli::help(topic.as_deref())?);
            Ok(())
        }
        Command::Version => {
            println!("aws-session {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Prompt => {
            print!("{}", prompt_text(env));
            Ok(())
        }
        Command::Exec(argv) => {
            let ctx = Context::load(opts, env)?;
            let est = ctx.establish()?;
            let changes = ctx.child_environment(&est);
            Err(shell::exec(argv, &changes))
        }
        Command::Shell => {
            refuse_nested_shell(opts, env)?;
            let ctx = Context::load(opts, env)?;
            let est = ctx.establish()?;
            let mut changes = ctx.child_environment(&est);
            let color = shell::color_enabled(
                |k| env.get(k).map(str::to_string),
                std::io::stdout().is_terminal(),
            );
            changes.push((
                "AWS_SESSION_COLOR",
                Some(if color { "1" } else { "0" }.to_string()),
            ));
            let sh = env.get("SHELL").unwrap_or("/bin/sh").to_string();
            let rc_dir = match shell::shell_kind(&sh) {
                shell::ShellKind::Bash | shell::ShellKind::Zsh => {
                    match shell::private_dir(env.get("XDG_RUNTIME_DIR"), env.get("TMPDIR")) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            // One note with the reason; exec_shell stays quiet for None.
                            eprintln!(
                                "aws-session: note: {e}; {sh} starts without the prompt and automatic refresh"
                            );
                            None
                        }
                    }
                }
                _ => None,
            };
            Err(shell::exec_shell(
                &sh,
                &changes,
                rc_dir.as_deref(),
                env.get("ZDOTDIR"),
            ))
        }
        Command::Refresh => {
            // A new session every time (the cached one may be what is being replaced),
            // stored in the cache for the runs that follow. --reuse-mfa (the shell's `aws`
            // function) makes only the final session anew: a role session that ran out
            // rides on the cached MFA session without a code while that lasts.
            let ctx = Context::load(opts, env)?;
            let est = ctx.establish_with(if opts.reuse_mfa {
                session::CacheReads::AllButFinal
            } else {
                session::CacheReads::Nothing
            })?;
            let mut changes = session::session_changes(&est);
            changes.push(session::source_key_change(&ctx.plan.source));
            print!(
                "{}",
                match opts.format {
                    OutputFormat::Env => session::export_lines(&changes),
                    OutputFormat::Fish => session::fish_lines(&changes),
                    OutputFormat::Json | OutputFormat::CredentialProcess => {
                        return Err(Error::Usage(
                            "refresh prints --format env or fish; for JSON use aws-session export --format json".into(),
                        ));
                    }
                }
            );
            Ok(())
        }
        Command::ProvisionMfa => crate::provision::run(opts, env),
        Command::Export => crate::consume::export(opts, env),
        Command::CredentialProcess => crate::consume::credential_process(opts, env),
        Command::Status => crate::consume::status(opts, env),
        Command::Clear => crate::consume::clear(opts, env),
        Command::Completions(shell) => crate::consume::completions(shell),
    }
}

/// The prompt prefix for the environment, or nothing outside a session.
fn prompt_text(env: &Env) -> String {
    let Some(exp) = env
        .get("AWS_SESSION_EXPIRATION")
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return String::new();
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let color = shell::color_enabled(
        |k| env.get(k).map(str::to_string),
        std::io::stdout().is_terminal(),
    );
    shell::prompt_prefix(exp - now, color, shell::EscapeStyle::Plain)
}

/// A shell inside a live session would stack credentials; refuse unless --force.
fn refuse_nested_shell(opts: &Options, env: &Env) -> Result<()> {
    if opts.force_nested {
        return Ok(());
    }
    let live = env
        .get("AWS_SESSION_EXPIRATION")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|exp| exp > time::OffsetDateTime::now_utc().unix_timestamp())
        && env.get("AWS_SESSION_TOKEN").is_some();
    if live {
        return Err(Error::Usage(
            "already inside an aws-session shell (AWS_SESSION_EXPIRATION is in the future): use aws-session-refresh for new credentials, exit first, or pass --force to start a nested shell anyway".into(),
        ));
    }
    Ok(())
}

/// Everything a session needs, read once.
pub(crate) struct Context<'a> {
    pub(crate) opts: &'a Options,
    pub(crate) env: &'a Env,
    pub(crate) profiles: ProfileSet,
    pub(crate) plan: SessionPlan,
    client: Client,
    sts_endpoint: String,
    cache: Option<Cache>,
}

impl<'a> Context<'a> {
    pub(crate) fn load(opts: &'a Options, env: &'a Env) -> Result<Self> {
        let profiles = load_profiles(env)?;
        note_warnings(&profiles, opts.debug);
        let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
        let profile = choice.map(|(p, _)| p);
        let plan = session::plan_session_for(env, &profiles, choice)?;
        let endpoints = session::endpoint_settings(env, &profiles, profile);
        let sts_endpoint = endpoint::resolve(Service::Sts, &endpoints)?.url;
        let client = make_client(opts, env, endpoints)?;
        let cache = open_cache(opts, env);
        Ok(Context {
            opts,
            env,
            profiles,
            plan,
            client,
            sts_endpoint,
            cache,
        })
    }

    /// A session from the cache, or a new one (asking for a code when needed).
    pub(crate) fn establish(&self) -> Result<Established> {
        self.establish_with(session::CacheReads::All)
    }

    /// A session using the cached sessions `reads` allows (every session made is
    /// stored in the cache for later runs).
    pub(crate) fn establish_with(&self, reads: session::CacheReads) -> Result<Established> {
        let mut codes = TerminalPrompt::new(self.opts.code.clone());
        let rt = session::Runtime {
            client: &self.client,
            cache: self.cache.as_ref(),
            reads,
            sts_endpoint: self.sts_endpoint.clone(),
            duration: self.opts.duration.map(|(d, _)| d),
            duration_name: match self.opts.duration {
                Some((_, crate::cli::Source::Environment)) => "AWS_SESSION_DURATION",
                _ => "--session-duration",
            },
            debug: self.opts.debug,
            user: self
                .env
                .get("USER")
                .or_else(|| self.env.get("LOGNAME"))
                .map(str::to_string),
        };
        session::establish(&rt, &self.plan, &mut codes)
    }

    /// The region of the chosen profile, when it has one.
    pub(crate) fn region(&self) -> Option<&str> {
        let profile = self
            .opts
            .profile
            .as_ref()
            .map(|(p, _)| p.as_str())
            .unwrap_or("default");
        self.profiles
            .get(profile)
            .and_then(|p| p.get("region"))
            .filter(|r| !r.is_empty())
    }

    fn child_environment(&self, est: &Established) -> session::EnvChanges {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "aws-session".into());
        session::child_environment(
            est,
            &self.plan.source,
            self.opts,
            &exe,
            self.region(),
            self.env,
        )
    }
}

/// The session cache for this run, unless it is off (--no-cache, AWS_SESSION_CACHE=0)
/// or unusable (then a note says why and the run goes on without it).
pub(crate) fn open_cache(opts: &Options, env: &Env) -> Option<Cache> {
    if opts.no_cache {
        if opts.debug {
            eprintln!("aws-session: debug: cache: off (--no-cache or AWS_SESSION_CACHE=0)");
        }
        return None;
    }
    let Some(dir) = cache::cache_dir(env.get("XDG_CACHE_HOME"), env.get("HOME")) else {
        if opts.debug {
            eprintln!("aws-session: debug: cache: off (neither XDG_CACHE_HOME nor HOME is an absolute path)");
        }
        return None;
    };
    match Cache::open(&dir) {
        Ok(c) => {
            if opts.debug {
                eprintln!("aws-session: debug: cache: {}", dir.display());
            }
            Some(c)
        }
        Err(e) => {
            eprintln!("aws-session: note: {e}; going on without the session cache");
            None
        }
    }
}

/// AWS_SESSION_TIMEOUT: total seconds per request (connect stays at most 10 s).
/// The one AWS client of a run: `endpoints`, the AWS_SESSION_TIMEOUT timeouts and the
/// trust roots (AWS_CA_BUNDLE, else the built-in Mozilla roots). Used by every command
/// that calls AWS, provision-mfa included.
pub(crate) fn make_client(
    opts: &Options,
    env: &Env,
    endpoints: endpoint::EndpointSettings,
) -> Result<Client> {
    let timeouts = timeouts(env)?;
    let ca = match env.get("AWS_CA_BUNDLE") {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::Config(format!(
                "cannot read AWS_CA_BUNDLE {path}: {e} (point it at a PEM file or unset it)"
            ))
        })?),
        None => None,
    };
    let transport = Transport::new(timeouts, ca.as_deref()).map_err(|e| {
        Error::Config(format!(
            "cannot set up HTTPS: {e} (point AWS_CA_BUNDLE at a PEM file of CA certificates, or unset it)"
        ))
    })?;
    Ok(Client::new(transport, endpoints, opts.debug))
}

fn timeouts(env: &Env) -> Result<Timeouts> {
    let mut t = Timeouts::default();
    if let Some(v) = env.get("AWS_SESSION_TIMEOUT") {
        let secs: u64 = v
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "AWS_SESSION_TIMEOUT must be whole seconds from 1 to 3600, got \"{}\"",
                    v.chars().take(20).collect::<String>()
                ))
            })?;
        t.total = Duration::from_secs(secs);
        t.connect = t.connect.min(t.total);
    }
    Ok(t)
}

/// Under --debug, every warning of the AWS files' reader (sections and properties it
/// ignored, with file and line) as an `aws-session: note:` line.
pub fn note_warnings(profiles: &ProfileSet, debug: bool) {
    if debug {
        for w in profiles.warnings() {
            eprintln!("aws-session: note: {w}");
        }
    }
}

/// Read and parse the config and credentials files (a missing file is no error).
pub fn load_profiles(env: &Env) -> Result<ProfileSet> {
    let home = env.get("HOME");
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), home);
    let read =
        |path: &Option<std::path::PathBuf>, kind: FileKind| -> Result<Option<config::ParsedFile>> {
            let Some(path) = path else { return Ok(None) };
            match std::fs::read(path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    Ok(Some(config::parse(&text, kind, &path.to_string_lossy())?))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::Config(format!(
                    "cannot read {}: {e} (fix its permissions or point {} elsewhere)",
                    path.display(),
                    match kind {
                        FileKind::Config => "AWS_CONFIG_FILE",
                        FileKind::Credentials => "AWS_SHARED_CREDENTIALS_FILE",
                    }
                ))),
            }
        };
    let config = read(&paths.config, FileKind::Config)?;
    let credentials = read(&paths.credentials, FileKind::Credentials)?;
    Ok(config::merge(config, credentials))
}
