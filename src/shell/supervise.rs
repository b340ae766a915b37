//! Run a child and stay its parent (`--server`): aws-session must keep serving
//! credentials while the child runs, so it cannot replace itself with it.
//!
//! SIGINT, SIGTERM and SIGHUP sent to aws-session are passed to the child, which
//! decides what they mean; aws-session then ends with the child's status, or 128 + n
//! when a signal ended it, as a shell reports it.

use crate::error::{Error, Result};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The child's pid while it runs, for the signal handler (0: none).
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Start `cmd`, pass signals to it, wait for it, and return the status to exit with.
/// `program` names it in an error.
pub fn run_child(mut cmd: Command, program: &str) -> Result<i32> {
    let mut child = cmd.spawn().map_err(|e| Error::Exec {
        program: program.to_string(),
        not_found: e.kind() == std::io::ErrorKind::NotFound,
        detail: e.to_string(),
    })?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `forward` only reads an atomic and calls kill(2).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    let status = loop {
        match child.wait() {
            Ok(status) => break status,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Exec {
                    program: program.to_string(),
                    not_found: false,
                    detail: format!("cannot wait for it: {e}"),
                })
            }
        }
    };
    CHILD.store(0, Ordering::SeqCst);
    Ok(status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1))
}
