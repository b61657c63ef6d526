//! A value as written on the right of a comparison, with every typed reading
//! worked out once at parse time.
//!
//! A filter does not know the type of a `metadata.` field until it meets an
//! operation (metadata types vary per operation), so the literal keeps all
//! the readings that could apply: text, bool, number, timestamp, duration.
//! Evaluation then only compares; it never parses per operation.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::time::{parse_duration, parse_timestamp};

/// A numeric reading. Integers keep full precision across i64 and u64
/// fields; anything with a fraction or exponent is a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Number {
    Int(i128),
    Float(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Literal {
    /// The text without its wildcard stars; an escaped `\*` stays in here.
    text: String,
    /// An unescaped `*` opened the value: "ends with" (AIP-160 wildcard).
    leading_star: bool,
    /// An unescaped `*` closed the value: "starts with".
    trailing_star: bool,
    boolean: Option<bool>,
    number: Option<Number>,
    timestamp: Option<SystemTime>,
    duration: Option<Duration>,
}

impl Literal {
    pub(super) fn new(text: String, leading_star: bool, trailing_star: bool) -> Self {
        // A lone `*` has no side: call it leading, so that equal filters
        // build equal trees and print the same.
        let (leading_star, trailing_star) = if text.is_empty() && trailing_star {
            (true, leading_star)
        } else {
            (leading_star, trailing_star)
        };
        // A wildcard value is a text pattern: it has no other reading.
        let plain = (!leading_star && !trailing_star).then_some(text.as_str());
        let boolean = plain.and_then(parse_bool);
        let number = plain.and_then(parse_number);
        let timestamp = plain.and_then(parse_timestamp);
        let duration = plain.and_then(parse_duration);
        Self {
            text,
            leading_star,
            trailing_star,
            boolean,
            number,
            timestamp,
            duration,
        }
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// `*` on its own: with `:` it asks whether the field is set at all.
    pub(super) fn is_any(&self) -> bool {
        self.text.is_empty() && self.has_wildcard()
    }

    pub(super) fn has_wildcard(&self) -> bool {
        self.leading_star || self.trailing_star
    }

    pub(super) fn boolean(&self) -> Option<bool> {
        self.boolean
    }

    pub(super) fn number(&self) -> Option<Number> {
        self.number
    }

    pub(super) fn integer(&self) -> Option<i128> {
        match self.number? {
            Number::Int(value) => Some(value),
            Number::Float(_) => None,
        }
    }

    pub(super) fn timestamp(&self) -> Option<SystemTime> {
        self.timestamp
    }

    pub(super) fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// String equality with the AIP-160 wildcards at either end.
    pub(super) fn matches_text(&self, value: &str) -> bool {
        match (self.leading_star, self.trailing_star) {
            (false, false) => value == self.text,
            (true, false) => value.ends_with(&self.text),
            (false, true) => value.starts_with(&self.text),
            (true, true) => value.contains(&self.text),
        }
    }
}

/// `true` and `false` in any case, as AIP-160 allows for bool literals.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Decimal numbers only. `f64::from_str` would also take `inf`, `NaN` and
/// `infinity`, which would make words like `Infinity` compare as numbers.
fn parse_number(text: &str) -> Option<Number> {
    let numeric = |b: u8| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E');
    if !text.bytes().any(|b| b.is_ascii_digit()) || !text.bytes().all(numeric) {
        return None;
    }
    if let Ok(value) = text.parse::<i128>() {
        return Some(Number::Int(value));
    }
    text.parse::<f64>().ok().map(Number::Float)
}

/// The canonical form: always double-quoted, so it parses back to the same
/// literal whatever the text holds.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        if self.leading_star {
            f.write_str("*")?;
        }
        for c in self.text.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '*' => f.write_str("\\*")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                other => fmt::Write::write_char(f, other)?,
            }
        }
        if self.trailing_star {
            f.write_str("*")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Literal {
        Literal::new(text.to_owned(), false, false)
    }

    #[test]
    fn literal_plain_text_gets_every_reading_that_fits() {
        assert_eq!(plain("TRUE").boolean(), Some(true));
        assert_eq!(plain("False").boolean(), Some(false));
        assert_eq!(plain("yes").boolean(), None);
        assert_eq!(plain("42").number(), Some(Number::Int(42)));
        assert_eq!(plain("-7").number(), Some(Number::Int(-7)));
        assert_eq!(
            plain("18446744073709551615").number(),
            Some(Number::Int(i128::from(u64::MAX)))
        );
        assert_eq!(plain("2.5").number(), Some(Number::Float(2.5)));
        assert_eq!(plain("1e3").number(), Some(Number::Float(1000.0)));
        assert_eq!(plain("3.5s").duration(), Some(Duration::from_millis(3500)));
        assert!(plain("2026-01-01T00:00:00Z").timestamp().is_some());
    }

    #[test]
    fn literal_words_that_rust_reads_as_floats_are_not_numbers() {
        for word in ["inf", "NaN", "infinity", "-inf", "e", "+", "-", ".", "1-2x"] {
            assert_eq!(plain(word).number(), None, "{word}");
        }
    }

    #[test]
    fn literal_with_wildcard_has_only_a_text_reading() {
        let prefix = Literal::new("1".into(), false, true);
        assert_eq!(prefix.number(), None);
        assert_eq!(prefix.boolean(), None);
        assert!(prefix.has_wildcard());
        assert!(!prefix.is_any());
        assert!(Literal::new(String::new(), true, false).is_any());
        assert_eq!(
            Literal::new(String::new(), false, true),
            Literal::new(String::new(), true, false)
        );
    }

    #[test]
    fn literal_wildcards_match_prefix_suffix_and_infix() {
        let cases = [
            (false, false, "abc", true),
            (false, false, "abcd", false),
            (false, true, "abcd", true),
            (false, true, "xabc", false),
            (true, false, "xabc", true),
            (true, false, "abcx", false),
            (true, true, "xabcx", true),
            (true, true, "xabx", false),
        ];
        for (leading, trailing, value, want) in cases {
            let literal = Literal::new("abc".into(), leading, trailing);
            assert_eq!(literal.matches_text(value), want, "{literal} vs {value}");
        }
    }

    #[test]
    fn literal_display_quotes_and_escapes() {
        let literal = Literal::new("a\"b\\c*d\n".into(), true, true);
        assert_eq!(literal.to_string(), r#""*a\"b\\c\*d\n*""#);
    }
}
