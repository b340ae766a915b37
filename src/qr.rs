//! The `otpauth://` URI of a new virtual MFA device and its QR code as terminal text
//! (pure: strings in, strings out; no terminal, no clock).
//!
//! - [`otpauth_uri`] builds the Key URI that authenticator apps read
//!   (`otpauth://totp/ISSUER:USER@ACCOUNT?secret=SEED&issuer=ISSUER`, as AWS's own QR).
//! - [`encode`] turns it into a [`QrCode`] no wider than [`MAX_COLUMNS`] when drawn.
//! - [`render`] draws the code with `▀ ▄ █` and spaces, two modules per text row
//!   ([`Style::Blocks`]), or with background colours ([`Style::Ansi`]).
//! - [`group_secret`] splits the seed into groups of four for entry by hand.
//!
//! Inversion: a terminal draws a block character in its *foreground* colour, which on
//! the usual light-on-dark terminal is the light one. So [`Style::Blocks`] prints the
//! code's **light** modules (and the light quiet zone around it) as ink and leaves the
//! **dark** modules blank, showing the dark background: the code reads the right way
//! round on a light-on-dark terminal (as `qrencode -t UTF8` does). On a dark-on-light
//! terminal it comes out inverted, which is what [`Style::Ansi`] (`--qr-ansi`) is for:
//! it sets both colours explicitly and reads the same on any theme.

use crate::encode::uri_encode;
use qrcodegen::{DataTooLong, QrCode, QrCodeEcc, QrSegment, Version};
use std::fmt;

/// The issuer AWS's own QR codes name (shown as the account's title in the app).
pub const ISSUER: &str = "Amazon Web Services";

/// Light modules around the code on each side. The QR standard asks for 4; 2 is what
/// terminal renderers use and scanners read well, and it keeps AWS's codes (version 7
/// or 8 for a 64-character seed: 45 or 49 modules) within 25 to 27 text rows.
pub const QUIET_ZONE: usize = 2;

/// The widest drawing [`encode`] allows, in terminal columns (one module per column).
pub const MAX_COLUMNS: usize = 80;

/// How to draw the modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `█ ▀ ▄` and space in the terminal's own colours, light modules as ink
    /// (right way round on light-on-dark terminals).
    Blocks,
    /// `▀` with explicit foreground (upper module) and background (lower module)
    /// colours: bright white and black, right on any terminal theme that has colours.
    Ansi,
}

/// The URI does not fit a QR code of at most [`MAX_COLUMNS`] columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// Length of the URI in bytes.
    pub uri_len: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {}-byte otpauth URI does not fit a QR code {MAX_COLUMNS} columns wide",
            self.uri_len
        )
    }
}

impl std::error::Error for TooLarge {}

/// The Key URI of a TOTP device, in the layout AWS's own QR codes use:
/// `otpauth://totp/ISSUER:USER@ACCOUNT?secret=SEED&issuer=ISSUER`.
///
/// The issuer and the user name are percent-encoded (a `@`, `+`, `=` or `,` in an IAM
/// user name included), so the `:` and the `@` that separate the label's parts stay
/// unambiguous. The seed's `=` padding, if any, is dropped (apps expect none).
///
/// ```
/// let uri = aws_session::qr::otpauth_uri(
///     "Amazon Web Services", "alice", "123456789012", "JBSWY3DPEHPK3PXP",
/// );
/// assert_eq!(
///     uri,
///     "otpauth://totp/Amazon%20Web%20Services:alice@123456789012\
///      ?secret=JBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services"
/// );
/// ```
pub fn otpauth_uri(issuer: &str, user_name: &str, account: &str, base32_seed: &str) -> String {
    let issuer = uri_encode(issuer, false);
    format!(
        "otpauth://totp/{issuer}:{}@{}?secret={}&issuer={issuer}",
        uri_encode(user_name, false),
        uri_encode(account, false),
        base32_seed.trim_end_matches('='),
    )
}

/// The seed in groups of four characters, `per_line` groups to a line.
///
/// ```
/// let lines = aws_session::qr::group_secret("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567AB", 4);
/// assert_eq!(lines, ["ABCD EFGH IJKL MNOP", "QRST UVWX YZ23 4567", "AB"]);
/// ```
pub fn group_secret(base32_seed: &str, per_line: usize) -> Vec<String> {
    let chars: Vec<char> = base32_seed.trim_end_matches('=').chars().collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    groups
        .chunks(per_line.max(1))
        .map(|line| line.join(" "))
        .collect()
}

