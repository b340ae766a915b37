//! Run a child and stay its parent (`--server`): aws-session must keep serving
//! credentials while the child runs, so it cannot replace itself with it.
//!
//! SIGINT, SIGTERM and SIGHUP sent to aws-session by a process (kill(2)) are passed to
//! the child, which decides what they mean; aws-session then ends with the child's
//! status, or 128 + n when a signal ended it, as a shell reports it. A signal from the
//! terminal (Ctrl-C, a hang-up) went to the whole foreground process group, the child
//! included: passing it on would make it twice, and a second Ctrl-C means "stop now"
//! to many programs (terraform).

use crate::error::{Error, Result};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The child's pid while it runs, for the signal handler (0: none).
static CHILD: AtomicI32 = AtomicI32::new(0);

/// The `si_code`s of a signal that a process sent: kill(2), sigqueue(3), tkill(2).
#[cfg(any(target_os = "linux", target_os = "android"))]
const FROM_A_PROCESS: [libc::c_int; 3] = [libc::SI_USER, libc::SI_QUEUE, libc::SI_TKILL];
/// The `si_code`s of a signal that a process sent (SI_USER, SI_QUEUE of macOS and
/// the BSDs).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const FROM_A_PROCESS: [libc::c_int; 2] = [0x10001, 0x10002];

/// Whether a signal with this `si_code` is passed to the child (see the module).
fn is_passed_on(si_code: libc::c_int) -> bool {
    FROM_A_PROCESS.contains(&si_code)
}

extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t (or none).
    let from_a_process = !info.is_null() && is_passed_on(unsafe { (*info).si_code });
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 && from_a_process {
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
        // SAFETY: `forward` only reads the siginfo, an atomic and calls kill(2).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_signals_a_process_sent_are_passed_on() {
        assert!(is_passed_on(FROM_A_PROCESS[0]));
        assert!(is_passed_on(FROM_A_PROCESS[1]));
        // SI_KERNEL (Linux), 0 (macOS, FreeBSD): the terminal's signal to the group.
        assert!(!is_passed_on(0x80));
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        assert!(!is_passed_on(0));
    }
}
