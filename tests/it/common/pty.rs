//! A pseudo-terminal for tests: the child gets a real terminal as stdin, stdout,
//! stderr and controlling terminal (so `/dev/tty` works), and the test reads what it
//! draws and types into it.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the child wrote, and whether the reader saw the end (EOF/EIO).
type Output = Arc<(Mutex<(Vec<u8>, bool)>, Condvar)>;

/// A child process on a pseudo-terminal.
pub struct Pty {
    master: std::fs::File,
    /// Our copy of the terminal's slave side, held open while the Pty lives: once the
    /// last slave descriptor closes, a read of the master may fail with EIO before it
    /// has returned what the child wrote last (seen as a message cut off after
    /// "aws-session: "), so the child's exit never closes the terminal under the reader.
    _slave: OwnedFd,
    child: Child,
    output: Output,
    /// How much of the output `expect` has consumed.
    pos: usize,
}

fn check(rc: libc::c_int, what: &str) -> std::io::Result<libc::c_int> {
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        Err(std::io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(rc)
    }
}

/// The path of the slave side of the master `m`. ptsname(3) is in every Unix libc
/// (ptsname_r is not: macOS lacks it) but answers in a static buffer, so its calls
/// are serialised and the name copied out.
fn slave_name(m: libc::c_int) -> std::ffi::CString {
    static PTSNAME: Mutex<()> = Mutex::new(());
    let _one_at_a_time = PTSNAME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: ptsname returns null or a NUL-terminated string that stays valid until
    // its next call, which the lock holds off while it is copied.
    unsafe {
        let name = libc::ptsname(m);
        assert!(
            !name.is_null(),
            "ptsname: {}",
            std::io::Error::last_os_error()
        );
        std::ffi::CStr::from_ptr(name).to_owned()
    }
}

impl Pty {
    /// Start `cmd` on a new pseudo-terminal of `cols`×`rows`.
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> Pty {
        // SAFETY: plain libc calls on descriptors we own; checked return values.
        let (master, slave) = unsafe {
            let m = check(
                libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY),
                "posix_openpt",
            )
            .unwrap();
            check(libc::grantpt(m), "grantpt").unwrap();
            check(libc::unlockpt(m), "unlockpt").unwrap();
            let name = slave_name(m);
            let s = check(
                libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY),
                "open pts",
            )
            .unwrap();
            let ws = libc::winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            check(libc::ioctl(s, libc::TIOCSWINSZ, &ws), "TIOCSWINSZ").unwrap();
            (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s))
        };
        let slave_fd = slave.as_raw_fd();
        let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
        cmd.stdin(stdio(&slave))
            .stdout(stdio(&slave))
            .stderr(stdio(&slave));
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                // May already be a session leader (the sandbox's own pre_exec).
                libc::setsid();
                if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on pty");
        let master = std::fs::File::from(master);
        let output: Output = Arc::new((Mutex::new((Vec::new(), false)), Condvar::new()));
        let mut reader = master.try_clone().expect("clone pty master");
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break, // EIO once the child side is closed
                    Ok(n) => {
                        let (lock, cv) = &*out;
                        lock.lock().unwrap().0.extend_from_slice(&buf[..n]);
                        cv.notify_all();
                    }
                }
            }
            let (lock, cv) = &*out;
            lock.lock().unwrap().1 = true;
            cv.notify_all();
        });
        Pty {
            master,
            _slave: slave,
            child,
            output,
            pos: 0,
        }
    }

    /// Type `text` (use "\r" for Enter, "\x03" for Ctrl-C, "\x04" for Ctrl-D).
    pub fn send(&mut self, text: &str) {
        self.master
            .write_all(text.as_bytes())
            .expect("write to pty");
        self.master.flush().expect("flush pty");
    }

    /// Type `line` and Enter.
    pub fn send_line(&mut self, line: &str) {
        self.send(&format!("{line}\r"));
    }

    /// Everything the child has written so far (lossy UTF-8).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.0.lock().unwrap().0).into_owned()
    }

    /// Wait until `needle` appears after what earlier `expect`s consumed; return the
    /// text up to and including it. Panics with the screen so far after `timeout`.
    pub fn expect(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.output;
        let mut buf = lock.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&buf.0[self.pos.min(buf.0.len())..]).into_owned();
            if let Some(i) = text.find(needle) {
                let upto = &text[..i + needle.len()];
                self.pos += upto.len();
                return upto.to_string();
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {needle:?}; output since the last match:\n{text}"
                );
            }
            buf = cv.wait_timeout(buf, deadline - now).unwrap().0;
        }
    }

    /// Wait for the child to exit (at most `timeout`), killing it after that; then
    /// let the reader drain what the child wrote last (until nothing new has come for
    /// 300 ms, at most 3 s), so `output()` after `wait()` holds everything. (`expect`
    /// needs no such wait: it waits for its text.)
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let drain = Instant::now() + Duration::from_secs(3);
                let quiet = Duration::from_millis(300);
                let (lock, cv) = &*self.output;
                let mut buf = lock.lock().unwrap();
                while !buf.1 && Instant::now() < drain {
                    let seen = buf.0.len();
                    buf = cv.wait_timeout(buf, quiet).unwrap().0;
                    if buf.0.len() == seen {
                        break;
                    }
                }
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "child did not exit within {timeout:?}; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child's process id.
    /// Whether the child has exited (its status is kept for [`Pty::wait`]).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_some()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
