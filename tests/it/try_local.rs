//! `scripts/try-local` works: it starts its own demo peer, prints a code, and opens a
//! shell in which the real AWS CLI sees the demo user; a role profile works too.

use crate::common::pty::Pty;
use std::process::Command;
use std::time::Duration;

#[test]
fn try_local_opens_a_working_demo_shell() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".bashrc"), "PS1='demo$ '\n").unwrap();
    // Run by path, as the README says: a lost run bit fails here.
    let mut cmd = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/try-local"));
    cmd.env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHELL", crate::common::tool("bash"))
        .env("TERM", "xterm")
        .env("AWS_SESSION_BIN", env!("CARGO_BIN_EXE_aws-session"));
    let mut pty = Pty::spawn(cmd, 120, 40);
    pty.expect("Current code: ", Duration::from_secs(120));
    let code: String = pty.expect("\n", Duration::from_secs(5)).trim().to_string();
    assert_eq!(code.len(), 6, "a 6-digit code: {code:?}");
    pty.expect(
        "window when the current code was already handed out):",
        Duration::from_secs(5),
    );
    pty.expect("\n", Duration::from_secs(5));
    let fresh_code_command = pty.expect("\n", Duration::from_secs(5)).trim().to_string();
    assert!(
        fresh_code_command.contains("scripts/totp "),
        "{fresh_code_command:?}"
    );
    pty.expect("6 digit MFA code: ", Duration::from_secs(30));
    pty.send_line(&code);
    pty.expect("(aws+", Duration::from_secs(30));
    pty.send_line("aws sts get-caller-identity --query Arn --output text; echo DONE-$((40+2))");
    let out = pty.expect("DONE-42", Duration::from_secs(60));
    assert!(out.contains("arn:aws:iam::123456789012:user/demo"), "{out}");
    // The role profile rides on the cached MFA session: no second code.
    pty.send_line(
        "aws-session --profile demo-admin exec aws sts get-caller-identity --query Arn --output text; echo ROLE-$((40+2))",
    );
    let out = pty.expect("ROLE-42", Duration::from_secs(60));
    assert!(out.contains("assumed-role/demo-admin/"), "{out}");
    assert!(!out.contains("MFA code"), "no code asked: {out}");
    // The banner's command for a fresh code never hands out a code twice: the current
    // one was printed above, so it waits for the next window, and that code works.
    pty.send_line("aws-session-refresh");
    pty.expect("6 digit MFA code: ", Duration::from_secs(30));
    let fresh = Command::new("sh")
        .arg("-c")
        .arg(&fresh_code_command)
        .output()
        .unwrap();
    assert!(fresh.status.success(), "{fresh:?}");
    let fresh = String::from_utf8_lossy(&fresh.stdout).trim().to_string();
    assert_eq!(fresh.len(), 6, "a 6-digit code: {fresh:?}");
    assert_ne!(fresh, code, "never the code already handed out");
    pty.send_line(&fresh);
    pty.send_line("echo REFRESHED-$?-$((40+2))");
    let out = pty.expect("-42", Duration::from_secs(60));
    assert!(
        out.contains("REFRESHED-0-"),
        "the fresh code was accepted: {out}"
    );
    pty.send_line("exit 3");
    assert_eq!(pty.wait(Duration::from_secs(30)).code(), Some(3));
}
