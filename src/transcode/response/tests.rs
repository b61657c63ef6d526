//! Tests of rendering responses as JSON: operations round-trip to the same
//! bytes, `Any` payloads known and unknown, render options, `response_body`,
//! and random operations (proptest).

use http::Method;
use proptest::prelude::*;
use prost::Message;
use prost_reflect::DynamicMessage;
use serde_json::json;

use super::*;
use crate::pb;
use crate::pb::longrunning::operation::Result as Outcome;
use crate::transcode::BodyRule;
use crate::transcode::request::testing::{binding, message as descriptor};

const GET: &str = "google.longrunning.Operations.GetOperation";
const OPERATION: &str = "google.longrunning.Operation";
const NAME: &str = "projects/p/locations/l/operations/x";

fn pack<M: Message>(type_name: &str, message: &M) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{type_name}"),
        value: message.encode_to_vec(),
    }
}

fn dynamic<M: Message>(full_name: &str, message: &M) -> DynamicMessage {
    DynamicMessage::decode(descriptor(full_name), message.encode_to_vec().as_slice())
        .expect("decodes as itself")
}

fn get() -> Binding {
    binding(GET, Method::GET, BodyRule::None, None)
}

fn rendered(
    binding: &Binding,
    message: &DynamicMessage,
    options: RenderOptions,
) -> serde_json::Value {
    let bytes = render_response(binding, message, &options)
        .unwrap_or_else(|err| panic!("renders: {err:?}"));
    serde_json::from_slice(&bytes).expect("valid JSON")
}

fn metadata() -> pb::control::OperationMetadata {
    pb::control::OperationMetadata {
        create_time: Some(prost_types::Timestamp {
            seconds: 1_767_323_045,
            nanos: 123_000_000,
        }),
        verb: "create".into(),
        requested_cancellation: true,
        ..Default::default()
    }
}

fn succeeded(response: prost_types::Any) -> pb::longrunning::Operation {
    pb::longrunning::Operation {
        name: NAME.into(),
        metadata: Some(pack("longrun.v1.OperationMetadata", &metadata())),
        done: true,
        result: Some(Outcome::Response(response)),
    }
}

/// JSON back to a message, through the request side's body parser.
fn parsed(full_name: &str, json: &[u8]) -> DynamicMessage {
    crate::transcode::request::parse_json(&descriptor(full_name), json)
        .unwrap_or_else(|err| panic!("parses back: {err:?}"))
}

#[test]
fn operation_round_trips_through_json_to_the_same_bytes() {
    let duration = prost_types::Duration {
        seconds: 2,
        nanos: 500_000_000,
    };
    let operation = succeeded(pack("google.protobuf.Duration", &duration));
    let message = dynamic(OPERATION, &operation);
    let bytes = render_response(&get(), &message, &RenderOptions::default()).expect("renders");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON"),
        json!({
            "name": NAME,
            "metadata": {
                "@type": "type.googleapis.com/longrun.v1.OperationMetadata",
                "createTime": "2026-01-02T03:04:05.123Z",
                "verb": "create",
                "requestedCancellation": true,
            },
            "done": true,
            "response": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "2.500s"},
        })
    );
    assert_eq!(
        parsed(OPERATION, &bytes).encode_to_vec(),
        operation.encode_to_vec()
    );
}

#[test]
fn any_of_empty_is_just_its_type_and_round_trips() {
    let empty = pack("google.protobuf.Empty", &());
    let nested = pack("google.protobuf.Any", &empty);
    for (response, golden) in [
        (
            empty.clone(),
            json!({"@type": "type.googleapis.com/google.protobuf.Empty"}),
        ),
        (
            nested,
            json!({"@type": "type.googleapis.com/google.protobuf.Any",
                   "value": {"@type": "type.googleapis.com/google.protobuf.Empty"}}),
        ),
    ] {
        let operation = succeeded(response);
        let message = dynamic(OPERATION, &operation);
        let bytes = render_response(&get(), &message, &RenderOptions::default()).expect("renders");
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        // The rewritten tree keeps the proto's field order.
        assert!(text.starts_with(r#"{"name":"#), "{text}");
        let json: serde_json::Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(json["response"], golden);
        assert_eq!(
            parsed(OPERATION, &bytes).encode_to_vec(),
            operation.encode_to_vec()
        );
    }
}

#[test]
fn failed_operation_shows_its_status_and_details() {
    let info = pb::rpc::ErrorInfo {
        reason: "CANCELLED_BY_USER".into(),
        domain: "longrun.example.com".into(),
        metadata: [("by".to_owned(), "me".to_owned())].into(),
    };
    let operation = pb::longrunning::Operation {
        name: NAME.into(),
        metadata: None,
        done: true,
        result: Some(Outcome::Error(pb::rpc::Status {
            code: 1,
            message: "cancelled".into(),
            details: vec![pack("google.rpc.ErrorInfo", &info)],
        })),
    };
    assert_eq!(
        rendered(
            &get(),
            &dynamic(OPERATION, &operation),
            RenderOptions::default()
        ),
        json!({
            "name": NAME,
            "done": true,
            "error": {"code": 1, "message": "cancelled", "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "CANCELLED_BY_USER",
                "domain": "longrun.example.com",
                "metadata": {"by": "me"},
            }]},
        })
    );
}

