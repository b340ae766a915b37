//! Codes from an `mfa_process` (a profile setting, or AWS_SESSION_MFA_PROCESS): a
//! command whose stdout is the code, e.g. `ykman oath accounts code --single aws` for a
//! YubiKey or a password manager's TOTP. It takes the terminal prompt's place: a code
//! given with --code / AWS_SESSION_MFA_CODE is used first, then the process is asked.
//! A code AWS refuses is asked for once more, when the next 30-second window has begun.

use crate::config::ProfileSet;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::shell::process;
use crate::tty::{is_well_formed, CodeSource};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The mfa_process command of a run and where it was set: AWS_SESSION_MFA_PROCESS
/// (unless blank), else the `mfa_process` of the chosen `profile` (`default` when none
/// is chosen), else that of `source_profile`, the profile the keys come from (a role
/// profile's source). A blank setting counts as unset.
pub fn command_for(
    env: &Env,
    profiles: &ProfileSet,
    profile: Option<&str>,
    source_profile: Option<&str>,
) -> Option<(String, String)> {
    if let Some(v) = env
        .get("AWS_SESSION_MFA_PROCESS")
        .filter(|v| !v.trim().is_empty())
    {
        return Some((v.to_string(), "AWS_SESSION_MFA_PROCESS".to_string()));
    }
    [Some(profile.unwrap_or("default")), source_profile]
        .into_iter()
        .flatten()
        .find_map(|name| {
            let v = profiles.get(name)?.get("mfa_process")?;
            (!v.trim().is_empty())
                .then(|| (v.to_string(), format!("mfa_process of profile \"{name}\"")))
        })
}

/// The TOTP time step.
const WINDOW_SECS: u64 = 30;

/// Codes from a command (see the module).
pub struct ProcessCodes {
    /// A code given on the command line, used first and once.
    given: Option<String>,
    words: Vec<String>,
    /// Where the command was set, for messages: `mfa_process of profile "p"` or
    /// `AWS_SESSION_MFA_PROCESS`.
    from: String,
    /// Whether a refused code was already asked for again.
    retried: bool,
}

impl ProcessCodes {
    /// The codes of `command`, set in `from`; an error when it cannot be split into
    /// words or is empty.
    pub fn new(given: Option<String>, command: &str, from: &str) -> Result<ProcessCodes> {
        let words = process::split_words(command).map_err(|why| {
            Error::Config(format!(
                "{from} cannot be split into words: {why}; fix its quoting"
            ))
        })?;
        if words.is_empty() {
            return Err(Error::Config(format!(
                "{from} is empty: name a command that prints the code, or remove it"
            )));
        }
        Ok(ProcessCodes {
            given,
            words,
            from: from.to_string(),
            retried: false,
        })
    }
}

impl CodeSource for ProcessCodes {
    fn next_code(&mut self, _label: &str) -> Result<String> {
        if let Some(code) = self.given.take() {
            return Ok(code);
        }
        let program = self.words.first().cloned().unwrap_or_default();
        let out = process::run_capture(&self.words, process::TIMEOUT).map_err(|e| {
            Error::MfaCode(format!(
                "{}; check the command, or pass --code",
                process::describe(&self.from, &program, &e)
            ))
        })?;
        let text = String::from_utf8_lossy(&out);
        let code = text.trim();
        if is_well_formed(code) {
            Ok(code.to_string())
        } else {
            // Never the output itself: it may be a secret of another kind.
            Err(Error::MfaCode(format!(
                "{}: \"{program}\" printed {} characters, not a 6-digit code; make it print only the code",
                self.from,
                code.chars().count()
            )))
        }
    }

    /// A process may wait for a person too (a hardware key waits for a touch): no
    /// lock is held while it runs.
    fn asks_a_person(&self) -> bool {
        self.given.is_none()
    }

    fn can_ask_again(&self) -> bool {
        !self.retried
    }

    fn refused(&mut self, why: &str) -> Result<()> {
        self.retried = true;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let wait = WINDOW_SECS - now % WINDOW_SECS;
        crate::msg::say(format_args!(
            "AWS refused the MFA code from {} ({why}); asking it again in {wait} s, when the next 30-second window has begun",
            self.from
        ));
        std::thread::sleep(Duration::from_secs(wait));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_comes_from_the_environment_then_the_profile_then_its_source() {
        use crate::config::{merge, parse, FileKind};
        let text = "[default]\nmfa_process = d\n[profile role]\nmfa_process = \n[profile src]\nmfa_process = s\n[profile own]\nmfa_process = o\n";
        let set = merge(Some(parse(text, FileKind::Config, "c").unwrap()), None);
        let none = Env::from_pairs([("X", "y")]);
        let got = |env: &Env, p, src| command_for(env, &set, p, src);
        assert_eq!(
            got(&none, None, None),
            Some(("d".into(), "mfa_process of profile \"default\"".into()))
        );
        assert_eq!(
            got(&none, Some("own"), Some("src")),
            Some(("o".into(), "mfa_process of profile \"own\"".into()))
        );
        // A blank setting in the chosen profile falls through to the source profile.
        assert_eq!(
            got(&none, Some("role"), Some("src")),
            Some(("s".into(), "mfa_process of profile \"src\"".into()))
        );
        assert_eq!(got(&none, Some("role"), None), None);
        assert_eq!(got(&none, Some("missing"), None), None);
        let env = Env::from_pairs([("AWS_SESSION_MFA_PROCESS", "e")]);
        assert_eq!(
            got(&env, Some("own"), None),
            Some(("e".into(), "AWS_SESSION_MFA_PROCESS".into()))
        );
        let blank = Env::from_pairs([("AWS_SESSION_MFA_PROCESS", " ")]);
        assert_eq!(
            got(&blank, Some("own"), None).map(|c| c.0),
            Some("o".into())
        );
    }

    #[test]
    fn codes_are_trimmed_and_checked() {
        let mut c = ProcessCodes::new(None, "echo ' 123456 '", "AWS_SESSION_MFA_PROCESS").unwrap();
        assert_eq!(c.next_code("your").unwrap(), "123456");
        let mut c = ProcessCodes::new(None, "echo 12345x", "AWS_SESSION_MFA_PROCESS").unwrap();
        let e = c.next_code("your").unwrap_err();
        assert!(e.to_string().contains("6 characters") && !e.to_string().contains("12345x"));
        assert_eq!(e.exit_code(), 3);
        let mut c = ProcessCodes::new(Some("654321".into()), "false", "x").unwrap();
        assert_eq!(c.next_code("your").unwrap(), "654321");
        assert!(c
            .next_code("your")
            .unwrap_err()
            .to_string()
            .contains("exit status 1"));
        assert!(ProcessCodes::new(None, "'", "x").is_err());
        assert!(ProcessCodes::new(None, "  ", "x").is_err());
    }
}
