//! The one writer of stderr: notes, warnings, debug traces, the error line of a failed
//! run and the panic line. Nothing else in `src/` writes to stderr (the test
//! `stderr_is_written_only_through_msg` checks it), so every message has the same
//! `aws-session: ` prefix and is written in one piece.
//!
//! Whether debug traces are shown is set once, when the command line is read
//! ([`set_debug`]); a trace is cheap to skip: [`debug_on`] is one atomic load.
//!
//! ```
//! aws_session::msg::note("the session is not cached");
//! aws_session::msg::debug(format_args!("cache: no entry {}", "0123abcd"));
//! ```

use crate::encode::printable;
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Show debug traces from now on (`--debug`, AWS_SESSION_DEBUG=1), or not.
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

/// Whether debug traces are shown (for traces that cost something to build).
pub fn debug_on() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// `aws-session: debug: …`, under --debug only. Never give it a secret. Like notes and
/// warnings, one printable line ([`crate::encode::printable`]): it may quote text from
/// outside.
pub fn debug(text: impl Display) {
    if debug_on() {
        line(format_args!(
            "aws-session: debug: {}",
            printable(&text.to_string())
        ));
    }
}

/// `aws-session: note: …`: something the user should know, the run goes on.
pub fn note(text: impl Display) {
    line(format_args!(
        "aws-session: note: {}",
        printable(&text.to_string())
    ));
}

/// `aws-session: warning: …`: something is likely wrong, the run goes on.
pub fn warning(text: impl Display) {
    line(format_args!(
        "aws-session: warning: {}",
        printable(&text.to_string())
    ));
}

/// `aws-session: …`: what the run is doing or waiting for (a prompt's context).
pub fn say(text: impl Display) {
    line(format_args!("aws-session: {text}"));
}

/// `text` as one line of stderr, in one write (so that it is never interleaved with
/// what other processes write to the same terminal). A failed write is ignored:
/// there is nowhere left to report it.
pub fn line(text: impl Display) {
    let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
}
