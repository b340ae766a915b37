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
//! The binaries of Linux run here (they are Linux facts: those tests are
//! `cfg(target_os = "linux")`); the archives of every platform are checked by what
//! they hold: checksums, the kind and size of each binary, the macOS minimum and
//! signature, the Homebrew formula (dist/ of scripts/release, or
//! `$AWS_SESSION_DIST`).
//!
//! qemu is `$AWS_SESSION_QEMU`, else qemu-aarch64-static or qemu-aarch64 on PATH
//! (Debian's qemu-user-static, which scripts/setup-peers installs). A missing binary
//! or qemu fails the test, it never skips.

#[cfg(target_os = "linux")]
use crate::common::{actions_by, keys, Peer, Sandbox};
use crate::common::{stderr, stdout};
use std::path::PathBuf;
use std::process::Command;

/// The aarch64 binary under test: `$AWS_SESSION_AARCH64_BIN`, checked to be an
/// aarch64 ELF file.
#[cfg(target_os = "linux")]
fn aarch64_binary() -> PathBuf {
    release_binary("AWS_SESSION_AARCH64_BIN", 183, "aarch64")
}

/// A release binary named by `var`, checked to be an ELF file for `machine`
/// (e_machine: 62 x86_64, 183 aarch64).
#[cfg(target_os = "linux")]
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
/// qemu-aarch64-static and qemu-aarch64 found on PATH (qemu-user is Linux's).
#[cfg(target_os = "linux")]
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
#[cfg(target_os = "linux")]
fn aarch64_command(sb: &Sandbox, peer: &Peer) -> Command {
    let mut command = sb.command_for(qemu(), peer);
    command.arg(aarch64_binary());
    command
}

/// The x86_64 release binary (`$AWS_SESSION_X86_64_BIN`), run natively, set up the
/// same way.
#[cfg(target_os = "linux")]
fn x86_64_command(sb: &Sandbox, peer: &Peer) -> Command {
    sb.command_for(release_binary("AWS_SESSION_X86_64_BIN", 62, "x86_64"), peer)
}

#[test]
#[cfg(target_os = "linux")]
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
#[cfg(target_os = "linux")]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn aarch64_binary_makes_an_mfa_session_for_the_aws_cli_under_qemu() {
    makes_an_mfa_session_for_the_aws_cli(aarch64_command);
}

#[test]
#[cfg(target_os = "linux")]
#[ignore = "needs the binaries of scripts/release; scripts/test runs it"]
fn x86_64_binary_makes_an_mfa_session_for_the_aws_cli() {
    makes_an_mfa_session_for_the_aws_cli(x86_64_command);
}

/// The release build serves credentials too (`exec --server`: threads, a listener,
/// a child it waits for): the AWS CLI inside gets them from the endpoint.
#[test]
#[cfg(target_os = "linux")]
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

#[cfg(target_os = "linux")]
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

// ---------------------------------------------------------------------------
// The archives of every platform: checksums, kinds, sizes, the macOS minimum
// ---------------------------------------------------------------------------

/// The size budget of every release binary: 2.0 MiB.
const MAX_BINARY_BYTES: u64 = 2 * 1024 * 1024;

/// What a release binary must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A static ELF executable for Linux (e_machine: 62 x86_64, 183 aarch64).
    LinuxStatic(u16),
    /// An ELF executable for FreeBSD on x86_64, linked against FreeBSD's libc.
    FreeBsd,
    /// A Mach-O executable for macOS (cputype: 0x0100000c arm64, 0x01000007 x86_64)
    /// that runs from macOS 11.0 on.
    MacOs(u32),
}

/// Each archive's platform name, its binary's kind and the words `file` says of it.
const ARCHIVES: [(&str, Kind, &[&str]); 5] = [
    (
        "x86_64-linux",
        Kind::LinuxStatic(62),
        &["ELF 64-bit LSB", "x86-64", "static"],
    ),
    (
        "aarch64-linux",
        Kind::LinuxStatic(183),
        &["ELF 64-bit LSB", "ARM aarch64", "statically linked"],
    ),
    (
        "aarch64-macos",
        Kind::MacOs(0x0100_000c),
        &["Mach-O 64-bit arm64 executable"],
    ),
    (
        "x86_64-macos",
        Kind::MacOs(0x0100_0007),
        &["Mach-O 64-bit x86_64 executable"],
    ),
    (
        "x86_64-freebsd",
        Kind::FreeBsd,
        &["ELF 64-bit LSB", "x86-64", "FreeBSD"],
    ),
];

/// The dist/ folder of scripts/release: `$AWS_SESSION_DIST`, else `<repo>/dist`.
fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("AWS_SESSION_DIST")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dir.join("SHA256SUMS").is_file(),
        "{} holds no SHA256SUMS: run scripts/release first (scripts/test does)",
        dir.display()
    );
    dir
}

