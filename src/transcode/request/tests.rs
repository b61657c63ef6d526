use http::{Method, StatusCode};
use prost::Message as _;
use serde_json::json;

use super::testing::{binding, bound, json_of};
use super::*;
use crate::pb;

const SINK: &str = "longrun.test.Kitchen.Sink";
const NAME: &str = "projects/p/locations/l/operations/x";

fn sink(body: BodyRule) -> Binding {
    binding(SINK, Method::POST, body, None)
}

fn get_sink() -> Binding {
    binding(SINK, Method::GET, BodyRule::None, None)
}

/// The request as JSON, or the refusal.
fn build(
    binding: &Binding,
    path: &[PathBinding],
    query: Option<&str>,
    body: &str,
) -> Result<(serde_json::Value, RenderOptions), TranscodeError> {
    build_request(
        binding,
        path,
        query,
        body.as_bytes(),
        Some("application/json"),
    )
    .map(|(message, options)| (json_of(&message), options))
}

fn refused(
    result: Result<(serde_json::Value, RenderOptions), TranscodeError>,
    case: &str,
) -> TranscodeError {
    match result {
        Ok((json, _)) => panic!("{case}: accepted as {json}"),
        Err(err) => err,
    }
}

#[test]
fn content_type_json_or_none_is_accepted_and_others_are_415() {
    let cancel = binding(
        "google.longrunning.Operations.CancelOperation",
        Method::POST,
        BodyRule::All,
        None,
    );
    let path = [bound("name", NAME)];
    let cases: &[(Option<&str>, &str, bool)] = &[
        (None, "{}", true),
        (Some("application/json"), "{}", true),
        (Some("Application/JSON; charset=UTF-8"), "{}", true),
        (Some("application/json;charset=latin1"), "{}", true),
        (Some(""), "{}", true),
        (Some("text/plain"), "{}", false),
        (Some("application/x-www-form-urlencoded"), "{}", false),
        (Some("application/jsonp"), "{}", false),
        (Some("application/grpc"), "{}", false),
        // No bytes to misread: `curl -d ''` sends a form type with nothing.
        (Some("application/x-www-form-urlencoded"), "", true),
        (Some("text/plain"), " \r\n", true),
    ];
    for &(content_type, body, accepted) in cases {
        let result = build_request(&cancel, &path, None, body.as_bytes(), content_type);
        match result {
            Ok(_) => assert!(accepted, "{content_type:?} {body:?} was accepted"),
            Err(err) => {
                assert!(!accepted, "{content_type:?} {body:?}: {err:?}");
                assert_eq!(err.reason, "UNSUPPORTED_CONTENT_TYPE");
                assert_eq!(err.code, Code::InvalidArgument);
                assert_eq!(err.http_status, Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
            }
        }
    }
}

#[test]
fn cancel_accepts_the_three_client_forms_and_refuses_another_name() {
    let cancel = binding(
        "google.longrunning.Operations.CancelOperation",
        Method::POST,
        BodyRule::All,
        None,
    );
    let path = [bound("name", NAME)];
    for body in ["", "  \n", "{}", &format!(r#"{{"name": "{NAME}"}}"#)] {
        let (message, _) = build_request(&cancel, &path, None, body.as_bytes(), None)
            .unwrap_or_else(|err| panic!("{body:?}: {err:?}"));
        let request =
            pb::longrunning::CancelOperationRequest::decode(message.encode_to_vec().as_slice())
                .expect("a CancelOperationRequest");
        assert_eq!(request.name, NAME, "{body:?}");
    }
    let err = refused(
        build(
            &cancel,
            &path,
            None,
            r#"{"name": "projects/p/locations/l/operations/y"}"#,
        ),
        "another name",
    );
    assert_eq!(err.reason, "FIELD_MISMATCH");
    assert_eq!(err.code, Code::InvalidArgument);
    assert_eq!(err.field_violations[0].0, "name");
}

#[test]
fn get_with_a_body_is_refused() {
    let get = binding(
        "google.longrunning.Operations.GetOperation",
        Method::GET,
        BodyRule::None,
        None,
    );
    let path = [bound("name", NAME)];
    let err = refused(build(&get, &path, None, "{}"), "GET with {}");
    assert_eq!(err.reason, "BODY_NOT_ALLOWED");
    assert_eq!(err.message, "a GET request to this URL has no body");
    let (json, _) = build(&get, &path, None, " \t\r\n").expect("blank is no body");
    assert_eq!(json, json!({"name": NAME}));
}

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

#[test]
fn query_sets_fields_of_every_kind() {
    let cases: &[(&str, serde_json::Value)] = &[
        (
            "name=x&count=5&big=-7&small=3&huge=18446744073709551615&flag=True&ratio=0.5\
             &scale=1.5&blob=AQID&color=RED&signed=-3",
            json!({"name": "x", "count": 5, "big": "-7", "small": 3,
                   "huge": "18446744073709551615", "flag": true, "ratio": 0.5, "scale": 1.5,
                   "blob": "AQID", "color": "RED", "signed": "-3"}),
        ),
        ("flag=FALSE&maybeFlag=tRuE", json!({"maybeFlag": true})),
        (
            "tags=a&tags=b&tags=&tags=c",
            json!({"tags": ["a", "b", "c"]}),
        ),
        (
            "colors=RED&colors=2&colors=7",
            json!({"colors": ["RED", "GREEN", 7]}),
        ),
        ("bigs=1&bigs=-2", json!({"bigs": ["1", "-2"]})),
        (
            "inner.id=x&inner.child.n=3",
            json!({"inner": {"id": "x", "child": {"n": 3}}}),
        ),
        (
            "maybe_flag=true&maybe=7",
            json!({"maybe": 7, "maybeFlag": true}),
        ),
        (
            "timeout=3.5s&at=2026-01-02T03:04:05Z&mask=a.b,c",
            json!({"timeout": "3.500s", "at": "2026-01-02T03:04:05Z", "mask": "a.b,c"}),
        ),
        (
            "count=0&name=&flag=false&color=COLOR_UNSPECIFIED",
            json!({}),
        ),
        ("explicit=0", json!({"explicit": 0})),
        ("maybe=0", json!({"maybe": 0})),
        ("name=a+b%20c%2B%26%3D", json!({"name": "a b c+&="})),
        ("na%6De=%C3%A9", json!({"name": "é"})),
        ("blob=-_8", json!({"blob": "+/8="})),
        (
            "ratio=NaN&scale=-Infinity",
            json!({"ratio": "NaN", "scale": "-Infinity"}),
        ),
        ("left=a", json!({"left": "a"})),
        ("right.id=b", json!({"right": {"id": "b"}})),
        ("&&name=x&", json!({"name": "x"})),
    ];
    for (query, golden) in cases {
        let (json, options) = build(&get_sink(), &[], Some(query), "")
            .unwrap_or_else(|err| panic!("{query}: {err:?}"));
        assert_eq!(&json, golden, "{query}");
        assert_eq!(options, RenderOptions::default(), "{query}");
    }
}

#[test]
fn query_refusals_carry_reason_and_parameter() {
    let cases: &[(&str, &str)] = &[
        ("nope=1", "UNKNOWN_QUERY_PARAMETER"),
        ("inner.nope=1", "UNKNOWN_QUERY_PARAMETER"),
        ("name.x=1", "UNKNOWN_QUERY_PARAMETER"),
        ("=1", "UNKNOWN_QUERY_PARAMETER"),
        ("inner..id=1", "UNKNOWN_QUERY_PARAMETER"),
        ("Name=x", "UNKNOWN_QUERY_PARAMETER"),
        ("count=abc", "INVALID_QUERY_PARAMETER"),
        ("count=2147483648", "INVALID_QUERY_PARAMETER"),
        ("small=-1", "INVALID_QUERY_PARAMETER"),
        ("count=1.0", "INVALID_QUERY_PARAMETER"),
        ("scale=1e39", "INVALID_QUERY_PARAMETER"),
        ("flag=yes", "INVALID_QUERY_PARAMETER"),
        ("flag=1", "INVALID_QUERY_PARAMETER"),
        ("color=PURPLE", "INVALID_QUERY_PARAMETER"),
        ("color=red", "INVALID_QUERY_PARAMETER"),
        ("blob=%21%21", "INVALID_QUERY_PARAMETER"),
        ("timeout=5", "INVALID_QUERY_PARAMETER"),
        ("count=1&count=2", "INVALID_QUERY_PARAMETER"),
        ("count=1&count=1", "INVALID_QUERY_PARAMETER"),
        ("maybe_flag=true&maybeFlag=true", "INVALID_QUERY_PARAMETER"),
        ("inners.id=x", "INVALID_QUERY_PARAMETER"),
        ("inner.child.kids=", "INVALID_QUERY_PARAMETER"),
        ("byKey=x", "INVALID_QUERY_PARAMETER"),
        ("inner=x", "INVALID_QUERY_PARAMETER"),
        ("extra=x", "INVALID_QUERY_PARAMETER"),
        ("payload=x", "INVALID_QUERY_PARAMETER"),
        ("left=a&right.id=b", "INVALID_QUERY_PARAMETER"),
        ("right.id=b&left=a", "INVALID_QUERY_PARAMETER"),
        ("access_token=abc", "ACCESS_TOKEN_IN_URL"),
        ("name=x&access_token=", "ACCESS_TOKEN_IN_URL"),
        ("$alt=proto", "INVALID_QUERY_PARAMETER"),
        ("alt=json;enum-encoding=hex", "INVALID_QUERY_PARAMETER"),
        ("alt=json;pretty", "INVALID_QUERY_PARAMETER"),
        ("prettyPrint=maybe", "INVALID_QUERY_PARAMETER"),
        ("%zz=1", "MALFORMED_QUERY"),
        ("name=%ff", "MALFORMED_QUERY"),
        ("name=%+1", "MALFORMED_QUERY"),
        ("name=%4", "MALFORMED_QUERY"),
        ("name=%", "MALFORMED_QUERY"),
    ];
    for &(query, reason) in cases {
        let err = refused(build(&get_sink(), &[], Some(query), ""), query);
        assert_eq!(err.reason, reason, "{query}: {err:?}");
        assert_eq!(err.code, Code::InvalidArgument, "{query}");
        assert_eq!(err.http_status, None, "{query}");
        if !reason.starts_with("MALFORMED") {
            assert_eq!(err.field_violations.len(), 1, "{query}: {err:?}");
        }
    }
}

#[test]
fn system_parameters_are_not_fields_and_set_render_options() {
    let cases: &[(&str, RenderOptions)] = &[
        ("$alt=json", RenderOptions::default()),
        ("alt=", RenderOptions::default()),
        (
            "$alt=json;enum-encoding=int",
            RenderOptions {
                enum_as_number: true,
                pretty: false,
            },
        ),
        (
            "alt=JSON%3B%20enum-encoding%3DINT",
            RenderOptions {
                enum_as_number: true,
                pretty: false,
            },
        ),
        (
            "%24alt=json%3Benum-encoding%3Dint&prettyPrint=True",
            RenderOptions {
                enum_as_number: true,
                pretty: true,
            },
        ),
        ("alt=json;enum-encoding=string", RenderOptions::default()),
        ("prettyPrint=false", RenderOptions::default()),
        ("prettyPrint=", RenderOptions::default()),
        (
            "$fields=name&fields=x&key=k&quotaUser=u&$.xgafv=2&$apiVersion=v1&$callback=cb",
            RenderOptions::default(),
        ),
    ];
    for (query, expected) in cases {
        for body in [BodyRule::None, BodyRule::All] {
            let binding = binding(SINK, Method::POST, body.clone(), None);
            let (json, options) = build(&binding, &[], Some(query), "")
                .unwrap_or_else(|err| panic!("{query}: {err:?}"));
            assert_eq!(json, json!({}), "{query}");
            assert_eq!(&options, expected, "{query}");
        }
    }
}

#[test]
fn query_fields_with_body_star_are_refused() {
    let err = refused(
        build(&sink(BodyRule::All), &[], Some("name=x"), "{}"),
        "body *",
    );
    assert_eq!(err.reason, "QUERY_PARAMETER_NOT_ALLOWED");
    let err = refused(
        build(&sink(BodyRule::All), &[], Some("nope=x"), "{}"),
        "unknown",
    );
    assert_eq!(err.reason, "UNKNOWN_QUERY_PARAMETER");
}

#[test]
fn query_naming_a_path_bound_field_is_refused() {
    let get = binding(
        "google.longrunning.Operations.GetOperation",
        Method::GET,
        BodyRule::None,
        None,
    );
    let err = refused(
        build(&get, &[bound("name", NAME)], Some("name=x"), ""),
        "name",
    );
    assert_eq!(err.reason, "QUERY_PARAMETER_NOT_ALLOWED");
    let path = [bound("inner.id", "a")];
    for query in ["inner.id=b", "inner.id="] {
        let err = refused(build(&get_sink(), &path, Some(query), ""), query);
        assert_eq!(err.reason, "QUERY_PARAMETER_NOT_ALLOWED", "{query}");
    }
    let (json, _) = build(&get_sink(), &path, Some("inner.n=2"), "").expect("a sibling");
    assert_eq!(json, json!({"inner": {"id": "a", "n": 2}}));
}

#[test]
fn list_operations_reads_its_query() {
    let list = binding(
        "google.longrunning.Operations.ListOperations",
        Method::GET,
        BodyRule::None,
        None,
    );
    let path = [bound("name", "projects/p/locations/l")];
    let query = "pageSize=10&filter=done%3Dtrue+AND+metadata.verb%3D%22create%22\
                 &page_token=t&returnPartialSuccess=TRUE";
    let (message, _) = build_request(&list, &path, Some(query), b"", None).expect("valid");
    let request =
        pb::longrunning::ListOperationsRequest::decode(message.encode_to_vec().as_slice())
            .expect("a ListOperationsRequest");
    assert_eq!(
        request,
        pb::longrunning::ListOperationsRequest {
            name: "projects/p/locations/l".into(),
            filter: r#"done=true AND metadata.verb="create""#.into(),
            page_size: 10,
            page_token: "t".into(),
            return_partial_success: true,
        }
    );
    let (message, _) =
        build_request(&list, &path, Some("pageSize=0"), b"", None).expect("zero is unset");
    assert!(
        message.encode_to_vec().len() < 30,
        "only the name is encoded"
    );
}

#[test]
fn wait_takes_its_timeout_from_the_body() {
    let wait = binding(
        "google.longrunning.Operations.WaitOperation",
        Method::POST,
        BodyRule::All,
        None,
    );
    let (json, _) = build(
        &wait,
        &[bound("name", NAME)],
        None,
        r#"{"timeout": "2.5s"}"#,
    )
    .expect("valid");
    assert_eq!(json, json!({"name": NAME, "timeout": "2.500s"}));
}

#[test]
fn query_is_bounded_in_count_and_size() {
    let hundred = vec!["key=k"; MAX_QUERY_PARAMS].join("&");
    build(&get_sink(), &[], Some(&hundred), "").expect("100 parameters");
    let more = format!("{hundred}&key=k");
    let err = refused(build(&get_sink(), &[], Some(&more), ""), "101 parameters");
    assert_eq!(err.reason, "QUERY_TOO_LARGE");
    let long = format!("name={}", "a".repeat(MAX_QUERY_BYTES - 5));
    build(&get_sink(), &[], Some(&long), "").expect("8 KiB");
    let err = refused(
        build(&get_sink(), &[], Some(&format!("{long}a")), ""),
        "8 KiB + 1",
    );
    assert_eq!(err.reason, "QUERY_TOO_LARGE");
}

#[test]
fn path_bindings_set_nested_and_typed_fields() {
    let cases: &[(&[(&str, &str)], serde_json::Value)] = &[
        (&[("name", "a/b%2Fc")], json!({"name": "a/b%2Fc"})),
        (
            &[("inner.id", "x"), ("inner.child.id", "y")],
            json!({"inner": {"id": "x", "child": {"id": "y"}}}),
        ),
        (
            &[("count", "12"), ("color", "GREEN"), ("flag", "TRUE")],
            json!({"count": 12, "color": "GREEN", "flag": true}),
        ),
        (&[("timeout", "1s")], json!({"timeout": "1s"})),
    ];
    for (bindings, golden) in cases {
        let path: Vec<_> = bindings.iter().map(|(f, v)| bound(f, v)).collect();
        let (json, _) =
            build(&get_sink(), &path, None, "").unwrap_or_else(|err| panic!("{path:?}: {err:?}"));
        assert_eq!(&json, golden, "{path:?}");
    }
    let err = refused(
        build(&get_sink(), &[bound("count", "x")], None, ""),
        "not a number",
    );
    assert_eq!(err.reason, "INVALID_PATH_PARAMETER");
    assert_eq!(err.code, Code::InvalidArgument);
}

#[test]
fn path_binding_to_a_field_the_request_lacks_is_internal() {
    for field in [
        "nope",
        "inner.nope",
        "inners.id",
        "inner",
        "tags",
        "byKey",
        "name.x",
        "payload",
    ] {
        let err = refused(build(&get_sink(), &[bound(field, "v")], None, ""), field);
        assert_eq!(err.code, Code::Internal, "{field}");
        assert_eq!(err.reason, "INVALID_HTTP_RULE", "{field}");
    }
}
