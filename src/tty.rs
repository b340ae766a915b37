//! The one terminal reader: MFA codes and yes/no questions, asked on `/dev/tty`.
//!
//! The terminal is `/dev/tty`, not stdin/stdout, so `aws-session exec cmd < file` and
//! `eval "$(aws-session refresh)"` still ask the person at the keyboard. It is read
//! without buffering and in slices of a quarter second, so that a signal (provision-mfa
//! waits for codes with its handlers installed) ends a wait for input.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;

/// A source of 6-digit MFA codes.
pub trait CodeSource {
    /// The next code. `label` is "your", "the 1st", "the 2nd": the prompt's wording.
    fn next_code(&mut self, label: &str) -> Result<String>;
    /// Whether another code can be had after AWS refused one.
    fn can_ask_again(&self) -> bool;
    /// Whether the next code comes from a person (who may take a while), not from
    /// the command line: no lock may be held while it is asked for.
    fn asks_a_person(&self) -> bool {
        false
    }

    /// AWS refused the last code (`why`, AWS's message); another one is asked next.
    fn refused(&mut self, why: &str) -> Result<()> {
        crate::msg::say(format_args!(
            "AWS refused the MFA code ({why}); wait for the next code and enter it"
        ));
        Ok(())
    }
}

/// The message when no code can be had.
pub const NO_CODE: &str =
    "no MFA code: there is no terminal to ask on; pass --code CODE or set AWS_SESSION_MFA_CODE";

/// The code given on the command line first and once, then the terminal, re-asking
/// malformed codes.
pub struct TerminalPrompt {
    /// A code given on the command line, used first and once.
    given: Option<String>,
    tty_available: bool,
}

impl TerminalPrompt {
    /// `given` is the --code / AWS_SESSION_MFA_CODE value, already checked.
    pub fn new(given: Option<String>) -> Self {
        TerminalPrompt {
            given,
            tty_available: Terminal::open().is_ok(),
        }
    }

    /// Whether a code can be had at all: one was given, or there is a terminal.
    pub fn can_give_a_code(&self) -> bool {
        self.given.is_some() || self.tty_available
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
        let mut tty = Terminal::open().map_err(|_| Error::MfaCode(NO_CODE.into()))?;
        tty.ask_code(label, None, &|_| None, || {
            Error::MfaCode(
                "no MFA code entered (end of input); run again and type the 6 digits".into(),
            )
        })
    }

    fn can_ask_again(&self) -> bool {
        self.tty_available
    }

    fn asks_a_person(&self) -> bool {
        self.given.is_none()
    }
}

/// Says whether a signal arrived while waiting; `what` names the wait for the error.
pub type Interruption<'a> = &'a dyn Fn(&str) -> Option<Error>;

/// `/dev/tty`, opened for reading and writing.
pub struct Terminal {
    file: File,
}

