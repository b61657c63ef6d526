//! Tests of the Code -> HTTP status table and the error envelope: every code,
//! details kept in order, an `ErrorInfo` always present, internal messages
//! hidden, `WWW-Authenticate`.

use prost::Message;
use serde_json::json;

use super::*;
use crate::transcode::request::testing::pool;

const DOMAIN: &str = "longrun.example.com";

fn pack<M: Message>(type_name: &str, message: &M) -> prost_types::Any {
    prost_types::Any {
        type_url: type_url(type_name),
        value: message.encode_to_vec(),
    }
}

fn status_with(code: Code, message: &str, details: Vec<prost_types::Any>) -> tonic::Status {
    let rpc = pb::rpc::Status {
        code: code as i32,
        message: message.to_owned(),
        details,
    };
    tonic::Status::with_details(code, message, rpc.encode_to_vec().into())
}

fn parsed((status, body): (StatusCode, Vec<u8>)) -> (u16, serde_json::Value) {
    (
        status.as_u16(),
        serde_json::from_slice(&body).expect("valid JSON"),
    )
}

#[test]
fn every_code_has_its_http_status_from_code_proto() {
    let expected: [(Code, u16); 17] = [
        (Code::Ok, 200),
        (Code::Cancelled, 499),
        (Code::Unknown, 500),
        (Code::InvalidArgument, 400),
        (Code::DeadlineExceeded, 504),
        (Code::NotFound, 404),
        (Code::AlreadyExists, 409),
        (Code::PermissionDenied, 403),
        (Code::ResourceExhausted, 429),
        (Code::FailedPrecondition, 400),
        (Code::Aborted, 409),
        (Code::OutOfRange, 400),
        (Code::Unimplemented, 501),
        (Code::Internal, 500),
        (Code::Unavailable, 503),
        (Code::DataLoss, 500),
        (Code::Unauthenticated, 401),
    ];
    for (number, (code, http)) in (0..).zip(expected) {
        // The table above walks the codes in order, so none is missed.
        assert_eq!(Code::from_i32(number), code);
        assert_eq!(http_status(code).as_u16(), http, "{code:?}");
    }
    assert_eq!(Code::from_i32(17), Code::Unknown, "code.proto has 17 codes");
}

#[test]
fn every_code_name_is_google_rpc_code_name() {
    for number in 0..17 {
        let ours = code_name(Code::from_i32(number));
        let theirs = pb::rpc::Code::try_from(number).expect("a google.rpc.Code");
        assert_eq!(ours, theirs.as_str_name());
    }
}

#[test]
fn status_details_become_the_envelope_details_in_order() {
    let info = pb::rpc::ErrorInfo {
        reason: "OPERATION_NOT_FOUND".into(),
        domain: DOMAIN.into(),
        metadata: [(
            "operation".to_owned(),
            "projects/p/locations/l/operations/x".to_owned(),
        )]
        .into(),
    };
    let request_info = pb::rpc::RequestInfo {
        request_id: "req-42".into(),
        serving_data: String::new(),
    };
    let status = status_with(
        Code::NotFound,
        r#"operation "projects/p/locations/l/operations/x" not found"#,
        vec![
            pack("google.rpc.ErrorInfo", &info),
            pack("google.rpc.RequestInfo", &request_info),
        ],
    );
    let (http, body) = error_body_from_status(&status, &pool(), DOMAIN);
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    assert!(
        text.starts_with(r#"{"error":{"code":404,"message":"#),
        "{text}"
    );
    assert_eq!(
        parsed((http, body)),
        (
            404,
            json!({"error": {
                "code": 404,
                "message": r#"operation "projects/p/locations/l/operations/x" not found"#,
                "status": "NOT_FOUND",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "OPERATION_NOT_FOUND",
                        "domain": DOMAIN,
                        "metadata": {"operation": "projects/p/locations/l/operations/x"},
                    },
                    {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "req-42"},
                ],
            }})
        )
    );
}

#[test]
fn status_without_error_info_gets_one_named_for_its_code() {
    let retry = pb::rpc::RetryInfo {
        retry_delay: Some(prost_types::Duration {
            seconds: 3,
            nanos: 0,
        }),
    };
    let unregistered = prost_types::Any {
        type_url: "type.googleapis.com/acme.v1.Detail".into(),
        value: vec![],
    };
    let cases = [
        (tonic::Status::unavailable("try later"), vec![]),
        (
            tonic::Status::with_details(
                Code::Unavailable,
                "try later",
                b"\xff\xff".to_vec().into(),
            ),
            vec![],
        ),
        (
            status_with(
                Code::Unavailable,
                "try later",
                vec![pack("google.rpc.RetryInfo", &retry), unregistered],
            ),
            vec![json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"})],
        ),
    ];
    for (status, rest) in cases {
        let (http, json) = parsed(error_body_from_status(&status, &pool(), DOMAIN));
        assert_eq!(http, 503);
        let mut details = vec![json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "UNAVAILABLE",
            "domain": DOMAIN,
        })];
        details.extend(rest);
        assert_eq!(
            json,
            json!({"error": {
                "code": 503, "message": "try later", "status": "UNAVAILABLE", "details": details,
            }}),
            "{status:?}"
        );
    }
}

