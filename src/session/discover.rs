//! Find the signing user's MFA device when the configuration names none.

use crate::aws::client::Client;
use crate::aws::iam::{self, MfaDevice};
use crate::aws::sts;
use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// Whether an MFA serial is a FIDO security key's (`arn:aws:iam::ACCOUNT:u2f/...`):
/// it makes no codes, so GetSessionToken and AssumeRole cannot use it.
///
/// ```
/// use aws_session::session::is_security_key;
/// assert!(is_security_key("arn:aws:iam::123456789012:u2f/user/alice/fidosecuritykey-ABC"));
/// assert!(!is_security_key("arn:aws:iam::123456789012:mfa/alice"));
/// assert!(!is_security_key("GAHT12345678"));
/// ```
pub fn is_security_key(serial: &str) -> bool {
    serial.contains(":u2f/")
}

/// Find the signing user's MFA device: ListMFADevices without UserName (AWS takes
/// the user from the key), skipping FIDO security keys (no codes).
///
/// Of several devices that take codes (AWS allows up to eight) the first is used, with a
/// one-line note (returned, for the caller to show: discovery may run while the prompt
/// is on the terminal) that names them all and says that
/// `mfa_serial` picks one: a user whose first device is the one at hand goes on working,
/// and one who types a code of another device learns from the note which device is
/// asked for and how to choose (refusing to run would stop users with several devices
/// who never needed to pick one).
/// No usable device: one GetCallerIdentity to name the user.
pub fn discover_serial(client: &Client, creds: &Credentials) -> Result<(String, Option<String>)> {
    let devices = list_mfa_devices(client, creds, None)?;
    let user = devices.iter().find_map(|d| d.user_name.clone());
    let (keys, usable): (Vec<String>, Vec<String>) = devices
        .into_iter()
        .map(|d| d.serial_number)
        .partition(|s| is_security_key(s));
    if let Some(first) = usable.first() {
        let note = (usable.len() > 1).then(|| {
            format!(
                "aws-session: note: IAM user '{}' has {} MFA devices that take codes ({}): asking for a code of {first}; set mfa_serial in the profile to use another",
                user.as_deref().unwrap_or(&creds.access_key_id),
                usable.len(),
                usable.join(", ")
            )
        });
        return Ok((first.clone(), note));
    }
    let who = client.send(&sts::caller_identity(), creds).ok();
    let name = who
        .as_ref()
        .and_then(|w| w.iam_user_name().map(str::to_string))
        .or_else(|| who.map(|w| w.arn))
        .or(user)
        .unwrap_or_else(|| creds.access_key_id.clone());
    if !keys.is_empty() {
        return Err(Error::NoMfaDevice(format!(
            "IAM user '{name}' has only FIDO security keys as MFA devices ({}), and a security key makes no codes for STS sessions: add a virtual or hardware TOTP MFA device to the user (IAM console), then set mfa_serial in the profile to it",
            keys.join(", ")
        )));
    }
    Err(Error::NoMfaDevice(format!(
        "IAM user '{name}' has no MFA device configured: run aws-session provision-mfa, or set mfa_serial in the profile"
    )))
}

/// Pages of ListMFADevices followed before the answer is taken for a broken one: a user
/// has at most 8 MFA devices, and AWS pages by 100.
pub const MAX_MFA_DEVICE_PAGES: usize = 10;

/// Every MFA device of `user` (the signing user when `None`), following `IsTruncated` /
/// `Marker` for at most [`MAX_MFA_DEVICE_PAGES`] pages.
pub fn list_mfa_devices(
    client: &Client,
    creds: &Credentials,
    user: Option<&str>,
) -> Result<Vec<MfaDevice>> {
    let mut devices = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_MFA_DEVICE_PAGES {
        let (page, next) = client.send(&iam::mfa_devices_page(user, marker.as_deref()), creds)?;
        devices.extend(page);
        match next {
            Some(m) => marker = Some(m),
            None => return Ok(devices),
        }
    }
    Err(Error::Network(format!(
        "ListMFADevices answered with more than {MAX_MFA_DEVICE_PAGES} pages (IsTruncated without end), which no AWS answer has (a user has at most 8 MFA devices): check AWS_ENDPOINT_URL and HTTPS_PROXY"
    )))
}