impl Terminal {
    /// Open the controlling terminal; an error when there is none.
    pub fn open() -> std::io::Result<Terminal> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map(|file| Terminal { file })
    }

    /// Write `text` and flush it.
    pub fn print(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::MfaCode(format!("cannot write to the terminal: {e}")))
    }

    /// Columns and rows, if the terminal says.
    pub fn size(&self) -> Option<(u16, u16)> {
        // SAFETY: TIOCGWINSZ fills a winsize we own.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            (libc::ioctl(self.file.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0)
                .then_some((ws.ws_col, ws.ws_row))
        }
    }

    /// One line without its end; `None` at end of input. When `interrupted` reports a
    /// signal the wait ends with its error; `what` names the wait in that error.
    pub fn read_line(&mut self, what: &str, interrupted: Interruption) -> Result<Option<String>> {
        const MAX: usize = 1024;
        let mut line = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            if let Some(e) = interrupted(what) {
                let _ = self.file.write_all(b"\n");
                return Err(e);
            }
            // Wait in slices, so a signal that lands just before the read cannot
            // leave us blocked in it.
            let mut pfd = libc::pollfd {
                fd: self.file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd we own.
            let ready = unsafe { libc::poll(&mut pfd, 1, 250) };
            if ready == 0 {
                continue;
            }
            if ready < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::MfaCode(format!(
                    "cannot read from the terminal: {e}"
                )));
            }
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    let chunk = &buf[..n];
                    let end = chunk.iter().position(|&b| b == b'\n');
                    let take = &chunk[..end.unwrap_or(n)];
                    if line.len() < MAX {
                        line.extend_from_slice(&take[..take.len().min(MAX - line.len())]);
                    }
                    if end.is_some() {
                        let text = String::from_utf8_lossy(&line).trim().to_string();
                        line.fill(0);
                        return Ok(Some(text));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => {
                    return Err(Error::MfaCode(format!(
                        "cannot read from the terminal: {e}"
                    )))
                }
            }
        }
    }

    /// Ask for a 6-digit code until one is entered ("Please enter the 1st 6 digit MFA
    /// code: "). `previous`: a code entered before, to catch the same code entered
    /// twice; `at_end`: the error for end of input.
    pub fn ask_code(
        &mut self,
        label: &str,
        previous: Option<&str>,
        interrupted: Interruption,
        at_end: impl FnOnce() -> Error,
    ) -> Result<String> {
        let mut warned_same = false;
        loop {
            self.print(&format!("Please enter {label} 6 digit MFA code: "))?;
            let what = format!("while waiting for {label} MFA code");
            let Some(code) = self.read_line(&what, interrupted)? else {
                let _ = self.print("\n");
                return Err(at_end());
            };
            if is_well_formed(&code) {
                if previous == Some(code.as_str()) && !warned_same {
                    warned_same = true;
                    self.print("That is the 1st code again: wait until the app shows the next code, then enter it.\n")?;
                    continue;
                }
                return Ok(code);
            }
            if !code.is_empty() {
                self.print("Not a valid code: it must be 6 digits, typed as 0-9\n")?;
            }
        }
    }

    /// A y/N question; end of input is "no".
    pub fn ask_yes_no(&mut self, question: &str, interrupted: Interruption) -> Result<bool> {
        self.print(question)?;
        let answer = self.read_line("while waiting for an answer", interrupted)?;
        Ok(answer.is_some_and(|a| {
            let a = a.to_ascii_lowercase();
            a == "y" || a == "yes"
        }))
    }
}

/// Exactly six ASCII digits.
///
/// ```
/// assert!(aws_session::tty::is_well_formed("012345"));
/// assert!(!aws_session::tty::is_well_formed("12345a"));
/// ```
pub fn is_well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Check a code given as `name` (`--code`, AWS_SESSION_MFA_CODE): surrounding blanks
/// are dropped, the rest must be [`is_well_formed`]. The code itself is never echoed.
///
/// ```
/// assert!(aws_session::tty::check_code("123456", "--code").is_ok());
/// assert!(aws_session::tty::check_code("12345", "--code").is_err());
/// let e = aws_session::tty::check_code("\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}", "--code");
/// assert!(e.unwrap_err().to_string().contains("typed as 0-9"));
/// ```
pub fn check_code(v: &str, name: &str) -> Result<String> {
    let v = v.trim();
    if is_well_formed(v) {
        return Ok(v.to_string());
    }
    let n = v.chars().count();
    // Digits of another script (Arabic-Indic, fullwidth, ...) look right but are not
    // what AWS takes: say so, rather than only count them.
    let other_digits = v.chars().any(|c| c.is_numeric() && !c.is_ascii_digit());
    Err(Error::Usage(if other_digits {
        format!(
            "{name} must be the 6 digits your MFA device shows now, typed as 0-9 (got {n} characters that are not all 0-9)"
        )
    } else {
        format!("{name} must be the 6 digits your MFA device shows now (got {n} characters)")
    }))
}
