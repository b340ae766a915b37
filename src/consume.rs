//! The ways other tools consume credentials: export, credential-process, status,
//! clear, completions (not implemented yet).

use crate::cli::Options;
use crate::error::{Error, Result};
use crate::session::Env;

fn missing(what: &str) -> Error {
    Error::Usage(format!("{what} is not available in this build yet"))
}

/// `export`.
pub fn export(_opts: &Options, _env: &Env) -> Result<()> {
    Err(missing("export"))
}

/// `credential-process`.
pub fn credential_process(_opts: &Options, _env: &Env) -> Result<()> {
    Err(missing("credential-process"))
}

/// `status`.
pub fn status(_opts: &Options, _env: &Env) -> Result<()> {
    Err(missing("status"))
}

/// `clear`.
pub fn clear(_opts: &Options, _env: &Env) -> Result<()> {
    Err(missing("clear"))
}

/// `completions SHELL`.
pub fn completions(_shell: &str) -> Result<()> {
    Err(missing("completions"))
}
