//! Durations from outside: the parts of a `google.protobuf.Duration` and the
//! human forms flags and JSON use (`30s`, `1.5s`, `500ms`, `5m`, `2h`, `30d`),
//! refusing negative and malformed values.

use std::time::Duration;

/// Why a duration was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("must not be negative")]
    Negative,
    #[error(
        "{0:?} is not a duration: use a number with a unit, for example 30s, 1.5s, 5m, 2h or 30d"
    )]
    Syntax(String),
    #[error("nanos must be within -999999999..=999999999 and share the sign of seconds")]
    Nanos,
}

/// Converts the parts of a `google.protobuf.Duration`, refusing negative values
/// (a negative wait or grace means nothing) and malformed nanos.
pub fn duration_from_parts(seconds: i64, nanos: i32) -> Result<Duration, DurationError> {
    if !(-999_999_999..=999_999_999).contains(&nanos)
        || (seconds > 0 && nanos < 0)
        || (seconds < 0 && nanos > 0)
    {
        return Err(DurationError::Nanos);
    }
    if seconds < 0 || nanos < 0 {
        return Err(DurationError::Negative);
    }
    let seconds = u64::try_from(seconds).map_err(|_| DurationError::Negative)?;
    let nanos = u32::try_from(nanos).map_err(|_| DurationError::Negative)?;
    Ok(Duration::new(seconds, nanos))
}

/// Parses a human duration: the proto3 JSON form (`30s`, `1.5s`) or a whole
/// or decimal number with `ms`, `m`, `h` or `d` (`500ms`, `5m`, `2h`, `30d`).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_owned());
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(syntax)?;
    let (number, unit) = trimmed.split_at(split);
    let unit_seconds: f64 = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(syntax()),
    };
    let valid_number = !number.is_empty()
        && number.matches('.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    if !valid_number {
        return Err(syntax());
    }
    let value: f64 = number.parse().map_err(|_| syntax())?;
    Duration::try_from_secs_f64(value * unit_seconds).map_err(|_| syntax())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_accepts_proto_form_and_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn parse_duration_rejects_garbage_and_negatives() {
        for bad in [
            "",
            "s",
            "30",
            "30x",
            "1.2.3s",
            ".5s",
            "5.s",
            "1e3s",
            "99999999999999999999d",
        ] {
            assert!(
                matches!(parse_duration(bad), Err(DurationError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(parse_duration("-1s"), Err(DurationError::Negative));
    }

    #[test]
    fn duration_from_parts_rejects_negative_and_mixed_signs() {
        assert_eq!(
            duration_from_parts(1, 500_000_000),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(duration_from_parts(0, 0), Ok(Duration::ZERO));
        assert_eq!(duration_from_parts(-1, 0), Err(DurationError::Negative));
        assert_eq!(duration_from_parts(0, -1), Err(DurationError::Negative));
        assert_eq!(duration_from_parts(1, -1), Err(DurationError::Nanos));
        assert_eq!(
            duration_from_parts(0, 1_000_000_000),
            Err(DurationError::Nanos)
        );
    }
}