#[test]
fn empty_response_is_an_empty_object() {
    let delete = binding(
        "google.longrunning.Operations.DeleteOperation",
        Method::DELETE,
        BodyRule::None,
        None,
    );
    let message = DynamicMessage::new(descriptor("google.protobuf.Empty"));
    let bytes = render_response(&delete, &message, &RenderOptions::default()).expect("renders");
    assert_eq!(bytes, b"{}");
}

#[test]
fn unregistered_any_is_refused_naming_type_place_and_flag() {
    let unknown = prost_types::Any {
        type_url: "type.googleapis.com/acme.v1.Thing".into(),
        value: vec![8, 1],
    };
    let in_metadata = pb::longrunning::Operation {
        name: NAME.into(),
        metadata: Some(unknown.clone()),
        ..Default::default()
    };
    let in_details = pb::longrunning::Operation {
        name: NAME.into(),
        done: true,
        result: Some(Outcome::Error(pb::rpc::Status {
            code: 2,
            message: "boom".into(),
            details: vec![
                pack("google.rpc.RequestInfo", &pb::rpc::RequestInfo::default()),
                unknown,
            ],
        })),
        ..Default::default()
    };
    for (operation, place) in [(in_metadata, "metadata"), (in_details, "error.details[1]")] {
        let err = render_response(
            &get(),
            &dynamic(OPERATION, &operation),
            &RenderOptions::default(),
        )
        .expect_err("unregistered");
        assert_eq!(err.code, Code::Unimplemented);
        assert_eq!(err.reason, "UNREGISTERED_TYPE");
        for needle in ["acme.v1.Thing", "--descriptor-set", place] {
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
    }
}

#[test]
fn any_without_type_or_with_broken_bytes_is_internal() {
    let broken = [
        prost_types::Any {
            type_url: String::new(),
            value: vec![],
        },
        prost_types::Any {
            type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
            value: vec![0xff, 0xff],
        },
    ];
    for any in broken {
        let operation = succeeded(any);
        let err = render_response(
            &get(),
            &dynamic(OPERATION, &operation),
            &RenderOptions::default(),
        )
        .expect_err("not renderable");
        assert_eq!(err.code, Code::Internal, "{err:?}");
    }
}

fn sink(json: serde_json::Value) -> DynamicMessage {
    parsed("longrun.test.Sink", json.to_string().as_bytes())
}

#[test]
fn render_options_choose_enum_numbers_and_indentation() {
    let binding = binding(
        "longrun.test.Kitchen.Sink",
        Method::POST,
        BodyRule::All,
        None,
    );
    let message = sink(json!({"color": "RED", "colors": ["GREEN"], "big": "-7", "huge": 1}));
    let names = json!({"color": "RED", "colors": ["GREEN"], "big": "-7", "huge": "1"});
    let numbers = json!({"color": 1, "colors": [2], "big": "-7", "huge": "1"});
    for (options, golden) in [
        (
            RenderOptions {
                enum_as_number: false,
                pretty: false,
            },
            &names,
        ),
        (
            RenderOptions {
                enum_as_number: true,
                pretty: false,
            },
            &numbers,
        ),
        (
            RenderOptions {
                enum_as_number: true,
                pretty: true,
            },
            &numbers,
        ),
    ] {
        let bytes = render_response(&binding, &message, &options).expect("renders");
        assert_eq!(bytes.contains(&b'\n'), options.pretty, "{options:?}");
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(&json, golden, "{options:?}");
    }
}

#[test]
fn response_body_selects_one_field_or_its_default() {
    let message = sink(json!({"inner": {"id": "x"}, "tags": ["a"], "count": 3}));
    let empty = sink(json!({}));
    let cases: &[(&str, &DynamicMessage, RenderOptions, serde_json::Value)] = &[
        (
            "inner",
            &message,
            RenderOptions::default(),
            json!({"id": "x"}),
        ),
        ("tags", &message, RenderOptions::default(), json!(["a"])),
        ("count", &message, RenderOptions::default(), json!(3)),
        ("inner", &empty, RenderOptions::default(), json!({})),
        ("tags", &empty, RenderOptions::default(), json!([])),
        ("count", &empty, RenderOptions::default(), json!(0)),
        ("big", &empty, RenderOptions::default(), json!("0")),
        ("counts", &empty, RenderOptions::default(), json!({})),
        (
            "color",
            &empty,
            RenderOptions::default(),
            json!("COLOR_UNSPECIFIED"),
        ),
        (
            "color",
            &empty,
            RenderOptions {
                enum_as_number: true,
                pretty: false,
            },
            json!(0),
        ),
        ("timeout", &empty, RenderOptions::default(), json!("0s")),
    ];
    for (field, message, options, golden) in cases {
        let binding = binding(
            "longrun.test.Kitchen.Sink",
            Method::POST,
            BodyRule::All,
            Some(field),
        );
        assert_eq!(&rendered(&binding, message, *options), golden, "{field}");
    }
}

#[test]
fn response_body_ignores_the_fields_it_does_not_show() {
    let mut message = sink(json!({"tags": ["a"]}));
    let unknown = prost_types::Any {
        type_url: "type.googleapis.com/acme.v1.Thing".into(),
        value: vec![],
    };
    let payload = descriptor("longrun.test.Sink")
        .get_field_by_name("payload")
        .expect("a payload field");
    message.set_field(
        &payload,
        prost_reflect::Value::Message(dynamic("google.protobuf.Any", &unknown)),
    );
    let binding = binding(
        "longrun.test.Kitchen.Sink",
        Method::POST,
        BodyRule::All,
        Some("tags"),
    );
    assert_eq!(
        rendered(&binding, &message, RenderOptions::default()),
        json!(["a"])
    );
}

#[test]
fn response_that_does_not_fit_the_binding_is_internal() {
    let wrong_type = DynamicMessage::new(descriptor("google.protobuf.Empty"));
    let err = render_response(&get(), &wrong_type, &RenderOptions::default()).expect_err("type");
    assert_eq!(err.code, Code::Internal);
    let binding = binding(GET, Method::GET, BodyRule::None, Some("nope"));
    let message = dynamic(OPERATION, &succeeded(pack("google.protobuf.Empty", &())));
    let err = render_response(&binding, &message, &RenderOptions::default()).expect_err("field");
    assert_eq!(err.code, Code::Internal);
}

#[test]
fn list_response_keeps_field_order() {
    let list = binding(
        "google.longrunning.Operations.ListOperations",
        Method::GET,
        BodyRule::None,
        None,
    );
    let response = pb::longrunning::ListOperationsResponse {
        operations: vec![succeeded(pack("google.protobuf.Empty", &()))],
        next_page_token: "t".into(),
        unreachable: vec![],
    };
    let message = dynamic("google.longrunning.ListOperationsResponse", &response);
    let bytes = render_response(&list, &message, &RenderOptions::default()).expect("renders");
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(
        text.starts_with(
            r#"{"operations":[{"name":"projects/p/locations/l/operations/x","metadata":{"@type":"#
        ),
        "{text}"
    );
    assert!(text.ends_with(r#""nextPageToken":"t"}"#), "{text}");
}

fn timestamp() -> impl Strategy<Value = prost_types::Timestamp> {
    (-62_135_596_800_i64..=253_402_300_799, 0..1_000_000_000_i32)
        .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos })
}

fn duration() -> impl Strategy<Value = prost_types::Duration> {
    (-315_576_000_000_i64..=315_576_000_000, 0..1_000_000_000_i32).prop_map(|(seconds, nanos)| {
        let nanos = if seconds < 0 { -nanos } else { nanos };
        prost_types::Duration { seconds, nanos }
    })
}

fn operation_metadata() -> impl Strategy<Value = pb::control::OperationMetadata> {
    (
        prop::option::of(timestamp()),
        prop::option::of(timestamp()),
        ".{0,12}",
        "[a-z]{0,8}",
        any::<bool>(),
    )
        .prop_map(
            |(create_time, end_time, target, verb, requested_cancellation)| {
                pb::control::OperationMetadata {
                    create_time,
                    end_time,
                    target,
                    verb,
                    requested_cancellation,
                    ..Default::default()
                }
            },
        )
}

fn outcome() -> impl Strategy<Value = Option<Outcome>> {
    // At most one metadata entry: map order is not canonical in either encoder.
    let info = (
        "[A-Z_]{0,10}",
        ".{0,8}",
        prop::collection::hash_map(".{0,4}", ".{0,4}", 0..=1),
    )
        .prop_map(|(reason, domain, metadata)| {
            pack(
                "google.rpc.ErrorInfo",
                &pb::rpc::ErrorInfo {
                    reason,
                    domain,
                    metadata,
                },
            )
        });
    prop_oneof![
        Just(None),
        (0..17_i32, ".{0,16}", prop::collection::vec(info, 0..3)).prop_map(
            |(code, message, details)| Some(Outcome::Error(pb::rpc::Status {
                code,
                message,
                details
            }))
        ),
        duration().prop_map(|d| Some(Outcome::Response(pack("google.protobuf.Duration", &d)))),
        operation_metadata()
            .prop_map(|m| Some(Outcome::Response(pack("longrun.v1.OperationMetadata", &m)))),
        Just(Some(Outcome::Response(pack("google.protobuf.Empty", &())))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_operations_round_trip_through_json(
        name in ".{0,24}",
        metadata in prop::option::of(operation_metadata()),
        done in any::<bool>(),
        result in outcome(),
        enum_as_number in any::<bool>(),
        pretty in any::<bool>(),
    ) {
        let operation = pb::longrunning::Operation {
            name,
            metadata: metadata.map(|m| pack("longrun.v1.OperationMetadata", &m)),
            done,
            result,
        };
        let options = RenderOptions { enum_as_number, pretty };
        let bytes = render_response(&get(), &dynamic(OPERATION, &operation), &options)
            .expect("renders");
        prop_assert_eq!(parsed(OPERATION, &bytes).encode_to_vec(), operation.encode_to_vec());
    }
}
