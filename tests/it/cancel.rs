//! CancelOperation (docs/behaviour.md §2): asynchronous, best-effort, first writer wins.

use std::time::Duration;

use longrun::service::ServiceSettings;
use tonic::Code;

use crate::support::*;
use longrun::pb::control as ctl;

async fn started_with_grace(
    server: &TestServer,
    grace: Duration,
) -> (String, tonic::Streaming<ctl::OperationEvent>) {
    let op = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(pb_duration(grace)),
            ..Default::default()
        })
        .await;
    let mut watch = server.watch(&op.name).await;
    let first = next_event(&mut watch).await;
    assert!(!first.cancel_requested);
    (op.name, watch)
}

#[tokio::test]
async fn cancel_of_unstarted_operation_is_done_cancelled_at_once() {
    let server = TestServer::with_default_metadata().await;
    let op = server.create().await;
    server.cancel(&op.name).await.expect("cancel succeeds");
    let got = server.get(&op.name).await.expect("still exists");
    assert!(got.done);
    assert_eq!(error_code(&got), Some(1));
    let meta = metadata(&got);
    assert!(meta.requested_cancellation);
    assert!(meta.end_time.is_some());
}

#[tokio::test]
async fn cancel_then_worker_acknowledges_ends_cancelled() {
    let server = TestServer::start().await;
    let (name, mut watch) = started_with_grace(&server, Duration::from_secs(60)).await;
    server.cancel(&name).await.expect("cancel succeeds");
    let event = next_event(&mut watch).await;
    assert!(event.cancel_requested, "the worker hears of the cancel");
    assert!(!event.operation.expect("operation").done);
    assert!(
        !server.get(&name).await.expect("exists").done,
        "still running until the worker answers"
    );

    let done = server
        .complete(&name, cancelled_by_worker())
        .await
        .expect("ack");
    assert_eq!(error_code(&done), Some(1));
    let last = next_event(&mut watch).await;
    assert!(last.operation.expect("operation").done);
    assert!(
        watch.message().await.expect("clean end").is_none(),
        "watch ends after done"
    );
}

#[tokio::test]
async fn cancel_then_worker_completes_keeps_the_response() {
    let server = TestServer::with_default_metadata().await;
    let (name, mut watch) = started_with_grace(&server, Duration::from_secs(60)).await;
    server.cancel(&name).await.expect("cancel succeeds");
    assert!(next_event(&mut watch).await.cancel_requested);
    let done = server
        .complete(&name, empty_response())
        .await
        .expect("complete wins");
    assert!(is_response(&done), "completed despite cancellation");
    let got = server.get(&name).await.expect("exists");
    assert!(is_response(&got));
    assert!(metadata(&got).requested_cancellation);
}

#[tokio::test]
async fn cancel_with_zero_grace_ends_a_watched_operation_at_once() {
    let server = TestServer::start().await;
    let (name, mut watch) = started_with_grace(&server, Duration::ZERO).await;
    server.cancel(&name).await.expect("cancel succeeds");
    let event = next_event(&mut watch).await;
    assert!(event.cancel_requested);
    let op = event.operation.expect("operation");
    assert!(op.done);
    assert_eq!(error_code(&op), Some(1));
    let late = server
        .complete(&name, empty_response())
        .await
        .expect_err("done already");
    assert_eq!(late.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn cancel_grace_expiry_ends_the_operation_cancelled() {
    let server = TestServer::start().await;
    let (name, _watch) = started_with_grace(&server, Duration::from_millis(300)).await;
    server.cancel(&name).await.expect("cancel succeeds");
    let waited = server
        .wait(&name, Some(Duration::from_secs(20)))
        .await
        .expect("wait");
    assert!(waited.done, "the grace timer ended it");
    assert_eq!(error_code(&waited), Some(1));
}

#[tokio::test]
async fn cancel_grace_expiry_fires_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grace.db");
    let server = TestServer::on_file(&path, ServiceSettings::default()).await;
    let (name, _watch) = started_with_grace(&server, Duration::from_secs(1)).await;
    server.cancel(&name).await.expect("cancel succeeds");
    server.stop().await;

    let restarted = TestServer::on_file(&path, ServiceSettings::default()).await;
    let before = restarted.get(&name).await.expect("persisted");
    assert!(!before.done, "the grace has not run out yet");
    let waited = restarted
        .wait(&name, Some(Duration::from_secs(20)))
        .await
        .expect("wait");
    assert!(waited.done, "the stored deadline fired after the restart");
    assert_eq!(error_code(&waited), Some(1));
}

#[tokio::test]
async fn cancel_on_done_operation_is_ok_and_changes_nothing() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let done = server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    server.cancel(&op.name).await.expect("cancel of done is OK");
    assert_eq!(server.get(&op.name).await.expect("exists"), done);
}

#[tokio::test]
async fn cancel_twice_is_ok() {
    let server = TestServer::start().await;
    let (name, _watch) = started_with_grace(&server, Duration::from_secs(60)).await;
    server.cancel(&name).await.expect("first");
    let after_first = server.get(&name).await.expect("exists");
    server.cancel(&name).await.expect("second");
    assert_eq!(server.get(&name).await.expect("exists"), after_first);
}

#[tokio::test]
async fn cancel_when_disabled_is_unimplemented() {
    let server = TestServer::with_settings(ServiceSettings {
        cancel_enabled: false,
        ..ServiceSettings::default()
    })
    .await;
    let op = server.create().await;
    let err = server.cancel(&op.name).await.expect_err("disabled");
    assert_eq!(err.code(), Code::Unimplemented);
    assert_eq!(reason(&err), "CANCEL_DISABLED");
    assert!(!server.get(&op.name).await.expect("exists").done);
}

#[tokio::test]
async fn cancel_of_unknown_or_malformed_name_fails_clearly() {
    let server = TestServer::start().await;
    let missing = server
        .cancel(&format!("{PARENT}/operations/nope"))
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    let malformed = server
        .cancel("operations/nope")
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(reason(&malformed), "INVALID_NAME");
}

#[tokio::test]
async fn watch_opened_after_cancel_request_reports_it_first() {
    let server = TestServer::start().await;
    let (name, watch) = started_with_grace(&server, Duration::from_secs(60)).await;
    drop(watch);
    server.cancel(&name).await.expect("cancel");
    let mut late = server.watch(&name).await;
    assert!(next_event(&mut late).await.cancel_requested);
}

#[tokio::test]
async fn update_after_cancel_request_keeps_requested_cancellation() {
    let server = TestServer::start().await;
    let (name, _watch) = started_with_grace(&server, Duration::from_secs(60)).await;
    server.cancel(&name).await.expect("cancel");
    let fresh = ctl::OperationMetadata {
        status_message: "still going".into(),
        ..Default::default()
    };
    let updated = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: name.clone(),
            metadata: Some(prost_types::Any {
                type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
                value: prost::Message::encode_to_vec(&fresh),
            }),
        })
        .await
        .expect("update")
        .into_inner();
    let meta = metadata(&updated);
    assert!(meta.requested_cancellation);
    assert_eq!(meta.status_message, "still going");
    assert!(meta.create_time.is_some(), "the server keeps create_time");
}
