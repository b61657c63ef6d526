//! CreateOperation (docs/behaviour.md §4): names, metadata, idempotent
//! retries, refusals, and ids freed by retention.

use std::time::Duration;

use longrun::pb::control as ctl;
use longrun::service::ServiceSettings;
use tonic::Code;

use super::Env;
use crate::support::*;

every_transport!(
    create_without_metadata_makes_a_url_safe_name_and_no_metadata,
    create_without_metadata_gets_the_default_type_when_one_is_set,
    create_with_metadata_keeps_the_producers_type_despite_a_default,
    create_with_the_same_request_id_returns_the_same_operation,
    create_with_a_taken_id_and_no_matching_request_id_is_already_exists,
    create_with_bad_input_is_invalid_argument,
    expired_operation_frees_its_id_before_the_purge_runs,
);
// A parent with too few segments has no REST path (404 ROUTE_NOT_FOUND).
grpc_transports!(create_under_a_parent_outside_the_pattern_is_invalid_argument);

async fn create_without_metadata_makes_a_url_safe_name_and_no_metadata(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let id = op
        .name
        .strip_prefix(&format!("{PARENT}/operations/"))
        .expect("under parent");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{id}"
    );
    assert!(!op.done);
    assert_eq!(
        op.metadata, None,
        "no type of ours that clients cannot read"
    );
    assert_eq!(s.get(&op.name).await.expect("get"), op);
}

async fn create_without_metadata_gets_the_default_type_when_one_is_set(env: Env) {
    let s = env.start_with_default_metadata().await;
    let op = s.create().await;
    let meta = metadata(&op);
    assert!(meta.create_time.is_some(), "the server stamps create_time");
    assert!(meta.end_time.is_none());
    assert!(!meta.requested_cancellation);
    assert_eq!(s.get(&op.name).await.expect("get"), op);
}

async fn create_with_metadata_keeps_the_producers_type_despite_a_default(env: Env) {
    let s = env.start_with_default_metadata().await;
    let own = prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.Duration".into(),
        value: prost::Message::encode_to_vec(&prost_types::Duration {
            seconds: 7,
            nanos: 0,
        }),
    };
    let op = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(own.clone()),
            ..Default::default()
        })
        .await;
    assert_eq!(op.metadata, Some(own));
}

async fn create_with_the_same_request_id_returns_the_same_operation(env: Env) {
    let s = env.start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        request_id: "retry-key-1".into(),
        ..Default::default()
    };
    let first = s.create_with(request.clone()).await;
    let retry = s.create_with(request).await;
    assert_eq!(first, retry);
}

async fn create_with_a_taken_id_and_no_matching_request_id_is_already_exists(env: Env) {
    let s = env.start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "build-1".into(),
        request_id: "a".into(),
        ..Default::default()
    };
    let first = s.create_with(request.clone()).await;
    let name = format!("{PARENT}/operations/build-1");
    assert_eq!(first.name, name);
    let again = s.create_with(request.clone()).await;
    assert_eq!(again, first, "same id and same request_id is a retry");
    for other in ["b", ""] {
        let err = s
            .client
            .create(ctl::CreateOperationRequest {
                request_id: other.into(),
                ..request.clone()
            })
            .await
            .expect_err("taken");
        assert_eq!(err.code, Code::AlreadyExists);
        assert_eq!(err.reason(), "OPERATION_ALREADY_EXISTS");
        assert_eq!(err.message, format!("operation \"{name}\" already exists"));
        assert_eq!(err.metadata("operation"), Some(name.as_str()));
    }
}

/// Each request is refused with `reason`, and the message names `field`.
async fn assert_refused(s: &super::Scene, cases: Vec<(ctl::CreateOperationRequest, &str, &str)>) {
    for (request, reason, names) in cases {
        let err = s
            .client
            .create(request.clone())
            .await
            .expect_err("rejected");
        assert_eq!(err.code, Code::InvalidArgument, "{request:?}");
        assert_eq!(err.reason(), reason, "{request:?}");
        assert!(err.message.contains(names), "{request:?}: {}", err.message);
    }
}

async fn create_with_bad_input_is_invalid_argument(env: Env) {
    let s = env.start().await;
    let create = |edit: fn(&mut ctl::CreateOperationRequest)| {
        let mut request = ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        };
        edit(&mut request);
        request
    };
    let cases = vec![
        (
            create(|r| r.parent = "projects/p/locations/-".into()),
            "INVALID_NAME",
            "invalid parent \"projects/p/locations/-\"",
        ),
        (
            create(|r| r.operation_id = "Bad_ID".into()),
            "INVALID_NAME",
            "invalid operation_id \"Bad_ID\"",
        ),
        (
            create(|r| {
                r.cancel_grace = Some(prost_types::Duration {
                    seconds: -1,
                    nanos: 0,
                })
            }),
            "INVALID_DURATION",
            "invalid cancel_grace: must not be negative",
        ),
        (
            create(|r| r.request_id = "has space".into()),
            "INVALID_NAME",
            "invalid request_id \"has space\"",
        ),
    ];
    assert_refused(&s, cases).await;
}

async fn create_under_a_parent_outside_the_pattern_is_invalid_argument(env: Env) {
    let s = env.start().await;
    let request = ctl::CreateOperationRequest {
        parent: "projects/p".into(),
        ..Default::default()
    };
    assert_refused(
        &s,
        vec![(request, "INVALID_NAME", "invalid parent \"projects/p\"")],
    )
    .await;
}

async fn expired_operation_frees_its_id_before_the_purge_runs(env: Env) {
    let s = env
        .start_with(ServiceSettings {
            retention: Duration::ZERO,
            ..Default::default()
        })
        .await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "short-lived".into(),
        ..Default::default()
    };
    let first = s.create_with(request.clone()).await;
    s.complete(&first.name, empty_response())
        .await
        .expect("complete");
    let gone = s.get(&first.name).await.expect_err("expired at once");
    assert_eq!(gone.code, Code::NotFound);
    let again = s.create_with(request).await;
    assert_eq!(again.name, first.name);
    assert!(!again.done, "a new operation, not the expired one");
}
