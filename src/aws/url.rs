//! The parts of a URL that both the endpoint choice and the transport read (pure):
//! `host[:port]` split and checked, and a URL made safe for messages.

/// `url` for messages: the password of any user info replaced by `***` (user info
/// without a password may be a token: all of it is replaced), control characters by
/// `?`, cut to 120 characters.
///
/// ```
/// use aws_session::aws::url::redact_url;
/// assert_eq!(redact_url("http://bob:s3cret@h:1/"), "http://bob:***@h:1/");
/// assert_eq!(redact_url("https://tok@h/"), "https://***@h/");
/// assert_eq!(redact_url("http://h:1/a@b"), "http://h:1/a@b");
/// ```
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let shown = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:***@{host}{tail}"),
            None => format!("{scheme}***@{host}{tail}"),
        },
        None => url.to_string(),
    };
    shown
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(120)
        .collect()
}

/// Split `host[:port]` or `[v6][:port]`: the host (IPv6 in brackets) and the port,
/// each checked (a host name of letters, digits, `-`, `.`, `_`; a port 1-65535).
pub fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or("the IPv6 address has no closing ]")?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("the part in [ ] is not an IPv6 address".into());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("only :PORT may follow ]")?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (h, p) = match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        if h.is_empty() {
            return Err("no host".into());
        }
        if !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err("the host may hold only letters, digits, '-', '.' and '_'".into());
        }
        (h.to_string(), p)
    };
    let port = match port {
        None => None,
        Some(p) => {
            let n = (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u32>().ok())
                .flatten()
                .filter(|n| (1..=65535).contains(n))
                .ok_or_else(|| {
                    if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() {
                        format!(
                            "the port {} is not from 1 to 65535",
                            p.chars().take(24).collect::<String>()
                        )
                    } else {
                        "the port is not a number from 1 to 65535".to_string()
                    }
                })?;
            Some(n as u16)
        }
    };
    Ok((host, port))
}