/// The smallest QR code for `uri` (error correction at least Low, raised when that
/// costs no size) whose drawing with [`QUIET_ZONE`] fits [`MAX_COLUMNS`].
///
/// Long runs of QR "alphanumeric" characters (the upper-case base32 seed) are
/// encoded in that mode (5.5 bits a character instead of 8), the rest as bytes, which
/// keeps AWS's codes a version smaller.
///
/// ```
/// let qr = aws_session::qr::encode("otpauth://totp/x:y@1?secret=JBSWY3DPEHPK3PXP").unwrap();
/// assert!(qr.size() as usize + 2 * aws_session::qr::QUIET_ZONE <= 80);
/// ```
pub fn encode(uri: &str) -> Result<QrCode, TooLarge> {
    let max_version = (1u8..=40)
        .rev()
        .find(|v| (4 * usize::from(*v) + 17) + 2 * QUIET_ZONE <= MAX_COLUMNS)
        .unwrap_or(1);
    QrCode::encode_segments_advanced(
        &segments(uri),
        QrCodeEcc::Low,
        Version::MIN,
        Version::new(max_version),
        None,
        true,
    )
    .map_err(|_: DataTooLong| TooLarge { uri_len: uri.len() })
}

/// Byte segments, with runs of at least [`ALNUM_RUN`] alphanumeric-mode characters
/// split out as alphanumeric segments.
fn segments(text: &str) -> Vec<QrSegment> {
    /// Shorter runs cost more in segment headers than they save.
    const ALNUM_RUN: usize = 16;
    fn is_alnum(c: char) -> bool {
        matches!(c, '0'..='9' | 'A'..='Z' | ' ' | '$' | '%' | '*' | '+' | '-' | '.' | '/' | ':')
    }
    let mut segs = Vec::new();
    let mut bytes_start = 0;
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        if !is_alnum(b[i] as char) {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < b.len() && is_alnum(b[i] as char) {
            i += 1;
        }
        if i - run_start >= ALNUM_RUN {
            if bytes_start < run_start {
                segs.push(QrSegment::make_bytes(&b[bytes_start..run_start]));
            }
            segs.push(QrSegment::make_alphanumeric(&text[run_start..i]));
            bytes_start = i;
        }
    }
    if bytes_start < b.len() {
        segs.push(QrSegment::make_bytes(&b[bytes_start..]));
    }
    segs
}