#[test]
fn unregistered_error_info_is_replaced_by_ours() {
    // A pool without google.rpc (a user's own pool) cannot render the detail.
    let bare = prost_reflect::DescriptorPool::global();
    let info = pb::rpc::ErrorInfo {
        reason: "X".into(),
        ..Default::default()
    };
    let status = status_with(
        Code::Aborted,
        "again",
        vec![pack("google.rpc.ErrorInfo", &info)],
    );
    let (http, json) = parsed(error_body_from_status(&status, &bare, DOMAIN));
    assert_eq!(http, 409);
    assert_eq!(json["error"]["details"][0]["reason"], "ABORTED");
    assert_eq!(json["error"]["status"], "ABORTED");
}

#[test]
fn transcoder_refusal_carries_error_info_and_bad_request() {
    let err = TranscodeError::bad_field(
        "UNKNOWN_FIELD",
        "metadata.zz",
        "the request body has an unknown field \"metadata.zz\"",
    );
    assert_eq!(
        parsed(error_body(&err, DOMAIN)),
        (
            400,
            json!({"error": {
                "code": 400,
                "message": "the request body has an unknown field \"metadata.zz\"",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "UNKNOWN_FIELD",
                        "domain": DOMAIN,
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{
                            "field": "metadata.zz",
                            "description": "the request body has an unknown field \"metadata.zz\"",
                        }],
                    },
                ],
            }})
        )
    );
}

#[test]
fn transcoder_refusal_uses_its_http_status_override() {
    let cases = [
        (
            TranscodeError::new(Code::InvalidArgument, "UNSUPPORTED_CONTENT_TYPE", "no")
                .with_http_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            415,
            "INVALID_ARGUMENT",
        ),
        (
            TranscodeError::new(Code::NotFound, "NO_ROUTE", "no"),
            404,
            "NOT_FOUND",
        ),
        (
            TranscodeError::new(Code::Unimplemented, "METHOD_NOT_ALLOWED", "no")
                .with_http_status(StatusCode::METHOD_NOT_ALLOWED),
            405,
            "UNIMPLEMENTED",
        ),
    ];
    for (err, http, status) in cases {
        let (code, json) = parsed(error_body(&err, DOMAIN));
        assert_eq!(code, http);
        assert_eq!(json["error"]["code"], http);
        assert_eq!(json["error"]["status"], status);
        assert_eq!(json["error"]["details"].as_array().map(Vec::len), Some(1));
    }
}

#[test]
fn transcoder_internal_error_hides_its_message() {
    let err = TranscodeError::new(
        Code::Internal,
        "INVALID_HTTP_RULE",
        "the rule for x is broken",
    );
    let (http, json) = parsed(error_body(&err, DOMAIN));
    assert_eq!(http, 500);
    assert_eq!(json["error"]["message"], "internal error");
    assert_eq!(json["error"]["details"][0]["reason"], "INVALID_HTTP_RULE");
}

#[test]
fn unregistered_type_refusal_keeps_its_advice() {
    let err = TranscodeError::new(
        Code::Unimplemented,
        "UNREGISTERED_TYPE",
        "cannot show metadata as JSON: --descriptor-set",
    );
    let (http, json) = parsed(error_body(&err, DOMAIN));
    assert_eq!(http, 501);
    assert_eq!(json["error"]["message"], err.message);
}

fn status_with_reason(code: Code, reason: &str, metadata: &[(&str, &str)]) -> tonic::Status {
    let info = pb::rpc::ErrorInfo {
        reason: reason.into(),
        domain: DOMAIN.into(),
        metadata: metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let details = pb::rpc::Status {
        code: code as i32,
        message: "m".into(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.ErrorInfo".into(),
            value: info.encode_to_vec(),
        }],
    };
    tonic::Status::with_details(code, "m", details.encode_to_vec().into())
}

#[test]
fn www_authenticate_follows_rfc_6750_error_codes() {
    let challenge = |status: &tonic::Status| {
        www_authenticate(status, "api.example.com").map(|v| v.to_str().expect("ascii").to_owned())
    };
    assert_eq!(
        challenge(&status_with_reason(
            Code::Unauthenticated,
            "CREDENTIALS_MISSING",
            &[]
        )),
        Some(r#"Bearer realm="api.example.com""#.into())
    );
    assert_eq!(
        challenge(&status_with_reason(
            Code::Unauthenticated,
            "ACCESS_TOKEN_EXPIRED",
            &[]
        )),
        Some(r#"Bearer realm="api.example.com", error="invalid_token""#.into())
    );
    assert_eq!(
        challenge(&status_with_reason(
            Code::PermissionDenied,
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            &[("scope", "s1 s2")]
        )),
        Some(r#"Bearer realm="api.example.com", error="insufficient_scope", scope="s1 s2""#.into())
    );
    assert_eq!(
        challenge(&status_with_reason(
            Code::PermissionDenied,
            "IAM_PERMISSION_DENIED",
            &[]
        )),
        None
    );
    assert_eq!(challenge(&tonic::Status::not_found("x")), None);
}
