//! Which URL a request goes to and which region signs it (pure).
//!
//! STS: the regional endpoint `https://sts.REGION.amazonaws.com` when a region is set
//! (as the AWS CLI v2 and the SDKs do: nearer than us-east-1, and its session tokens are
//! valid in every region), the global `https://sts.amazonaws.com` without a region or
//! when `AWS_STS_REGIONAL_ENDPOINTS` / `sts_regional_endpoints` is `legacy` (always
//! regional in the China and GovCloud partitions). IAM: the partition's global endpoint.
//! Overrides: `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL_IAM`, then `AWS_ENDPOINT_URL`,
//! then the profile's `endpoint_url`. `http://` is allowed (local peers).

use crate::aws::query::Service;
use crate::error::{Error, Result};

/// Where to send a request and how to sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Full URL to POST to, e.g. `https://sts.amazonaws.com/`.
    pub url: String,
    /// Value of the `Host` header (with a port when not the default).
    pub host: String,
    /// Request path (`/` unless an override carries a path).
    pub path: String,
    /// Region in the SigV4 credential scope.
    pub signing_region: String,
}

/// The endpoint settings that apply, gathered from the environment and the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    /// AWS_REGION / AWS_DEFAULT_REGION / profile `region`.
    pub region: Option<String>,
    /// `regional` (the default) or `legacy` (AWS_STS_REGIONAL_ENDPOINTS /
    /// sts_regional_endpoints): `legacy` keeps STS on the global endpoint.
    pub sts_regional: Option<String>,
    /// AWS_ENDPOINT_URL_STS.
    pub url_sts: Option<String>,
    /// AWS_ENDPOINT_URL_IAM.
    pub url_iam: Option<String>,
    /// AWS_ENDPOINT_URL_SIGNIN (the AWS Sign-In service of `login`).
    pub url_signin: Option<String>,
    /// AWS_ENDPOINT_URL.
    pub url_all: Option<String>,
    /// Profile `endpoint_url`.
    pub url_profile: Option<String>,
}

/// The AWS partition a region belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partition {
    Aws,
    China,
    GovCloud,
}

fn partition(region: Option<&str>) -> Partition {
    match region {
        Some(r) if r.starts_with("cn-") => Partition::China,
        Some(r) if r.starts_with("us-gov-") => Partition::GovCloud,
        _ => Partition::Aws,
    }
}

