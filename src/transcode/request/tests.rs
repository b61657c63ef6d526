//! Tests of building a request message from an HTTP request: accepted media
//! types, the three ways clients send a Cancel, bodies where none belongs, and
//! path bindings. Body and query parsing have their own files beside this one.

use http::{Method, StatusCode};
use prost::Message as _;
use serde_json::json;

use super::testing::{binding, bound, json_of};
use super::*;
use crate::pb;

mod body;
mod query;

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
