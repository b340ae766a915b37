//! Where MFA codes come from: `--code` / `AWS_SESSION_MFA_CODE`, or the terminal.
//!
//! The terminal is `/dev/tty`, not stdin/stdout, so `aws-session exec cmd < file` and
//! `eval "$(aws-session refresh)"` still ask the person at the keyboard.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Write};

/// A source of 6-digit MFA codes.
pub trait CodeSource {
    /// The next code. `label` is "your", "the 1st", "the 2nd" as in the original's prompt.
    fn next_code(&mut self, label: &str) -> Result<String>;
    /// Whether another code can be had after AWS refused one.
    fn can_ask_again(&self) -> bool;
}

/// The message when no code can be had.
pub const NO_CODE: &str =
    "no MFA code: there is no terminal to ask on; pass --code CODE or set AWS_SESSION_MFA_CODE";

/// Asks on `/dev/tty` with the original's wording, re-asking malformed codes.
pub struct TerminalPrompt {
    /// A code given on the command line, used first and once.
    given: Option<String>,
    tty_available: bool,
}

impl TerminalPrompt {
    /// `given` is the --code / AWS_SESSION_MFA_CODE value, already checked.
    pub fn new(given: Option<String>) -> Self {
        let tty_available = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok();
        TerminalPrompt {
            given,
            tty_available,
        }
    }
}

impl CodeSource for TerminalPrompt {
    fn next_code(&mut self, label: &str) -> Result<String> {
        if let Some(code) = self.given.take() {
            return Ok(code);
        }
        if !self.tty_available {
            return Err(Error::MfaCode(NO_CODE.into()));
        }
        prompt_tty(label)
    }

    fn can_ask_again(&self) -> bool {
        self.tty_available
    }
}

/// Ask on the terminal until a well-formed code (6 digits) is entered.
fn prompt_tty(label: &str) -> Result<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| Error::MfaCode(NO_CODE.into()))?;
    let mut out = &tty;
    let mut reader = BufReader::new(&tty);
    loop {
        write!(out, "Please enter {label} 6 digit MFA code: ")
            .and_then(|_| out.flush())
            .map_err(|e| Error::MfaCode(format!("cannot write to the terminal: {e}")))?;
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Error::MfaCode(format!("cannot read from the terminal: {e}")))?;
        if n == 0 {
            let _ = writeln!(out);
            return Err(Error::MfaCode(
                "no MFA code entered (end of input); run again and type the 6 digits".into(),
            ));
        }
        let code = line.trim();
        if is_well_formed(code) {
            return Ok(code.to_string());
        }
        if !code.is_empty() {
            let _ = writeln!(out, "Not a valid code: it must be 6 digits");
        }
    }
}

/// Exactly six ASCII digits.
///
/// ```
/// assert!(aws_session::mfa::is_well_formed("012345"));
/// assert!(!aws_session::mfa::is_well_formed("12345a"));
/// ```
pub fn is_well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Whether an AWS error means "this MFA code was wrong or already used".
pub fn is_code_rejected(e: &crate::error::AwsError) -> bool {
    e.code == "AccessDenied" && is_code_refusal_message(&e.message)
}

/// AWS's wording for a wrong or reused code ("MultiFactorAuthentication failed with
/// invalid MFA one time pass code."), not a policy denial that merely names an MFA action.
pub fn is_code_refusal_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("multifactorauthentication failed") || m.contains("one time pass code")
}
