//! WatchOperation (docs/behaviour.md §4): the current state first, then
//! each change, then the end.

use longrun::pb::control as ctl;
use tonic::Code;

use super::{Env, next_event};
use crate::support::*;

every_transport!(
    watch_sends_the_current_state_then_each_change_then_ends,
    watch_of_a_deleted_operation_ends_with_not_found,
    watch_of_an_unknown_operation_is_not_found,
);

async fn watch_sends_the_current_state_then_each_change_then_ends(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let mut watch = s.watch(&op.name).await;
    let first = next_event(&mut watch).await;
    assert_eq!(first.operation.expect("op").name, op.name);
    assert!(!first.cancel_requested);

    let progress = ctl::OperationMetadata {
        status_message: "halfway".into(),
        ..Default::default()
    };
    let updated = s
        .update(&op.name, Some(longrun_metadata(&progress)))
        .await
        .expect("update");
    let second = next_event(&mut watch).await;
    assert_eq!(second.operation, Some(updated));
    assert_eq!(
        metadata(second.operation.as_ref().expect("op")).status_message,
        "halfway"
    );

    let done = s
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    assert_eq!(next_event(&mut watch).await.operation, Some(done));
    assert!(watch.next().await.is_none(), "the stream ends after done");
}

async fn watch_of_a_deleted_operation_ends_with_not_found(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let mut watch = s.watch(&op.name).await;
    next_event(&mut watch).await;
    s.client.delete(&op.name).await.expect("delete");
    let end = watch.next().await.expect("an end").expect_err("an error");
    assert_eq!(end.code, Code::NotFound);
    assert_eq!(end.reason(), "OPERATION_NOT_FOUND");
    assert_eq!(end.message, format!("operation \"{}\" not found", op.name));
}

async fn watch_of_an_unknown_operation_is_not_found(env: Env) {
    let s = env.start().await;
    let name = format!("{PARENT}/operations/missing");
    let Err(err) = s.client.watch(&name).await else {
        panic!("a watch of nothing must not open");
    };
    assert_eq!(err.code, Code::NotFound);
    assert_eq!(err.metadata("operation"), Some(name.as_str()));
}
