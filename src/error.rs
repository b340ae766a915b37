//! The crate's one error type, written for people, and the exit code of each kind.
//!
//! Every message says what failed, with which input, and what to do. No variant
//! ever holds a secret access key, a session token or a signing key. docs/errors.md
//! lists every bad input and fault with its message and exit code, each backed by a
//! test in tests/it/errors.rs. A panic prints only where it happened
//! ([`install_panic_hook`]).

use std::fmt;

/// Exit codes. Stable: documented in the README.
pub mod exit {
    /// Bad command line.
    pub const USAGE: i32 = 1;
    /// Config or credentials files unreadable or invalid, profile unknown, no keys.
    pub const CONFIG: i32 = 2;
    /// No MFA code could be had, or AWS refused the codes given.
    pub const MFA_CODE: i32 = 3;
    /// AWS answered with an error (access denied, bad signature, throttled, ...).
    pub const AWS: i32 = 4;
    /// Network failure, timeout, or a response that is not what AWS sends.
    pub const NETWORK: i32 = 5;
    /// A local file (cache, config edit) could not be read or written, or stdout
    /// could not be written.
    pub const LOCAL: i32 = 6;
    /// The calling user has no MFA device.
    pub const NO_MFA_DEVICE: i32 = 10;
    /// provision-mfa: the calling user already has an MFA device (the same code: the
    /// user's MFA device is not in the state the command needs).
    pub const MFA_DEVICE_EXISTS: i32 = 10;
    /// The command to run was found but could not be executed (as shells do).
    pub const CANNOT_EXECUTE: i32 = 126;
    /// The command to run was not found (as shells do).
    pub const NOT_FOUND: i32 = 127;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: i32 = 130;
}

/// An error returned by AWS in an `<ErrorResponse>` document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsError {
    /// The API action that failed, e.g. `GetSessionToken`.
    pub action: String,
    /// The service the action belongs to, as IAM policies name it (`sts`, `iam`): set
    /// where the request was built, so advice can name the permission `service:Action`.
    pub service: &'static str,
    /// HTTP status of the response.
    pub status: u16,
    /// AWS error code, e.g. `AccessDenied`.
    pub code: String,
    /// AWS error message.
    pub message: String,
    /// The request id, if AWS sent one.
    pub request_id: Option<String>,
    /// The response's `Date` header minus the local clock, in seconds, when known.
    pub clock_skew_secs: Option<i64>,
    /// The access key id the request was signed with (never the secret), when known.
    pub access_key_id: Option<String>,
    /// Whether the request carried a session token (X-Amz-Security-Token).
    pub session_token_sent: bool,
    /// The credentials file as advice names it (AWS_SHARED_CREDENTIALS_FILE as set);
    /// `None` is `~/.aws/credentials`.
    pub credentials_file: Option<String>,
    /// What to do about it, in words: filled in by the aws layer when it builds the
    /// error (`crate::aws::advice`), shown in parentheses after the message.
    pub advice: Option<String>,
}

/// Everything that can go wrong, one variant per cause.
#[derive(Debug)]
pub enum Error {
    /// Bad command line; the message names the argument and the fix.
    Usage(String),
    /// A config/credentials file could not be read or parsed.
    Config(String),
    /// No MFA code could be obtained (no terminal, no --code), or bad codes.
    MfaCode(String),
    /// The caller has no MFA device.
    NoMfaDevice(String),
    /// AWS answered with an error document (boxed: it is the largest variant).
    Aws(Box<AwsError>),
    /// AWS refused a request with an answer that is no error document (the
    /// federation endpoint of `console`); the message says why and what works.
    Refused(String),
    /// The request did not get an answer.
    Network(String),
    /// An answer came, but it is not what AWS sends (an HTML page, a document that
    /// does not parse, times AWS never gives): a wrong endpoint or a proxy in between.
    NotAws(String),
    /// A local file operation failed.
    Local(String),
    /// The command to execute could not be started.
    Exec {
        program: String,
        not_found: bool,
        detail: String,
    },
    /// Ctrl-C.
    Interrupted(String),
    /// provision-mfa: the user already has an MFA device, so none was created.
    MfaDeviceExists(String),
    /// An error with a note added after it (what was done about it); same exit code.
    WithNote(Box<Error>, String),
}

impl Error {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_) => exit::CONFIG,
            Error::MfaCode(_) => exit::MFA_CODE,
            Error::NoMfaDevice(_) => exit::NO_MFA_DEVICE,
            Error::Aws(_) | Error::Refused(_) => exit::AWS,
            Error::Network(_) | Error::NotAws(_) => exit::NETWORK,
            Error::Local(_) => exit::LOCAL,
            Error::Exec { not_found, .. } => {
                if *not_found {
                    exit::NOT_FOUND
                } else {
                    exit::CANNOT_EXECUTE
                }
            }
            Error::Interrupted(_) => exit::INTERRUPTED,
            Error::MfaDeviceExists(_) => exit::MFA_DEVICE_EXISTS,
            Error::WithNote(e, _) => e.exit_code(),
        }
    }

    /// The same error, and exit code, with `note` after its message (after `; `).
    ///
    /// ```
    /// use aws_session::error::Error;
    /// let e = Error::MfaCode("no code".into()).with_note("the device was deleted");
    /// assert_eq!(e.to_string(), "no code; the device was deleted");
    /// assert_eq!(e.exit_code(), 3);
    /// ```
    pub fn with_note(self, note: impl Into<String>) -> Error {
        Error::WithNote(Box::new(self), note.into())
    }
}

/// AWS error codes that mean "slow down": retried by the client, explained by the advice.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

