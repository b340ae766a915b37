//! The crate's one error type, written for people, and the exit code of each kind.
//!
//! Every message says what failed, with which input, and what to do. No variant
//! ever holds a secret access key, a session token or a signing key.

use std::fmt;

/// Exit codes. Stable: documented in the README.
pub mod exit {
    /// Bad command line (the original used 1 for usage too).
    pub const USAGE: i32 = 1;
    /// Config or credentials files unreadable or invalid, profile unknown, no keys.
    pub const CONFIG: i32 = 2;
    /// No MFA code could be had, or AWS refused the codes given.
    pub const MFA_CODE: i32 = 3;
    /// AWS answered with an error (access denied, bad signature, throttled, ...).
    pub const AWS: i32 = 4;
    /// Network failure, timeout, or a response that is not what AWS sends.
    pub const NETWORK: i32 = 5;
    /// A local file (cache, config edit) could not be read or written.
    pub const LOCAL: i32 = 6;
    /// The calling user has no MFA device (the original's code).
    pub const NO_MFA_DEVICE: i32 = 10;
    /// The command to run was found but could not be executed (as shells do).
    pub const CANNOT_EXECUTE: i32 = 126;
    /// The command to run was not found (as shells do).
    pub const NOT_FOUND: i32 = 127;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: i32 = 130;
}

/// An error returned by AWS in an `<ErrorResponse>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The API action that failed, e.g. `GetSessionToken`.
    pub action: String,
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
    /// AWS answered with an error document.
    Aws(AwsError),
    /// The request did not get an answer, or the answer is not AWS's.
    Network(String),
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
}

impl Error {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_) => exit::CONFIG,
            Error::MfaCode(_) => exit::MFA_CODE,
            Error::NoMfaDevice(_) => exit::NO_MFA_DEVICE,
            Error::Aws(_) => exit::AWS,
            Error::Network(_) => exit::NETWORK,
            Error::Local(_) => exit::LOCAL,
            Error::Exec { not_found, .. } => {
                if *not_found {
                    exit::NOT_FOUND
                } else {
                    exit::CANNOT_EXECUTE
                }
            }
            Error::Interrupted(_) => exit::INTERRUPTED,
        }
    }
}

/// Advice for the AWS error codes users meet most, or `None`.
pub fn aws_advice(e: &AwsError) -> Option<String> {
    let msg = e.message.to_ascii_lowercase();
    let advice = match e.code.as_str() {
        "AccessDenied" if crate::mfa::is_code_refusal_message(&msg) => {
            "the MFA code was wrong or already used: wait for the next code and try again".to_string()
        }
        "AccessDenied" => format!(
            "the keys are not allowed to call {}: grant it in IAM (see the README's minimal policy)",
            e.action
        ),
        "SignatureDoesNotMatch" => {
            "check the secret access key for this access key id, and that the local clock is right"
                .to_string()
        }
        "InvalidClientTokenId" => {
            "AWS does not know this access key id: it was deleted or mistyped; check ~/.aws/credentials"
                .to_string()
        }
        "ExpiredToken" => {
            "the session token has expired: unset AWS_SESSION_TOKEN or leave the old session, then try again"
                .to_string()
        }
        "RequestExpired" | "RequestTimeTooSkewed" => match e.clock_skew_secs {
            Some(s) => format!(
                "the local clock is {} s {} AWS's: set the clock right (e.g. enable NTP)",
                s.abs(),
                if s > 0 { "behind" } else { "ahead of" }
            ),
            None => "the local clock is off: set it right (e.g. enable NTP)".to_string(),
        },
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => {
            "AWS is throttling requests: wait a little and try again".to_string()
        }
        "ValidationError" if msg.contains("duration") => {
            "use --session-duration between 900 and 129600 seconds (3600 at most for root)"
                .to_string()
        }
        _ => return None,
    };
    Some(advice)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m)
            | Error::Config(m)
            | Error::MfaCode(m)
            | Error::NoMfaDevice(m)
            | Error::Network(m)
            | Error::Local(m)
            | Error::Interrupted(m) => f.write_str(m),
            Error::Aws(e) => {
                write!(f, "{} failed: {}: {}", e.action, e.code, e.message)?;
                if let Some(advice) = aws_advice(e) {
                    write!(f, " ({advice})")?;
                }
                Ok(())
            }
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

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
