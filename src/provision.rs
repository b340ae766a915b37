//! `provision-mfa`: create, show and enable a virtual MFA device for the calling IAM
//! user, then offer to write its serial into the profile.
//!
//! The flow, and what happens when it breaks:
//! 1. GetCallerIdentity names the user (anything but an IAM user is refused), and
//!    ListMFADevices must show no device: else nothing is created (exit 10).
//! 2. SIGINT/SIGTERM/SIGHUP handlers go in (without `SA_RESTART`, so a blocking read
//!    on the terminal returns `EINTR`), then CreateVirtualMFADevice.
//! 3. The seed is shown on the terminal only, as a QR code ([`crate::qr`]) and in
//!    groups of four; two consecutive codes are read from `/dev/tty`; EnableMFADevice.
//! 4. Any failure after step 2 (refused codes, network, Ctrl-C, end of input) runs
//!    DeleteVirtualMFADevice, with the signals blocked, before the error is returned;
//!    the error says whether the device is gone. The old handlers come back after.
//! 5. On success the serial is printed, and `mfa_serial` is written into the profile
//!    of the AWS config file (`--save`, or a "y" to the question): edited with
//!    [`config::set_property`], written to a temp file in the same directory, synced,
//!    renamed; mode kept (0600 for a new file); a symbolic link is refused.
//!
//! The seed never goes to stdout/stderr (which may be files), to `--debug` output or to
//! disk: only to `/dev/tty`, and the copies in memory are overwritten when done.

use crate::cli::Options;
use crate::client::Client;
use crate::config::{self, FileKind, ProfileSet};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::fsutil::{self, AtSymlink};
use crate::iam::{self, VirtualMfaDevice};
use crate::mfa;
use crate::qr;
use crate::session::{self, Env};
use crate::sts::{self, CallerIdentity};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

/// Secret groups shown per line (8 × 4 characters: 39 columns).
const GROUPS_PER_LINE: usize = 8;

/// Run `provision-mfa`.
pub fn run(opts: &Options, env: &Env) -> Result<()> {
    // No terminal, no codes: refuse before anything is created.
    let mut tty = Terminal::open()?;
    let debug = |m: &str| {
        if opts.debug {
            eprintln!("aws-session: debug: {m}");
        }
    };
    if opts.code.is_some() {
        debug("--code / AWS_SESSION_MFA_CODE is not used: the codes come from the new device");
    }
    let profiles = crate::commands::load_profiles(env)?;
    let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
    // As for every command: --profile P uses P's keys even when the environment has some.
    let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
    let source = session::source_credentials_for(env, &profiles, choice)?;
    let creds = &source.credentials;
    let endpoints = session::endpoint_settings(env, &profiles, profile);
    let client = crate::commands::make_client(opts, env, endpoints)?;

    let body = client.call(&sts::get_caller_identity(), creds)?;
    let id = sts::parse_get_caller_identity(&body).map_err(|e| unusable("GetCallerIdentity", e))?;
    let user = match id.iam_user_name() {
        Some(u) => u.to_string(),
        None => return Err(not_an_iam_user(&id, creds)),
    };
    debug(&format!("caller: {} (IAM user '{user}')", id.arn));

    let body = client.call(&iam::list_mfa_devices(Some(&user)), creds)?;
    let devices = iam::parse_list_mfa_devices(&body).map_err(|e| unusable("ListMFADevices", e))?;
    if let Some(d) = devices.first() {
        return Err(Error::MfaDeviceExists(format!(
            "IAM user '{user}' already has an MFA device configured ({}): nothing was created. \
             aws-session uses it as it is; to replace it, deactivate and delete it first \
             (IAM console, or aws iam deactivate-mfa-device and delete-virtual-mfa-device)",
            d.serial_number
        )));
    }

    let signals = SignalGuard::install()?;
    if let Some(e) = interruption("before the MFA device was created") {
        return Err(e.with_note("nothing was created"));
    }
    let device = Wiped::device(create_device(&client, creds, &id, &user)?);
    debug(&format!("created virtual MFA device {}", device.serial()));
    if let Some(e) = interruption("while the MFA device was being created") {
        return Err(delete_after_failure(&client, creds, device.serial(), e));
    }

    if let Err(e) = show_and_enable(&client, creds, &id, &user, &device, &mut tty, opts) {
        return Err(delete_after_failure(&client, creds, device.serial(), e));
    }
    let serial = device.serial().to_string();
    drop(device);
    println!("MFA device {serial} is enabled for IAM user '{user}'.");
    // The handlers stay in for the question: a Ctrl-C there says what to add by hand.
    let saved = offer_to_save(opts, env, &profiles, profile, &serial, &mut tty);
    drop(signals);
    saved
}