/// SHA256SUMS as (file name, hex digest) pairs, in its order.
fn read_sums(dist: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("read SHA256SUMS");
    text.lines()
        .map(|line| {
            let (sum, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sha256sum line: {line:?}"));
            (name.to_string(), sum.to_string())
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Every archive is in SHA256SUMS with its right digest, holds one folder with the
/// binary, README.md and LICENSE; each binary is of its platform's kind (by its own
/// headers and by `file`) and within 2.0 MiB; the macOS ones run from macOS 11.0 on
/// (LC_BUILD_VERSION) and carry an intact ad-hoc signature; the Homebrew formula
/// names each archive with its digest.
#[test]
#[ignore = "needs the archives of scripts/release; scripts/test runs it"]
fn archives_check_and_hold_binaries_of_their_kind() {
    let dist = dist_dir();
    let version = env!("CARGO_PKG_VERSION");
    let sums = read_sums(&dist);
    let names: Vec<String> = ARCHIVES
        .iter()
        .map(|(platform, _, _)| format!("aws-session-{version}-{platform}.tar.gz"))
        .collect();
    let listed: Vec<&str> = sums.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(listed, names, "SHA256SUMS lists every archive, once");
    let unpacked = tempfile::tempdir().expect("a temporary folder");
    for ((platform, kind, file_says), (name, sum)) in ARCHIVES.iter().zip(&sums) {
        let tarball = dist.join(name);
        let bytes =
            std::fs::read(&tarball).unwrap_or_else(|e| panic!("{}: {e}", tarball.display()));
        assert_eq!(&sha256_hex(&bytes), sum, "{name} does not match SHA256SUMS");
        let folder = format!("aws-session-{version}-{platform}");
        let entries = untar(&tarball, unpacked.path());
        for want in ["aws-session", "README.md", "LICENSE"] {
            let path = format!("{folder}/{want}");
            assert!(entries.contains(&path), "{name} lacks {path}: {entries:?}");
        }
        assert!(
            entries
                .iter()
                .all(|e| e.starts_with(&format!("{folder}/")) || *e == folder),
            "{name} holds more than the folder {folder}: {entries:?}"
        );
        let bin = unpacked.path().join(&folder).join("aws-session");
        check_binary(&bin, *kind, file_says);
    }
    check_formula(&dist, version, &sums);
}

/// Unpack `tarball` into `into` with the system's tar; the entries it holds (folders
/// without their trailing `/`).
fn untar(tarball: &std::path::Path, into: &std::path::Path) -> Vec<String> {
    let list = Command::new("tar")
        .arg("-tzf")
        .arg(tarball)
        .output()
        .expect("run tar");
    assert!(
        list.status.success(),
        "tar -tzf {}: {}",
        tarball.display(),
        stderr(&list)
    );
    let unpack = Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(into)
        .output()
        .expect("run tar");
    assert!(
        unpack.status.success(),
        "tar -xzf {}: {}",
        tarball.display(),
        stderr(&unpack)
    );
    stdout(&list)
        .lines()
        .map(|l| l.trim_end_matches('/').to_string())
        .collect()
}

fn check_binary(bin: &std::path::Path, kind: Kind, file_says: &[&str]) {
    let shown = bin.display();
    let bytes = std::fs::read(bin).unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        bytes.len() as u64 <= MAX_BINARY_BYTES,
        "{shown} is {} bytes, over the 2.0 MiB budget",
        bytes.len()
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(bin).unwrap().permissions());
    assert_eq!(mode & 0o111, 0o111, "{shown} is not executable: {mode:o}");
    match kind {
        Kind::LinuxStatic(machine) => {
            let elf = elf::Elf::parse(&bytes).unwrap_or_else(|e| panic!("{shown}: {e}"));
            assert_eq!(elf.machine, machine, "{shown}: e_machine");
            assert_eq!(elf.interpreter, None, "{shown} is not static");
        }
        Kind::FreeBsd => {
            let elf = elf::Elf::parse(&bytes).unwrap_or_else(|e| panic!("{shown}: {e}"));
            assert_eq!(elf.machine, 62, "{shown}: e_machine");
            assert_eq!(
                elf.interpreter.as_deref(),
                Some("/libexec/ld-elf.so.1"),
                "{shown}: FreeBSD's dynamic linker"
            );
        }
        Kind::MacOs(cputype) => {
            let macho = macho::MachO::parse(&bytes).unwrap_or_else(|e| panic!("{shown}: {e}"));
            assert_eq!(macho.cputype, cputype, "{shown}: cputype");
            assert_eq!(
                macho.filetype,
                macho::MH_EXECUTE,
                "{shown}: not an executable"
            );
            let (platform, minos) = macho
                .build_version
                .unwrap_or_else(|| panic!("{shown} has no LC_BUILD_VERSION"));
            assert_eq!(platform, macho::PLATFORM_MACOS, "{shown}: not for macOS");
            assert!(
                minos <= (11, 0, 0),
                "{shown} needs macOS {minos:?}, newer than 11.0"
            );
            assert!(
                macho.dylibs.iter().all(|d| d.starts_with("/usr/lib/")),
                "{shown} links libraries macOS does not ship: {:?}",
                macho.dylibs
            );
            // arm64 macOS runs only signed code: an ad-hoc signature whose page
            // hashes are those of the file. Intel Macs run unsigned code; a
            // signature there must be intact too.
            match macho.code_signature {
                Some(signature) => macho::check_code_signature(&bytes, signature)
                    .unwrap_or_else(|e| panic!("{shown}: {e}")),
                None => assert_ne!(
                    cputype, 0x0100_000c,
                    "{shown} has no code signature: arm64 macOS does not run it"
                ),
            }
        }
    }
    let file = Command::new("file")
        .arg("-b")
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("cannot run file (scripts/setup-peers installs it): {e}"));
    let said = stdout(&file);
    for word in file_says {
        assert!(
            said.contains(word),
            "file says {said:?} of {shown}: no {word:?}"
        );
    }
    assert!(
        !said.contains("dynamically linked") || matches!(kind, Kind::FreeBsd),
        "{said}"
    );
}

/// The formula names each macOS and Linux archive (url with the @URL_BASE@
/// placeholder) with its digest from SHA256SUMS, the version, and installs the binary.
fn check_formula(dist: &std::path::Path, version: &str, sums: &[(String, String)]) {
    let path = dist.join("aws-session.rb");
    let formula =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(formula.contains("class AwsSession < Formula"), "{formula}");
    assert!(
        formula.contains(&format!("version \"{version}\"")),
        "{formula}"
    );
    assert!(formula.contains("bin.install \"aws-session\""), "{formula}");
    for platform in [
        "aarch64-macos",
        "x86_64-macos",
        "aarch64-linux",
        "x86_64-linux",
    ] {
        let name = format!("aws-session-{version}-{platform}.tar.gz");
        let sum = &sums.iter().find(|(n, _)| *n == name).expect("listed").1;
        let block = format!("url \"@URL_BASE@/{name}\"\n      sha256 \"{sum}\"");
        assert!(
            formula.contains(&block),
            "the formula lacks {block:?}:\n{formula}"
        );
    }
}

/// Just enough of ELF64 (little endian) to know a binary's machine and whether it
/// names a dynamic linker (PT_INTERP).
mod elf {
    pub struct Elf {
        pub machine: u16,
        pub interpreter: Option<String>,
    }

    fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
        b.get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]))
            .ok_or_else(|| format!("cut off at {at}"))
    }

    fn u64_at(b: &[u8], at: usize) -> Result<u64, String> {
        b.get(at..at + 8)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
            .ok_or_else(|| format!("cut off at {at}"))
    }

    impl Elf {
        pub fn parse(b: &[u8]) -> Result<Elf, String> {
            if !b.starts_with(b"\x7fELF\x02\x01") {
                return Err("not a 64-bit little-endian ELF file".into());
            }
            let machine = u16_at(b, 18)?;
            let phoff = u64_at(b, 32)? as usize;
            let phentsize = u16_at(b, 54)? as usize;
            let phnum = u16_at(b, 56)? as usize;
            let mut interpreter = None;
            for i in 0..phnum {
                let ph = phoff + i * phentsize;
                let p_type = u16_at(b, ph)? as u32 | (u16_at(b, ph + 2)? as u32) << 16;
                if p_type == 3 {
                    let (off, size) = (u64_at(b, ph + 8)? as usize, u64_at(b, ph + 32)? as usize);
                    let raw = b.get(off..off + size).ok_or("PT_INTERP out of the file")?;
                    let text = raw.split(|&c| c == 0).next().unwrap_or_default();
                    interpreter = Some(String::from_utf8_lossy(text).into_owned());
                }
            }
            Ok(Elf {
                machine,
                interpreter,
            })
        }
    }
}

