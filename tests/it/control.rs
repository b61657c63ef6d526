//! The control API (docs/behaviour.md §4): Create, Update, Complete, Watch.

use std::time::Duration;

use longrun::pb::{control as ctl, rpc};
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn create_without_metadata_makes_a_url_safe_name_and_no_metadata() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let id = op
        .name
        .strip_prefix(&format!("{PARENT}/operations/"))
        .expect("under parent");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    assert!(!op.done);
    assert_eq!(
        op.metadata, None,
        "no type of ours that clients cannot read"
    );
    assert_eq!(server.get(&op.name).await.expect("get"), op);
}

#[tokio::test]
async fn create_without_metadata_gets_the_default_type_when_one_is_set() {
    let server = TestServer::with_default_metadata().await;
    let op = server.create().await;
    let meta = metadata(&op);
    assert!(meta.create_time.is_some(), "the server stamps create_time");
    assert!(meta.end_time.is_none());
    assert!(!meta.requested_cancellation);
    assert_eq!(server.get(&op.name).await.expect("get"), op);
}

#[tokio::test]
async fn create_with_metadata_keeps_the_producers_type_despite_a_default() {
    let server = TestServer::with_default_metadata().await;
    let own = prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.Duration".into(),
        value: prost::Message::encode_to_vec(&prost_types::Duration {
            seconds: 7,
            nanos: 0,
        }),
    };
    let op = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(own.clone()),
            ..Default::default()
        })
        .await;
    assert_eq!(op.metadata, Some(own));
}

#[tokio::test]
async fn server_with_an_unknown_default_metadata_type_refuses_to_start() {
    let settings = longrun::service::ServiceSettings {
        default_metadata_type: Some("myapi.v1.OperationMetadata".into()),
        ..Default::default()
    };
    let config = config("sqlite::memory:".into(), settings);
    let Err(err) = longrun::server::start(config).await else {
        panic!("a type the server cannot decode must be refused");
    };
    let message = err.to_string();
    assert!(
        message.contains("\"myapi.v1.OperationMetadata\""),
        "{message}"
    );
    assert!(message.contains("descriptor set"), "{message}");
}

#[tokio::test]
async fn create_with_same_request_id_returns_the_same_operation() {
    let server = TestServer::start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        request_id: "retry-key-1".into(),
        ..Default::default()
    };
    let first = server.create_with(request.clone()).await;
    let retry = server.create_with(request).await;
    assert_eq!(first, retry);
}

#[tokio::test]
async fn create_with_taken_id_and_no_matching_request_id_is_already_exists() {
    let server = TestServer::start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "build-1".into(),
        request_id: "a".into(),
        ..Default::default()
    };
    let first = server.create_with(request.clone()).await;
    assert_eq!(first.name, format!("{PARENT}/operations/build-1"));
    let again = server.create_with(request.clone()).await;
    assert_eq!(again, first, "same id and same request_id is a retry");
    for other in ["b", ""] {
        let err = server
            .control
            .clone()
            .create_operation(ctl::CreateOperationRequest {
                request_id: other.into(),
                ..request.clone()
            })
            .await
            .expect_err("taken");
        assert_eq!(err.code(), Code::AlreadyExists);
        assert_eq!(reason(&err), "OPERATION_ALREADY_EXISTS");
    }
}

#[tokio::test]
async fn create_with_bad_input_is_invalid_argument() {
    let server = TestServer::start().await;
    let cases = [
        ctl::CreateOperationRequest {
            parent: "projects/p".into(),
            ..Default::default()
        },
        ctl::CreateOperationRequest {
            parent: "projects/p/locations/-".into(),
            ..Default::default()
        },
        ctl::CreateOperationRequest {
            parent: PARENT.into(),
            operation_id: "Bad_ID".into(),
            ..Default::default()
        },
        ctl::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(prost_types::Duration {
                seconds: -1,
                nanos: 0,
            }),
            ..Default::default()
        },
        ctl::CreateOperationRequest {
            parent: PARENT.into(),
            request_id: "has space".into(),
            ..Default::default()
        },
    ];
    for request in cases {
        let err = server
            .control
            .clone()
            .create_operation(request.clone())
            .await
            .expect_err("rejected");
        assert_eq!(err.code(), Code::InvalidArgument, "{request:?}");
        assert!(!reason(&err).is_empty());
    }
}

#[tokio::test]
async fn complete_twice_is_failed_precondition_and_keeps_the_first_result() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let first = server
        .complete(&op.name, empty_response())
        .await
        .expect("first");
    let err = server
        .complete(&op.name, cancelled_by_worker())
        .await
        .expect_err("second");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "OPERATION_ALREADY_DONE");
    assert_eq!(server.get(&op.name).await.expect("get"), first);
}

#[tokio::test]
async fn complete_without_result_or_with_code_zero_is_invalid_argument() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let none = server
        .control
        .clone()
        .complete_operation(ctl::CompleteOperationRequest {
            name: op.name.clone(),
            result: None,
        })
        .await
        .expect_err("no result");
    assert_eq!(none.code(), Code::InvalidArgument);
    let zero = server
        .complete(
            &op.name,
            ctl::complete_operation_request::Result::Error(rpc::Status::default()),
        )
        .await
        .expect_err("code 0 is not an error");
    assert_eq!(zero.code(), Code::InvalidArgument);
    assert!(
        !server.get(&op.name).await.expect("get").done,
        "nothing changed"
    );
}

