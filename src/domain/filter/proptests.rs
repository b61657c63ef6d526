//! Property tests: the parser fails cleanly on any input (arbitrary text,
//! token soup, deep parentheses, long input), every well-formed tree prints
//! to text that parses back to the same tree, and comparisons keep their
//! algebra (`=` and `!=` exclusive, `<=` is `<` or `=`) on every value type.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;

use super::ast::{Comparison, Expr, Field, Op};
use super::eval::compare;
use super::literal::Literal;
use super::tests::{Schema, Target};
use super::{FieldValue, Filter, MAX_FILTER_BYTES, MAX_NESTING};

const METADATA_PATHS: &[&[&str]] = &[
    &["verb"],
    &["create_time"],
    &["timeout"],
    &["progress"],
    &["state"],
    &["tags"],
    &["stats", "count"],
];

/// Pieces of filter syntax, valid and not, for inputs that get past the
/// lexer more often than random text does.
const SOUP: &[&str] = &[
    "done",
    "name",
    "error.code",
    "metadata.verb",
    "metadata.stats.count",
    "metadata.nope",
    "AND",
    "OR",
    "NOT",
    "-",
    "(",
    ")",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ":",
    "!",
    "*",
    "\"x*\"",
    "'y'",
    "\"",
    "'",
    "\\",
    "true",
    "42",
    "-1.5",
    "2026-01-01T00:00:00Z",
    "3.5s",
    "é",
    "日本",
    ".",
    "..",
];

fn any_op() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::Has,
    ])
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything printable: stars, quotes, backslashes, non-ASCII.
        "\\PC{0,10}",
        "[a-z0-9-]{1,8}",
        any::<i64>().prop_map(|n| n.to_string()),
        (-1e6f64..1e6).prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "1970-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2000-02-29T12:30:00.5+01:00",
        ])
        .prop_map(str::to_owned),
        (0u64..100_000, 0u32..1_000_000_000).prop_map(|(s, n)| format!("{s}.{n:09}s")),
        "(true|false|TRUE|False)",
    ]
}

fn any_literal() -> impl Strategy<Value = Literal> {
    (any_text(), any::<bool>(), any::<bool>())
        .prop_map(|(text, leading, trailing)| Literal::new(text, leading, trailing))
}

fn plain(text: String) -> Literal {
    Literal::new(text, false, false)
}

/// Comparisons the parser accepts: built-in fields get values of their
/// type, and a wildcard never meets an ordering.
fn comparison() -> impl Strategy<Value = Comparison> {
    let metadata = prop::sample::select(METADATA_PATHS)
        .prop_map(|path| Field::Metadata(path.iter().map(|s| (*s).to_owned()).collect()));
    let text_field = prop_oneof![Just(Field::Name), metadata];
    let any_field = prop_oneof![
        Just(Field::Done),
        Just(Field::ErrorCode),
        Just(Field::Name),
        Just(Field::Metadata(vec!["verb".into()]))
    ];
    prop_oneof![
        (
            prop::sample::select(vec![Op::Eq, Op::Ne, Op::Has]),
            "(true|false|TRUE|False)"
        )
            .prop_map(|(op, text)| Comparison {
                field: Field::Done,
                op,
                value: plain(text),
            }),
        (any_op(), any::<i32>()).prop_map(|(op, code)| Comparison {
            field: Field::ErrorCode,
            op,
            value: plain(code.to_string()),
        }),
        (any_field, any::<bool>()).prop_map(|(field, both)| Comparison {
            field,
            op: Op::Has,
            value: Literal::new(String::new(), true, both),
        }),
        (text_field, any_op(), any_literal()).prop_map(|(field, op, value)| {
            let op = if op.is_ordering() && value.has_wildcard() {
                Op::Eq
            } else {
                op
            };
            Comparison { field, op, value }
        }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    comparison()
        .prop_map(Expr::Compare)
        .prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
                inner.prop_map(|e| Expr::Not(Box::new(e))),
            ]
        })
}

fn ordered_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<i64>().prop_map(FieldValue::Int),
        (-3i64..3).prop_map(FieldValue::Int),
        any::<u64>().prop_map(FieldValue::UInt),
        prop_oneof![any::<f64>(), Just(f64::NAN), -3f64..3.0].prop_map(FieldValue::Float),
        "[a-z0-9.:-]{0,6}".prop_map(FieldValue::String),
        (0u64..4_000_000_000)
            .prop_map(|s| FieldValue::Timestamp(UNIX_EPOCH + Duration::from_secs(s))),
        (0u64..100_000, 0u32..1_000_000_000)
            .prop_map(|(s, n)| FieldValue::Duration(Duration::new(s, n))),
    ]
}

fn any_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        ordered_value(),
        any::<bool>().prop_map(FieldValue::Bool),
        ("[A-Z_]{1,8}", -2i32..3).prop_map(|(name, number)| FieldValue::Enum { name, number }),
        prop::collection::vec(ordered_value(), 0..4).prop_map(FieldValue::List),
    ]
}

