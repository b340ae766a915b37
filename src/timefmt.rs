//! UTC time as text, in the forms AWS and the environment contract use (pure).
//!
//! - [`iso8601_utc`]: `2026-11-25T09:04:44Z` (AWS_CREDENTIAL_EXPIRATION, JSON output),
//! - [`amz_date`]: `20150830T123600Z` (SigV4 `X-Amz-Date`),
//! - [`date_stamp`]: `20150830` (SigV4 credential scope),
//! - [`rfc3339_utc`]: like [`iso8601_utc`] but with the fraction of a second kept
//!   (cache entries, which must read back to the same instant).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

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

/// RFC 3339 in UTC with a `Z`, with the fraction of a second when there is one;
/// `None` for a year RFC 3339 cannot write (before 0 or after 9999).
///
/// ```
/// let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_795_597_484_500_000_000).unwrap();
/// assert_eq!(aws_session::timefmt::rfc3339_utc(t).unwrap(), "2026-11-25T09:04:44.5Z");
/// ```
pub fn rfc3339_utc(t: OffsetDateTime) -> Option<String> {
    t.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
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
}