fn unusable(action: &str, e: impl std::fmt::Display) -> Error {
    Error::Network(format!(
        "{action} answered with an unusable document: {e} (not what AWS sends: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network)"
    ))
}

fn not_an_iam_user(id: &CallerIdentity, creds: &Credentials) -> Error {
    let what = if id.arn.ends_with(":root") {
        "the account's root user (set up its MFA in the AWS console instead)".to_string()
    } else {
        id.arn.clone()
    };
    Error::Config(format!(
        "provision-mfa makes an MFA device for an IAM user, but the access key {} belongs to {what}: \
         use the IAM user's own access keys (--profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        creds.access_key_id
    ))
}

/// `arn:PARTITION:iam::ACCOUNT:mfa/NAME`, the serial AWS gives a device made with the
/// default path.
fn expected_serial(id: &CallerIdentity, name: &str) -> String {
    let partition = id.arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:iam::{}:mfa/{name}", id.account)
}

/// CreateVirtualMFADevice named after the user, as the original did.
fn create_device(
    client: &Client,
    creds: &Credentials,
    id: &CallerIdentity,
    user: &str,
) -> Result<VirtualMfaDevice> {
    let expected = expected_serial(id, user);
    match client.call(&iam::create_virtual_mfa_device(user, None), creds) {
        Ok(mut body) => {
            let parsed = iam::parse_create_virtual_mfa_device(&body);
            // The answer holds the seed (base64): not kept longer than needed.
            wipe(&mut body);
            match parsed {
                Ok(device) => Ok(device),
                Err(e) => {
                    // Created, but we cannot read the seed: the device is of no use.
                    let e = unusable("CreateVirtualMFADevice", e);
                    Err(delete_after_failure(client, creds, &expected, e))
                }
            }
        }
        Err(Error::Aws(e)) if e.code == "EntityAlreadyExists" => {
            Err(Error::MfaDeviceExists(format!(
                "a virtual MFA device named '{user}' already exists in account {} but belongs \
                 to no user (probably left by an interrupted setup): nothing was created; \
                 delete it with `aws iam delete-virtual-mfa-device --serial-number {expected}` \
                 and run provision-mfa again",
                id.account
            )))
        }
        Err(e @ Error::Network(_)) => {
            // The answer was lost: the device may exist all the same.
            let _blocked = BlockSignals::new();
            let note = match client.call(&iam::delete_virtual_mfa_device(&expected), creds) {
                Ok(_) => format!(
                    "the device {expected} had been created all the same and was deleted again"
                ),
                Err(Error::Aws(a)) if a.code == "NoSuchEntity" => {
                    "nothing was created".to_string()
                }
                Err(_) => format!(
                    "if `aws iam list-virtual-mfa-devices --assignment-status Unassigned` lists {expected}, \
                     delete it with `aws iam delete-virtual-mfa-device --serial-number {expected}`"
                ),
            };
            Err(e.with_note(note))
        }
        Err(e) => Err(e),
    }
}

