//! Evaluates a parsed filter against one operation's field values.
//!
//! Evaluation never fails: the parser has rejected everything that is wrong
//! for every operation, and what remains depends on the operation (is the
//! field there, what type is its metadata) and so decides match or no match.

use std::cmp::Ordering;

use super::ast::{Comparison, Expr, Op};
use super::literal::{Literal, Number};
use super::{FieldValue, FilterTarget};

impl Expr {
    pub(super) fn matches(&self, target: &dyn FilterTarget) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|item| item.matches(target)),
            Expr::Or(items) => items.iter().any(|item| item.matches(target)),
            Expr::Not(inner) => !inner.matches(target),
            Expr::Compare(comparison) => comparison.matches(target),
        }
    }
}

impl Comparison {
    /// A comparison on an absent field is false, `!=` included: a running
    /// operation has no `error.code`, so `error.code != 1` does not select
    /// it, while `NOT error.code = 1` does.
    fn matches(&self, target: &dyn FilterTarget) -> bool {
        target
            .field(&self.field.target_path())
            .is_some_and(|value| compare(&value, self.op, &self.value))
    }
}

pub(super) fn compare(value: &FieldValue, op: Op, literal: &Literal) -> bool {
    if op == Op::Has && literal.is_any() {
        return is_set(value);
    }
    match value {
        FieldValue::List(items) => compare_list(items, op, literal),
        FieldValue::String(text) => compare_text(text, op, literal),
        FieldValue::Bool(value) => literal
            .boolean()
            .is_some_and(|wanted| equality(op, *value == wanted)),
        FieldValue::Enum { name, number } => {
            let same = literal.matches_text(name) || literal.integer() == Some(i128::from(*number));
            equality(op, same)
        }
        FieldValue::Int(value) => ordering(
            op,
            compare_numbers(Number::Int(i128::from(*value)), literal),
        ),
        FieldValue::UInt(value) => ordering(
            op,
            compare_numbers(Number::Int(i128::from(*value)), literal),
        ),
        FieldValue::Float(value) => ordering(op, compare_numbers(Number::Float(*value), literal)),
        FieldValue::Timestamp(value) => {
            ordering(op, literal.timestamp().map(|wanted| value.cmp(&wanted)))
        }
        FieldValue::Duration(value) => {
            ordering(op, literal.duration().map(|wanted| value.cmp(&wanted)))
        }
    }
}

/// A repeated field matches when one of its elements does (AIP-160 "has").
/// `!=` stays the complement of `=`: no element equals the value.
fn compare_list(items: &[FieldValue], op: Op, literal: &Literal) -> bool {
    let any = |op| items.iter().any(|item| compare(item, op, literal));
    match op {
        Op::Ne => !any(Op::Eq),
        Op::Has => any(Op::Eq),
        Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge => any(op),
    }
}

fn compare_text(text: &str, op: Op, literal: &Literal) -> bool {
    match op {
        Op::Eq => literal.matches_text(text),
        Op::Ne => !literal.matches_text(text),
        // Stars add nothing to a substring test: `name:"abc*"` is `name:abc`.
        Op::Has => text.contains(literal.text()),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            !literal.has_wildcard() && ordering(op, Some(text.cmp(literal.text())))
        }
    }
}

/// Integers compare exactly (an i64 or u64 field against any integer);
/// anything involving a float compares as f64, and NaN matches nothing.
fn compare_numbers(value: Number, literal: &Literal) -> Option<Ordering> {
    let as_float = |number| match number {
        Number::Int(int) => int as f64,
        Number::Float(float) => float,
    };
    match (value, literal.number()?) {
        (Number::Int(value), Number::Int(wanted)) => Some(value.cmp(&wanted)),
        (value, wanted) => as_float(value).partial_cmp(&as_float(wanted)),
    }
}

/// Bools and enums have no order; only equality applies.
fn equality(op: Op, same: bool) -> bool {
    match op {
        Op::Eq | Op::Has => same,
        Op::Ne => !same,
        Op::Lt | Op::Le | Op::Gt | Op::Ge => false,
    }
}

/// `None` is a value that has no reading in the field's type: no match.
fn ordering(op: Op, order: Option<Ordering>) -> bool {
    let Some(order) = order else {
        return false;
    };
    match op {
        Op::Eq | Op::Has => order == Ordering::Equal,
        Op::Ne => order != Ordering::Equal,
        Op::Lt => order == Ordering::Less,
        Op::Le => order != Ordering::Greater,
        Op::Gt => order == Ordering::Greater,
        Op::Ge => order != Ordering::Less,
    }
}