/// Just enough of Mach-O (64-bit, little endian) to read what macOS checks before it
/// runs a binary: CPU, file type, LC_BUILD_VERSION (platform, minimum OS), the
/// libraries it loads, and the code signature's page hashes.
mod macho {
    pub const MH_EXECUTE: u32 = 2;
    pub const PLATFORM_MACOS: u32 = 1;
    const MH_MAGIC_64: u32 = 0xfeed_facf;
    const LC_LOAD_DYLIB: u32 = 0xc;
    const LC_CODE_SIGNATURE: u32 = 0x1d;
    const LC_BUILD_VERSION: u32 = 0x32;

    pub struct MachO {
        pub cputype: u32,
        pub filetype: u32,
        /// Platform and minimum OS version (major, minor, patch).
        pub build_version: Option<(u32, (u32, u32, u32))>,
        pub dylibs: Vec<String>,
        /// The code signature's place in the file: offset and size.
        pub code_signature: Option<(usize, usize)>,
    }

    fn le32(b: &[u8], at: usize) -> Result<u32, String> {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
            .ok_or_else(|| format!("cut off at {at}"))
    }

    fn be32(b: &[u8], at: usize) -> Result<u32, String> {
        b.get(at..at + 4)
            .map(|s| u32::from_be_bytes(s.try_into().unwrap()))
            .ok_or_else(|| format!("code signature cut off at {at}"))
    }

