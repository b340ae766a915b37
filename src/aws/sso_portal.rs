//! IAM Identity Center's portal (`sso` 2019-06-10, rest-json), pure: the requests of
//! GetRoleCredentials, ListAccounts, ListAccountRoles and Logout and the parsers of
//! their answers. Not SigV4-signed: the access token goes in `x-amz-sso_bearer_token`.
//! Errors are read by [`crate::aws::sso_oidc::parse_error`] (`{"message"}` bodies).

use crate::credentials::{Credentials, SessionCredentials};
use crate::encode::uri_encode;
use crate::error::Error;
use crate::json::{self, Value};
use time::OffsetDateTime;

/// The header that carries the access token.
pub const BEARER_HEADER: &str = "x-amz-sso_bearer_token";

/// A portal call: GET (or POST for Logout) of `path_and_query`, with the bearer header.
pub struct PortalRequest {
    pub action: &'static str,
    pub post: bool,
    pub path_and_query: String,
}

fn q(v: &str) -> String {
    uri_encode(v, false)
}

/// GetRoleCredentials of `role_name` in `account_id`.
///
/// ```
/// let r = aws_session::aws::sso_portal::get_role_credentials("123456789012", "Admin Access");
/// assert_eq!(r.path_and_query, "/federation/credentials?account_id=123456789012&role_name=Admin%20Access");
/// ```
pub fn get_role_credentials(account_id: &str, role_name: &str) -> PortalRequest {
    PortalRequest {
        action: "GetRoleCredentials",
        post: false,
        path_and_query: format!(
            "/federation/credentials?account_id={}&role_name={}",
            q(account_id),
            q(role_name)
        ),
    }
}

/// One page of ListAccounts (`next`: the previous page's token).
pub fn list_accounts(next: Option<&str>) -> PortalRequest {
    let mut p = "/assignment/accounts?max_result=100".to_string();
    if let Some(n) = next {
        p.push_str(&format!("&next_token={}", q(n)));
    }
    PortalRequest {
        action: "ListAccounts",
        post: false,
        path_and_query: p,
    }
}

/// One page of ListAccountRoles of `account_id`.
pub fn list_account_roles(account_id: &str, next: Option<&str>) -> PortalRequest {
    let mut p = format!(
        "/assignment/roles?account_id={}&max_result=100",
        q(account_id)
    );
    if let Some(n) = next {
        p.push_str(&format!("&next_token={}", q(n)));
    }
    PortalRequest {
        action: "ListAccountRoles",
        post: false,
        path_and_query: p,
    }
}

/// Logout: ends the sign-in at IAM Identity Center.
pub fn logout() -> PortalRequest {
    PortalRequest {
        action: "Logout",
        post: true,
        path_and_query: "/logout".into(),
    }
}

fn bad(action: &str, what: &str) -> Error {
    Error::Network(format!(
        "sso {action}: the answer has no usable {what}: check AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL"
    ))
}

/// GetRoleCredentials's answer: the role's credentials (`expiration` is epoch
/// milliseconds).
///
/// ```
/// let body = r#"{"roleCredentials":{"accessKeyId":"ASIA1","secretAccessKey":"s","sessionToken":"t","expiration":1800000000000}}"#;
/// let c = aws_session::aws::sso_portal::parse_role_credentials(body).ok().unwrap();
/// assert_eq!(c.expiration.unix_timestamp(), 1_800_000_000);
/// ```
pub fn parse_role_credentials(body: &str) -> Result<SessionCredentials, Error> {
    let a = "GetRoleCredentials";
    let doc = json::parse(body).map_err(|_| bad(a, "JSON"))?;
    let rc = doc
        .get("roleCredentials")
        .ok_or_else(|| bad(a, "roleCredentials"))?;
    let s = |k: &str| {
        rc.str(k)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad(a, k))
    };
    let ms = rc
        .get("expiration")
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(a, "expiration"))?;
    let expiration =
        OffsetDateTime::from_unix_timestamp(ms / 1000).map_err(|_| bad(a, "expiration"))?;
    Ok(SessionCredentials {
        credentials: Credentials {
            access_key_id: s("accessKeyId")?,
            secret_access_key: s("secretAccessKey")?,
            session_token: Some(s("sessionToken")?),
        },
        expiration,
    })
}

/// An account the sign-in may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email: String,
}

/// One page of ListAccounts: the accounts and the next page's token.
pub fn parse_accounts(body: &str) -> Result<(Vec<Account>, Option<String>), Error> {
    let a = "ListAccounts";
    let doc = json::parse(body).map_err(|_| bad(a, "JSON"))?;
    let list = match doc.get("accountList") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => &Vec::new(),
        Some(_) => return Err(bad(a, "accountList")),
    };
    let mut out = Vec::new();
    for item in list {
        let id = item
            .str("accountId")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(a, "accountId"))?;
        out.push(Account {
            account_id: id.to_string(),
            account_name: item.str("accountName").unwrap_or_default().to_string(),
            email: item.str("emailAddress").unwrap_or_default().to_string(),
        });
    }
    Ok((out, next_token(&doc)))
}

/// One page of ListAccountRoles: the role names and the next page's token.
pub fn parse_roles(body: &str) -> Result<(Vec<String>, Option<String>), Error> {
    let a = "ListAccountRoles";
    let doc = json::parse(body).map_err(|_| bad(a, "JSON"))?;
    let list = match doc.get("roleList") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => &Vec::new(),
        Some(_) => return Err(bad(a, "roleList")),
    };
    let mut out = Vec::new();
    for item in list {
        let name = item
            .str("roleName")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(a, "roleName"))?;
        out.push(name.to_string());
    }
    Ok((out, next_token(&doc)))
}

fn next_token(doc: &Value) -> Option<String> {
    doc.str("nextToken")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_their_tokens() {
        let (accounts, next) = parse_accounts(
            r#"{"accountList":[{"accountId":"1","accountName":"dev","emailAddress":"d@x"}],"nextToken":"n1"}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(accounts[0].account_name, "dev");
        assert_eq!(next.as_deref(), Some("n1"));
        let (roles, next) = parse_roles(r#"{"roleList":[{"roleName":"R","accountId":"1"}]}"#)
            .ok()
            .unwrap();
        assert_eq!((roles, next), (vec!["R".to_string()], None));
        assert!(parse_roles(r#"{"roleList":[{}]}"#).is_err());
        assert_eq!(
            list_account_roles("1", Some("a b")).path_and_query,
            "/assignment/roles?account_id=1&max_result=100&next_token=a%20b"
        );
    }

    #[test]
    fn role_credentials_need_every_member() {
        assert!(parse_role_credentials(
            r#"{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"s","expiration":1}}"#
        )
        .is_err());
        assert!(parse_role_credentials("{}").is_err());
    }
}
