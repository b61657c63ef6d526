//! Table tests of the whole language through the public API: what parses,
//! how it groups, where errors point, and what each operator does on each
//! value type. Evaluation tables live in `eval.rs`, property tests in
//! `proptests.rs`.

use std::collections::HashMap;
use std::time::SystemTime;

use super::ast::Expr;
use super::*;

/// Knows the metadata fields the tables use, like a registry holding one
/// metadata type with these fields would.
pub(super) struct Schema;

impl FilterSchema for Schema {
    fn knows_metadata_field(&self, path: &[&str]) -> bool {
        matches!(
            path,
            ["verb"]
                | ["target"]
                | ["create_time"]
                | ["timeout"]
                | ["progress"]
                | ["ratio"]
                | ["size"]
                | ["state"]
                | ["tags"]
                | ["numbers"]
                | ["cancelled"]
                | ["stats"]
                | ["stats", "count"]
        )
    }
}

#[derive(Default)]
pub(super) struct Target(pub(super) HashMap<String, FieldValue>);

impl FilterTarget for Target {
    fn field(&self, path: &[&str]) -> Option<FieldValue> {
        self.0.get(&path.join(".")).cloned()
    }
}

impl Target {
    pub(super) fn with(mut self, path: &str, value: FieldValue) -> Self {
        self.0.insert(path.to_owned(), value);
        self
    }
}

pub(super) fn parse(text: &str) -> Result<Filter, FilterError> {
    Filter::parse(text, &Schema)
}

pub(super) fn utc(text: &str) -> SystemTime {
    time::parse_timestamp(text).expect("valid timestamp")
}

pub(super) fn text(value: &str) -> FieldValue {
    FieldValue::String(value.to_owned())
}

/// The tree's shape in prefix form, so grouping is visible in a table.
fn shape(expr: &Expr) -> String {
    let list = |tag: &str, items: &[Expr]| {
        let inner: Vec<String> = items.iter().map(shape).collect();
        format!("({tag} {})", inner.join(" "))
    };
    match expr {
        Expr::And(items) => list("and", items),
        Expr::Or(items) => list("or", items),
        Expr::Not(inner) => format!("(not {})", shape(inner)),
        Expr::Compare(c) => format!("{}{}{}", c.field, c.op, c.value.text()),
    }
}

fn shape_of(text: &str) -> String {
    let filter = parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
    filter.root.as_ref().map(shape).unwrap_or_default()
}

#[test]
fn parse_empty_or_blank_text_matches_everything() {
    for text in ["", " ", "\t\n ", "\u{3000}"] {
        let filter = parse(text).expect("blank parses");
        assert!(filter.is_match_all(), "{text:?}");
        assert!(filter.matches(&Target::default()));
        assert_eq!(filter.to_string(), "");
    }
    assert!(!parse("done = true").expect("parses").is_match_all());
}

#[test]
fn parse_groups_or_tighter_than_and_and_not_tightest() {
    let cases = [
        (
            "done=true AND name=a OR name=b",
            "(and done=true (or name=a name=b))",
        ),
        (
            "name=a OR name=b AND done=true",
            "(and (or name=a name=b) done=true)",
        ),
        ("name=a OR name=b name=c", "(and (or name=a name=b) name=c)"),
        ("name=a name=b OR name=c", "(and name=a (or name=b name=c))"),
        ("name=a AND name=b name=c", "(and name=a name=b name=c)"),
        ("name=a OR name=b OR name=c", "(or name=a name=b name=c)"),
        (
            "(name=a AND name=b) OR name=c",
            "(or (and name=a name=b) name=c)",
        ),
        (
            "(name=a AND name=b) AND name=c",
            "(and (and name=a name=b) name=c)",
        ),
        ("NOT name=a OR name=b", "(or (not name=a) name=b)"),
        ("NOT (name=a OR name=b)", "(not (or name=a name=b))"),
        ("NOT(name=a)", "(not name=a)"),
        ("-name=a name=b", "(and (not name=a) name=b)"),
        ("name=a -name=b", "(and name=a (not name=b))"),
        ("-(name=a OR name=b)", "(not (or name=a name=b))"),
        ("NOT (NOT name=a)", "(not (not name=a))"),
        ("((name=a))", "name=a"),
        ("name = -1", "name=-1"),
        ("name=(a)", ""),
    ];
    for (text, want) in cases {
        if want.is_empty() {
            assert!(parse(text).is_err(), "{text:?} should not parse");
        } else {
            assert_eq!(shape_of(text), want, "{text:?}");
        }
    }
}