/// Resolve the endpoint of `service` under `settings`.
///
/// ```
/// use aws_session::aws::endpoint::{resolve, EndpointSettings};
/// use aws_session::aws::query::Service;
/// let e = resolve(Service::Sts, &EndpointSettings::default()).unwrap();
/// assert_eq!(e.url, "https://sts.amazonaws.com/");
/// assert_eq!(e.signing_region, "us-east-1");
/// let s = EndpointSettings { region: Some("eu-west-1".into()), ..Default::default() };
/// assert_eq!(resolve(Service::Sts, &s).unwrap().url, "https://sts.eu-west-1.amazonaws.com/");
/// ```
pub fn resolve(service: Service, s: &EndpointSettings) -> Result<Endpoint> {
    let region = s.region.as_deref().filter(|r| !r.is_empty());
    if let Some(r) = region {
        if !r
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::Config(format!(
                "region \"{}\" is not a region name (e.g. us-east-1): fix AWS_REGION or the profile's region",
                r.chars().take(40).collect::<String>()
            )));
        }
    }
    let part = partition(region);
    let (specific, specific_name) = match service {
        Service::Sts => (s.url_sts.as_deref(), "AWS_ENDPOINT_URL_STS"),
        Service::Iam => (s.url_iam.as_deref(), "AWS_ENDPOINT_URL_IAM"),
    };
    let override_url = [
        (specific, specific_name),
        (s.url_all.as_deref(), "AWS_ENDPOINT_URL"),
        (s.url_profile.as_deref(), "the profile's endpoint_url"),
    ]
    .into_iter()
    .find_map(|(u, name)| u.filter(|u| !u.is_empty()).map(|u| (u, name)));

    let default_signing = match (service, part) {
        (Service::Iam, Partition::Aws) => "us-east-1",
        (Service::Iam, Partition::China) => "cn-north-1",
        (Service::Iam, Partition::GovCloud) => "us-gov-west-1",
        (Service::Sts, _) => region.unwrap_or("us-east-1"),
    };

    if let Some((url, name)) = override_url {
        let (host, path) = split_url(url, name)?;
        let signing_region = match service {
            Service::Sts => region.unwrap_or("us-east-1"),
            Service::Iam => default_signing,
        };
        // The URL sent must carry exactly the path that is signed.
        let url = if path == "/" {
            format!("{}/", url.trim_end_matches('/'))
        } else {
            url.to_string()
        };
        return Ok(Endpoint {
            url,
            host,
            path,
            signing_region: signing_region.to_string(),
        });
    }

    let (host, signing_region) = match (service, part) {
        (Service::Iam, Partition::Aws) => ("iam.amazonaws.com".to_string(), "us-east-1"),
        (Service::Iam, Partition::China) => {
            ("iam.cn-north-1.amazonaws.com.cn".to_string(), "cn-north-1")
        }
        (Service::Iam, Partition::GovCloud) => {
            ("iam.us-gov.amazonaws.com".to_string(), "us-gov-west-1")
        }
        (Service::Sts, Partition::China) => {
            let r = region.unwrap_or("cn-north-1");
            (format!("sts.{r}.amazonaws.com.cn"), r)
        }
        (Service::Sts, Partition::GovCloud) => {
            let r = region.unwrap_or("us-gov-west-1");
            (format!("sts.{r}.amazonaws.com"), r)
        }
        (Service::Sts, Partition::Aws) => {
            let legacy = s
                .sts_regional
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case("legacy"));
            match region {
                Some(r) if !legacy => (format!("sts.{r}.amazonaws.com"), r),
                _ => ("sts.amazonaws.com".to_string(), "us-east-1"),
            }
        }
    };
    Ok(Endpoint {
        url: format!("https://{host}/"),
        host,
        path: "/".into(),
        signing_region: signing_region.to_string(),
    })
}

/// The base URL of the AWS Sign-In service (`aws-session login` and the refresh of its
/// tokens), without a trailing slash: AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL or the
/// profile's `endpoint_url` verbatim (its path kept), else the partition's
/// `https://{region}.signin.…` endpoint (botocore's rules; us-east-1 without a region).
///
/// ```
/// use aws_session::aws::endpoint::{signin_base, EndpointSettings};
/// let mut s = EndpointSettings { region: Some("eu-west-1".into()), ..Default::default() };
/// assert_eq!(signin_base(&s).unwrap(), "https://eu-west-1.signin.aws.amazon.com");
/// s.region = Some("cn-north-1".into());
/// assert_eq!(signin_base(&s).unwrap(), "https://cn-north-1.signin.amazonaws.cn");
/// s.url_signin = Some("http://127.0.0.1:5000/p/".into());
/// assert_eq!(signin_base(&s).unwrap(), "http://127.0.0.1:5000/p");
/// ```
pub fn signin_base(s: &EndpointSettings) -> Result<String> {
    let over = [
        (s.url_signin.as_deref(), "AWS_ENDPOINT_URL_SIGNIN"),
        (s.url_all.as_deref(), "AWS_ENDPOINT_URL"),
        (s.url_profile.as_deref(), "the profile's endpoint_url"),
    ]
    .into_iter()
    .find_map(|(u, name)| u.filter(|u| !u.is_empty()).map(|u| (u, name)));
    if let Some((url, name)) = over {
        split_url(url, name)?;
        return Ok(url.trim_end_matches('/').to_string());
    }
    let region = s.region.as_deref().filter(|r| !r.is_empty());
    if let Some(r) = region {
        if !r
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::Config(format!(
                "region \"{}\" is not a region name (e.g. us-east-1): fix AWS_REGION or the profile's region",
                r.chars().take(40).collect::<String>()
            )));
        }
    }
    let r = region.unwrap_or("us-east-1");
    Ok(match partition(region) {
        Partition::Aws => format!("https://{r}.signin.aws.amazon.com"),
        Partition::China => format!("https://{r}.signin.amazonaws.cn"),
        Partition::GovCloud => format!("https://{r}.signin.amazonaws-us-gov.com"),
    })
}

