//! CancelOperation (docs/behaviour.md §2): asynchronous, best-effort, first
//! writer wins; the grace timer on the scenario's clock.

use std::time::Duration;

use longrun::pb::control as ctl;
use longrun::service::ServiceSettings;
use tonic::Code;

use super::client::Events;
use super::{Env, Scene, advance, next_event};
use crate::support::*;

every_transport!(
    cancel_of_an_unstarted_operation_is_done_cancelled_at_once,
    cancel_then_the_worker_acknowledges_ends_cancelled,
    cancel_then_the_worker_completes_keeps_the_response,
    cancel_with_zero_grace_ends_a_watched_operation_at_once,
    cancel_grace_expiry_ends_the_operation_cancelled,
    cancel_grace_expiry_fires_after_a_restart,
    cancel_of_a_done_operation_is_ok_and_changes_nothing,
    cancel_twice_is_ok,
    cancel_when_disabled_is_unimplemented,
    cancel_of_an_unknown_or_malformed_name_fails_clearly,
    watch_opened_after_the_cancel_request_reports_it_first,
    update_after_the_cancel_request_keeps_requested_cancellation,
);

const BY_REQUEST: &str = "operation cancelled by request";
const AFTER_GRACE: &str =
    "operation cancelled: the worker did not finish within the cancel grace period";

/// An operation a worker has started (by watching it), with `grace`.
async fn started_with_grace(s: &Scene, grace: Duration) -> (String, Box<dyn Events>) {
    let op = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(pb_duration(grace)),
            ..Default::default()
        })
        .await;
    let mut watch = s.watch(&op.name).await;
    let first = next_event(&mut watch).await;
    assert!(!first.cancel_requested);
    (op.name, watch)
}

async fn cancel_of_an_unstarted_operation_is_done_cancelled_at_once(env: Env) {
    let s = env.start_with_default_metadata().await;
    let op = s.create().await;
    s.cancel(&op.name).await.expect("cancel succeeds");
    let got = s.get(&op.name).await.expect("still exists");
    assert!(got.done);
    assert_eq!(error_code(&got), Some(1));
    assert_eq!(error_message(&got), Some(BY_REQUEST));
    let meta = metadata(&got);
    assert!(meta.requested_cancellation);
    assert!(meta.end_time.is_some());
}

async fn cancel_then_the_worker_acknowledges_ends_cancelled(env: Env) {
    let s = env.start().await;
    let (name, mut watch) = started_with_grace(&s, Duration::from_secs(60)).await;
    s.cancel(&name).await.expect("cancel succeeds");
    let event = next_event(&mut watch).await;
    assert!(event.cancel_requested, "the worker hears of the cancel");
    assert!(!event.operation.expect("operation").done);
    let running = s.get(&name).await.expect("exists");
    assert!(!running.done, "still running until the worker answers");

    let done = s.complete(&name, cancelled_by_worker()).await.expect("ack");
    assert_eq!(error_code(&done), Some(1));
    assert_eq!(error_message(&done), Some("worker stopped"));
    let last = next_event(&mut watch).await;
    assert_eq!(last.operation, Some(done));
    assert!(watch.next().await.is_none(), "the watch ends after done");
}

async fn cancel_then_the_worker_completes_keeps_the_response(env: Env) {
    let s = env.start_with_default_metadata().await;
    let (name, mut watch) = started_with_grace(&s, Duration::from_secs(60)).await;
    s.cancel(&name).await.expect("cancel succeeds");
    assert!(next_event(&mut watch).await.cancel_requested);
    let done = s
        .complete(&name, empty_response())
        .await
        .expect("complete wins");
    assert!(is_response(&done), "completed despite cancellation");
    let got = s.get(&name).await.expect("exists");
    assert_eq!(got, done);
    assert!(metadata(&got).requested_cancellation);
}

async fn cancel_with_zero_grace_ends_a_watched_operation_at_once(env: Env) {
    let s = env.start().await;
    let (name, mut watch) = started_with_grace(&s, Duration::ZERO).await;
    s.cancel(&name).await.expect("cancel succeeds");
    let event = next_event(&mut watch).await;
    assert!(event.cancel_requested);
    let op = event.operation.expect("operation");
    assert!(op.done);
    assert_eq!(error_code(&op), Some(1));
    let late = s
        .complete(&name, empty_response())
        .await
        .expect_err("done already");
    assert_eq!(late.code, Code::FailedPrecondition);
    assert_eq!(
        late.message,
        format!("operation \"{name}\" is already done")
    );
}

