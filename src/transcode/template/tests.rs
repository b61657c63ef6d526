//! Tests of path templates: parsing and its errors, matching and percent
//! decoding per variable kind, verbs, malformed paths, specificity order.

use super::*;
use TemplateProblem as P;

fn template(text: &str) -> PathTemplate {
    PathTemplate::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The bindings of a match as (dotted field path, value).
fn bound(template_text: &str, path: &str) -> Option<Vec<(String, String)>> {
    template(template_text).matches(path).map(|bindings| {
        bindings
            .into_iter()
            .map(|b| (b.field_path.join("."), b.value))
            .collect()
    })
}

/// (template, path, expected bindings).
type MatchCase = (&'static str, &'static str, Option<Vec<(String, String)>>);

fn one(field: &str, value: &str) -> Option<Vec<(String, String)>> {
    Some(vec![(field.to_owned(), value.to_owned())])
}

#[test]
fn parse_valid_templates_display_canonically() {
    let cases = [
        ("/v1/operations", "/v1/operations"),
        ("/v1/{name}", "/v1/{name}"),
        ("/v1/{name=*}", "/v1/{name}"),
        ("/v1/{name=operations/**}", "/v1/{name=operations/**}"),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/{name=operations/**}:cancel",
        ),
        (
            "/v1/{name=projects/*/locations/*/operations/*}:cancel",
            "/v1/{name=projects/*/locations/*/operations/*}:cancel",
        ),
        (
            "/v1/{book.name=shelves/*/books/*}",
            "/v1/{book.name=shelves/*/books/*}",
        ),
        ("/v1/*/x/**", "/v1/*/x/**"),
        ("/**", "/**"),
        ("/v1/{a}/{b.c_d}/{e=**}", "/v1/{a}/{b.c_d}/{e=**}"),
        ("/v1/a%20b:do%2Dit", "/v1/a%20b:do%2Dit"),
        ("/v1/$metadata;x~", "/v1/$metadata;x~"),
        ("/v1/{name=operations}", "/v1/{name=operations}"),
    ];
    for (text, canonical) in cases {
        let parsed = template(text);
        assert_eq!(parsed.to_string(), canonical, "{text}");
        assert_eq!(template(canonical), parsed, "{text} round trip");
    }
}

#[test]
fn parse_invalid_templates_name_problem_and_position() {
    let cases = [
        ("", 0, P::ExpectedSlash),
        ("v1/x", 0, P::ExpectedSlash),
        ("/", 1, P::EmptySegment),
        ("/v1/", 4, P::EmptySegment),
        ("/v1//x", 4, P::EmptySegment),
        ("/v1/x y", 5, P::UnexpectedChar(' ')),
        ("/v1/é", 4, P::UnexpectedChar('é')),
        ("/v1/*a", 5, P::UnexpectedChar('a')),
        ("/v1/***", 6, P::UnexpectedChar('*')),
        ("/v1/a?b", 5, P::UnexpectedChar('?')),
        ("/v1/{}", 5, P::ExpectedFieldName),
        ("/v1/{1a}", 5, P::ExpectedFieldName),
        ("/v1/{a.}", 7, P::ExpectedFieldName),
        ("/v1/{a", 6, P::UnclosedVariable),
        ("/v1/{a=b", 8, P::UnclosedVariable),
        ("/v1/{a=}", 7, P::EmptySegment),
        ("/v1/{a={b}}", 7, P::NestedVariable),
        ("/v1/{a=x/{b}}", 9, P::NestedVariable),
        ("/v1/**/x", 4, P::DoubleWildcardNotLast),
        ("/v1/{a=**}/x", 7, P::DoubleWildcardNotLast),
        ("/v1/{a=**}/{b=**}", 7, P::DoubleWildcardNotLast),
        ("/v1/{a}/{a}", 8, P::DuplicateVariable("a".to_owned())),
        (
            "/v1/{a.b}/{a.b=x/*}",
            10,
            P::DuplicateVariable("a.b".to_owned()),
        ),
        ("/v1/x:", 6, P::EmptyVerb),
        ("/v1/x:*", 6, P::UnexpectedChar('*')),
        ("/v1/x:a:b", 7, P::UnexpectedChar(':')),
        ("/v1/x:a/b", 7, P::UnexpectedChar('/')),
        ("/v1/%G1", 4, P::BadPercentEncoding),
        ("/v1/%4", 4, P::BadPercentEncoding),
        ("/v1/%FF", 4, P::BadPercentEncoding),
        ("/v1/../x", 4, P::DotSegment),
        ("/v1/%2E", 4, P::DotSegment),
        ("/v1/x}", 5, P::UnexpectedChar('}')),
    ];
    for (text, position, problem) in cases {
        let error = PathTemplate::parse(text).expect_err(text);
        assert_eq!(
            (error.position, &error.problem),
            (position, &problem),
            "{text}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("at position {position}"))
        );
    }
}

#[test]
fn template_accessors_describe_the_template() {
    let parsed = template("/v1/{book.name=shelves/*/books/*}/{id}:publish");
    assert_eq!(parsed.verb(), Some("publish"));
    assert_eq!(
        parsed.variables(),
        vec![
            vec!["book".to_owned(), "name".to_owned()],
            vec!["id".to_owned()]
        ]
    );
    assert_eq!(parsed.literal_prefix(), "/v1");
    assert_eq!(parsed.shape(), "/v1/shelves/*/books/*/*:publish");
    assert_eq!(
        template("/v1/operations/{x}").literal_prefix(),
        "/v1/operations"
    );
    assert_eq!(template("/v1/x").verb(), None);
}

#[test]
fn match_binds_single_and_multi_segment_variables() {
    let cases: &[MatchCase] = &[
        ("/v1/{name}", "/v1/abc", one("name", "abc")),
        ("/v1/{name}", "/v1/abc/def", None),
        ("/v1/{name}", "/v1", None),
        (
            "/v1/{name=operations}",
            "/v1/operations",
            one("name", "operations"),
        ),
        ("/v1/{name=operations}", "/v1/operation", None),
        (
            "/v1/{name=operations/**}",
            "/v1/operations",
            one("name", "operations"),
        ),
        (
            "/v1/{name=operations/**}",
            "/v1/operations/a/b/c",
            one("name", "operations/a/b/c"),
        ),
        ("/v1/{name=**}", "/v1", one("name", "")),
        ("/v1/**", "/v1/a/b", Some(vec![])),
        ("/v1/*", "/v1/a/b", None),
        (
            "/v1/{book.name=shelves/*/books/*}",
            "/v1/shelves/s1/books/b2",
            one("book.name", "shelves/s1/books/b2"),
        ),
        (
            "/v1/{book.name=shelves/*/books/*}",
            "/v1/shelves/s1/books",
            None,
        ),
        (
            "/v1/{parent=shelves/*}/books/{id}",
            "/v1/shelves/s/books/b",
            Some(vec![
                ("parent".to_owned(), "shelves/s".to_owned()),
                ("id".to_owned(), "b".to_owned()),
            ]),
        ),
        ("/v1/{name}", "v1/abc", None),
        ("/v1/{name}", "", None),
    ];
    for (template_text, path, expected) in cases {
        assert_eq!(
            &bound(template_text, path),
            expected,
            "{template_text} on {path}"
        );
    }
}

#[test]
fn match_percent_decodes_per_variable_kind() {
    let cases: &[MatchCase] = &[
        // One segment: everything decoded, an escaped slash too.
        ("/v1/{name}", "/v1/a%2Fb", one("name", "a/b")),
        ("/v1/{name}", "/v1/%41", one("name", "A")),
        ("/v1/{name}", "/v1/a%3Acancel", one("name", "a:cancel")),
        ("/v1/{name}", "/v1/caf%C3%A9%20x", one("name", "café x")),
        // Several segments: reserved escapes kept as written, the rest decoded.
        (
            "/v1/{name=ops/**}",
            "/v1/ops/a%2Fb/c",
            one("name", "ops/a%2Fb/c"),
        ),
        (
            "/v1/{name=ops/**}",
            "/v1/ops/a%2fb",
            one("name", "ops/a%2fb"),
        ),
        (
            "/v1/{name=ops/*}",
            "/v1/ops/%41%3A%20",
            one("name", "ops/A%3A "),
        ),
        ("/v1/{name=**}", "/v1/%41", one("name", "A")),
        // Literals compare decoded.
        ("/v1/operations/{id}", "/v1/%6Fperations/x", one("id", "x")),
        ("/v1/a%20b", "/v1/a b", Some(vec![])),
        // Malformed, non-UTF-8 and dot segments never match.
        ("/v1/{name}", "/v1/%G1", None),
        ("/v1/{name}", "/v1/%", None),
        ("/v1/{name}", "/v1/%4", None),
        ("/v1/{name}", "/v1/%FF", None),
        ("/v1/{name=**}", "/v1/a/%G1", None),
        ("/v1/{name=**}", "/v1/a/../b", None),
        ("/v1/{name}", "/v1/..", None),
        ("/v1/{name}", "/v1/%2E", None),
        ("/v1/{name=**}", "/v1/a//b", None),
        ("/v1/{name=**}", "/v1/a/", None),
    ];
    for (template_text, path, expected) in cases {
        assert_eq!(
            &bound(template_text, path),
            expected,
            "{template_text} on {path}"
        );
    }
}

#[test]
fn match_splits_the_verb_at_the_last_colon_of_the_last_segment() {
    let cases: &[MatchCase] = &[
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/x:cancel",
            one("name", "operations/x"),
        ),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations:cancel",
            one("name", "operations"),
        ),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/a:b/c:cancel",
            one("name", "operations/a:b/c"),
        ),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/x:b:cancel",
            one("name", "operations/x:b"),
        ),
        ("/v1/{name=operations/**}:cancel", "/v1/operations/x", None),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/x:wait",
            None,
        ),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/x%3Acancel",
            None,
        ),
        (
            "/v1/{name=operations/**}:cancel",
            "/v1/operations/x:canc%65l",
            one("name", "operations/x"),
        ),
        ("/v1/{name}:cancel", "/v1/a%3Ab:cancel", one("name", "a:b")),
        ("/v1/{name}:cancel", "/v1/:cancel", None),
        (
            "/v1/operations:batchGet",
            "/v1/operations:batchGet",
            Some(vec![]),
        ),
        // Without a verb in the template, a colon is data (the router
        // applies the registered-verb rule before asking).
        (
            "/v1/{name=operations/**}",
            "/v1/operations/x:cancel",
            one("name", "operations/x:cancel"),
        ),
        ("/v1/{name}", "/v1/x:cancel", one("name", "x:cancel")),
    ];
    for (template_text, path, expected) in cases {
        assert_eq!(
            &bound(template_text, path),
            expected,
            "{template_text} on {path}"
        );
    }
}