/// The base URL of the federation endpoint of `console` (`{base}/federation`),
/// without a trailing slash: the overrides of [`signin_base`] (AWS_ENDPOINT_URL_SIGNIN,
/// AWS_ENDPOINT_URL, the profile's `endpoint_url`), else the partition's global
/// sign-in host.
///
/// ```
/// use aws_session::aws::endpoint::{federation_base, EndpointSettings};
/// let mut s = EndpointSettings { region: Some("eu-west-1".into()), ..Default::default() };
/// assert_eq!(federation_base(&s).unwrap(), "https://signin.aws.amazon.com");
/// s.region = Some("cn-north-1".into());
/// assert_eq!(federation_base(&s).unwrap(), "https://signin.amazonaws.cn");
/// s.region = Some("us-gov-west-1".into());
/// assert_eq!(federation_base(&s).unwrap(), "https://signin.amazonaws-us-gov.com");
/// s.url_signin = Some("http://127.0.0.1:5000/".into());
/// assert_eq!(federation_base(&s).unwrap(), "http://127.0.0.1:5000");
/// ```
pub fn federation_base(s: &EndpointSettings) -> Result<String> {
    let regional = signin_base(s)?;
    let overridden = [&s.url_signin, &s.url_all, &s.url_profile]
        .into_iter()
        .any(|u| u.as_deref().is_some_and(|u| !u.is_empty()));
    if overridden {
        return Ok(regional);
    }
    Ok(
        match partition(s.region.as_deref().filter(|r| !r.is_empty())) {
            Partition::Aws => "https://signin.aws.amazon.com",
            Partition::China => "https://signin.amazonaws.cn",
            Partition::GovCloud => "https://signin.amazonaws-us-gov.com",
        }
        .to_string(),
    )
}

/// The console's domain in `region`'s partition (`console.aws.amazon.com`, …).
pub fn console_domain(region: Option<&str>) -> &'static str {
    match partition(region) {
        Partition::Aws => "console.aws.amazon.com",
        Partition::China => "console.amazonaws.cn",
        Partition::GovCloud => "console.amazonaws-us-gov.com",
    }
}