#[tokio::test]
async fn update_after_done_is_failed_precondition() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let done = server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let err = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: op.name.clone(),
            metadata: None,
        })
        .await
        .expect_err("done");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(server.get(&op.name).await.expect("get"), done);
}

#[tokio::test]
async fn watch_sends_current_state_then_each_change_then_ends() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let mut watch = server.watch(&op.name).await;
    let first = next_event(&mut watch).await;
    assert_eq!(first.operation.expect("op").name, op.name);

    let progress = ctl::OperationMetadata {
        status_message: "halfway".into(),
        ..Default::default()
    };
    server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: op.name.clone(),
            metadata: Some(prost_types::Any {
                type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
                value: prost::Message::encode_to_vec(&progress),
            }),
        })
        .await
        .expect("update");
    let second = next_event(&mut watch).await;
    assert_eq!(
        metadata(&second.operation.expect("op")).status_message,
        "halfway"
    );

    server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let last = next_event(&mut watch).await;
    assert!(last.operation.expect("op").done);
    let end = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("ends promptly");
    assert!(matches!(end, Ok(None)), "stream ends after done: {end:?}");
}

#[tokio::test]
async fn watch_of_deleted_operation_ends_with_not_found() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let mut watch = server.watch(&op.name).await;
    next_event(&mut watch).await;
    server
        .ops
        .clone()
        .delete_operation(longrun::pb::longrunning::DeleteOperationRequest {
            name: op.name.clone(),
        })
        .await
        .expect("delete");
    let end = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("ends promptly");
    assert_eq!(end.expect_err("error").code(), Code::NotFound);
}

#[tokio::test]
async fn public_listener_does_not_serve_the_control_api() {
    let server = TestServer::start().await;
    let mut wrong = ctl::operations_control_client::OperationsControlClient::new(
        channel(server.server.public_addr).await,
    );
    let err = wrong
        .create_operation(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect_err("not served");
    assert_eq!(err.code(), Code::Unimplemented);
}

#[tokio::test]
async fn expired_operation_frees_its_id_before_the_purge_runs() {
    let server = TestServer::with_settings(longrun::service::ServiceSettings {
        retention: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "short-lived".into(),
        ..Default::default()
    };
    let first = server.create_with(request.clone()).await;
    server
        .complete(&first.name, empty_response())
        .await
        .expect("complete");
    let gone = server.get(&first.name).await.expect_err("expired at once");
    assert_eq!(gone.code(), Code::NotFound);
    let again = server.create_with(request).await;
    assert_eq!(again.name, first.name);
    assert!(!again.done, "a new operation, not the expired one");
}

#[tokio::test]
async fn metadata_times_do_not_change_when_the_worker_updates() {
    let server = TestServer::with_default_metadata().await;
    let created = server.create().await;
    let before = metadata(&created).create_time.expect("create_time");
    assert_eq!(
        before.nanos % 1_000,
        0,
        "times are kept to the microsecond, as stored"
    );
    let updated = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: created.name.clone(),
            metadata: Some(prost_types::Any {
                type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
                value: prost::Message::encode_to_vec(&ctl::OperationMetadata::default()),
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(metadata(&updated).create_time, Some(before));
    let done = server
        .complete(&created.name, empty_response())
        .await
        .expect("complete");
    assert_eq!(metadata(&done).create_time, Some(before));
    assert_eq!(
        server.get(&created.name).await.expect("get"),
        done,
        "what Complete returned is what is stored"
    );
}

/// longrun's own metadata with a verb, as a producer sends it.
fn producer_metadata(verb: &str) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{LONGRUN_METADATA}"),
        value: prost::Message::encode_to_vec(&ctl::OperationMetadata {
            verb: verb.into(),
            target: "projects/test/builds/7".into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn update_without_metadata_keeps_the_producers_metadata_for_a_later_cancel() {
    let server = TestServer::start().await;
    let created = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(producer_metadata("build")),
            ..Default::default()
        })
        .await;
    let heartbeat = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: created.name.clone(),
            metadata: None,
        })
        .await
        .expect("heartbeat")
        .into_inner();
    assert_eq!(heartbeat.metadata, created.metadata, "nothing erased");

    server.cancel(&created.name).await.expect("cancel");
    let asked = server.get(&created.name).await.expect("get");
    assert!(!asked.done, "the update marked the work started");
    let meta = metadata(&asked);
    assert!(meta.requested_cancellation, "the cancel is recorded");
    assert_eq!(meta.verb, "build");
    assert_eq!(meta.target, "projects/test/builds/7");
}

#[tokio::test]
async fn update_with_metadata_replaces_it_and_the_server_keeps_its_fields() {
    let server = TestServer::start().await;
    let created = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(producer_metadata("build")),
            ..Default::default()
        })
        .await;
    let created_at = metadata(&created).create_time;
    assert!(created_at.is_some());
    let replaced = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: created.name.clone(),
            metadata: Some(producer_metadata("deploy")),
        })
        .await
        .expect("update")
        .into_inner();
    let meta = metadata(&replaced);
    assert_eq!(meta.verb, "deploy", "the worker's metadata replaces it");
    assert_eq!(
        meta.create_time, created_at,
        "create_time stays the server's"
    );
}
