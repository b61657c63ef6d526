//! The two text forms a filter compares against time fields: RFC 3339
//! timestamps (`2026-01-01T00:00:00Z`, `2026-01-01T01:30:00.5+01:30`) and
//! proto3 JSON durations (`3.5s`).
//!
//! Hand-written rather than a chrono or time dependency: the filter needs
//! exactly these two fixed forms, and a hundred tested lines cost less than a
//! date library in the pure domain layer. Both follow the protobuf JSON
//! mapping: at most nine fractional digits, Timestamp years 0001 to 9999, no
//! leap second, Duration at most 315,576,000,000 s.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;
/// google.protobuf.Duration's documented range (about 10,000 years).
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`. `T` and `Z` may
/// be lowercase, as RFC 3339 section 5.6 allows.
pub(super) fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2)?;
    let (nanos, zone_start) = fraction(b, 19)?;
    let offset = zone_offset(b.get(zone_start..)?)?;

    let valid = year >= 1
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    let local = days * SECONDS_PER_DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    from_unix(local - offset, nanos)
}

/// Parses the proto3 JSON form of a Duration: decimal seconds with up to nine
/// fractional digits and an `s` suffix. Negative durations have no
/// `std::time::Duration`, so they never parse.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    let body = text.strip_suffix('s')?;
    let (whole, frac) = match body.split_once('.') {
        Some((whole, frac)) => (whole, Some(frac)),
        None => (body, None),
    };
    // `str::parse` alone would also take a sign; the proto3 form has none.
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    if secs > MAX_DURATION_SECONDS {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(frac) => {
            let (nanos, end) = fraction_digits(frac.as_bytes(), 0)?;
            if end != frac.len() {
                return None;
            }
            nanos
        }
    };
    Some(Duration::new(secs, nanos))
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let run = b.get(start..start + len)?;
    run.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

fn expect(b: &[u8], at: usize, byte: u8) -> Option<()> {
    (b.get(at) == Some(&byte)).then_some(())
}

/// An optional `.digits` at `start`: the nanoseconds and where the rest begins.
fn fraction(b: &[u8], start: usize) -> Option<(u32, usize)> {
    if b.get(start) != Some(&b'.') {
        return Some((0, start));
    }
    fraction_digits(b, start + 1)
}

/// One to nine digits at `start`, scaled to nanoseconds.
fn fraction_digits(b: &[u8], start: usize) -> Option<(u32, usize)> {
    let count = b
        .get(start..)?
        .iter()
        .take_while(|d| d.is_ascii_digit())
        .count();
    if count == 0 || count > 9 {
        return None;
    }
    let value = digits(b, start, count)?;
    let scale = 10u32.pow(u32::try_from(9 - count).ok()?);
    Some((value * scale, start + count))
}

/// `Z` or `±HH:MM` and nothing after it, as seconds east of UTC.
fn zone_offset(zone: &[u8]) -> Option<i64> {
    match zone {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(zone, 1, 2)?;
            let minutes = digits(zone, 4, 2)?;
            if hours >= 24 || minutes >= 60 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            Some(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); years here are never below 1, so eras are positive.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn from_unix(seconds: i64, nanos: u32) -> Option<SystemTime> {
    let whole = Duration::from_secs(seconds.unsigned_abs());
    let base = if seconds >= 0 {
        UNIX_EPOCH.checked_add(whole)?
    } else {
        UNIX_EPOCH.checked_sub(whole)?
    };
    base.checked_add(Duration::from_nanos(u64::from(nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(seconds: i64, nanos: u32) -> SystemTime {
        from_unix(seconds, nanos).expect("representable")
    }

    #[test]
    fn timestamp_in_utc_parses_to_unix_seconds() {
        let cases = [
            ("1970-01-01T00:00:00Z", unix(0, 0)),
            ("2026-01-01T00:00:00Z", unix(1_767_225_600, 0)),
            ("2024-02-29T12:00:00Z", unix(1_709_208_000, 0)),
            ("2000-03-01T00:00:00z", unix(951_868_800, 0)),
            ("1969-12-31T23:59:59Z", unix(-1, 0)),
            ("0001-01-01T00:00:00Z", unix(-62_135_596_800, 0)),
            ("9999-12-31T23:59:59Z", unix(253_402_300_799, 0)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timestamp(text), Some(want), "{text}");
        }
    }

    #[test]
    fn timestamp_with_offset_equals_the_same_instant_in_utc() {
        let utc = parse_timestamp("2026-01-01T00:00:00Z").expect("utc");
        for text in [
            "2026-01-01T05:30:00+05:30",
            "2025-12-31T16:00:00-08:00",
            "2026-01-01t00:00:00+00:00",
            "2026-01-01T00:00:00-00:00",
        ] {
            assert_eq!(parse_timestamp(text), Some(utc), "{text}");
        }
    }

    #[test]
    fn timestamp_fraction_scales_to_nanoseconds() {
        let cases = [
            ("1970-01-01T00:00:00.5Z", unix(0, 500_000_000)),
            ("1970-01-01T00:00:00.000000001Z", unix(0, 1)),
            ("1970-01-01T00:00:01.123456+00:00", unix(1, 123_456_000)),
            ("1969-12-31T23:59:59.25Z", unix(-1, 250_000_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timestamp(text), Some(want), "{text}");
        }
    }

    #[test]
    fn timestamp_malformed_or_out_of_range_is_rejected() {
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "0000-01-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01T00:00:00+5:30",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+05:60",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01T00:00:00+05:30:00",
            "+026-01-01T00:00:00Z",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn duration_in_proto3_form_parses() {
        let cases = [
            ("0s", Duration::ZERO),
            ("3s", Duration::from_secs(3)),
            ("3.5s", Duration::from_millis(3500)),
            ("0.000000001s", Duration::from_nanos(1)),
            ("86400s", Duration::from_secs(86_400)),
            ("315576000000s", Duration::from_secs(315_576_000_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Some(want), "{text}");
        }
    }

    #[test]
    fn duration_malformed_negative_or_too_long_is_rejected() {
        for bad in [
            "",
            "s",
            "3",
            "3.5",
            ".5s",
            "3.s",
            "-1s",
            "+1s",
            "1m",
            "1.0000000001s",
            "1 s",
            "315576000001s",
            "99999999999999999999999s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