/// Split `scheme://host[:port][/path]` into the Host header value and the path,
/// checking every part first: scheme http or https, no user info, query, fragment,
/// space or control character, a host name or IP address, a port from 1 to 65535.
/// The message never shows a password of the URL.
fn split_url(url: &str, name: &str) -> Result<(String, String)> {
    let bad = |why: &str| {
        Error::Config(format!(
            "{name} \"{}\" is not a usable endpoint URL: {why} (expected e.g. https://sts.eu-west-1.amazonaws.com or http://127.0.0.1:5000)",
            crate::aws::url::redact_url(url)
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(bad("the scheme must be http or https")),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err(bad("user info is not allowed"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("a space or a control character is not allowed"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    let (host, port) = crate::aws::url::split_host_port(authority).map_err(|why| bad(&why))?;
    let host = match port {
        Some(p) if p != default_port => format!("{host}:{p}"),
        _ => host,
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok((host.to_ascii_lowercase(), path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_region(r: &str) -> EndpointSettings {
        EndpointSettings {
            region: Some(r.into()),
            ..Default::default()
        }
    }

    #[test]
    fn sts_regional_with_a_region_and_global_on_request() {
        let e = resolve(Service::Sts, &with_region("eu-west-1")).unwrap();
        assert_eq!(e.url, "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(e.signing_region, "eu-west-1");
        let mut s = with_region("eu-west-1");
        s.sts_regional = Some("regional".into());
        let e = resolve(Service::Sts, &s).unwrap();
        assert_eq!(e.url, "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(e.signing_region, "eu-west-1");
        for legacy in ["legacy", "LEGACY"] {
            s.sts_regional = Some(legacy.into());
            let e = resolve(Service::Sts, &s).unwrap();
            assert_eq!(e.url, "https://sts.amazonaws.com/");
            assert_eq!(e.signing_region, "us-east-1");
        }
        // Without a region: the global endpoint, whatever the setting.
        let e = resolve(Service::Sts, &EndpointSettings::default()).unwrap();
        assert_eq!(e.url, "https://sts.amazonaws.com/");
        assert_eq!(e.signing_region, "us-east-1");
    }

    #[test]
    fn iam_per_partition() {
        let cases = [
            ("eu-west-1", "https://iam.amazonaws.com/", "us-east-1"),
            (
                "cn-northwest-1",
                "https://iam.cn-north-1.amazonaws.com.cn/",
                "cn-north-1",
            ),
            (
                "us-gov-east-1",
                "https://iam.us-gov.amazonaws.com/",
                "us-gov-west-1",
            ),
        ];
        for (region, url, signing) in cases {
            let e = resolve(Service::Iam, &with_region(region)).unwrap();
            assert_eq!((e.url.as_str(), e.signing_region.as_str()), (url, signing));
        }
        let e = resolve(Service::Sts, &with_region("cn-north-1")).unwrap();
        assert_eq!(e.url, "https://sts.cn-north-1.amazonaws.com.cn/");
    }

    #[test]
    fn overrides_in_order() {
        let s = EndpointSettings {
            url_all: Some("http://127.0.0.1:5000".into()),
            url_iam: Some("http://localhost:6000/".into()),
            url_profile: Some("https://ignored.example".into()),
            ..Default::default()
        };
        let sts = resolve(Service::Sts, &s).unwrap();
        assert_eq!(sts.url, "http://127.0.0.1:5000/");
        assert_eq!(sts.host, "127.0.0.1:5000");
        assert_eq!(sts.signing_region, "us-east-1");
        let iam = resolve(Service::Iam, &s).unwrap();
        assert_eq!(iam.url, "http://localhost:6000/");
        assert_eq!(iam.host, "localhost:6000");
        let p = EndpointSettings {
            url_profile: Some("https://sts.example:443".into()),
            ..Default::default()
        };
        assert_eq!(resolve(Service::Sts, &p).unwrap().host, "sts.example");
    }

    #[test]
    fn an_override_path_is_sent_as_signed() {
        for (given, path) in [
            ("http://h:1/x/", "/x/"),
            ("http://h:1/x", "/x"),
            ("http://h:1", "/"),
        ] {
            let s = EndpointSettings {
                url_sts: Some(given.into()),
                ..Default::default()
            };
            let e = resolve(Service::Sts, &s).unwrap();
            assert_eq!(e.path, path, "{given}");
            assert!(e.url.ends_with(path), "{given} -> {}", e.url);
        }
    }

    #[test]
    fn bad_urls_and_regions_are_named() {
        for bad in [
            "ftp://x",
            "127.0.0.1:5000",
            "http://",
            "http://h:port",
            "http://h/?a=b",
            "http://h:99999/",
            "http://h:0",
            "http://u:p@h/",
            "http://[::1/",
            "http://[127.0.0.1]/",
            "http://h:80:80/",
            "http://ex%41mple/",
        ] {
            let s = EndpointSettings {
                url_all: Some(bad.into()),
                ..Default::default()
            };
            let e = resolve(Service::Sts, &s).unwrap_err().to_string();
            assert!(e.contains("AWS_ENDPOINT_URL"), "{e}");
        }
        assert!(resolve(Service::Sts, &with_region("EU West")).is_err());
    }
}
