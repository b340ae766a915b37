//! `provision-mfa`: create, show and enable a virtual MFA device (not implemented yet).

use crate::cli::Options;
use crate::error::{Error, Result};
use crate::session::Env;

/// Run `provision-mfa`.
pub fn run(_opts: &Options, _env: &Env) -> Result<()> {
    Err(Error::Usage(
        "provision-mfa is not available in this build yet".into(),
    ))
}
