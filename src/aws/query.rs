//! AWS Query API requests as plain values: service, action, parameters.
//!
//! [`crate::aws::sts`] and [`crate::aws::iam`] build them; [`crate::aws::client`] signs and sends
//! them as a form-encoded POST body ([`QueryRequest::form_body`], [`CONTENT_TYPE`]).

use crate::aws::xml::XmlError;
use crate::encode::uri_encode;
use std::fmt;

/// `Content-Type` of a Query API request body.
///
/// ```
/// assert!(aws_session::aws::query::CONTENT_TYPE.starts_with("application/x-www-form-urlencoded"));
/// ```
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Parameters whose values are one-time MFA codes: redacted in `Debug`, and a
/// request carrying one must never be retried (a TOTP code is accepted once).
const MFA_CODE_PARAMS: [&str; 3] = ["TokenCode", "AuthenticationCode1", "AuthenticationCode2"];

/// The AWS services we call.
///
/// ```
/// use aws_session::aws::query::Service;
/// assert_eq!((Service::Sts.name(), Service::Sts.api_version()), ("sts", "2011-06-15"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Security Token Service.
    Sts,
    /// AWS Identity and Access Management.
    Iam,
}

impl Service {
    /// The Query API `Version` parameter of the service.
    ///
    /// ```
    /// assert_eq!(aws_session::aws::query::Service::Iam.api_version(), "2010-05-08");
    /// ```
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Sts => "2011-06-15",
            Service::Iam => "2010-05-08",
        }
    }

    /// The service name used in SigV4 credential scopes (`sts`, `iam`).
    ///
    /// ```
    /// assert_eq!(aws_session::aws::query::Service::Iam.name(), "iam");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Iam => "iam",
        }
    }
}

/// One Query API call: `Action`, `Version` (from the service) and parameters.
///
/// `Debug` shows MFA code values as `<redacted>`.
///
/// ```
/// use aws_session::aws::query::{QueryRequest, Service};
/// let req = QueryRequest::new(Service::Sts, "GetSessionToken").param("TokenCode", "123456");
/// assert!(req.carries_mfa_code);
/// assert!(!format!("{req:?}").contains("123456"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct QueryRequest {
    /// The service the action belongs to.
    pub service: Service,
    /// The API action, e.g. `GetSessionToken`.
    pub action: &'static str,
    /// Parameters in the order they are sent, e.g. `("DurationSeconds", "3600")`.
    pub params: Vec<(&'static str, String)>,
    /// True when a parameter is an MFA code (`TokenCode`, `AuthenticationCode1/2`).
    pub carries_mfa_code: bool,
    /// True when sending it twice could do twice what it does: an MFA code (AWS accepts
    /// it once) or a call that creates something ([`QueryRequest::creates`]). Such a
    /// request is never sent again once it may have reached AWS.
    pub sent_once: bool,
}

impl QueryRequest {
    /// A request for `action` with no parameters yet.
    ///
    /// ```
    /// use aws_session::aws::query::{QueryRequest, Service};
    /// let req = QueryRequest::new(Service::Sts, "GetCallerIdentity");
    /// assert_eq!(req.form_body(), "Action=GetCallerIdentity&Version=2011-06-15");
    /// ```
    pub fn new(service: Service, action: &'static str) -> Self {
        QueryRequest {
            service,
            action,
            params: Vec::new(),
            carries_mfa_code: false,
            sent_once: false,
        }
    }