    impl MachO {
        pub fn parse(b: &[u8]) -> Result<MachO, String> {
            if le32(b, 0)? != MH_MAGIC_64 {
                return Err("not a 64-bit little-endian Mach-O file".into());
            }
            let mut m = MachO {
                cputype: le32(b, 4)?,
                filetype: le32(b, 12)?,
                build_version: None,
                dylibs: Vec::new(),
                code_signature: None,
            };
            let ncmds = le32(b, 16)?;
            let mut at = 32;
            for _ in 0..ncmds {
                let (cmd, size) = (le32(b, at)?, le32(b, at + 4)? as usize);
                if size < 8 {
                    return Err(format!("load command {cmd:#x} of {size} bytes"));
                }
                match cmd {
                    LC_BUILD_VERSION => {
                        let v = le32(b, at + 12)?;
                        m.build_version =
                            Some((le32(b, at + 8)?, (v >> 16, (v >> 8) & 0xff, v & 0xff)));
                    }
                    LC_LOAD_DYLIB => {
                        let name_at = at + le32(b, at + 8)? as usize;
                        let raw = b
                            .get(name_at..at + size)
                            .ok_or("dylib name out of its command")?;
                        let name = raw.split(|&c| c == 0).next().unwrap_or_default();
                        m.dylibs.push(String::from_utf8_lossy(name).into_owned());
                    }
                    LC_CODE_SIGNATURE => {
                        m.code_signature =
                            Some((le32(b, at + 8)? as usize, le32(b, at + 12)? as usize));
                    }
                    _ => {}
                }
                at += size;
            }
            Ok(m)
        }
    }

    /// The signature (a big-endian SuperBlob) holds a CodeDirectory whose SHA-256
    /// hash of every page up to its code limit is that of the file's page.
    pub fn check_code_signature(b: &[u8], (off, size): (usize, usize)) -> Result<(), String> {
        use sha2::{Digest, Sha256};
        let blob = b
            .get(off..off + size)
            .ok_or("the signature is out of the file")?;
        if be32(blob, 0)? != 0xfade_0cc0 {
            return Err("the signature is not an embedded signature SuperBlob".into());
        }
        let count = be32(blob, 8)? as usize;
        let directory = (0..count)
            .map(|i| Ok((be32(blob, 12 + 8 * i)?, be32(blob, 16 + 8 * i)? as usize)))
            .collect::<Result<Vec<_>, String>>()?
            .into_iter()
            .find(|(slot, _)| *slot == 0)
            .ok_or("the signature has no CodeDirectory")?
            .1;
        let cd = blob
            .get(directory..)
            .ok_or("CodeDirectory out of the signature")?;
        if be32(cd, 0)? != 0xfade_0c02 {
            return Err("the CodeDirectory's magic is wrong".into());
        }
        let hash_offset = be32(cd, 16)? as usize;
        let code_slots = be32(cd, 28)? as usize;
        let code_limit = be32(cd, 32)? as usize;
        let (hash_size, hash_type, page_shift) = (cd[36] as usize, cd[37], cd[39]);
        if hash_type != 2 || hash_size != 32 {
            return Err(format!(
                "hash type {hash_type} of {hash_size} bytes, not SHA-256"
            ));
        }
        let page = 1usize << page_shift;
        if code_slots != code_limit.div_ceil(page) || code_limit > off {
            return Err(format!(
                "{code_slots} pages for a code limit of {code_limit}"
            ));
        }
        for i in 0..code_slots {
            let data = &b[i * page..((i + 1) * page).min(code_limit)];
            let want = cd
                .get(hash_offset + i * 32..hash_offset + (i + 1) * 32)
                .ok_or("page hashes out of the CodeDirectory")?;
            if Sha256::digest(data).as_slice() != want {
                return Err(format!("page {i} does not match its signed hash"));
            }
        }
        Ok(())
    }
}
