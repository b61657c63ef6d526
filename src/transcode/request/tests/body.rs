//! The JSON body: every field in either spelling, refusals with their
//! reason and field, Any payloads, nesting, `body: "field"`.

use serde_json::json;

use super::*;

#[test]
fn body_fills_every_field_in_either_spelling() {
    let golden = json!({
        "name": "n", "count": 5, "big": "-9007199254740993", "huge": "18446744073709551615",
        "flag": true, "ratio": 0.25, "blob": "AQID", "color": "GREEN", "tags": ["a", "b"],
        "inner": {"id": "i", "child": {"n": 2}}, "byKey": {"k": {"id": "v"}},
        "timeout": "3.500s", "at": "2026-01-02T03:04:05Z", "maybe": 0, "mask": "a.b,c",
        "explicit": 0, "maybeFlag": false,
    });
    let bodies = [
        golden.to_string(),
        r#"{"name":"n","count":5,"big":"-9007199254740993","huge":18446744073709551615,
            "flag":true,"ratio":0.25,"blob":"AQID","color":2,"tags":["a","b"],
            "inner":{"id":"i","child":{"n":2}},"by_key":{"k":{"id":"v"}},
            "timeout":"3.5s","at":"2026-01-02T03:04:05Z","maybe":0,"mask":"a.b,c",
            "explicit":0,"maybe_flag":false}"#
            .to_owned(),
    ];
    for body in bodies {
        let (json, _) = build(&sink(BodyRule::All), &[], None, &body)
            .unwrap_or_else(|err| panic!("{body}: {err:?}"));
        assert_eq!(json, golden, "{body}");
    }
}

#[test]
fn body_refusals_carry_reason_and_field() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (r#"{"bogus": 1}"#, "UNKNOWN_FIELD", Some("bogus")),
        (
            r#"{"inner": {"child": {"zz": 1}}}"#,
            "UNKNOWN_FIELD",
            Some("inner.child.zz"),
        ),
        (
            r#"{"inners": [{}, {"q": 1}]}"#,
            "UNKNOWN_FIELD",
            Some("inners[1].q"),
        ),
        (
            r#"{"byKey": {"k": {"q": 1}}}"#,
            "UNKNOWN_FIELD",
            Some("byKey.k.q"),
        ),
        (
            r#"{"payload": {"@type": "type.googleapis.com/longrun.test.Inner", "q": 1}}"#,
            "UNKNOWN_FIELD",
            Some("payload.q"),
        ),
        (
            r#"{"payload": {"@type": "type.googleapis.com/google.protobuf.Duration",
                            "value": "1s", "x": 1}}"#,
            "UNKNOWN_FIELD",
            Some("payload.x"),
        ),
        (
            r#"{"count": 1, "count": 2}"#,
            "DUPLICATE_FIELD",
            Some("count"),
        ),
        (
            r#"{"inner": {"id": "a", "\u0069d": "b"}}"#,
            "DUPLICATE_FIELD",
            Some("id"),
        ),
        (
            r#"{"byKey": 1, "by_key": 2}"#,
            "DUPLICATE_FIELD",
            Some("by_key"),
        ),
        (
            r#"{"payload": {"@type": "type.googleapis.com/acme.v1.Thing"}}"#,
            "UNKNOWN_TYPE",
            Some("payload.@type"),
        ),
        (
            r#"{"payload": {"@type": "acme.v1.Thing"}}"#,
            "INVALID_FIELD_VALUE",
            Some("payload.@type"),
        ),
        (r#"{"count": 2147483648}"#, "INVALID_FIELD_VALUE", None),
        (r#"{"count": 1.5}"#, "INVALID_FIELD_VALUE", None),
        (r#"{"small": -1}"#, "INVALID_FIELD_VALUE", None),
        (
            r#"{"big": "9223372036854775808"}"#,
            "INVALID_FIELD_VALUE",
            None,
        ),
        (r#"{"scale": 1e39}"#, "INVALID_FIELD_VALUE", None),
        (r#"{"color": "PURPLE"}"#, "INVALID_FIELD_VALUE", None),
        (r#"{"timeout": "soon"}"#, "INVALID_FIELD_VALUE", None),
        (r#"{"left": "a", "right": {}}"#, "INVALID_FIELD_VALUE", None),
        (r#"[]"#, "INVALID_FIELD_VALUE", None),
        (r#"{"name": "a"} x"#, "MALFORMED_JSON", None),
        (r#"{"name": "a",}"#, "MALFORMED_JSON", None),
        ("\u{feff}{}", "MALFORMED_JSON", None),
    ];
    for &(body, reason, field) in cases {
        let err = refused(build(&sink(BodyRule::All), &[], None, body), body);
        assert_eq!(err.reason, reason, "{body}: {err:?}");
        assert_eq!(err.code, Code::InvalidArgument, "{body}");
        assert_eq!(
            err.field_violations.first().map(|(f, _)| f.as_str()),
            field,
            "{body}: {err:?}"
        );
    }
}

#[test]
fn body_with_an_unknown_any_type_names_it_and_the_flag() {
    let body = r#"{"payload": {"@type": "type.googleapis.com/acme.v1.Thing", "x": 1}}"#;
    let err = refused(build(&sink(BodyRule::All), &[], None, body), body);
    assert!(err.message.contains("acme.v1.Thing"), "{}", err.message);
    assert!(err.message.contains("--descriptor-set"), "{}", err.message);
}

#[test]
fn body_that_is_not_utf8_is_refused() {
    let err = build_request(
        &sink(BodyRule::All),
        &[],
        None,
        b"{\"name\": \"\xff\"}",
        None,
    )
    .expect_err("not UTF-8");
    assert_eq!(err.reason, "MALFORMED_JSON");
}

#[test]
fn body_nesting_is_bounded_at_64() {
    // The body object is level 1, `inner` level 2, then one per `child`.
    let nested = |children: usize| {
        format!(
            r#"{{"inner": {}{{}}{}}}"#,
            r#"{"child": "#.repeat(children),
            "}".repeat(children)
        )
    };
    build(&sink(BodyRule::All), &[], None, &nested(62)).expect("64 levels");
    let err = refused(
        build(&sink(BodyRule::All), &[], None, &nested(63)),
        "65 levels",
    );
    assert_eq!(err.reason, "JSON_TOO_DEEP");
}

#[test]
fn any_payloads_resolve_from_the_pool_and_empty_needs_no_value() {
    let cases = [
        (
            json!({"payload": {"@type": "type.googleapis.com/longrun.v1.OperationMetadata",
                               "verb": "create", "createTime": "2026-01-02T03:04:05Z"}}),
            json!({"payload": {"@type": "type.googleapis.com/longrun.v1.OperationMetadata",
                               "createTime": "2026-01-02T03:04:05Z", "verb": "create"}}),
        ),
        (
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Duration",
                               "value": "2s"}}),
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Duration",
                               "value": "2s"}}),
        ),
        (
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Empty"}}),
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Empty",
                               "value": {}}}),
        ),
        (
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Empty",
                               "value": {}}}),
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Empty",
                               "value": {}}}),
        ),
        (
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Any",
                   "value": {"@type": "type.googleapis.com/google.protobuf.Empty"}}}),
            json!({"payload": {"@type": "type.googleapis.com/google.protobuf.Any",
                   "value": {"@type": "type.googleapis.com/google.protobuf.Empty",
                             "value": {}}}}),
        ),
    ];
    for (body, golden) in cases {
        let (json, _) = build(&sink(BodyRule::All), &[], None, &body.to_string())
            .unwrap_or_else(|err| panic!("{body}: {err:?}"));
        // `json_of` is prost-reflect's own printer, which writes Empty's
        // `"value": {}`; render_response leaves it out.
        assert_eq!(json, golden, "{body}");
    }
}