/// Draw the QR code and the secret, read two codes, EnableMFADevice.
fn show_and_enable(
    client: &Client,
    creds: &Credentials,
    id: &CallerIdentity,
    user: &str,
    device: &Wiped,
    tty: &mut Terminal,
    opts: &Options,
) -> Result<()> {
    let serial = device.serial();
    let uri = Wiped(qr::otpauth_uri(
        qr::ISSUER,
        user,
        &id.account,
        device.seed(),
    ));
    let code = qr::encode(&uri.0).map_err(|e| {
        Error::Usage(format!(
            "{e}: enter the secret key by hand, or use a shorter IAM user name"
        ))
    });
    let mut screen = Wiped(format!(
        "\nCreated the virtual MFA device {serial} for IAM user '{user}'.\n\
         Add it to your authenticator app: scan the QR code below, or enter by hand\n\
         \x20 account: {user}@{account}   issuer: {issuer}\n\
         \x20 type: time-based (TOTP), 6 digits, 30 seconds\n\
         \x20 secret key:\n",
        account = id.account,
        issuer = qr::ISSUER,
    ));
    for line in qr::group_secret(device.seed(), GROUPS_PER_LINE) {
        let line = Wiped(line);
        screen.0.push_str("    ");
        screen.0.push_str(&line.0);
        screen.0.push('\n');
    }
    screen
        .0
        .push_str("Then enter two consecutive codes that the app shows.\n\n");
    match &code {
        Ok(code) => {
            let style = if opts.qr_ansi {
                qr::Style::Ansi
            } else {
                qr::Style::Blocks
            };
            let drawing = Wiped(qr::render(code, qr::QUIET_ZONE, style));
            let width = code.size() as usize + 2 * qr::QUIET_ZONE;
            // The code, a blank line and the prompt must be on screen at once.
            let height = width.div_ceil(2) + 2;
            if let Some((cols, rows)) = tty.size() {
                if usize::from(cols) < width || usize::from(rows) < height {
                    screen.0.push_str(&format!(
                        "(This terminal is {cols}x{rows}; the QR code needs {width}x{height}: \
                         enlarge the window, or scroll back to scan it.)\n"
                    ));
                }
            }
            screen.0.push_str(&drawing.0);
            screen.0.push('\n');
        }
        Err(e) => screen.0.push_str(&format!("(No QR code: {e}.)\n\n")),
    }
    tty.print(&screen.0)?;
    drop(screen);
    drop(uri);

    let code1 = tty.ask_code("the 1st", None)?;
    let code2 = tty.ask_code("the 2nd", Some(&code1))?;
    if let Some(e) = interruption("before the codes were sent") {
        return Err(e);
    }
    tty.print(&format!("Enabling the MFA device {serial}...\n"))?;
    match client.call(&iam::enable_mfa_device(user, serial, &code1, &code2), creds) {
        Ok(body) => iam::parse_empty_response(&body, "EnableMFADeviceResponse")
            .or_else(|e| {
                // A 2xx whose body we cannot read: believe the device list.
                if is_assigned(client, creds, user, serial) {
                    Ok(())
                } else {
                    Err(unusable("EnableMFADevice", e))
                }
            }),
        Err(Error::Aws(e))
            if e.code == "InvalidAuthenticationCode" || mfa::is_code_rejected(&e) =>
        {
            Err(Error::MfaCode(format!(
                "AWS refused the two codes for {serial} ({}: {}): run provision-mfa again and enter \
                 two consecutive codes, the 2nd as soon as the 1st has changed; check that the phone's clock is right",
                e.code,
                e.message.trim()
            )))
        }
        Err(e @ Error::Network(_)) => {
            // The answer was lost: AWS may have enabled it all the same.
            if is_assigned(client, creds, user, serial) {
                Ok(())
            } else {
                Err(e)
            }
        }
        Err(e) => Err(e),
    }
}

/// Whether ListMFADevices shows `serial` for `user` (false when it cannot tell).
fn is_assigned(client: &Client, creds: &Credentials, user: &str, serial: &str) -> bool {
    client
        .call(&iam::list_mfa_devices(Some(user)), creds)
        .ok()
        .and_then(|b| iam::parse_list_mfa_devices(&b).ok())
        .is_some_and(|ds| ds.iter().any(|d| d.serial_number == serial))
}

/// DeleteVirtualMFADevice after `cause`, with the signals held off so a second
/// Ctrl-C cannot cut the clean-up short; `cause` says how it went.
fn delete_after_failure(client: &Client, creds: &Credentials, serial: &str, cause: Error) -> Error {
    let _blocked = BlockSignals::new();
    let result = client
        .call(&iam::delete_virtual_mfa_device(serial), creds)
        .and_then(|body| {
            iam::parse_empty_response(&body, "DeleteVirtualMFADeviceResponse")
                .map_err(|e| unusable("DeleteVirtualMFADevice", e))
        });
    match result {
        Ok(()) => cause.with_note(format!(
            "the new virtual MFA device {serial} was deleted again: nothing is left behind"
        )),
        Err(e) => cause.with_note(format!(
            "deleting the new virtual MFA device {serial} failed too ({e}): delete it with \
             `aws iam delete-virtual-mfa-device --serial-number {serial}` before trying again"
        )),
    }
}

