//! aws-session: long-term AWS keys plus an MFA code in, temporary STS credentials out,
//! handed to a sub-shell or one command.
//!
//! Where things happen, at a glance:
//! - a request is **built** in [`sts`] / [`iam`] (plain values, no I/O),
//! - **signed** in [`sigv4`] (pure functions, AWS test vectors),
//! - **sent** in [`http`] (the only module that touches the network),
//! - its XML **parsed** back in [`sts`] / [`iam`] (via [`xml`]).
//!
//! [`session`] composes them; [`shell`] and [`exec`](crate::shell) start processes.

pub mod cache;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod consume;
pub mod credentials;
pub mod encode;
pub mod endpoint;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod iam;
pub mod mfa;
pub mod provision;
pub mod qr;
pub mod query;
pub mod roles;
pub mod server;
pub mod session;
pub mod shell;
pub mod sigv4;
pub mod sts;
pub mod timefmt;
pub mod xml;