#[test]
fn body_field_rule_fills_that_field_and_query_the_rest() {
    let cases: &[(&str, &str, Option<&str>, serde_json::Value)] = &[
        (
            "inner",
            r#"{"id": "x"}"#,
            Some("count=3"),
            json!({"count": 3, "inner": {"id": "x"}}),
        ),
        ("tags", r#"["a", "b"]"#, None, json!({"tags": ["a", "b"]})),
        (
            "count",
            "7",
            Some("name=n"),
            json!({"name": "n", "count": 7}),
        ),
        ("timeout", r#""1s""#, None, json!({"timeout": "1s"})),
        ("counts", r#"{"a": 1}"#, None, json!({"counts": {"a": 1}})),
        ("inner", "", None, json!({})),
    ];
    for (field, body, query, golden) in cases {
        let binding = sink(BodyRule::Field((*field).to_owned()));
        let (json, _) = build(&binding, &[], *query, body)
            .unwrap_or_else(|err| panic!("{field} {body}: {err:?}"));
        assert_eq!(&json, golden, "{field} {body}");
    }
    let binding = sink(BodyRule::Field("inner".to_owned()));
    let err = refused(
        build(&binding, &[], None, r#"{"zz": 1}"#),
        "unknown in body field",
    );
    assert_eq!(err.field_violations[0].0, "inner.zz");
    let err = refused(
        build(&binding, &[], Some("inner.id=y"), "{}"),
        "query into body",
    );
    assert_eq!(err.reason, "QUERY_PARAMETER_NOT_ALLOWED");
    let err = refused(
        build(&binding, &[bound("inner.id", "b")], None, r#"{"id": "a"}"#),
        "path against body",
    );
    assert_eq!(err.reason, "FIELD_MISMATCH");
    assert_eq!(err.field_violations[0].0, "inner.id");
    let (json, _) = build(
        &binding,
        &[bound("inner.id", "a")],
        None,
        r#"{"id": "a", "n": 1}"#,
    )
    .expect("same value");
    assert_eq!(json, json!({"inner": {"id": "a", "n": 1}}));
}

#[test]
fn body_field_rule_naming_a_missing_field_is_internal() {
    let binding = sink(BodyRule::Field("nope".to_owned()));
    let err = refused(build(&binding, &[], None, "{}"), "missing body field");
    assert_eq!(err.code, Code::Internal);
}
