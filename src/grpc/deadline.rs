//! The `grpc-timeout` header: 1 to 8 digits and a unit (H, M, S, m, u, n),
//! as the gRPC HTTP/2 protocol defines it. tonic ignores a malformed value;
//! we refuse it instead of serving a call with no deadline.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedTimeout;

pub fn parse_grpc_timeout(value: &[u8]) -> Result<Duration, MalformedTimeout> {
    let Some((&unit, digits)) = value.split_last() else {
        return Err(MalformedTimeout);
    };
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(MalformedTimeout);
    }
    let amount = digits
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    Ok(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return Err(MalformedTimeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse_grpc_timeout(b"2H"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout(b"3M"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout(b"10S"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_grpc_timeout(b"250m"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout(b"7u"), Ok(Duration::from_micros(7)));
        assert_eq!(
            parse_grpc_timeout(b"99999999n"),
            Ok(Duration::from_nanos(99_999_999))
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            &b""[..],
            b"S",
            b"10",
            b"10s",
            b"123456789S",
            b"-1S",
            b"1.5S",
            b" 1S",
            b"1 S",
        ] {
            assert_eq!(parse_grpc_timeout(bad), Err(MalformedTimeout), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = parse_grpc_timeout(&bytes);
        }
    }
}