/// `--save`: write `mfa_serial` into the profile; else ask on the terminal, and print
/// the line to add when it is not written.
fn offer_to_save(
    opts: &Options,
    env: &Env,
    profiles: &ProfileSet,
    profile: Option<&str>,
    serial: &str,
    tty: &mut Terminal,
) -> Result<()> {
    let profile = profile.unwrap_or("default");
    let section = if profile == "default" {
        "[default]".to_string()
    } else {
        format!("[profile {profile}]")
    };
    let line = format!("mfa_serial = {serial}");
    let paths = config::file_paths(|k| env.get(k).map(str::to_string), env.get("HOME"));
    let Some(path) = paths.config else {
        let msg = format!(
            "no AWS config file to write to (neither AWS_CONFIG_FILE nor HOME is set): add \"{line}\" to {section} yourself"
        );
        if opts.save {
            return Err(Error::Local(format!(
                "the MFA device is enabled, but {msg}"
            )));
        }
        println!("To use it, {msg}.");
        return Ok(());
    };
    let current = profiles.get(profile).and_then(|p| p.get("mfa_serial"));
    let write = if opts.save {
        true
    } else if let Some(e) = interruption("after the MFA device was enabled") {
        return Err(e.with_note(format!(
            "the device stays enabled; add \"{line}\" to {section} in {}",
            path.display()
        )));
    } else {
        let question = match current {
            Some(old) if !old.is_empty() => format!(
                "Replace \"mfa_serial = {old}\" in {section} of {} with \"{line}\"? [y/N] ",
                path.display()
            ),
            _ => format!("Add \"{line}\" to {section} in {}? [y/N] ", path.display()),
        };
        match tty.ask_yes_no(&question) {
            Ok(yes) => yes,
            Err(e) => {
                return Err(e.with_note(format!(
                    "the MFA device is enabled; add \"{line}\" to {section} in {} yourself",
                    path.display()
                )))
            }
        }
    };
    if !write {
        println!(
            "Not written. To use the device, add this line to {section} in {}:\n    {line}",
            path.display()
        );
        return Ok(());
    }
    let shown = path.display().to_string();
    write_atomically(&path, |text| {
        config::set_property(
            text,
            FileKind::Config,
            &shown,
            profile,
            "mfa_serial",
            serial,
        )
        .map_err(Error::from)
    })
    .map_err(|e| {
        e.with_note(format!(
            "the MFA device is enabled; add \"{line}\" to {section} in {shown} yourself"
        ))
    })?;
    println!("Wrote \"{line}\" to {section} in {shown}.");
    Ok(())
}

/// Replace the file at `path` with `edit(its text)`: a temp file in the same
/// directory, synced, renamed over it; the mode of the old file kept (0600 for a new
/// one). A symbolic link at `path` is refused, never followed.
fn write_atomically(path: &Path, edit: impl FnOnce(&str) -> Result<String>) -> Result<()> {
    let shown = path.display();
    let local = |what: &str, e: std::io::Error| Error::Local(format!("cannot {what} {shown}: {e}"));
    let (text, mode) = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(mut file) => {
            let meta = file.metadata().map_err(|e| local("inspect", e))?;
            if !meta.is_file() {
                return Err(Error::Local(format!(
                    "{shown} is not a regular file: point AWS_CONFIG_FILE at a file"
                )));
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(|e| local("read", e))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::Local(format!(
                    "{shown} is not UTF-8 text: not editing it (convert it to UTF-8 first)"
                ))
            })?;
            (text, meta.permissions().mode() & 0o7777)
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::Local(format!(
                "{shown} is a symbolic link: aws-session does not write through links \
                 (point AWS_CONFIG_FILE at the real file to let it write)"
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => (String::new(), 0o600),
        Err(e) => return Err(local("read", e)),
    };
    let new_text = edit(&text)?;

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::Local(format!("cannot create {}: {e}", dir.display())))?;
    }
    // A link put there since we read is refused too (checked again before the rename).
    fsutil::write_atomic(path, new_text.as_bytes(), mode, AtSymlink::Refuse).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            Error::Local(format!(
                "{shown} is a symbolic link: aws-session does not write through links \
                 (point AWS_CONFIG_FILE at the real file to let it write)"
            ))
        } else {
            local("write", e)
        }
    })
}