/// What any input must give: an error that points inside the text, or a
/// filter whose canonical text parses back to it (unless printing added
/// enough parentheses or quoting to cross a bound).
fn check_any_input(text: &str) -> Result<(), TestCaseError> {
    match Filter::parse(text, &Schema) {
        Err(error) => {
            prop_assert!(error.position <= text.chars().count(), "{text:?}: {error}");
            prop_assert!(!error.message.is_empty());
        }
        Ok(filter) => match Filter::parse(&filter.to_string(), &Schema) {
            Ok(again) => prop_assert_eq!(again, filter),
            Err(error) => prop_assert!(
                error.message.contains("more than") || error.message.contains("longer than"),
                "canonical text of {text:?} does not parse: {error}"
            ),
        },
    }
    Ok(())
}

proptest! {
    #[test]
    fn parser_on_arbitrary_text_fails_cleanly_or_round_trips(text in "\\PC{0,300}") {
        check_any_input(&text)?;
    }

    #[test]
    fn parser_on_token_soup_fails_cleanly_or_round_trips(
        pieces in prop::collection::vec((prop::sample::select(SOUP), prop::bool::weighted(0.7)), 0..60),
    ) {
        let text: String = pieces
            .iter()
            .map(|(piece, space)| if *space { format!("{piece} ") } else { (*piece).to_owned() })
            .collect();
        check_any_input(&text)?;
    }

    #[test]
    fn parser_on_deep_parentheses_fails_cleanly(
        depth in 0usize..5000,
        closed in any::<bool>(),
        open in prop::sample::select(vec!["(", "NOT (", "-("]),
    ) {
        let close = if closed { ")".repeat(depth) } else { String::new() };
        let text = format!("{}done = true{close}", open.repeat(depth));
        let ok = text.len() <= MAX_FILTER_BYTES && depth <= MAX_NESTING && (closed || depth == 0);
        let result = Filter::parse(&text, &Schema);
        prop_assert_eq!(result.is_ok(), ok, "{:?}", result.err());
    }

    #[test]
    fn parser_on_long_input_fails_cleanly(
        count in 1usize..3000,
        unit in prop::sample::select(vec!["a", "é", "(", "done=true ", "日", "\"", "-"]),
    ) {
        let text = unit.repeat(count);
        if text.len() > MAX_FILTER_BYTES {
            let error = Filter::parse(&text, &Schema).expect_err("over the length bound");
            prop_assert!(error.message.contains("longer than"), "{error}");
            prop_assert!(error.position < text.chars().count());
        } else {
            check_any_input(&text)?;
        }
    }

    #[test]
    fn printed_tree_parses_back_to_the_same_filter(root in expr()) {
        let filter = Filter { root: Some(root) };
        let text = filter.to_string();
        prop_assume!(text.len() <= MAX_FILTER_BYTES);
        let parsed = Filter::parse(&text, &Schema)
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert_eq!(parsed, filter);
    }

    /// Stores read only the rows with the implied `done`: a match with the
    /// other value would be a row the store never returned.
    #[test]
    fn no_operation_that_contradicts_the_implied_done_matches(
        root in expr(),
        done in any::<bool>(),
        code in prop::option::of(-2i64..20),
        verb in prop::option::of("[a-z*]{0,4}"),
    ) {
        let filter = Filter { root: Some(root) };
        let mut target = Target::default().with("done", FieldValue::Bool(done)).with(
            "name",
            FieldValue::String("projects/p/locations/l/operations/o".into()),
        );
        if let Some(code) = code {
            target = target.with("error.code", FieldValue::Int(code));
        }
        if let Some(verb) = verb {
            target = target.with("metadata.verb", FieldValue::String(verb));
        }
        if let Some(implied) = filter.implied_done() {
            prop_assert!(
                !filter.matches(&target) || implied == done,
                "{filter} implies done = {implied} but matches done = {done}"
            );
        }
    }

    #[test]
    fn equal_and_not_equal_never_both_hold(value in any_value(), literal in any_literal()) {
        let eq = compare(&value, Op::Eq, &literal);
        let ne = compare(&value, Op::Ne, &literal);
        prop_assert!(!(eq && ne), "{value:?} {literal}");
    }

    #[test]
    fn ordered_values_keep_the_order_algebra(value in ordered_value(), text in any_text()) {
        let literal = plain(text);
        let [lt, le, eq, ge, gt, ne] =
            [Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::Ne].map(|op| compare(&value, op, &literal));
        prop_assert!(u8::from(lt) + u8::from(eq) + u8::from(gt) <= 1, "{value:?} {literal}");
        prop_assert_eq!(le, lt || eq);
        prop_assert_eq!(ge, gt || eq);
        // Comparable values get exactly one of <, =, >, and != is not-=;
        // a value with no reading in the field's type gets nothing at all.
        prop_assert_eq!(ne, lt || gt);
    }
}
