//! Talking to AWS: a request is built ([`sts`], [`iam`] on [`query`]), signed
//! ([`sigv4`]), sent to the [`endpoint`] ([`http`], the only module that touches the
//! network as a client) and its XML parsed ([`xml`]); [`client`] is where the four
//! meet. [`credential_server`] is the other side: the container credentials endpoint
//! that `--server` serves to the SDKs on loopback; [`callback`] the one-shot loopback
//! listener of `login`'s browser redirect. The AWS Sign-In protocol of `login` is
//! [`signin`] (pure) and [`dpop`] (its key and proofs); [`url`] splits and redacts URLs
//! for both `endpoint` and `http`; the federation endpoint of `console` is
//! [`federation`] (pure).

pub mod advice;
pub mod callback;
pub mod client;
pub mod credential_server;
pub mod dpop;
pub mod endpoint;
pub mod federation;
pub mod http;
pub mod iam;
pub mod query;
pub mod signin;
pub mod sigv4;
pub mod sts;
pub mod url;
pub mod xml;
