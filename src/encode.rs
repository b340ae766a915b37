//! Percent-encoding as SigV4 and the Query API's form bodies want it (RFC 3986:
//! everything but `A-Z a-z 0-9 - _ . ~` is encoded, upper-case hex).

/// Percent-encode `s`; `/` is kept as is when `keep_slash` is true (URI paths).
///
/// ```
/// use aws_session::encode::uri_encode;
/// assert_eq!(uri_encode("a b/c~", false), "a%20b%2Fc~");
/// assert_eq!(uri_encode("a b/c", true), "a%20b/c");
/// ```
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_utf8() {
        assert_eq!(uri_encode("=&+*", false), "%3D%26%2B%2A");
        assert_eq!(uri_encode("ሴ", false), "%E1%88%B4");
        assert_eq!(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
    }
}
