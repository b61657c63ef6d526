//! The change feed's connection dies (killed by an operator, a proxy, a
//! failover) while Watches are open: they still see every later change.

use std::time::Duration;

use longrun::service::ServiceSettings;
use sqlx::Row;

use super::{Pair, pair};
use crate::support::*;

/// The backend pids of connections named `application`.
async fn backends(admin: &mut sqlx::PgConnection, application: &str) -> Vec<i32> {
    sqlx::query("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
        .bind(application)
        .fetch_all(admin)
        .await
        .expect("pg_stat_activity")
        .iter()
        .map(|row| row.get::<i32, _>("pid"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_see_later_changes_after_the_listener_connection_is_cut() {
    let Some(Pair { a, b, schema }) = pair(ServiceSettings::default()).await else {
        return;
    };
    let mut watches = Vec::new();
    for _ in 0..3 {
        let op = a.create().await;
        let mut watch = a.watch(&op.name).await;
        next_event(&mut watch).await;
        watches.push((op.name, watch));
    }

    let listener = schema.listener_name("a");
    let mut admin = schema.admin().await;
    let before = backends(&mut admin, &listener).await;
    assert_eq!(before.len(), 1, "replica a listens on one connection");
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&listener)
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert_eq!(terminated, vec![true]);

    // A change made while the feed may still be reconnecting must arrive too.
    let (first_name, first_watch) = &mut watches[0];
    b.cancel(first_name).await.expect("cancel on b");
    assert!(next_event(first_watch).await.cancel_requested);

    // The replica listens again by itself, on a new connection.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = backends(&mut admin, &listener).await;
        if now.len() == 1 && now != before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "replica a never listened again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for (name, watch) in &mut watches {
        b.complete(name, empty_response())
            .await
            .expect("complete on b");
        let event = loop {
            let event = next_event(watch).await;
            if event.operation.as_ref().is_some_and(|op| op.done) {
                break event;
            }
        };
        assert!(is_response(&event.operation.expect("operation")));
    }
}
