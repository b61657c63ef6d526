//! Query parameters: every field kind, refusals, system parameters, bounds.

use serde_json::json;

use super::*;

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
