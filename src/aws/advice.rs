//! What to do about an AWS error, in words: the advice the aws layer puts into an
//! [`AwsError`] when it builds one ([`with_advice`]), next to the calls whose limits it
//! names (the duration limits are the constants of [`crate::aws::sts`]).

use crate::aws::sts::{GET_SESSION_TOKEN_MAX_SECS, MIN_DURATION_SECS, ROLE_CHAINING_MAX_SECS};
use crate::error::{is_code_refusal_message, AwsError, Error};
use crate::timefmt::clock_advice;

/// `e` as an [`Error::Aws`], with its advice filled in.
pub fn with_advice(mut e: AwsError) -> Error {
    e.advice = aws_advice(&e);
    Error::Aws(Box::new(e))
}

/// The permission (`service:Action`) an AccessDenied is about.
fn iam_action(e: &AwsError) -> String {
    format!("{}:{}", e.service, e.action)
}

/// Whether the clock is off by more than AWS tolerates (5 minutes).
fn clock_far_off(skew: Option<i64>) -> bool {
    skew.is_some_and(|s| s.abs() >= 300)
}

/// Advice for the AWS error codes users meet most, or `None`.
///
/// ```
/// use aws_session::aws::advice::aws_advice;
/// use aws_session::error::AwsError;
/// let e = AwsError {
///     action: "GetSessionToken".into(),
///     code: "RequestExpired".into(),
///     clock_skew_secs: Some(3720),
///     ..AwsError::default()
/// };
/// assert!(aws_advice(&e).unwrap().contains("1 h 2 min (3720 s) behind"));
/// ```
pub fn aws_advice(e: &AwsError) -> Option<String> {
    let msg = e.message.to_ascii_lowercase();
    let key = e.access_key_id.as_deref().unwrap_or("in use");
    let file = e
        .credentials_file
        .as_deref()
        .unwrap_or("~/.aws/credentials");
    let advice = match e.code.as_str() {
        "AccessDenied" if is_code_refusal_message(&msg) => {
            "the MFA code was wrong or already used (AWS accepts each code once): wait for the next code and try again; if it keeps failing, check the device's clock and that mfa_serial is this user's device".to_string()
        }
        "AccessDenied" if msg.contains("with session credentials") => {
            "GetSessionToken needs long-term IAM user keys, not session credentials: leave the aws-session shell or unset AWS_SESSION_TOKEN, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string()
        }
        "AccessDenied" if e.action == "ListMFADevices" => format!(
            "the keys may not call {}: grant it in IAM (the README's minimal policy lists what aws-session needs), or set mfa_serial in the profile to skip this call",
            iam_action(e)
        ),
        "AccessDenied" => format!(
            "the keys may not call {}: grant it in IAM (the README's minimal policy lists what aws-session needs)",
            iam_action(e)
        ),
        "SignatureDoesNotMatch" | "InvalidSignatureException"
            if msg.contains("signature expired") || clock_far_off(e.clock_skew_secs) =>
        {
            clock_advice(e.clock_skew_secs)
        }
        "SignatureDoesNotMatch" | "InvalidSignatureException" => format!(
            "the secret access key is not the one of access key id {key}: check aws_secret_access_key in {file} or AWS_SECRET_ACCESS_KEY; if it is right, check the local clock"
        ),
        "InvalidClientTokenId" | "UnrecognizedClientException" => {
            if e.session_token_sent && !key.starts_with("ASIA") {
                format!("AWS_SESSION_TOKEN is set beside the long-term access key id {key}, and AWS refuses it: unset AWS_SESSION_TOKEN (and AWS_SECURITY_TOKEN, or the profile's aws_session_token), then try again")
            } else if e.access_key_id.as_deref().is_some_and(|k| k.starts_with("ASIA")) {
                format!("AWS does not accept the session token of {key}: the session was revoked or the token is damaged; unset AWS_SESSION_TOKEN or start a new session")
            } else {
                format!("AWS does not know access key id {key}: it was deleted, deactivated or mistyped; check {file} or AWS_ACCESS_KEY_ID, or make a new key in IAM")
            }
        }
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => format!(
            "the temporary credentials {key} have expired: unset AWS_SESSION_TOKEN (or leave the old aws-session shell) so that long-term keys are used, then try again"
        ),
        "RequestExpired" | "RequestTimeTooSkewed" => clock_advice(e.clock_skew_secs),
        // The AWS Sign-In service (login).
        "TOKEN_EXPIRED" | "USER_CREDENTIALS_CHANGED" => {
            "the sign-in has ended or the user's password changed: run aws-session login".to_string()
        }
        "AUTHCODE_EXPIRED" => "the sign-in's code expired or was used already".to_string(),
        "INSUFFICIENT_PERMISSIONS" => {
            "the user may not call signin:CreateOAuth2Token: grant it in IAM".to_string()
        }
        _ if e.is_throttling() => {
            "AWS is throttling requests: wait a minute and try again".to_string()
        }
        "ValidationError" if msg.contains("duration") => {
            format!(
            "use --session-duration between {MIN_DURATION_SECS} and {GET_SESSION_TOKEN_MAX_SECS} seconds ({ROLE_CHAINING_MAX_SECS} at most for root and for role chaining)"
        )
        }
        "InternalFailure" | "InternalError" | "ServiceUnavailable" | "ServiceFailure" => {
            "AWS had a temporary failure: try again in a moment (with the next MFA code if this request carried one)".to_string()
        }
        "RegionDisabledException" | "OptInRequired" => {
            "STS is not activated in this region for the account (the regional STS endpoint is used whenever a region is set): set sts_regional_endpoints = legacy in the profile or AWS_STS_REGIONAL_ENDPOINTS=legacy to use the global endpoint, or have an administrator activate STS in this region (IAM console, Account settings)".to_string()
        }
        "MissingAuthenticationToken" | "IncompleteSignature" => {
            "the request was not signed as AWS expects: check that AWS_ENDPOINT_URL points at AWS (or a compatible service), and report this if it does".to_string()
        }
        _ => return None,
    };
    Some(advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(action: &str, code: &str, message: &str) -> AwsError {
        AwsError {
            action: action.into(),
            status: 403,
            code: code.into(),
            message: message.into(),
            access_key_id: Some("AKIDEXAMPLE".into()),
            ..AwsError::default()
        }
    }

    fn advice(e: &AwsError) -> String {
        aws_advice(e).unwrap_or_default()
    }

    #[test]
    fn clock_skew_in_words() {
        use crate::timefmt::describe_seconds;
        assert_eq!(describe_seconds(42), "42 s");
        assert_eq!(describe_seconds(600), "10 min (600 s)");
        assert_eq!(describe_seconds(7229), "2 h 0 min (7229 s)");
        let mut e = aws("GetSessionToken", "RequestExpired", "Request has expired.");
        e.clock_skew_secs = Some(-900);
        assert!(
            advice(&e).contains("15 min (900 s) ahead of AWS's"),
            "{}",
            advice(&e)
        );
        e.clock_skew_secs = None;
        assert!(advice(&e).contains("check that the local clock"));
    }

    #[test]
    fn signature_errors_point_at_the_secret_or_the_clock() {
        let mut e = aws("GetSessionToken", "SignatureDoesNotMatch", "does not match");
        assert!(
            advice(&e).contains("secret access key is not the one of access key id AKIDEXAMPLE")
        );
        e.clock_skew_secs = Some(3600);
        assert!(
            advice(&e).contains("1 h 0 min (3600 s) behind"),
            "{}",
            advice(&e)
        );
        let e = aws(
            "GetSessionToken",
            "SignatureDoesNotMatch",
            "Signature expired: 20261125T083000Z is now earlier than 20261125T090000Z",
        );
        assert!(advice(&e).contains("clock"));
    }

    #[test]
    fn access_denied_names_the_iam_action() {
        let e = AwsError {
            service: "iam",
            ..aws(
                "CreateVirtualMFADevice",
                "AccessDenied",
                "User: x is not authorized",
            )
        };
        assert!(advice(&e).contains("iam:CreateVirtualMFADevice"));
        let e = AwsError {
            service: "sts",
            ..aws("AssumeRole", "AccessDenied", "User: x is not authorized")
        };
        assert!(advice(&e).contains("sts:AssumeRole"));
        let e = aws(
            "GetSessionToken",
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        );
        assert!(advice(&e).contains("wait for the next code"));
    }

    #[test]
    fn token_errors_name_the_key() {
        let e = aws("ListMFADevices", "InvalidClientTokenId", "invalid");
        assert!(advice(&e).contains("does not know access key id AKIDEXAMPLE"));
        let mut e = aws("ListMFADevices", "InvalidClientTokenId", "invalid");
        e.access_key_id = Some("ASIAEXAMPLE".into());
        assert!(advice(&e).contains("session token of ASIAEXAMPLE"));
        let e = aws("ListMFADevices", "ExpiredToken", "expired");
        assert!(advice(&e).contains("AKIDEXAMPLE have expired"));
    }

    #[test]
    fn the_advice_is_in_the_message() {
        let e = with_advice(aws("GetSessionToken", "ValidationError", "bad duration"));
        assert!(
            e.to_string().ends_with("(use --session-duration between 900 and 129600 seconds (3600 at most for root and for role chaining))"),
            "{e}"
        );
    }
}
