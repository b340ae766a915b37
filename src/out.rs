//! Standard output, checked: every write of the crate to stdout goes through
//! [`print`], so that a full disk or a broken device is an error with its exit code
//! (never a panic, as `print!` would give) and a reader that has gone away (a closed
//! pipe: `aws-session export | head -0`) is a quiet success.

use crate::error::{Error, Result};
use std::io::{ErrorKind, Write};

/// Write `text` to stdout and flush it. A closed pipe (EPIPE) is not an error: the
/// reader took what it wanted. Any other failure is `cannot write to stdout: …` (exit 6).
pub fn print(text: &str) -> Result<()> {
    write_to(&mut std::io::stdout().lock(), text)
}

/// [`print`] to any writer (tests).
pub fn write_to(w: &mut impl Write, text: &str) -> Result<()> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Local(format!("cannot write to stdout: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn closed_pipe_is_quiet_and_other_errors_are_local() {
        assert!(write_to(&mut Failing(ErrorKind::BrokenPipe), "x").is_ok());
        let e = write_to(&mut Failing(ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::LOCAL);
        assert!(e.to_string().starts_with("cannot write to stdout: "));
        let mut v = Vec::new();
        write_to(&mut v, "ok").unwrap();
        assert_eq!(v, b"ok");
    }
}