async fn cancel_grace_expiry_ends_the_operation_cancelled(env: Env) {
    let s = env.start().await;
    let (name, _watch) = started_with_grace(&s, Duration::from_millis(300)).await;
    s.cancel(&name).await.expect("cancel succeeds");
    advance(Duration::from_millis(299)).await;
    assert!(!s.get(&name).await.expect("exists").done, "graced");
    advance(Duration::from_millis(1)).await;
    // Nothing but the grace timer can end it: the Wait's own timeout is
    // never reached on the held clock.
    let waited = s
        .wait(&name, Some(Duration::from_secs(20)))
        .await
        .expect("wait");
    assert!(waited.done, "the grace timer ended it");
    assert_eq!(error_code(&waited), Some(1));
    assert_eq!(error_message(&waited), Some(AFTER_GRACE));
}

async fn cancel_grace_expiry_fires_after_a_restart(env: Env) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grace.db");
    let s = env.start_on_file(&path).await;
    let (name, watch) = started_with_grace(&s, Duration::from_secs(1)).await;
    s.cancel(&name).await.expect("cancel succeeds");
    drop(watch);
    s.stop().await;

    let restarted = env.start_on_file(&path).await;
    let before = restarted.get(&name).await.expect("persisted");
    assert!(!before.done, "the grace has not run out yet");
    advance(Duration::from_secs(1)).await;
    let waited = restarted
        .wait(&name, Some(Duration::from_secs(20)))
        .await
        .expect("wait");
    assert!(waited.done, "the stored deadline fired after the restart");
    assert_eq!(error_message(&waited), Some(AFTER_GRACE));
}

async fn cancel_of_a_done_operation_is_ok_and_changes_nothing(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let done = s
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    s.cancel(&op.name).await.expect("cancel of done is OK");
    assert_eq!(s.get(&op.name).await.expect("exists"), done);
}

async fn cancel_twice_is_ok(env: Env) {
    let s = env.start().await;
    let (name, _watch) = started_with_grace(&s, Duration::from_secs(60)).await;
    s.cancel(&name).await.expect("first");
    let after_first = s.get(&name).await.expect("exists");
    s.cancel(&name).await.expect("second");
    assert_eq!(s.get(&name).await.expect("exists"), after_first);
}

async fn cancel_when_disabled_is_unimplemented(env: Env) {
    let s = env
        .start_with(ServiceSettings {
            cancel_enabled: false,
            ..ServiceSettings::default()
        })
        .await;
    let op = s.create().await;
    let err = s.cancel(&op.name).await.expect_err("disabled");
    assert_eq!(err.code, Code::Unimplemented);
    assert_eq!(err.reason(), "CANCEL_DISABLED");
    assert_eq!(
        err.message,
        "cancelling operations is disabled on this server"
    );
    assert!(!s.get(&op.name).await.expect("exists").done);
}

async fn cancel_of_an_unknown_or_malformed_name_fails_clearly(env: Env) {
    let s = env.start().await;
    let name = format!("{PARENT}/operations/nope");
    let missing = s.cancel(&name).await.expect_err("unknown");
    assert_eq!(missing.code, Code::NotFound);
    assert_eq!(missing.message, format!("operation \"{name}\" not found"));
    let bad = format!("{PARENT}/operations/no pe");
    let malformed = s.cancel(&bad).await.expect_err("malformed");
    assert_eq!(malformed.code, Code::InvalidArgument);
    assert_eq!(malformed.reason(), "INVALID_NAME");
    assert_eq!(
        malformed.message,
        super::get_delete::invalid_name_message(&bad)
    );
}

async fn watch_opened_after_the_cancel_request_reports_it_first(env: Env) {
    let s = env.start().await;
    let (name, watch) = started_with_grace(&s, Duration::from_secs(60)).await;
    drop(watch);
    s.cancel(&name).await.expect("cancel");
    let mut late = s.watch(&name).await;
    assert!(next_event(&mut late).await.cancel_requested);
}

async fn update_after_the_cancel_request_keeps_requested_cancellation(env: Env) {
    let s = env.start().await;
    let (name, _watch) = started_with_grace(&s, Duration::from_secs(60)).await;
    s.cancel(&name).await.expect("cancel");
    let fresh = ctl::OperationMetadata {
        status_message: "still going".into(),
        ..Default::default()
    };
    let updated = s
        .update(&name, Some(longrun_metadata(&fresh)))
        .await
        .expect("update");
    let meta = metadata(&updated);
    assert!(meta.requested_cancellation);
    assert_eq!(meta.status_message, "still going");
    assert!(meta.create_time.is_some(), "the server keeps create_time");
}
