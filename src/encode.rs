//! Percent-encoding as SigV4 and the Query API's form bodies want it (RFC 3986:
//! everything but `A-Z a-z 0-9 - _ . ~` is encoded, upper-case hex) and its decoding
//! (proxy user info, the sign-in callback's query); base64 (RFC 4648, standard and
//! URL-safe alphabets) for the sign-in flow's PEM keys, JWTs and PKCE, and IAM's MFA
//! seeds; [`printable`], the one way text from outside (an answer, a page, a token, a
//! process) is made safe for a terminal, a log line or a file.

/// `s` with every character that a terminal or a reader of one line could act on
/// written as an escape: C0 controls (ESC, BEL, CR, LF, TAB, …) and DEL as `\x1b`, C1
/// controls (U+0080–U+009F: CSI, OSC as one character), the line and paragraph
/// separators and the bidirectional overrides and isolates as `\u{9b}`. Everything
/// else is kept, so a message stays readable. Applied to every string from outside
/// where it enters (the aws layer's error construction, the transport's errors, the
/// sign-in answers) and once more where an error is printed.
///
/// ```
/// use aws_session::encode::printable;
/// assert_eq!(printable("ok: d\u{e9}j\u{e0}"), "ok: d\u{e9}j\u{e0}");
/// assert_eq!(printable("a\x1b]0;t\x07\nb"), "a\\x1b]0;t\\x07\\x0ab");
/// assert_eq!(printable("\u{9b}31m\u{202e}\x7f"), "\\u{9b}31m\\u{202e}\\x7f");
/// ```
pub fn printable(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

/// [`printable`] of `s` with every run of white space (line breaks and tabs too) made
/// one space: a message that a server wrapped over lines reads as one line.
///
/// ```
/// use aws_session::encode::printable_line;
/// assert_eq!(printable_line(" A message\n  over\ttwo lines.\x1b[2J "), "A message over two lines.\\x1b[2J");
/// ```
pub fn printable_line(s: &str) -> String {
    printable(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether [`printable`] escapes `c`.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

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

/// The value of ASCII hex digit `c` (either case); `None` for anything else, a `+`
/// or `-` sign included (which `from_str_radix` would accept before the digits).
///
/// ```
/// use aws_session::encode::hex_value;
/// assert_eq!(hex_value(b'f'), Some(15));
/// assert_eq!(hex_value(b'A'), Some(10));
/// assert_eq!(hex_value(b'+'), None);
/// ```
pub fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `s` with every `%XX` decoded (and, when `plus_is_space`, every `+` a space, as
/// form-encoded query strings write it); `None` for a `%` not followed by two hex
/// digits, or bytes that are not UTF-8.
///
/// ```
/// use aws_session::encode::percent_decode;
/// assert_eq!(percent_decode("a%2Bb+c", false).unwrap(), "a+b+c");
/// assert_eq!(percent_decode("a%2Bb+c", true).unwrap(), "a+b c");
/// assert!(percent_decode("%+1", false).is_none());
/// assert!(percent_decode("%4", false).is_none());
/// assert!(percent_decode("%ff", false).is_none());
/// ```
pub fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex_value(*b.get(i + 1)?)?;
                let lo = hex_value(*b.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes`: the standard alphabet with `=` padding, or (`url`) the URL-safe
/// alphabet without padding (as JWTs and PKCE use it).
///
/// ```
/// use aws_session::encode::{base64_encode, base64_decode};
/// assert_eq!(base64_encode(b"\xfb\xff", false), "+/8=");
/// assert_eq!(base64_encode(b"\xfb\xff", true), "-_8");
/// assert_eq!(base64_decode("-_8", true).unwrap(), b"\xfb\xff");
/// assert_eq!(base64_decode("+/8=", false).unwrap(), b"\xfb\xff");
/// assert!(base64_decode("+/8", true).is_none());
/// ```
pub fn base64_encode(bytes: &[u8], url: bool) -> String {
    let abc = if url { B64_URL } else { B64_STD };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(abc[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else if !url {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of base64 `text` in one alphabet (standard, or `url`-safe), padding
/// optional; `None` for any other character or an impossible length.
pub fn base64_decode(text: &str, url: bool) -> Option<Vec<u8>> {
    let abc = if url { B64_URL } else { B64_STD };
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in body.bytes() {
        let v = abc.iter().position(|&c| c == b)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// [`base64_decode`] (standard alphabet) of `text` with its whitespace removed first:
/// base64 that may be wrapped over lines (IAM's MFA seeds, PEM bodies).
///
/// ```
/// use aws_session::encode::base64_decode_wrapped;
/// assert_eq!(base64_decode_wrapped("TW\nFu").unwrap(), b"Man");
/// assert!(base64_decode_wrapped("T*Fu").is_none());
/// ```
pub fn base64_decode_wrapped(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64_decode(&clean, false)
}

/// SHA-1 of `data` (FIPS 180-4), in lower-case hex: the AWS CLI names its IAM Identity
/// Center cache files by it. Not for anything secret: SHA-1 is broken for collisions,
/// and file names are all it is used for here.
///
/// ```
/// use aws_session::encode::sha1_hex;
/// assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
/// assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
/// ```
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn sha1_matches_the_reference_on_every_padding_length() {
        use sha1::{Digest, Sha1};
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(
                sha1_hex(&data[..n]),
                hex::encode(Sha1::digest(&data[..n])),
                "length {n}"
            );
        }
    }
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..40 {
            for url in [false, true] {
                let e = base64_encode(&data[..n], url);
                assert_eq!(base64_decode(&e, url).unwrap(), &data[..n]);
            }
        }
        assert_eq!(base64_encode(b"foobar", false), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo", false), "Zm8=");
        assert!(base64_decode("Zm8 ", false).is_none());
    }

    #[test]
    fn percent_decoding_takes_only_two_hex_digits() {
        assert_eq!(percent_decode("%41%4a%4A", false).unwrap(), "AJJ");
        // from_str_radix would read "+1" as 1.
        for bad in ["%+1", "%-1", "% 1", "%1", "%", "%g0", "%1+"] {
            assert_eq!(percent_decode(bad, false), None, "{bad}");
            assert_eq!(percent_decode(bad, true), None, "{bad}");
        }
        assert_eq!(percent_decode("%20+", true).unwrap(), "  ");
        assert_eq!(
            percent_decode(&uri_encode("ሴ a+b", false), false).unwrap(),
            "ሴ a+b"
        );
    }

    #[test]
    fn wrapped_base64() {
        assert_eq!(base64_decode_wrapped("").unwrap(), b"");
        assert_eq!(base64_decode_wrapped(" TQ==\n").unwrap(), b"M");
        assert_eq!(base64_decode_wrapped("TWFu\r\nTQ").unwrap(), b"ManM");
        for bad in ["T", "TWFuT", "TW=u", "TQ===", "T*Fu", "é"] {
            assert_eq!(base64_decode_wrapped(bad), None, "{bad}");
        }
    }

    #[test]
    fn encodes_reserved_and_utf8() {
        assert_eq!(uri_encode("=&+*", false), "%3D%26%2B%2A");
        assert_eq!(uri_encode("ሴ", false), "%E1%88%B4");
        assert_eq!(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
    }
}
