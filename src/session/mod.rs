//! From a plan to a session and the environment a child gets from it.
//!
//! - [`plan`]: which keys, which MFA device, which roles (pure: profiles + environment in);
//! - [`source`]: where the long-term keys come from, one file per kind of source;
//! - [`roles`]: role profile chains → AssumeRole steps (pure);
//! - [`discover`]: the signing user's MFA device, when none is configured;
//! - [`establish`]: the cache and the STS calls, with the one retry-with-a-new-code loop;
//! - [`mfa_process`]: MFA codes from a command instead of the terminal;
//! - [`child_env`]: the variables a child gets (pure);
//! - [`stash`]: the keys from the environment a refresh inside a session needs, in a
//!   private file instead of the child's environment;
//! - [`context`]: what a run that makes sessions reads once (profiles, plan, client,
//!   cache), built from the [`Settings`] of the command line.

pub mod cached;
pub mod child_env;
pub mod context;
pub mod discover;
pub mod establish;
pub mod mfa_process;
pub mod plan;
pub mod roles;
pub mod serve;
pub mod source;
pub mod sso_profile;
pub mod stash;

pub use child_env::{
    child_environment, credential_changes, profile_changes, region_changes, session_changes,
    source_key_change, EnvChanges, Passed,
};
pub use context::{Context, Settings};
pub use discover::is_security_key;
pub use establish::{establish, AssumedRole, CacheReads, Established, Runtime, CACHE_LOCK_WAIT};
pub use plan::{endpoint_settings, inherited_serial, plan_session_for, SessionPlan};
pub use source::{env_source, source_credentials_for, Origin, SourceCredentials};
