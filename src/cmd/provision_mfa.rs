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

use super::args::{CmdArgs, Opt, Options, Run, Spec};
use crate::aws::client::Client;
use crate::aws::iam::{self, VirtualMfaDevice};
use crate::aws::sts::{self, CallerIdentity};
use crate::config::files::write_atomically;
use crate::config::{self, FileKind, ProfileSet};
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::qr;
use crate::session;
use crate::tty::Terminal;
use std::sync::atomic::{AtomicI32, Ordering};

/// Secret groups shown per line (8 × 4 characters: 39 columns).
pub const SPEC: Spec = Spec {
    name: "provision-mfa",
    about: "create and enable a virtual MFA device",
    help: concat!(
        "Usage: aws-session [OPTIONS] provision-mfa [--save] [--qr-ansi]\n",
        "\n",
        "Creates a virtual MFA device for the calling IAM user, draws its QR code in the terminal,\n",
        "asks for two consecutive codes and enables it; on any failure the device is deleted again.\n",
        "Then offers to write mfa_serial into the profile (--save: without asking).\n",
        "--qr-ansi draws the QR code with background colours (for dark-on-light terminals).\n",
    ),
    options: &[SAVE, QR_ANSI],
    operands: "",
    makes_session: false,
    reads_switches: true,
    parse: |a| Ok(Box::new(parse(a)?)),
};

impl Run for Args {
    fn run(&self, opts: &Options, env: &Env) -> Result<()> {
        run(self, opts, env)
    }
}

const SAVE: Opt = Opt {
    short: None,
    long: "save",
    value: false,
    about: "write mfa_serial into the profile",
};

const QR_ANSI: Opt = Opt {
    short: None,
    long: "qr-ansi",
    value: false,
    about: "draw the QR code with background colours",
};

/// The options of `provision-mfa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    /// Write `mfa_serial` into the profile without asking.
    pub save: bool,
    /// Draw the QR code with background colours instead of blocks.
    pub qr_ansi: bool,
}

pub fn parse(args: &mut CmdArgs) -> Result<Args> {
    let mut a = Args::default();
    while let Some(arg) = args.next_arg()? {
        if arg.is(&SAVE) {
            a.save = true;
        } else if arg.is(&QR_ANSI) {
            a.qr_ansi = true;
        } else {
            return Err(args.unexpected(arg));
        }
    }
    Ok(a)
}

const GROUPS_PER_LINE: usize = 8;

/// Run `provision-mfa`.
pub fn run(args: &Args, opts: &Options, env: &Env) -> Result<()> {
    // No terminal, no codes: refuse before anything is created.
    let mut tty = Terminal::open().map_err(|_| {
        Error::MfaCode(
            "provision-mfa needs a terminal (to show the QR code and read two codes), \
             and /dev/tty cannot be opened: run it in a terminal; nothing was created"
                .into(),
        )
    })?;
    let debug = |m: &str| crate::msg::debug(m);
    if opts.code.is_some() {
        debug("--code / AWS_SESSION_MFA_CODE is not used: the codes come from the new device");
    }
    let profiles = crate::config::files::load_profiles(env)?;
    let profile = opts.profile.as_ref().map(|(p, _)| p.as_str());
    // As for every command: --profile P uses P's keys even when the environment has some.
    let choice = opts.profile.as_ref().map(|(p, s)| (p.as_str(), *s));
    let source = session::source_credentials_for(env, &profiles, choice)?;
    let endpoints = session::endpoint_settings(env, &profiles, profile);
    let client = crate::session::context::make_client(env, endpoints)?;
    let source = session::source::process::resolve(source, env)?;
    let creds = &source.credentials;

    let body = client.call(&sts::get_caller_identity(), creds)?;
    let id = sts::parse_get_caller_identity(&body).map_err(|e| unusable("GetCallerIdentity", e))?;
    let user = match id.iam_user_name() {
        Some(u) => u.to_string(),
        None => return Err(not_an_iam_user(&id, creds)),
    };
    debug(&format!("caller: {} (IAM user '{user}')", id.arn));

    let devices = session::discover::list_mfa_devices(&client, creds, Some(&user))?;
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

    if let Err(e) = show_and_enable(&client, creds, &id, &user, &device, &mut tty, args) {
        return Err(delete_after_failure(&client, creds, device.serial(), e));
    }
    let serial = device.serial().to_string();
    drop(device);
    // A failed write here must not stop the offer to save the serial: the device is
    // enabled either way. The write's error is reported after it.
    let told = crate::out::print(&format!(
        "MFA device {serial} is enabled for IAM user '{user}'.\n"
    ));
    // The handlers stay in for the question: a Ctrl-C there says what to add by hand.
    let saved = offer_to_save(args, env, &profiles, profile, &serial, &mut tty);
    drop(signals);
    saved.and(told)
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

/// CreateVirtualMFADevice named after the user, so the console shows whose it is.
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
        Err(e @ (Error::Network(_) | Error::NotAws(_))) => {
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
    args: &Args,
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
            let style = if args.qr_ansi {
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

    let at_end = |label: &str| {
        let label = label.to_string();
        move || {
            Error::MfaCode(format!(
                "no MFA code entered (end of input at {label} code): run provision-mfa again and type the 6 digits"
            ))
        }
    };
    let code1 = tty.ask_code("the 1st", None, &interruption, at_end("the 1st"))?;
    let code2 = tty.ask_code("the 2nd", Some(&code1), &interruption, at_end("the 2nd"))?;
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
            if e.code == "InvalidAuthenticationCode" || e.is_code_rejected() =>
        {
            Err(Error::MfaCode(format!(
                "AWS refused the two codes for {serial} ({}: {}): run provision-mfa again and enter \
                 two consecutive codes, the 2nd as soon as the 1st has changed; check that the phone's clock is right",
                e.code,
                e.message.trim()
            )))
        }
        Err(e @ (Error::Network(_) | Error::NotAws(_))) => {
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
    session::discover::list_mfa_devices(client, creds, Some(user))
        .ok()
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
    args: &Args,
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
        if args.save {
            return Err(Error::Local(format!(
                "the MFA device is enabled, but {msg}"
            )));
        }
        return crate::out::print(&format!("To use it, {msg}.\n"));
    };
    let current = profiles.get(profile).and_then(|p| p.get("mfa_serial"));
    let write = if args.save {
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
        match tty.ask_yes_no(&question, &interruption) {
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
        return crate::out::print(&format!(
            "Not written. To use the device, add this line to {section} in {}:\n    {line}\n",
            path.display()
        ));
    }
    let shown = path.display().to_string();
    write_atomically(&path, "AWS_CONFIG_FILE", |text| {
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
    crate::out::print(&format!("Wrote \"{line}\" to {section} in {shown}.\n"))
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
}