impl AwsError {
    /// Whether AWS asks the caller to slow down.
    pub fn is_throttling(&self) -> bool {
        THROTTLING_CODES.contains(&self.code.as_str())
    }

    /// Whether this error means "this MFA code was wrong or already used".
    pub fn is_code_rejected(&self) -> bool {
        self.code == "AccessDenied" && is_code_refusal_message(&self.message)
    }
}

/// AWS's wording for a wrong or reused code ("MultiFactorAuthentication failed with
/// invalid MFA one time pass code."), not a policy denial that merely names an MFA action.
pub fn is_code_refusal_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("multifactorauthentication failed") || m.contains("one time pass code")
}

/// The most items of a list a message names; the rest are counted.
pub const LIST_ITEMS: usize = 10;
/// The most characters of one item a message shows (an item may be a sentence, such
/// as why a section was ignored, naming a path).
const ITEM_CHARS: usize = 256;

/// `items` joined with `sep` for a message: at most [`LIST_ITEMS`] of them, each cut
/// to 256 characters, and "and N more" for the rest, so that a file of 100,000 profiles
/// makes a one-line message, not a megabyte.
///
/// ```
/// use aws_session::error::capped_list;
/// assert_eq!(capped_list(&["a", "b"], ", "), "a, b");
/// let many: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
/// assert_eq!(capped_list(&many, ", "), "p0, p1, p2, p3, p4, p5, p6, p7, p8, p9 and 15 more");
/// ```
pub fn capped_list<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut text = items
        .iter()
        .take(LIST_ITEMS)
        .map(|item| {
            let item = item.as_ref();
            match item.char_indices().nth(ITEM_CHARS) {
                Some((cut, _)) => format!("{}…", &item[..cut]),
                None => item.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > LIST_ITEMS {
        text.push_str(&format!(" and {} more", items.len() - LIST_ITEMS));
    }
    text
}

/// Every error is shown through [`crate::encode::printable`]: a message may carry text
/// from outside (an answer, a page, a process), and whatever path it took, no control
/// character of it reaches the terminal or a log line.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::encode::printable(&Raw(self).to_string()))
    }
}

/// An error's text as its parts say it, before [`crate::encode::printable`].
struct Raw<'a>(&'a Error);

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Usage(m)
            | Error::Config(m)
            | Error::MfaCode(m)
            | Error::NoMfaDevice(m)
            | Error::Refused(m)
            | Error::Network(m)
            | Error::NotAws(m)
            | Error::Local(m)
            | Error::Interrupted(m)
            | Error::MfaDeviceExists(m) => f.write_str(m),
            Error::Aws(e) => {
                // One line, whatever AWS put in its message; long ones are cut.
                let message: String = e
                    .message
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(400)
                    .collect();
                write!(f, "{} failed: {}", e.action, e.code)?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(advice) = &e.advice {
                    write!(f, " ({advice})")?;
                }
                Ok(())
            }
            Error::WithNote(e, note) => write!(f, "{e}; {note}"),
            Error::Exec {
                program,
                not_found,
                detail,
            } => {
                if *not_found {
                    write!(f, "command not found: {program} (check the name and PATH)")
                } else {
                    write!(f, "cannot execute {program}: {detail}")
                }
            }
        }
    }
}

impl std::error::Error for Error {}

/// The one line printed for a panic: where it happened, never its message (a
/// panic's message may format a value that holds a secret).
///
/// ```
/// let line = aws_session::error::panic_line(Some(("src/x.rs", 7)));
/// assert!(line.starts_with("aws-session: internal error at src/x.rs:7"));
/// ```
pub fn panic_line(location: Option<(&str, u32)>) -> String {
    let at = location
        .map(|(file, line)| format!(" at {file}:{line}"))
        .unwrap_or_default();
    format!(
        "aws-session: internal error{at}: this is a bug, please report it (its details are withheld: they may hold secrets)"
    )
}

/// Replace the default panic output (which prints the panic's message) with
/// [`panic_line`] and, in debug builds when `RUST_BACKTRACE` asks for it, the
/// backtrace (function names only, never values). Called first thing in `main`.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        crate::msg::line(panic_line(info.location().map(|l| (l.file(), l.line()))));
        // Debug builds only: the release binary is stripped, so a backtrace would be
        // bare addresses, and leaving the capture out keeps it under 2 MiB.
        #[cfg(debug_assertions)]
        {
            let bt = std::backtrace::Backtrace::capture();
            if bt.status() == std::backtrace::BacktraceStatus::Captured {
                crate::msg::line(bt);
            }
        }
    }));
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(action: &str, code: &str, message: &str) -> AwsError {
        AwsError {
            action: action.into(),
            status: 403,
            code: code.into(),
            message: message.into(),
            access_key_id: Some("AKIDEXAMPLE".into()),
            ..AwsError::default()
        }
    }

    #[test]
    fn display_is_one_line_and_cut() {
        let e = Error::Aws(Box::new(aws("X", "Code", "a\n  b\r\nc")));
        assert_eq!(e.to_string(), "X failed: Code: a b c");
        let e = Error::Aws(Box::new(aws("X", "Code", &"m".repeat(5000))));
        assert!(e.to_string().len() < 500);
        let e = Error::Aws(Box::new(aws("X", "Code", "")));
        assert_eq!(e.to_string(), "X failed: Code");
        assert_eq!(e.exit_code(), exit::AWS);
    }

    #[test]
    fn panic_line_has_no_payload() {
        let line = panic_line(Some(("src/a.rs", 3)));
        assert!(line.contains("src/a.rs:3") && line.contains("withheld"));
        assert!(!panic_line(None).contains(" at "));
    }
}