#[test]
fn parse_accepts_every_value_form() {
    let cases = [
        ("name = \"a b\"", "name=a b"),
        ("name = 'a b'", "name=a b"),
        (r#"name = "q\"\'\\\n\t\r""#, "name=q\"'\\\n\t\r"),
        (r#"name = 'it\'s'"#, "name=it's"),
        ("name = op-1", "name=op-1"),
        ("name:projects/p", "name:projects/p"),
        ("error.code=-3", "error.code=-3"),
        ("metadata.ratio >= 2.5e-1", "metadata.ratio>=2.5e-1"),
        (
            "metadata.create_time>2026-01-01T00:00:00Z",
            "metadata.create_time>2026-01-01T00:00:00Z",
        ),
        ("done = FaLsE", "done=FaLsE"),
        ("metadata.stats.count != 0", "metadata.stats.count!=0"),
        ("name = café", "name=café"),
        ("name = \"\"", "name="),
    ];
    for (text, want) in cases {
        assert_eq!(shape_of(text), want, "{text:?}");
    }
}

#[test]
fn parse_prints_canonical_text_that_parses_back() {
    let cases = [
        ("done=true", r#"done = "true""#),
        ("tags:x", ""),
        ("metadata.tags:nightly", r#"metadata.tags:"nightly""#),
        ("metadata.tags:*", r#"metadata.tags:"*""#),
        (
            "name='a\"*' OR -done=false",
            r#"name = "a\"*" OR NOT done = "false""#,
        ),
        (
            "done=true (name=a OR name=b)",
            r#"done = "true" AND (name = "a" OR name = "b")"#,
        ),
        (r#"name = "x\*y*""#, r#"name = "x\*y*""#),
    ];
    for (text, want) in cases {
        let parsed = parse(text);
        if want.is_empty() {
            assert!(parsed.is_err(), "{text:?}");
            continue;
        }
        let filter = parsed.unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(filter.to_string(), want, "{text:?}");
        assert_eq!(parse(want).expect("canonical parses"), filter, "{want:?}");
    }
}

#[test]
fn parse_rejects_bad_filters_at_the_offending_position() {
    let cases = [
        ("foo = 1", 0, "unknown field \"foo\""),
        ("error = 1", 0, "unknown field \"error\""),
        ("done.x = 1", 0, "unknown field \"done.x\""),
        ("metadata = 1", 0, "metadata.<field>"),
        ("metadata. = 1", 9, "invalid field name"),
        ("1 = 1", 0, "invalid field name"),
        ("metadata.nope = 1", 9, "unknown field \"metadata.nope\""),
        (
            "metadata.stats.nope = 1",
            15,
            "unknown field \"metadata.stats.nope\"",
        ),
        ("done = true and name = x", 12, "unknown field \"and\""),
        ("done = 7", 7, "done is true or false, not \"7\""),
        ("done = \"tr*\"", 7, "done is true or false"),
        ("done < true", 5, "operator < does not apply to done"),
        ("error.code = abc", 13, "error.code is an integer"),
        ("error.code = 1.5", 13, "error.code is an integer"),
        ("error.code > 99999999999", 13, "error.code is an integer"),
        ("name < \"a*\"", 7, "a wildcard only works with =, != and :"),
        ("metadata.verb >= *x", 17, "a wildcard only works"),
        (
            "name = a*b",
            8,
            "a wildcard * may only start or end a value",
        ),
        ("name = \"a*b\"", 9, "a wildcard * may only start or end"),
        ("done", 4, "expected an operator"),
        (
            "done true",
            5,
            "expected an operator (= != < <= > >= :) after \"done\"",
        ),
        (
            "name = x done",
            13,
            "expected an operator (= != < <= > >= :) after \"done\", found the end",
        ),
        ("done =", 6, "expected a value after ="),
        ("done == true", 6, "expected a value after =, found '='"),
        ("done = (true)", 7, "expected a value after =, found '('"),
        ("name = AND", 7, "found the keyword AND"),
        ("done ! true", 5, "expected \"!=\" after \"!\""),
        ("done = true AND", 15, "unexpected end of the filter"),
        ("done = true OR", 14, "unexpected end of the filter"),
        (
            "done = true OR AND name = x",
            15,
            "expected a comparison, found AND",
        ),
        ("NOT NOT done = true", 4, "expected a comparison, found NOT"),
        ("= 1", 0, "expected a comparison, found \"=\""),
        (
            "(done = true",
            12,
            "expected \")\" to close the \"(\" at position 0",
        ),
        ("done = true)", 11, "unbalanced \")\""),
        ("()", 1, "empty parentheses"),
        (
            "done = true = false",
            12,
            "expected AND, OR or the end of the filter",
        ),
        ("name = \"abc", 7, "unterminated string: no closing \""),
        ("name = 'abc\\'", 7, "unterminated string: no closing '"),
        ("name = \"a\\qb\"", 9, "unknown escape \\q"),
        ("\"free text\"", 0, "free-text search is not supported"),
        ("done = true && name = x", 12, "unexpected character '&'"),
        ("é = 1", 0, "unexpected character 'é'"),
        ("name = \"é\" AND ü = 1", 15, "unexpected character 'ü'"),
        ("name = \"日本\" AND foo = 1", 16, "unknown field \"foo\""),
    ];
    for (text, position, message) in cases {
        let error = parse(text).expect_err(text);
        assert_eq!(error.position, position, "{text:?}: {error}");
        assert!(error.message.contains(message), "{text:?}: {error}");
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn filter_error_displays_position_and_message() {
    let error = parse("foo = 1").expect_err("unknown field");
    assert!(
        error
            .to_string()
            .starts_with("invalid filter at position 0: unknown field \"foo\""),
        "{error}"
    );
}

#[test]
fn parse_over_the_length_bound_fails_at_the_first_char_beyond_it() {
    let fits = format!("name = \"{}\"", "a".repeat(MAX_FILTER_BYTES - 9));
    assert_eq!(fits.len(), MAX_FILTER_BYTES);
    assert!(parse(&fits).is_ok());
    let over = format!("name = \"{}\"", "a".repeat(MAX_FILTER_BYTES - 8));
    let error = parse(&over).expect_err("too long");
    assert_eq!(error.position, MAX_FILTER_BYTES);
    assert!(error.message.contains("longer than 4096 bytes"), "{error}");

    // Two bytes per char: the position counts chars, not bytes.
    let wide = "é".repeat(MAX_FILTER_BYTES / 2 + 1);
    assert_eq!(
        parse(&wide).expect_err("too long").position,
        MAX_FILTER_BYTES / 2
    );
}

#[test]
fn parse_nesting_beyond_the_bound_fails_at_the_opening_parenthesis() {
    let nested = |depth: usize| format!("{}done = true{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(shape_of(&nested(MAX_NESTING)), "done=true");
    let error = parse(&nested(MAX_NESTING + 1)).expect_err("too deep");
    assert_eq!(error.position, MAX_NESTING);
    assert!(error.message.contains("more than 64 levels"), "{error}");

    let negated =
        |depth: usize| format!("{}done = true{}", "NOT (".repeat(depth), ")".repeat(depth));
    assert!(parse(&negated(MAX_NESTING)).is_ok());
    assert_eq!(
        parse(&negated(MAX_NESTING + 1))
            .expect_err("too deep")
            .position,
        MAX_NESTING * 5 + 4
    );
}

#[test]
fn parse_more_comparisons_than_the_bound_fails_at_the_first_extra_one() {
    let many = |count: usize| vec!["done = true"; count].join(" OR ");
    assert!(parse(&many(MAX_COMPARISONS)).is_ok());
    let error = parse(&many(MAX_COMPARISONS + 1)).expect_err("too many");
    assert_eq!(error.position, MAX_COMPARISONS * "done = true OR ".len());
    assert!(
        error.message.contains("more than 200 comparisons"),
        "{error}"
    );
}

#[test]
fn filters_that_name_done_imply_it_for_the_store() {
    let cases = [
        ("", None),
        ("done = false", Some(false)),
        ("done = FALSE", Some(false)),
        ("done != true", Some(false)),
        ("NOT done = true", Some(false)),
        ("-done:*", Some(false)),
        ("done:*", Some(true)),
        ("done:true", Some(true)),
        ("done = false AND metadata.verb = \"create\"", Some(false)),
        ("metadata.verb = x done = true", Some(true)),
        ("(done = false) OR (done = false AND name = x)", Some(false)),
        ("done = false OR name = x", None),
        ("done = false OR done = true", None),
        ("NOT (done = false AND name = x)", None),
        ("NOT (NOT done = false)", Some(false)),
        ("metadata.verb = x", None),
    ];
    for (text, implied) in cases {
        let filter = parse(text).expect("valid filter");
        assert_eq!(filter.implied_done(), implied, "{text:?}");
    }
}
