//! UTC time as text, in the forms AWS and the environment contract use (pure).
//!
//! - [`iso8601_utc`]: `2026-11-25T09:04:44Z` (AWS_CREDENTIAL_EXPIRATION, JSON output),
//! - [`amz_date`]: `20150830T123600Z` (SigV4 `X-Amz-Date`),
//! - [`date_stamp`]: `20150830` (SigV4 credential scope),
//! - [`rfc3339_utc`]: like [`iso8601_utc`] but with the fraction of a second kept
//!   (cache entries, which must read back to the same instant);
//!
//! and read back:
//!
//! - [`parse_rfc3339`]: AWS timestamps (`<Expiration>`) and cache entries,
//! - [`parse_http_date`]: the HTTP `Date` header (clock-skew advice).
//!
//! Written by hand on `time`'s calendar types rather than with its `formatting` and
//! `parsing` features: these few fixed forms do not need a format-description engine,
//! and leaving it out keeps the static binary under 2 MiB (see the README).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `YYYY{sep}MM{sep}DD` of `t` in UTC.
fn date_part(t: OffsetDateTime, sep: &str) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{sep}{:02}{sep}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    )
}

/// `YYYY{date_sep}MM{date_sep}DDTHH{time_sep}MM{time_sep}SSZ` of `t` in UTC, whole
/// seconds.
fn date_time(t: OffsetDateTime, date_sep: &str, time_sep: &str) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    format!(
        "{}T{:02}{time_sep}{:02}{time_sep}{:02}Z",
        date_part(u, date_sep),
        u.hour(),
        u.minute(),
        u.second()
    )
}

/// RFC 3339 / ISO 8601 in UTC with a `Z`, whole seconds.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1_795_597_484).unwrap();
/// assert_eq!(aws_session::timefmt::iso8601_utc(t), "2026-11-25T09:04:44Z");
/// ```
pub fn iso8601_utc(t: OffsetDateTime) -> String {
    date_time(t, "-", ":")
}

/// `20150830T123600Z`: the SigV4 `X-Amz-Date` form of `t`, in UTC.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// assert_eq!(aws_session::timefmt::amz_date(t), "20150830T123600Z");
/// ```
pub fn amz_date(t: OffsetDateTime) -> String {
    date_time(t, "", "")
}

/// `20150830`: the date of `t` in UTC, as the SigV4 credential scope has it.
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp(1440938160).unwrap();
/// assert_eq!(aws_session::timefmt::date_stamp(t), "20150830");
/// ```
pub fn date_stamp(t: OffsetDateTime) -> String {
    date_part(t, "")
}

/// RFC 3339 in UTC with a `Z`, with the fraction of a second when there is one
/// (trailing zeros dropped); `None` for a year RFC 3339 cannot write (before 0 or
/// after 9999).
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_795_597_484_500_000_000).unwrap();
/// assert_eq!(aws_session::timefmt::rfc3339_utc(t).unwrap(), "2026-11-25T09:04:44.5Z");
/// ```
pub fn rfc3339_utc(t: OffsetDateTime) -> Option<String> {
    let u = t.to_offset(UtcOffset::UTC);
    if !(0..=9999).contains(&u.year()) {
        return None;
    }
    let whole = iso8601_utc(u);
    let nanos = u.nanosecond();
    if nanos == 0 {
        return Some(whole);
    }
    let fraction = format!("{nanos:09}");
    Some(format!(
        "{}.{}Z",
        &whole[..whole.len() - 1],
        fraction.trim_end_matches('0')
    ))
}

/// Read an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second
/// (up to 9 digits kept, more ignored), then `Z` or `±HH:MM` (`t`/`z` in lower case,
/// and a space for the `T`, too; a leap second `HH:59:60` is read as the last instant
/// of `:59`). `None` for anything else: dates that do not exist, and instants whose
/// year in UTC is not 1 to 9999 (every form above writes those, and nothing else).
///
/// ```
/// use aws_session::timefmt::parse_rfc3339;
/// let t = parse_rfc3339("2011-07-11T19:55:29.611Z").unwrap();
/// assert_eq!((t.unix_timestamp(), t.millisecond()), (1310414129, 611));
/// assert_eq!(parse_rfc3339("2011-07-11T21:55:29+02:00").unwrap().unix_timestamp(), 1310414129);
/// assert!(parse_rfc3339("2011-02-30T00:00:00Z").is_none());
/// assert!(parse_rfc3339("2011-07-11T19:55:29").is_none());
/// ```
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, mut second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, d) in frac[..n].iter().enumerate().take(9) {
            nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            UtcOffset::from_whole_seconds(if *sign == b'-' { -secs } else { secs }).ok()?
        }
        _ => return None,
    };
    if second == 60 && minute == 59 {
        second = 59;
        nanos = 999_999_999;
    }
    let date = Date::from_calendar_date(year as i32, Month::try_from(month as u8).ok()?, day as u8)
        .ok()?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    let t = PrimitiveDateTime::new(date, time).assume_offset(offset);
    t.checked_to_offset(UtcOffset::UTC)
        .filter(|u| (1..=9999).contains(&u.year()))
}