/// Draw `qr` with a light quiet zone of `quiet` modules on each side, two module rows
/// per text row (the last text row's lower half lies outside the code and is left to
/// the terminal's background). Each line is `size + 2 * quiet` columns wide and ends
/// with `\n`.
///
/// ```
/// use aws_session::qr::{encode, render, Style};
/// let qr = encode("otpauth://totp/x:y@1?secret=JBSWY3DPEHPK3PXP").unwrap();
/// let text = render(&qr, 2, Style::Blocks);
/// let width = qr.size() as usize + 4;
/// assert!(text.lines().all(|l| l.chars().count() == width));
/// assert_eq!(text.lines().count(), (width + 1) / 2);
/// ```
pub fn render(qr: &QrCode, quiet: usize, style: Style) -> String {
    let size = qr.size() as usize;
    let side = size + 2 * quiet;
    // true = light; rows and columns of the drawing, quiet zone included.
    let light = |x: usize, y: usize| -> bool {
        if x < quiet || y < quiet || x >= quiet + size || y >= quiet + size {
            return true;
        }
        !qr.get_module((x - quiet) as i32, (y - quiet) as i32)
    };
    let mut out = String::with_capacity(side.div_ceil(2) * (side * 12 + 8));
    for row in (0..side).step_by(2) {
        let mut last: Option<(&str, &str)> = None;
        for x in 0..side {
            let top = light(x, row);
            // None: below the drawing (odd number of module rows).
            let bottom = (row + 1 < side).then(|| light(x, row + 1));
            match style {
                Style::Blocks => out.push(match (top, bottom.unwrap_or(false)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                }),
                Style::Ansi => {
                    let fg = if top { "97" } else { "30" };
                    let bg = match bottom {
                        Some(true) => "107",
                        Some(false) => "40",
                        None => "49",
                    };
                    if last != Some((fg, bg)) {
                        out.push_str("\x1b[");
                        out.push_str(fg);
                        out.push(';');
                        out.push_str(bg);
                        out.push('m');
                        last = Some((fg, bg));
                    }
                    out.push('▀');
                }
            }
        }
        if style == Style::Ansi {
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's seeds are 64 base32 characters.
    const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    /// Module rows (true = dark) read back from a [`Style::Blocks`] drawing.
    fn modules_of(text: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in text.lines() {
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in line.chars() {
                let (t, b) = match c {
                    '█' => (false, false),
                    '▀' => (false, true),
                    '▄' => (true, false),
                    ' ' => (true, true),
                    other => panic!("unexpected character {other:?}"),
                };
                top.push(t);
                bottom.push(b);
            }
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn uri_layout_and_encoding() {
        assert_eq!(
            otpauth_uri(
                ISSUER,
                "a+b=c,d@e.f_g-h",
                "123456789012",
                "ABCDEFGH========"
            ),
            "otpauth://totp/Amazon%20Web%20Services:a%2Bb%3Dc%2Cd%40e.f_g-h@123456789012\
             ?secret=ABCDEFGH&issuer=Amazon%20Web%20Services"
        );
        // Nothing but the two separators and the query's own characters is left bare.
        let uri = otpauth_uri("Acme & Co: test", "ü ser", "1", SEED);
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/Acme%20%26%20Co%3A%20test:%C3%BC%20ser@1?secret={SEED}\
                 &issuer=Acme%20%26%20Co%3A%20test"
            )
        );
    }

    #[test]
    fn secret_grouping() {
        let lines = group_secret(SEED, 8);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
        assert_eq!(lines.concat().replace(' ', ""), SEED[..32].repeat(2));
        assert_eq!(group_secret("ABCDEF==", 8), ["ABCD EF"]);
        assert!(group_secret("", 8).is_empty());
    }

    #[test]
    fn blocks_round_trip_with_quiet_zone_and_fit_80_columns() {
        // The longest IAM user name (64 characters), every one percent-encoded.
        for user in ["alice", &"@".repeat(64), &"a".repeat(64)] {
            let uri = otpauth_uri(ISSUER, user, "123456789012", SEED);
            let qr = encode(&uri).unwrap();
            let size = qr.size() as usize;
            let text = render(&qr, QUIET_ZONE, Style::Blocks);
            let side = size + 2 * QUIET_ZONE;
            assert!(side <= MAX_COLUMNS, "{side} columns for {user}");
            assert!(text.lines().all(|l| l.chars().count() == side));
            assert_eq!(text.lines().count(), side.div_ceil(2));
            let rows = modules_of(&text);
            // The half row below an odd-sized drawing is the terminal's (dark).
            assert_eq!(rows.len(), side + 1);
            assert!(rows[side].iter().all(|&dark| dark));
            for (y, row) in rows.iter().take(side).enumerate() {
                for (x, &dark) in row.iter().enumerate() {
                    let inside = (QUIET_ZONE..QUIET_ZONE + size).contains(&x)
                        && (QUIET_ZONE..QUIET_ZONE + size).contains(&y);
                    let want =
                        inside && qr.get_module((x - QUIET_ZONE) as i32, (y - QUIET_ZONE) as i32);
                    assert_eq!(dark, want, "module ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn aws_sized_uri_keeps_a_small_version() {
        let uri = otpauth_uri(ISSUER, "alice", "123456789012", SEED);
        let qr = encode(&uri).unwrap();
        // Version 7 (45 modules): the drawing takes 25 text rows, 49 columns.
        assert_eq!(qr.version().value(), 7);
        let text = render(&qr, QUIET_ZONE, Style::Blocks);
        assert_eq!(text.lines().count(), 25);
        // The alphanumeric run is the seed.
        let segs = segments(&uri);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[1].num_chars(), SEED.len());
    }

    #[test]
    fn too_long_is_an_error() {
        let uri = otpauth_uri(ISSUER, &"ü".repeat(200), "123456789012", SEED);
        let Err(e) = encode(&uri) else {
            panic!("a 1,000-byte URI should not fit")
        };
        assert!(e.to_string().contains("80 columns"));
    }

    #[test]
    fn ansi_style_sets_colours_and_resets_each_line() {
        let qr = encode("otpauth://totp/x:y@1?secret=JBSWY3DPEHPK3PXP").unwrap();
        let text = render(&qr, QUIET_ZONE, Style::Ansi);
        let side = qr.size() as usize + 2 * QUIET_ZONE;
        for line in text.lines() {
            assert!(line.ends_with("\x1b[0m"));
            assert_eq!(line.matches('▀').count(), side);
        }
        // The first row is quiet zone: light over light.
        assert!(text.starts_with("\x1b[97;107m"));
        // The last row's lower half is outside: the default background.
        assert!(text.lines().last().unwrap().contains(";49m"));
    }
}
