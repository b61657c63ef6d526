//! UpdateOperation and CompleteOperation (docs/behaviour.md §4, §5): the
//! first result stands, and the metadata fields the server keeps stay its
//! own.

use longrun::pb::{control as ctl, rpc};
use tonic::Code;

use super::Env;
use crate::support::*;

every_transport!(
    complete_twice_is_failed_precondition_and_keeps_the_first_result,
    complete_without_result_or_with_code_zero_is_invalid_argument,
    update_after_done_is_failed_precondition,
    metadata_times_do_not_change_when_the_worker_updates,
    update_without_metadata_keeps_the_producers_metadata_for_a_later_cancel,
    update_with_metadata_replaces_it_and_the_server_keeps_its_fields,
);

fn already_done(name: &str) -> String {
    format!("operation \"{name}\" is already done")
}

async fn complete_twice_is_failed_precondition_and_keeps_the_first_result(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let first = s.complete(&op.name, empty_response()).await.expect("first");
    let err = s
        .complete(&op.name, cancelled_by_worker())
        .await
        .expect_err("second");
    assert_eq!(err.code, Code::FailedPrecondition);
    assert_eq!(err.reason(), "OPERATION_ALREADY_DONE");
    assert_eq!(err.message, already_done(&op.name));
    assert_eq!(s.get(&op.name).await.expect("get"), first);
}

async fn complete_without_result_or_with_code_zero_is_invalid_argument(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let none = s
        .client
        .complete(ctl::CompleteOperationRequest {
            name: op.name.clone(),
            result: None,
        })
        .await
        .expect_err("no result");
    assert_eq!(none.code, Code::InvalidArgument);
    assert_eq!(none.reason(), "INVALID_ARGUMENT");
    assert_eq!(none.metadata("field"), Some("result"));
    let zero = s
        .complete(
            &op.name,
            ctl::complete_operation_request::Result::Error(rpc::Status::default()),
        )
        .await
        .expect_err("code 0 is not an error");
    assert_eq!(zero.code, Code::InvalidArgument);
    assert_eq!(zero.metadata("field"), Some("error.code"));
    assert_eq!(s.get(&op.name).await.expect("get"), op, "nothing changed");
}

async fn update_after_done_is_failed_precondition(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let done = s
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let err = s.update(&op.name, None).await.expect_err("done");
    assert_eq!(err.code, Code::FailedPrecondition);
    assert_eq!(err.message, already_done(&op.name));
    assert_eq!(s.get(&op.name).await.expect("get"), done);
}

async fn metadata_times_do_not_change_when_the_worker_updates(env: Env) {
    let s = env.start_with_default_metadata().await;
    let created = s.create().await;
    let before = metadata(&created).create_time.expect("create_time");
    assert_eq!(
        before.nanos % 1_000,
        0,
        "times are kept to the microsecond, as stored"
    );
    let blank = longrun_metadata(&ctl::OperationMetadata::default());
    let updated = s.update(&created.name, Some(blank)).await.expect("update");
    assert_eq!(metadata(&updated).create_time, Some(before));
    let done = s
        .complete(&created.name, empty_response())
        .await
        .expect("complete");
    assert_eq!(metadata(&done).create_time, Some(before));
    assert_eq!(
        s.get(&created.name).await.expect("get"),
        done,
        "what Complete returned is what is stored"
    );
}

/// longrun's own metadata with a verb, as a producer sends it.
fn producer_metadata(verb: &str) -> prost_types::Any {
    longrun_metadata(&ctl::OperationMetadata {
        verb: verb.into(),
        target: "projects/test/builds/7".into(),
        ..Default::default()
    })
}

async fn update_without_metadata_keeps_the_producers_metadata_for_a_later_cancel(env: Env) {
    let s = env.start().await;
    let created = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(producer_metadata("build")),
            ..Default::default()
        })
        .await;
    let heartbeat = s.update(&created.name, None).await.expect("heartbeat");
    assert_eq!(heartbeat.metadata, created.metadata, "nothing erased");

    s.cancel(&created.name).await.expect("cancel");
    let asked = s.get(&created.name).await.expect("get");
    assert!(!asked.done, "the update marked the work started");
    let meta = metadata(&asked);
    assert!(meta.requested_cancellation, "the cancel is recorded");
    assert_eq!(meta.verb, "build");
    assert_eq!(meta.target, "projects/test/builds/7");
}

async fn update_with_metadata_replaces_it_and_the_server_keeps_its_fields(env: Env) {
    let s = env.start().await;
    let created = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(producer_metadata("build")),
            ..Default::default()
        })
        .await;
    let created_at = metadata(&created).create_time;
    assert!(created_at.is_some());
    let replaced = s
        .update(&created.name, Some(producer_metadata("deploy")))
        .await
        .expect("update");
    let meta = metadata(&replaced);
    assert_eq!(meta.verb, "deploy", "the worker's metadata replaces it");
    assert_eq!(
        meta.create_time, created_at,
        "create_time stays the server's"
    );
}
