//! Talking to AWS: a request is built ([`sts`], [`iam`] on [`query`]), signed
//! ([`sigv4`]), sent to the [`endpoint`] ([`http`], the only module that touches the
//! network) and its XML parsed ([`xml`]); [`client`] is where the four meet.

pub mod client;
pub mod endpoint;
pub mod http;
pub mod iam;
pub mod query;
pub mod sigv4;
pub mod sts;
pub mod xml;
