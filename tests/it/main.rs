//! The integration tests: one crate, so the helpers in `common` compile once. Each module
//! talks to real programs on 127.0.0.1 (the AWS stand-in in tests/peer, the AWS CLI, the
//! SDKs, shells in a pseudo-terminal) and never to AWS.

mod common;

mod console;
mod core;
mod daily;
mod endpoints;
mod errors;
mod fuzz_regressions;
mod hardening;
mod hardening3;
mod hardening_faults;
mod keys;
mod latency;
mod listeners;
mod login;
mod no_secrets;
mod peer_smoke;
mod provision;
mod pty_smoke;
mod release;
mod repository;
mod roles_cache;
mod sdk_interop;
mod server;
mod shell_integration;
mod sso;
mod try_local;
mod xml_fixtures;