// ---------------------------------------------------------------------------
// Secrets in memory
// ---------------------------------------------------------------------------

/// A string holding the seed (or something made of it) that is overwritten when
/// dropped; for a device, `.0` is `serial\0seed`.
struct Wiped(String);

impl Wiped {
    fn device(d: VirtualMfaDevice) -> Wiped {
        let VirtualMfaDevice {
            serial_number,
            mut base32_seed,
        } = d;
        let w = Wiped(format!("{serial_number}\0{base32_seed}"));
        wipe(&mut base32_seed);
        w
    }

    fn serial(&self) -> &str {
        self.0.split('\0').next().unwrap_or_default()
    }

    fn seed(&self) -> &str {
        self.0.split('\0').nth(1).unwrap_or_default()
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrite the bytes of `s` in place (same buffer: no reallocation for `len` NULs).
fn wipe(s: &mut String) {
    let n = s.len();
    s.clear();
    s.extend(std::iter::repeat_n('\0', n));
    std::hint::black_box(&s);
}

// ---------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------

/// The signal that arrived while the handlers were in (0: none).
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: one atomic store.
    SIGNALLED.store(sig, Ordering::SeqCst);
}

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The error for a signal that arrived, if one did; `when` says at which point.
fn interruption(when: &str) -> Option<Error> {
    let name = match SIGNALLED.load(Ordering::SeqCst) {
        0 => return None,
        libc::SIGINT => "Ctrl-C (SIGINT)",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP (the terminal went away)",
        _ => "a signal",
    };
    Some(Error::Interrupted(format!("interrupted by {name} {when}")))
}

/// SIGINT, SIGTERM and SIGHUP set [`SIGNALLED`] while this lives (no `SA_RESTART`:
/// blocking reads return `EINTR`); dropping it puts the previous handlers back.
struct SignalGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalGuard {
    fn install() -> Result<SignalGuard> {
        SIGNALLED.store(0, Ordering::SeqCst);
        let mut guard = SignalGuard {
            previous: Vec::new(),
        };
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid value; sigemptyset and sigaction
            // get pointers to live locals; the handler only stores an atomic.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                action.sa_flags = 0;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &action, &mut old) != 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(Error::Local(format!(
                        "cannot install a signal handler for signal {sig}: {e}"
                    )));
                }
                guard.previous.push((sig, old));
            }
        }
        Ok(guard)
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (sig, old) in self.previous.drain(..).rev() {
            // SAFETY: `old` is what sigaction gave back for this signal.
            unsafe {
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    }
}

/// Holds SIGINT, SIGTERM and SIGHUP pending while it lives (for the clean-up); they
/// are delivered, to whatever handler is in, when it is dropped.
struct BlockSignals {
    old: Option<libc::sigset_t>,
}

impl BlockSignals {
    fn new() -> BlockSignals {
        // SAFETY: sigset_t values initialised by sigemptyset before use.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in SIGNALS {
                libc::sigaddset(&mut set, sig);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            let ok = libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0;
            BlockSignals {
                old: ok.then_some(old),
            }
        }
    }
}

impl Drop for BlockSignals {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            // SAFETY: restores the mask pthread_sigmask returned.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The terminal
// ---------------------------------------------------------------------------

/// `/dev/tty`, read without buffering so that a signal ends a wait for input.
struct Terminal {
    file: File,
}

impl Terminal {
    fn open() -> Result<Terminal> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map(|file| Terminal { file })
            .map_err(|_| {
                Error::MfaCode(
                    "provision-mfa needs a terminal (to show the QR code and read two codes), \
                     and /dev/tty cannot be opened: run it in a terminal; nothing was created"
                        .into(),
                )
            })
    }

