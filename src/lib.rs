//! aws-session: long-term AWS keys plus an MFA code in, temporary STS credentials out,
//! handed to a sub-shell or one command.
//!
//! The layers, each using only the ones below it (docs/architecture.md; the test
//! `repository::layers` checks it):
//! - [`cli`]: global options, then a command's own parser;
//! - [`cmd`]: one file per command (its options, its help, its run function);
//! - [`session`]: plan (keys, device, roles), sources of keys, discovery, establish
//!   (cache + retries), the child's environment;
//! - [`aws`]: a request is **built** in [`aws::sts`] / [`aws::iam`], **signed** in
//!   [`aws::sigv4`], **sent** in [`aws::http`] (the only module that touches the
//!   network) and **parsed** back in `sts` / `iam` with [`aws::xml`];
//! - [`config`], [`cache`]: the AWS files; the session cache;
//! - [`shell`], [`tty`]: rc text, quoting, the prompt and starting processes; the one
//!   terminal reader;
//! - primitives: [`env`], [`error`], [`timefmt`], [`fsutil`], [`out`], [`credentials`],
//!   [`encode`], [`json`], [`qr`], [`msg`] (the one writer of stderr).

pub mod aws;
pub mod cache;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod credentials;
pub mod encode;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod json;
pub mod msg;
pub mod out;
pub mod qr;
pub mod session;
pub mod shell;
pub mod timefmt;
pub mod tty;