/// Read an HTTP `Date` header in its one current form, IMF-fixdate
/// (`Wed, 25 Nov 2026 09:04:44 GMT`; the weekday is not checked against the date).
///
/// ```
/// use aws_session::timefmt::parse_http_date;
/// assert_eq!(parse_http_date("Wed, 25 Nov 2026 09:04:44 GMT").unwrap().unix_timestamp(), 1795597484);
/// assert!(parse_http_date("yesterday").is_none());
/// ```
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.trim().as_bytes();
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let day = digits(&b[5..7])?;
    let month = MONTHS.iter().position(|m| m.as_bytes() == &b[8..11])? as u8 + 1;
    let year = digits(&b[12..16])?;
    let (hour, minute, second) = (
        digits(&b[17..19])?,
        digits(&b[20..22])?,
        digits(&b[23..25])?,
    );
    let date =
        Date::from_calendar_date(year as i32, Month::try_from(month).ok()?, day as u8).ok()?;
    let time = Time::from_hms(hour as u8, minute as u8, second as u8).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The number written by ASCII digits `b` (all of them digits, at most 4).
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `3725` → `"1 h 2 min (3725 s)"`: how far off a clock is, for people.
pub fn describe_seconds(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=3599 => format!("{} min ({secs} s)", secs / 60),
        _ => format!("{} h {} min ({secs} s)", secs / 3600, secs % 3600 / 60),
    }
}

/// Advice on a wrong local clock; `skew` is AWS's clock minus ours.
pub fn clock_advice(skew: Option<i64>) -> String {
    match skew {
        Some(s) if s != 0 => format!(
            "the local clock is {} {} AWS's (from the answer's Date header): set it right, e.g. enable NTP with timedatectl set-ntp true",
            describe_seconds(s.unsigned_abs()),
            if s > 0 { "behind" } else { "ahead of" }
        ),
        _ => "the request's time was refused: check that the local clock and time zone are right, e.g. enable NTP with timedatectl set-ntp true".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_in_utc() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_597_484)
            .unwrap()
            .to_offset(UtcOffset::from_hms(-7, 0, 0).unwrap());
        assert_eq!(iso8601_utc(t), "2026-11-25T09:04:44Z");
        assert_eq!(amz_date(t), "20261125T090444Z");
        assert_eq!(date_stamp(t), "20261125");
        assert_eq!(rfc3339_utc(t).unwrap(), "2026-11-25T09:04:44Z");
        // The UTC date, not the local one.
        let early = OffsetDateTime::from_unix_timestamp(1_795_564_800)
            .unwrap()
            .to_offset(UtcOffset::from_hms(-1, 0, 0).unwrap());
        assert_eq!(date_stamp(early), "20261125");
        assert_eq!(iso8601_utc(early), "2026-11-25T00:00:00Z");
    }

    #[test]
    fn rfc3339_round_trips_and_agrees_with_the_forms_aws_sends() {
        for text in [
            "2026-11-25T09:04:44Z",
            "2026-11-25T09:04:44.5Z",
            "2026-11-25T09:04:44.000000001Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
        ] {
            let t = parse_rfc3339(text).unwrap();
            assert_eq!(rfc3339_utc(t).unwrap(), text);
        }
        let t = parse_rfc3339("2026-11-25t10:04:44.25+01:00").unwrap();
        assert_eq!(rfc3339_utc(t).unwrap(), "2026-11-25T09:04:44.25Z");
        let t = parse_rfc3339("2026-11-25T09:04:44.1234567891234Z").unwrap();
        assert_eq!(t.nanosecond(), 123_456_789);
        let t = parse_rfc3339("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(rfc3339_utc(t).unwrap(), "2016-12-31T23:59:59.999999999Z");
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T09:04:44",
            "2026-11-25T09:04:44.Z",
            "2026-11-25T09:04:44+0100",
            "2026-11-25T09:04:44+24:00",
            "2026-13-25T09:04:44Z",
            "2026-11-31T09:04:44Z",
            "2026-11-25T24:04:44Z",
            "2026-11-25T09:60:44Z",
            "+2026-11-25T09:04:44Z",
            "2026-11-25T09:04:44Zjunk",
            "２０２６-11-25T09:04:44Z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad:?}");
        }
        // Instants outside years 1..=9999 in UTC (the last one would overflow a
        // conversion to UTC later, the first be written as year -1).
        for out_of_range in [
            "0000-01-01T00:30:00+01:00",
            "0000-06-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert!(parse_rfc3339(out_of_range).is_none(), "{out_of_range}");
        }
        assert!(parse_rfc3339("9999-12-31T23:59:59+01:00").is_some());
        assert!(parse_rfc3339("0001-01-01T00:59:59+01:00").is_none());
        assert_eq!(
            parse_rfc3339("2026-11-25 09:04:44Z"),
            parse_rfc3339("2026-11-25T09:04:44Z")
        );
        assert!(parse_rfc3339("2026-11-25T09:04:60Z").is_none());
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT ").unwrap();
        assert_eq!(t.unix_timestamp(), 784111777);
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nox 1994 08:49:37 GMT",
        ] {
            assert!(parse_http_date(bad).is_none(), "{bad:?}");
        }
    }

    /// A second opinion: time's own RFC 3339 formatter and parser (a dev-dependency
    /// feature) agree with ours over a spread of instants and offsets.
    #[test]
    fn agrees_with_the_time_crates_rfc3339() {
        use time::format_description::well_known::Rfc3339;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 253_402_000_000) as i64; // 1970 .. days before 10000
            let nanos = match i % 3 {
                0 => 0,
                1 => (x >> 20) as u32 % 1000 * 1_000_000,
                _ => (x >> 11) as u32 % 1_000_000_000,
            };
            let t = OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap();
            let ours = rfc3339_utc(t).unwrap();
            assert_eq!(ours, t.format(&Rfc3339).unwrap());
            assert_eq!(parse_rfc3339(&ours), Some(t));
            let offset =
                UtcOffset::from_whole_seconds(((x >> 40) % 1440) as i32 * 60 - 43_200).unwrap();
            let text = t.to_offset(offset).format(&Rfc3339).unwrap();
            assert_eq!(parse_rfc3339(&text), Some(t), "{text}");
        }
    }
}