#[test]
fn check_path_refuses_ambiguous_or_malformed_paths() {
    let good = [
        "/",
        "/v1",
        "/v1/a%2Fb",
        "/v1/x:cancel",
        "/v1/%C3%A9",
        "/v1/a.b",
        "/v1/...",
    ];
    for path in good {
        assert_eq!(check_path(path), Ok(()), "{path}");
    }
    let bad = [
        ("", "does not start"),
        ("v1/x", "does not start"),
        ("/v1//x", "segment 2 is empty"),
        ("/v1/x/", "segment 3 is empty"),
        ("//", "segment 1 is empty"),
        ("/v1/.", "dot segment"),
        ("/v1/../x", "dot segment"),
        ("/v1/%2e%2E", "dot segment"),
        ("/v1/%G1", "malformed"),
        ("/v1/%", "malformed"),
        ("/v1/a%2", "malformed"),
        ("/v1/%FF", "not UTF-8"),
    ];
    for (path, message) in bad {
        let error = check_path(path).expect_err(path);
        assert_eq!(error.reason, "INVALID_PATH", "{path}");
        assert_eq!(error.code, tonic::Code::InvalidArgument, "{path}");
        assert!(error.message.contains(message), "{path}: {}", error.message);
    }
}

#[test]
fn specificity_orders_literals_then_fixed_length_then_left_to_right() {
    let ordered = [
        "/v1/operations/special",
        "/v1/operations/{id}",
        "/v1/{a}/special",
        "/v1/{a}/{b}",
        "/v1/{a}/{b}/**",
        "/v1/{a=**}",
    ];
    for pair in ordered.windows(2) {
        assert!(
            template(pair[0]).specificity() > template(pair[1]).specificity(),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
}

/// Found by the property test: an empty `**` before a verb is no segment
/// at all, while an empty segment before the verb after others is refused.
#[test]
fn empty_double_wildcard_before_verb_matches_slash_verb() {
    assert_eq!(bound("/{tail=**}:run", "/:run"), one("tail", ""));
    assert_eq!(bound("/v1/{tail=**}:run", "/v1/:run"), None);
    assert_eq!(bound("/v1/{tail=**}:run", "/v1:run"), one("tail", ""));
}
