//! What one replica does reaches the Waits, Watches and timers of another.

use std::collections::HashMap;
use std::time::Duration;

use futures::{StreamExt, stream};
use longrun::pb::{control as ctl, longrunning as lro};
use longrun::service::ServiceSettings;
use tonic::Code;

use super::{Pair, pair, replica_config};
use crate::support::postgres::PgSchema;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_on_one_replica_sees_cancel_sent_to_another() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    let op = a.create().await;
    let mut watch = a.watch(&op.name).await;
    assert!(!next_event(&mut watch).await.cancel_requested);

    b.cancel(&op.name).await.expect("cancel on b");
    let event = next_event(&mut watch).await;
    assert!(event.cancel_requested, "the worker on a hears b's cancel");
    assert!(
        !event.operation.expect("operation").done,
        "it waits for the worker"
    );

    b.complete(&op.name, cancelled_by_worker())
        .await
        .expect("complete on b");
    let last = next_event(&mut watch).await.operation.expect("operation");
    assert!(last.done);
    assert_eq!(error_code(&last), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_without_notify_sees_cancel_from_another_replica_by_polling() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let quiet = |application: &'static str| {
        let mut config = replica_config(schema.url(application), ServiceSettings::default());
        config.postgres.notify = false;
        TestServer::with_config(config, None)
    };
    let (a, b) = (quiet("a").await, quiet("b").await);
    let op = a.create().await;
    let mut watch = a.watch(&op.name).await;
    next_event(&mut watch).await;
    b.cancel(&op.name).await.expect("cancel on b");
    assert!(next_event(&mut watch).await.cancel_requested);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_on_one_replica_returns_when_another_completes() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    let op = a.create().await;
    let waiter = a.spawn_wait(&op.name, Duration::from_secs(50)).await;
    b.complete(&op.name, empty_response())
        .await
        .expect("complete on b");
    let waited = tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .expect("the wait on a returns")
        .expect("joins")
        .expect("wait succeeds");
    assert!(waited.done);
    assert!(is_response(&waited));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_one_request_id_on_two_replicas_makes_one_operation() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    for round in 0..20 {
        let request = ctl::CreateOperationRequest {
            parent: PARENT.into(),
            request_id: format!("retry-{round}"),
            ..Default::default()
        };
        let (on_a, on_b) = tokio::join!(a.create_with(request.clone()), b.create_with(request));
        assert_eq!(on_a.name, on_b.name, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_token_from_one_replica_continues_on_another() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    for _ in 0..3 {
        a.create().await;
    }
    let list = |server: &TestServer, token: String| {
        let mut ops = server.ops.clone();
        async move {
            ops.list_operations(lro::ListOperationsRequest {
                name: PARENT.into(),
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
        }
    };
    let first = list(&a, String::new()).await;
    assert_eq!(first.operations.len(), 2);
    let second = list(&b, first.next_page_token).await;
    assert_eq!(second.operations.len(), 1);
    assert!(second.next_page_token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_one_replica_and_complete_on_another_race_each_done_exactly_one_way() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    let ops: Vec<lro::Operation> = stream::iter(0..1000)
        .map(|i| {
            let creator = if i % 2 == 0 { &a } else { &b };
            creator.create_with(ctl::CreateOperationRequest {
                parent: PARENT.into(),
                cancel_grace: Some(pb_duration(Duration::ZERO)),
                ..Default::default()
            })
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let outcomes: Vec<(String, bool)> = stream::iter(ops.iter())
        .map(|op| async {
            let (cancel, complete) =
                tokio::join!(a.cancel(&op.name), b.complete(&op.name, empty_response()));
            cancel.expect("cancel always succeeds");
            let completed = match complete {
                Ok(_) => true,
                Err(err) if err.code() == Code::FailedPrecondition => false,
                Err(err) => panic!("unexpected complete error: {err}"),
            };
            (op.name.clone(), completed)
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let listed_a = list_all(&a).await;
    let listed_b = list_all(&b).await;
    assert_eq!(listed_a.len(), 1000);
    assert_eq!(listed_a, listed_b, "both replicas list the same states");
    let mut cancelled = 0;
    for (name, completed) in outcomes {
        let on_a = a.get(&name).await.expect("get on a");
        let on_b = b.get(&name).await.expect("get on b");
        assert_eq!(on_a, on_b, "{name}: both replicas agree");
        assert!(on_a.done);
        assert_eq!(
            completed,
            is_response(&on_a),
            "{name}: the acknowledged writer won"
        );
        if !completed {
            assert_eq!(error_code(&on_a), Some(1));
            cancelled += 1;
        }
        assert_eq!(listed_a.get(&name), Some(&on_a), "List agrees with Get");
    }
    println!("cancel on a won {cancelled} of 1000 races against complete on b");
}

async fn list_all(server: &TestServer) -> HashMap<String, lro::Operation> {
    let mut listed = HashMap::new();
    let mut token = String::new();
    loop {
        let page = server
            .ops
            .clone()
            .list_operations(lro::ListOperationsRequest {
                name: PARENT.into(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        listed.extend(page.operations.into_iter().map(|op| (op.name.clone(), op)));
        if page.next_page_token.is_empty() {
            return listed;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_set_through_stopped_replica_fires_on_the_other() {
    let Some(Pair {
        a,
        b,
        schema: _schema,
    }) = pair(ServiceSettings::default()).await
    else {
        return;
    };
    let grace = Duration::from_secs(2);
    let op = a
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(pb_duration(grace)),
            ..Default::default()
        })
        .await;
    let mut watch = a.watch(&op.name).await;
    next_event(&mut watch).await;
    let cancelled_at = tokio::time::Instant::now();
    a.cancel(&op.name).await.expect("cancel on a");
    drop(watch);
    a.stop().await;
    let pending = b.get(&op.name).await.expect("get on b");
    if cancelled_at.elapsed() < grace {
        assert!(!pending.done, "nobody could have ended it yet");
    }

    let ended = b
        .wait(&op.name, Some(Duration::from_secs(30)))
        .await
        .expect("wait on b");
    assert!(ended.done, "b's timer ended it after a was gone");
    assert_eq!(error_code(&ended), Some(1));
    assert!(cancelled_at.elapsed() >= grace);
}
