//! Helper processes whose output we read: `credential_process` (the keys) and
//! `mfa_process` (a code). The command line is split into words with the shell's quoting
//! rules ([`split_words`], pure) and started without a shell ([`run_capture`]): stdin
//! is /dev/null, stderr is the user's, stdout is read (at most [`MAX_OUTPUT`] bytes)
//! and handed back, never shown.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set to 1 in the environment of every process started here: an aws-session run
/// inside one refuses to start another (`credential_process` of a profile that names
/// aws-session itself would otherwise call itself forever).
pub const MARKER: &str = "AWS_SESSION_IN_CREDENTIAL_PROCESS";
/// How long a helper may run before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The most of its stdout that is read.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Split `line` into words as a POSIX shell would, without expanding anything:
/// single quotes keep everything, double quotes keep everything but `\"`, `\\`, `\$`
/// and `` \` ``, a backslash outside quotes keeps the next character. The error names
/// an unterminated quote or a trailing backslash.
///
/// ```
/// use aws_session::shell::process::split_words;
/// assert_eq!(split_words(r#"pass show 'aws/my keys' "a \"b\"" c\ d"#).unwrap(),
///            ["pass", "show", "aws/my keys", "a \"b\"", "c d"]);
/// assert!(split_words("op read 'x").is_err());
/// ```
pub fn split_words(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a single quote is not closed"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a double quote is not closed"),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a double quote is not closed"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => return Err("it ends with a backslash"),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Why a helper gave no output.
#[derive(Debug)]
pub enum RunError {
    /// The program was not found.
    NotFound,
    /// It could not be started (not executable, ...).
    CannotStart(std::io::Error),
    /// It ended with a failure status ("exit status 3", "killed by signal 9").
    Failed(String),
    /// It ran longer than [`TIMEOUT`] and was killed.
    TimedOut,
    /// It printed more than [`MAX_OUTPUT`] bytes.
    TooLarge,
    /// Its output could not be read.
    Read(std::io::Error),
}

/// Run `words` (program and arguments; the program is looked up in PATH) without a
/// shell, with [`MARKER`] set, and return its stdout once it exited with status 0.
/// Killed after `timeout`.
pub fn run_capture(words: &[String], timeout: Duration) -> Result<Vec<u8>, RunError> {
    let Some((program, args)) = words.split_first() else {
        return Err(RunError::NotFound);
    };
    let mut child = Command::new(program)
        .args(args)
        .env(MARKER, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RunError::NotFound,
            _ => RunError::CannotStart(e),
        })?;
    let Some(mut out) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(RunError::Read(std::io::Error::other("no stdout pipe")));
    };
    // The reading thread ends at end of output; it is left behind (and ends when the
    // pipe closes) if the process outlives its timeout.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = Read::take(&mut out, MAX_OUTPUT as u64 + 1)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(r);
    });
    let output = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::TimedOut);
        }
    };
    let output = match output {
        Ok(b) if b.len() > MAX_OUTPUT => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::TooLarge);
        }
        Ok(b) => b,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Read(e));
        }
    };
    let status = child.wait().map_err(RunError::Read)?;
    if status.success() {
        return Ok(output);
    }
    use std::os::unix::process::ExitStatusExt;
    Err(RunError::Failed(match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "failure".to_string(),
    }))
}

/// `what` (e.g. "credential_process of profile \"dev\"") failed: the message, with no
/// output of the process in it.
pub fn describe(what: &str, program: &str, e: &RunError) -> String {
    match e {
        RunError::NotFound => format!("{what}: command \"{program}\" not found"),
        RunError::CannotStart(e) => format!("{what}: cannot start \"{program}\": {e}"),
        RunError::Failed(status) => format!("{what}: \"{program}\" failed ({status})"),
        RunError::TimedOut => format!(
            "{what}: \"{program}\" did not finish within {} s and was stopped",
            TIMEOUT.as_secs()
        ),
        RunError::TooLarge => format!(
            "{what}: \"{program}\" printed more than {} KiB",
            MAX_OUTPUT / 1024
        ),
        RunError::Read(e) => format!("{what}: cannot read the output of \"{program}\": {e}"),
    }
}

/// Whether `command`'s program is aws-session (by its file name).
///
/// ```
/// use aws_session::shell::process::is_aws_session;
/// assert!(is_aws_session("/usr/local/bin/aws-session credential-process --profile p"));
/// assert!(is_aws_session("'aws-session' credential-process"));
/// assert!(!is_aws_session("pass show aws-session"));
/// ```
pub fn is_aws_session(command: &str) -> bool {
    let words = split_words(command).unwrap_or_default();
    words
        .first()
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .is_some_and(|name| name == "aws-session")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split_words(s).unwrap()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(w(""), Vec::<String>::new());
        assert_eq!(w("  a   b\tc "), ["a", "b", "c"]);
        assert_eq!(w("'a b' c"), ["a b", "c"]);
        assert_eq!(w(r"'a\b'"), [r"a\b"]);
        assert_eq!(w(r#""a\"b" "\$x" "\n""#), ["a\"b", "$x", r"\n"]);
        assert_eq!(w(r"a\ b\\c"), [r"a b\c"]);
        assert_eq!(w(r#"x'y'"z""#), ["xyz"]);
        assert_eq!(w("''"), [""]);
        assert_eq!(w(r#""""#), [""]);
        assert_eq!(w("$HOME ~ *"), ["$HOME", "~", "*"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert!(split_words("'a").is_err());
        assert!(split_words("\"a").is_err());
        assert!(split_words("\"a\\").is_err());
        assert!(split_words("a\\").is_err());
    }

    #[test]
    fn runs_without_a_shell_and_reports_failures() {
        let out = run_capture(&w("printf %s 'a b'"), TIMEOUT).unwrap();
        assert_eq!(out, b"a b");
        let out = run_capture(
            &w("sh -c 'printf %s \"$AWS_SESSION_IN_CREDENTIAL_PROCESS\"'"),
            TIMEOUT,
        )
        .unwrap();
        assert_eq!(out, b"1");
        assert!(matches!(
            run_capture(&w("/nonexistent/x"), TIMEOUT),
            Err(RunError::NotFound)
        ));
        assert!(matches!(
            run_capture(&w("sh -c 'exit 3'"), TIMEOUT),
            Err(RunError::Failed(s)) if s == "exit status 3"
        ));
        assert!(matches!(
            run_capture(&w("sleep 5"), Duration::from_millis(100)),
            Err(RunError::TimedOut)
        ));
        assert!(matches!(
            run_capture(&w("head -c 70000 /dev/zero"), TIMEOUT),
            Err(RunError::TooLarge)
        ));
    }
}
