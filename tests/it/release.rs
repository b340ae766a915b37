//! The release binaries of scripts/release against the peer: the aarch64 one under
//! qemu-user, the x86_64 one natively. They start, make a real MFA session for a
//! command, and serve credentials (the release profile rebuilds std: see
//! scripts/build-static).
//!
//! scripts/release takes minutes (two static release builds), so these tests are
//! ignored by a plain `cargo test`; scripts/test builds the release, extracts the
//! aarch64 tarball, sets AWS_SESSION_AARCH64_BIN to its binary and runs them with
//! `cargo test --test it release:: -- --include-ignored`. Run by hand:
//!
//! ```text
//! scripts/release
//! tar -xzf dist/aws-session-*-aarch64-linux.tar.gz -C /tmp
//! AWS_SESSION_AARCH64_BIN=$(echo /tmp/aws-session-*-aarch64-linux/aws-session) \
//!     cargo test --test it release:: -- --include-ignored
//! ```
//!
//! qemu is `$AWS_SESSION_QEMU`, else qemu-aarch64-static or qemu-aarch64 on PATH
//! (Debian's qemu-user-static, which scripts/setup-peers installs). A missing binary
//! or qemu fails the test, it never skips.

use crate::common::{actions_by, keys, stderr, stdout, Peer, Sandbox};
use std::path::PathBuf;
use std::process::Command;

/// The aarch64 binary under test: `$AWS_SESSION_AARCH64_BIN`, checked to be an
/// aarch64 ELF file.
fn aarch64_binary() -> PathBuf {
    release_binary("AWS_SESSION_AARCH64_BIN", 183, "aarch64")
}

/// A release binary named by `var`, checked to be an ELF file for `machine`
/// (e_machine: 62 x86_64, 183 aarch64).
fn release_binary(var: &str, machine: u8, arch: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "{var} is not set: it names the {arch} binary of scripts/release \
             (scripts/test sets it; see the top of tests/it/release.rs to run this by hand). These tests need the binaries of scripts/release."
        ),
    };
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{var}={}: cannot read it: {e}", path.display()));
    // ELF magic, and e_machine (little endian, offset 18).
    assert!(
        bytes.len() > 20 && bytes.starts_with(b"\x7fELF") && bytes[18..20] == [machine, 0],
        "{var}={} is not an {arch} ELF binary",
        path.display()
    );
    path
}

/// qemu-user for aarch64: `$AWS_SESSION_QEMU`, else the first of
/// qemu-aarch64-static and qemu-aarch64 found on PATH.
fn qemu() -> PathBuf {
    if let Some(p) = std::env::var_os("AWS_SESSION_QEMU").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["qemu-aarch64-static", "qemu-aarch64"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "qemu-user missing: neither qemu-aarch64-static nor qemu-aarch64 is on PATH \
         (scripts/setup-peers installs Debian's qemu-user-static; AWS_SESSION_QEMU names another)"
    );
}

/// `qemu <aarch64 binary>` in the sandbox's environment, set up as
/// [`Sandbox::command`] sets up the built binary: only the sandbox's environment,
/// stdin from /dev/null, a new session without a controlling terminal.
fn aarch64_command(sb: &Sandbox, peer: &Peer) -> Command {
    let mut command = sb.command_for(qemu(), peer);
    command.arg(aarch64_binary());
    command
}

/// The x86_64 release binary (`$AWS_SESSION_X86_64_BIN`), run natively, set up the
/// same way.
fn x86_64_command(sb: &Sandbox, peer: &Peer) -> Command {
    sb.command_for(release_binary("AWS_SESSION_X86_64_BIN", 62, "x86_64"), peer)
}

#[test]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn aarch64_binary_prints_its_version_under_qemu() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    let out = aarch64_command(&sb, peer)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", qemu().display()));
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!("aws-session {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn aarch64_binary_makes_an_mfa_session_for_the_aws_cli_under_qemu() {
    makes_an_mfa_session_for_the_aws_cli(aarch64_command);
}

#[test]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn x86_64_binary_makes_an_mfa_session_for_the_aws_cli() {
    makes_an_mfa_session_for_the_aws_cli(x86_64_command);
}

/// The release build serves credentials too (`exec --server`: threads, a listener,
/// a child it waits for): the AWS CLI inside gets them from the endpoint.
#[test]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn x86_64_binary_serves_credentials_to_the_aws_cli() {
    let peer = Peer::shared();
    let user = peer.create_user("rel-srv", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config("[default]\nregion = us-east-1\n");
    let out = x86_64_command(&sb, peer)
        .args([
            "--code",
            &user.totp(0),
            "exec",
            "--server",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains(&user.arn), "{}", stdout(&out));
}

fn makes_an_mfa_session_for_the_aws_cli(command: fn(&Sandbox, &Peer) -> Command) {
    let peer = Peer::shared();
    let user = peer.create_user("arm", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    // The aarch64 binary (emulated) signs GetSessionToken with a TOTP code, then
    // execs the venv's x86_64 AWS CLI (native: qemu-user hands execve to the kernel).
    let out = command(&sb, peer)
        .args([
            "--code",
            &user.totp(0),
            "exec",
            "aws",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", qemu().display()));
    assert!(
        out.status.success(),
        "stderr: {}\npeer stderr: {}",
        stderr(&out),
        peer.stderr()
    );
    assert!(
        stdout(&out).contains(&user.arn),
        "the CLI should see the user: {}",
        stdout(&out)
    );
    // The long-term key made exactly one request, GetSessionToken, and the peer
    // issued an MFA session for the user.
    assert_eq!(actions_by(peer, &user.access_key_id), ["GetSessionToken"]);
    let issued: Vec<_> = peer
        .sessions()
        .into_iter()
        .filter(|s| s.kind == "session" && s.arn == user.arn)
        .collect();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0].mfa, Some(true), "{issued:?}");
    // The CLI signed with that session's key and token.
    let cli: Vec<_> = peer
        .log()
        .into_iter()
        .filter(|r| {
            r.action == "GetCallerIdentity"
                && r.access_key_id == issued[0].access_key_id
                && r.has_security_token
                && r.status == 200
        })
        .collect();
    assert_eq!(
        cli.len(),
        1,
        "one GetCallerIdentity signed with the session credentials"
    );
}