    fn print(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::MfaCode(format!("cannot write to the terminal: {e}")))
    }

    /// Columns and rows, if the terminal says.
    fn size(&self) -> Option<(u16, u16)> {
        // SAFETY: TIOCGWINSZ fills a winsize we own.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            (libc::ioctl(self.file.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0)
                .then_some((ws.ws_col, ws.ws_row))
        }
    }

    /// One line without its end; `None` at end of input. A signal ends the wait
    /// with [`Error::Interrupted`]; `what` names the wait in that error.
    fn read_line(&mut self, what: &str) -> Result<Option<String>> {
        const MAX: usize = 1024;
        let mut line = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            if let Some(e) = interruption(what) {
                let _ = self.file.write_all(b"\n");
                return Err(e);
            }
            // Wait in slices, so a signal that lands just before the read cannot
            // leave us blocked in it.
            let mut pfd = libc::pollfd {
                fd: self.file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd we own.
            let ready = unsafe { libc::poll(&mut pfd, 1, 250) };
            if ready == 0 {
                continue;
            }
            if ready < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::MfaCode(format!(
                    "cannot read from the terminal: {e}"
                )));
            }
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    let chunk = &buf[..n];
                    let end = chunk.iter().position(|&b| b == b'\n');
                    let take = &chunk[..end.unwrap_or(n)];
                    if line.len() < MAX {
                        line.extend_from_slice(&take[..take.len().min(MAX - line.len())]);
                    }
                    if end.is_some() {
                        let text = String::from_utf8_lossy(&line).trim().to_string();
                        line.fill(0);
                        return Ok(Some(text));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => {
                    return Err(Error::MfaCode(format!(
                        "cannot read from the terminal: {e}"
                    )))
                }
            }
        }
    }

    /// Ask for a 6-digit code until one is entered (the original's wording).
    /// `previous`: the 1st code, to catch the same code entered twice.
    fn ask_code(&mut self, label: &str, previous: Option<&str>) -> Result<String> {
        let mut warned_same = false;
        loop {
            self.print(&format!("Please enter {label} 6 digit MFA code: "))?;
            let what = format!("while waiting for {label} MFA code");
            let Some(code) = self.read_line(&what)? else {
                let _ = self.print("\n");
                return Err(Error::MfaCode(format!(
                    "no MFA code entered (end of input at {label} code): run provision-mfa again and type the 6 digits"
                )));
            };
            if mfa::is_well_formed(&code) {
                if previous == Some(code.as_str()) && !warned_same {
                    warned_same = true;
                    self.print("That is the 1st code again: wait until the app shows the next code, then enter it.\n")?;
                    continue;
                }
                return Ok(code);
            }
            if !code.is_empty() {
                self.print("Not a valid code: it must be 6 digits\n")?;
            }
        }
    }

    /// A y/N question; end of input is "no".
    fn ask_yes_no(&mut self, question: &str) -> Result<bool> {
        self.print(question)?;
        let answer = self.read_line("while waiting for an answer")?;
        Ok(answer.is_some_and(|a| {
            let a = a.to_ascii_lowercase();
            a == "y" || a == "yes"
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_serial_follows_the_partition() {
        let id = CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws-cn:iam::123456789012:user/team/alice".into(),
            user_id: "AIDA".into(),
        };
        assert_eq!(
            expected_serial(&id, "alice"),
            "arn:aws-cn:iam::123456789012:mfa/alice"
        );
    }

    #[test]
    fn wiped_device_keeps_serial_and_seed_apart() {
        let w = Wiped::device(VirtualMfaDevice {
            serial_number: "arn:aws:iam::1:mfa/a".into(),
            base32_seed: "JBSWY3DPEHPK3PXP".into(),
        });
        assert_eq!(w.serial(), "arn:aws:iam::1:mfa/a");
        assert_eq!(w.seed(), "JBSWY3DPEHPK3PXP");
        let mut s = String::from("secret");
        wipe(&mut s);
        assert_eq!(s, "\0".repeat(6));
    }

    #[test]
    fn write_atomically_keeps_mode_and_refuses_links() {
        let dir = std::env::temp_dir().join(format!("aws-session-prov-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        fs::write(&path, "# mine\n[default]\nregion = x\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, |t| Ok(format!("{t}# more\n"))).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# mine\n[default]\nregion = x\n# more\n"
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );

        let new = dir.join("sub/new-config");
        write_atomically(&new, |t| Ok(format!("{t}[default]\n"))).unwrap();
        assert_eq!(
            fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let link = dir.join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = write_atomically(&link, |t| Ok(t.to_string())).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(e.exit_code(), 6);
        // No temp file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
