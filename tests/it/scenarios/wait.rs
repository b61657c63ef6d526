//! WaitOperation (docs/behaviour.md §2): woken by a change, or ended by the
//! shortest of its timeout, the call's deadline and the server's cap, with
//! the latest state; never DEADLINE_EXCEEDED.

use std::time::Duration;

use longrun::pb::longrunning as lro;
use longrun::service::ServiceSettings;
use tokio::time::Instant;
use tonic::Code;

use super::{CallOptions, Deadline, Env, Scene, advance};
use crate::support::{empty_response, is_response};

every_transport!(
    wait_is_woken_by_a_complete_without_time_passing,
    wait_returns_the_running_state_at_its_timeout,
    wait_returns_the_running_state_before_the_calls_deadline,
    wait_is_capped_by_the_server,
    wait_on_done_returns_at_once_and_negative_timeout_is_invalid,
    waits_beyond_the_server_limit_are_resource_exhausted,
    delete_ends_an_open_wait_with_not_found,
    shutdown_ends_open_waits_with_the_latest_state,
);

async fn wait_is_woken_by_a_complete_without_time_passing(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let started = Instant::now();
    let waiter = s.spawn_wait(&op.name, Duration::from_secs(30)).await;
    s.complete(&op.name, empty_response())
        .await
        .expect("complete");
    let waited = waiter.await.expect("joins").expect("wait succeeds");
    assert!(waited.done && is_response(&waited));
    assert_eq!(started.elapsed(), Duration::ZERO, "woken, not timed out");
}

/// Moves the clock to just before `end`, checks that the Wait is still
/// held, then to `end`.
async fn held_until(s: &Scene, end: Duration) {
    advance(end - Duration::from_millis(1)).await;
    assert_eq!(
        s.server.core().notifier().watched_count(),
        1,
        "the Wait is still held"
    );
    advance(Duration::from_millis(1)).await;
}

async fn wait_returns_the_running_state_at_its_timeout(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let waiter = s.spawn_wait(&op.name, Duration::from_millis(200)).await;
    held_until(&s, Duration::from_millis(200)).await;
    let waited = waiter
        .await
        .expect("joins")
        .expect("no error at the timeout");
    assert_eq!(waited, op, "the latest state, still running");
}

async fn wait_returns_the_running_state_before_the_calls_deadline(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let client = s.client.with(CallOptions {
        deadline: Some(Deadline::After(Duration::from_millis(400))),
        ..CallOptions::default()
    });
    let waiter = s
        .spawn_wait_over(client, &op.name, Duration::from_secs(30))
        .await;
    // It answers a tenth of the time left before the deadline, so the
    // answer reaches the caller before its own timer fires.
    held_until(&s, Duration::from_millis(360)).await;
    let waited = waiter
        .await
        .expect("joins")
        .expect("the latest state, not DEADLINE_EXCEEDED");
    assert_eq!(waited, op);
}

async fn wait_is_capped_by_the_server(env: Env) {
    let s = env
        .start_with(ServiceSettings {
            wait_cap: Duration::from_secs(2),
            ..ServiceSettings::default()
        })
        .await;
    let op = s.create().await;
    let waiter = s.spawn_wait(&op.name, Duration::from_secs(60)).await;
    held_until(&s, Duration::from_secs(2)).await;
    let waited = waiter.await.expect("joins").expect("capped wait");
    assert!(!waited.done);
}

async fn wait_on_done_returns_at_once_and_negative_timeout_is_invalid(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let zero = s.wait(&op.name, Some(Duration::ZERO)).await.expect("zero");
    assert!(!zero.done);
    let done = s
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let waited = s
        .wait(&op.name, Some(Duration::from_secs(60)))
        .await
        .expect("done");
    assert_eq!(waited, done, "at once: no time has passed");
    let negative = s
        .client
        .wait(lro::WaitOperationRequest {
            name: op.name.clone(),
            timeout: Some(prost_types::Duration {
                seconds: -5,
                nanos: 0,
            }),
        })
        .await
        .expect_err("negative");
    assert_eq!(negative.code, Code::InvalidArgument);
    assert_eq!(negative.reason(), "INVALID_DURATION");
    assert_eq!(negative.metadata("field"), Some("timeout"));
    assert_eq!(negative.message, "invalid timeout: must not be negative");
}

async fn waits_beyond_the_server_limit_are_resource_exhausted(env: Env) {
    let s = env
        .start_with(ServiceSettings {
            max_waiters: 1,
            ..ServiceSettings::default()
        })
        .await;
    let op = s.create().await;
    let holder = s.spawn_wait(&op.name, Duration::from_secs(30)).await;
    let refused = s
        .wait(&op.name, Some(Duration::from_secs(1)))
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code, Code::ResourceExhausted);
    assert_eq!(refused.reason(), "TOO_MANY_WAITERS");
    assert_eq!(
        refused.message,
        "too many open waits and watches on this server; retry later"
    );
    s.complete(&op.name, empty_response())
        .await
        .expect("complete");
    assert!(holder.await.expect("joins").expect("answered").done);
    // The place is free again once the first Wait returned.
    let admitted = s.wait(&op.name, Some(Duration::ZERO)).await;
    assert!(admitted.expect("admitted").done);
}

async fn delete_ends_an_open_wait_with_not_found(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let waiter = s.spawn_wait(&op.name, Duration::from_secs(30)).await;
    s.client.delete(&op.name).await.expect("delete");
    let ended = waiter.await.expect("joins").expect_err("deleted");
    assert_eq!(ended.code, Code::NotFound);
    assert_eq!(ended.reason(), "OPERATION_NOT_FOUND");
}

async fn shutdown_ends_open_waits_with_the_latest_state(env: Env) {
    let s = env.start().await;
    let op = s.create().await;
    let started = Instant::now();
    let waiter = s.spawn_wait(&op.name, Duration::from_secs(60)).await;
    s.stop().await;
    let waited = waiter.await.expect("joins").expect("wait answered");
    assert_eq!(waited, op);
    assert_eq!(started.elapsed(), Duration::ZERO, "drained at once");
}