    /// Add a parameter; an MFA code parameter sets [`QueryRequest::carries_mfa_code`].
    ///
    /// ```
    /// use aws_session::aws::query::{QueryRequest, Service};
    /// let req = QueryRequest::new(Service::Iam, "ListMFADevices").param("UserName", "alice");
    /// assert_eq!(req.params, [("UserName", "alice".to_string())]);
    /// ```
    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        if MFA_CODE_PARAMS.contains(&name) {
            self.carries_mfa_code = true;
            self.sent_once = true;
        }
        self.params.push((name, value.into()));
        self
    }

    /// Mark a call that creates something (an access key, an MFA device): a second one
    /// after a lost answer would create a second thing, so it is sent at most once.
    ///
    /// ```
    /// use aws_session::aws::query::{QueryRequest, Service};
    /// assert!(QueryRequest::new(Service::Iam, "CreateAccessKey").creates().sent_once);
    /// ```
    pub fn creates(mut self) -> Self {
        self.sent_once = true;
        self
    }

    /// Add a parameter when `value` is `Some`.
    ///
    /// ```
    /// use aws_session::aws::query::{QueryRequest, Service};
    /// let req = QueryRequest::new(Service::Iam, "ListMFADevices").opt_param("UserName", None::<&str>);
    /// assert!(req.params.is_empty());
    /// ```
    pub fn opt_param(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    /// The form-encoded body: `Action=..&Version=..&Name=Value...`, every name and
    /// value percent-encoded as SigV4 wants it (RFC 3986, upper-case hex).
    ///
    /// ```
    /// use aws_session::aws::query::{QueryRequest, Service};
    /// let req = QueryRequest::new(Service::Iam, "CreateVirtualMFADevice").param("Path", "/a b/");
    /// assert_eq!(
    ///     req.form_body(),
    ///     "Action=CreateVirtualMFADevice&Version=2010-05-08&Path=%2Fa%20b%2F"
    /// );
    /// ```
    pub fn form_body(&self) -> String {
        let mut body = format!(
            "Action={}&Version={}",
            uri_encode(self.action, false),
            uri_encode(self.service.api_version(), false)
        );
        for (name, value) in &self.params {
            body.push('&');
            body.push_str(&uri_encode(name, false));
            body.push('=');
            body.push_str(&uri_encode(value, false));
        }
        body
    }
}

impl fmt::Debug for QueryRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(name, value)| {
                if MFA_CODE_PARAMS.contains(name) {
                    (*name, "<redacted>")
                } else {
                    (*name, value.as_str())
                }
            })
            .collect();
        f.debug_struct("QueryRequest")
            .field("service", &self.service)
            .field("action", &self.action)
            .field("params", &params)
            .field("carries_mfa_code", &self.carries_mfa_code)
            .field("sent_once", &self.sent_once)
            .finish()
    }
}

/// A call: its request and the parser of its answer, made together where the request
/// is built (`sts.rs`, `iam.rs`), so that no call site can pair the wrong parser.
pub struct Action<T> {
    pub request: QueryRequest,
    parser: fn(&str) -> Result<T, XmlError>,
}

impl<T> Action<T> {
    /// `request`, whose answer `parser` reads.
    pub fn new(request: QueryRequest, parser: fn(&str) -> Result<T, XmlError>) -> Self {
        Action { request, parser }
    }

    /// The answer `body` read; a document that is not this action's answer is an
    /// error naming the action.
    pub fn parse(&self, body: &str) -> crate::error::Result<T> {
        self.parse_named(body, self.request.action)
    }

    /// As [`Action::parse`], the error naming the call `name` (e.g. `AssumeRole of ARN`).
    pub fn parse_named(&self, body: &str, name: &str) -> crate::error::Result<T> {
        (self.parser)(body).map_err(|e| e.into_error(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_starts_with_action_and_version_and_keeps_order() {
        let req = QueryRequest::new(Service::Sts, "AssumeRole")
            .param("RoleArn", "arn:aws:iam::123456789012:role/admin")
            .param("RoleSessionName", "a+b=c")
            .param("DurationSeconds", "900");
        assert_eq!(
            req.form_body(),
            "Action=AssumeRole&Version=2011-06-15\
             &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fadmin\
             &RoleSessionName=a%2Bb%3Dc&DurationSeconds=900"
        );
        assert!(!req.carries_mfa_code);
    }

    #[test]
    fn utf8_and_reserved_values_are_encoded() {
        let req = QueryRequest::new(Service::Iam, "X").param("K", "é&=~ *");
        assert!(req.form_body().ends_with("&K=%C3%A9%26%3D~%20%2A"));
    }

    #[test]
    fn mfa_codes_are_flagged_and_redacted() {
        for name in MFA_CODE_PARAMS {
            let req = QueryRequest::new(Service::Iam, "EnableMFADevice")
                .param("SerialNumber", "arn:aws:iam::1:mfa/a")
                .param(name, "987654");
            assert!(req.carries_mfa_code, "{name}");
            let dbg = format!("{req:?}");
            assert!(!dbg.contains("987654"), "{dbg}");
            assert!(dbg.contains("<redacted>") && dbg.contains("arn:aws:iam::1:mfa/a"));
            // The body, of course, carries the code.
            assert!(req.form_body().contains("987654"));
        }
    }
}