/// `field:*`: proto3 scalars count as set when not the default; Timestamp
/// and Duration are messages, so being present is being set.
fn is_set(value: &FieldValue) -> bool {
    match value {
        FieldValue::Bool(value) => *value,
        FieldValue::Int(value) => *value != 0,
        FieldValue::UInt(value) => *value != 0,
        FieldValue::Float(value) => *value != 0.0,
        FieldValue::String(value) => !value.is_empty(),
        FieldValue::Timestamp(_) | FieldValue::Duration(_) => true,
        FieldValue::Enum { number, .. } => *number != 0,
        FieldValue::List(items) => !items.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::{Target, parse, text, utc};
    use super::FieldValue;

    /// A failed operation whose metadata type has every field the schema knows.
    fn failed_operation() -> Target {
        Target::default()
            .with("done", FieldValue::Bool(true))
            .with("name", text("projects/p/locations/l/operations/build-42"))
            .with("error.code", FieldValue::Int(1))
            .with("metadata.verb", text("create"))
            .with("metadata.target", text(""))
            .with(
                "metadata.create_time",
                FieldValue::Timestamp(utc("2026-01-01T00:00:00Z")),
            )
            .with(
                "metadata.timeout",
                FieldValue::Duration(Duration::from_millis(3500)),
            )
            .with("metadata.progress", FieldValue::Int(42))
            .with("metadata.ratio", FieldValue::Float(0.5))
            .with("metadata.size", FieldValue::UInt(u64::MAX))
            .with(
                "metadata.state",
                FieldValue::Enum {
                    name: "RUNNING".into(),
                    number: 2,
                },
            )
            .with(
                "metadata.tags",
                FieldValue::List(vec![text("a"), text("nightly")]),
            )
            .with(
                "metadata.numbers",
                FieldValue::List(vec![FieldValue::Int(1), FieldValue::Int(5)]),
            )
            .with("metadata.cancelled", FieldValue::Bool(false))
            .with("metadata.stats.count", FieldValue::Int(0))
    }

    /// A running operation (no error) whose metadata type has only `verb`.
    fn running_operation() -> Target {
        Target::default()
            .with("done", FieldValue::Bool(false))
            .with("name", text("projects/p/locations/l/operations/x"))
            .with("metadata.verb", text("delete"))
    }

    /// Every operator on every value type, against one failed operation.
    #[test]
    fn matches_each_operator_on_each_value_type() {
        let target = failed_operation();
        let cases = [
            // bool
            ("done = true", true),
            ("done = TRUE", true),
            ("done = false", false),
            ("done != false", true),
            ("done:true", true),
            ("done:*", true),
            ("metadata.cancelled = false", true),
            ("metadata.cancelled:*", false),
            ("metadata.cancelled = nope", false),
            ("metadata.cancelled != nope", false),
            ("metadata.cancelled < true", false),
            // string
            (
                "name = \"projects/p/locations/l/operations/build-42\"",
                true,
            ),
            ("name = 'projects/p/locations/l/operations/build-42'", true),
            ("name = build-42", false),
            ("name = \"*build-42\"", true),
            ("name = \"projects/p/*\"", true),
            ("name = \"*locations*\"", true),
            ("name = \"*nope*\"", false),
            ("name = *", true),
            ("name != \"*build-42\"", false),
            ("name != x", true),
            ("name:build", true),
            ("name:\"build*\"", true),
            ("name:nope", false),
            ("name > projects", true),
            ("name <= projects", false),
            ("metadata.verb = create", true),
            ("metadata.verb = Create", false),
            ("metadata.verb < d", true),
            ("metadata.verb >= create", true),
            ("metadata.verb > create", false),
            ("metadata.verb:*", true),
            ("metadata.target:*", false),
            ("metadata.target = \"\"", true),
            // signed integer
            ("error.code = 1", true),
            ("error.code != 1", false),
            ("error.code < 2", true),
            ("error.code <= 1", true),
            ("error.code >= 1", true),
            ("error.code > 1", false),
            ("error.code:1", true),
            ("error.code:*", true),
            ("metadata.progress = 42", true),
            ("metadata.progress = \"42\"", true),
            ("metadata.progress = 42.0", true),
            ("metadata.progress < 42.5", true),
            ("metadata.progress > 41.9", true),
            ("metadata.progress = abc", false),
            ("metadata.progress != abc", false),
            ("metadata.stats.count = 0", true),
            ("metadata.stats.count:*", false),
            // unsigned integer beyond i64
            ("metadata.size = 18446744073709551615", true),
            ("metadata.size > 9223372036854775807", true),
            ("metadata.size > -1", true),
            ("metadata.size < 1e30", true),
            // float
            ("metadata.ratio = 0.5", true),
            ("metadata.ratio = 5e-1", true),
            ("metadata.ratio < 1", true),
            ("metadata.ratio >= 0.6", false),
            ("metadata.ratio != 0.5", false),
            // timestamp, with offsets
            ("metadata.create_time = \"2026-01-01T00:00:00Z\"", true),
            ("metadata.create_time = \"2026-01-01T01:00:00+01:00\"", true),
            (
                "metadata.create_time = \"2025-12-31T19:00:00.000-05:00\"",
                true,
            ),
            ("metadata.create_time > \"2025-12-31T23:59:59.999Z\"", true),
            (
                "metadata.create_time < \"2025-12-31T19:00:00-05:00\"",
                false,
            ),
            (
                "metadata.create_time <= \"2025-12-31T19:00:00-05:00\"",
                true,
            ),
            ("metadata.create_time > 2025-12-31T23:00:00Z", true),
            (
                "metadata.create_time < \"2026-01-01T00:00:00.000000001Z\"",
                true,
            ),
            ("metadata.create_time = yesterday", false),
            ("metadata.create_time != yesterday", false),
            ("metadata.create_time:*", true),
            // duration
            ("metadata.timeout = 3.5s", true),
            ("metadata.timeout > 3s", true),
            ("metadata.timeout < \"3.500000001s\"", true),
            ("metadata.timeout = 3.5", false),
            ("metadata.timeout:*", true),
            // enum
            ("metadata.state = RUNNING", true),
            ("metadata.state = 2", true),
            ("metadata.state = running", false),
            ("metadata.state != DONE", true),
            ("metadata.state = \"RUN*\"", true),
            ("metadata.state:RUNNING", true),
            ("metadata.state < 3", false),
            ("metadata.state:*", true),
            // repeated
            ("metadata.tags:nightly", true),
            ("metadata.tags:night", false),
            ("metadata.tags = \"night*\"", true),
            ("metadata.tags != a", false),
            ("metadata.tags != b", true),
            ("metadata.tags:*", true),
            ("metadata.numbers > 4", true),
            ("metadata.numbers > 5", false),
            ("metadata.numbers:5", true),
            ("metadata.numbers = 3", false),
        ];
        for (text, want) in cases {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(filter.matches(&target), want, "{text:?}");
        }
    }

    #[test]
    fn matches_escaped_star_only_as_a_literal_star() {
        let target = Target::default().with("name", text("x*y"));
        let cases = [
            (r#"name = "x\*y""#, true),
            (r#"name = "x\*""#, false),
            (r#"name = "x\**""#, true),
            (r#"name = "*\*y""#, true),
            ("name:\"\\*\"", true),
        ];
        for (text, want) in cases {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(filter.matches(&target), want, "{text:?}");
        }
    }

    #[test]
    fn matches_absent_field_as_false_and_its_negation_as_true() {
        let target = running_operation();
        let cases = [
            ("error.code = 1", false),
            ("error.code != 1", false),
            ("NOT error.code = 1", true),
            ("error.code:*", false),
            ("-error.code:*", true),
            ("metadata.progress > 0", false),
            ("metadata.progress <= 0", false),
            ("NOT metadata.progress > 0", true),
            ("metadata.stats.count = 0", false),
            ("metadata.verb = delete", true),
            ("done = false AND -error.code:*", true),
        ];
        for (text, want) in cases {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(filter.matches(&target), want, "{text:?}");
        }
    }

    #[test]
    fn matches_combinations_with_and_or_not() {
        let failed = failed_operation();
        let running = running_operation();
        let cases = [
            ("done = true AND metadata.verb = create", true, false),
            ("done = true metadata.verb = create", true, false),
            ("done = false OR metadata.verb = create", true, true),
            ("done = false metadata.verb = create", false, false),
            (
                "metadata.verb = delete AND done = false OR error.code = 1",
                false,
                true,
            ),
            ("NOT (done = true OR metadata.verb = delete)", false, false),
            ("-done = true", false, true),
            (
                "name = \"*x\" OR (metadata.verb = create AND error.code = 1)",
                true,
                true,
            ),
        ];
        for (text, want_failed, want_running) in cases {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(filter.matches(&failed), want_failed, "{text:?} on failed");
            assert_eq!(
                filter.matches(&running),
                want_running,
                "{text:?} on running"
            );
        }
    }
}
