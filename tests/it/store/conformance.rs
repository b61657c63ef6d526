//! The behaviour every `OperationStore` must have, written once.
//!
//! Each case is a generic `async fn` taking a fresh, empty store.
//! `conformance_suite!(name, factory)` turns all of them into `#[tokio::test]`s
//! for one backend; `factory` is an async expression giving
//! `Option<(store, guard)>`: `None` skips the suite (backend not configured),
//! `guard` lives until the case ends (a temp dir, a schema to drop).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use longrun::domain::{CancelState, ErrorStatus, Outcome, RequestId};
use longrun::store::{Inserted, OperationStore, StoreError, Swapped};

use self::fixtures::{at, bumped, created, finished, name, name_in, payload, running};

/// Expands to one test per case for a backend. See the module docs.
macro_rules! conformance_suite {
    ($backend:ident, $factory:expr) => {
        mod $backend {
            use super::*;

            $crate::store::conformance::conformance_suite!(@cases $factory;
                insert_then_get_returns_every_field,
                insert_answers_with_what_get_returns,
                insert_with_taken_name_conflicts_with_existing,
                insert_with_same_parent_and_request_id_conflicts,
                import_stores_every_field_and_skips_what_is_taken,
                import_of_several_chunks_lists_every_operation_once,
                swap_with_current_version_writes,
                swap_with_stale_version_returns_current,
                swap_on_deleted_operation_returns_stale_none,
                concurrent_swaps_from_same_version_have_one_winner,
                delete_then_get_returns_none_and_second_delete_false,
                deleted_name_can_be_inserted_again,
                list_pages_return_every_operation_once_in_order,
                list_scope_covers_one_or_all_locations_of_project,
                list_by_done_pages_through_that_state_only,
                list_excludes_expired_operations,
                list_with_limit_returns_at_most_limit,
                due_cancellations_returns_only_running_operations_past_deadline,
                next_cancel_deadline_is_earliest_pending,
                purge_expired_deletes_only_expired_up_to_limit,
                page_token_key_is_stable_across_calls,
                close_then_write_returns_closed,
            );
        }
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $factory.await else {
                    eprintln!("skipped: backend not configured");
                    return;
                };
                $crate::store::conformance::$case(store).await;
            }
        )*
    };
}
pub(crate) use conformance_suite;

mod bulk;
mod fixtures;
mod scans;

pub use bulk::*;
pub use scans::*;

pub async fn insert_then_get_returns_every_field<S: OperationStore>(store: S) {
    let mut failed = running(name("failed"), at(1));
    failed.metadata = Some(payload("test.Meta", &[0, 1, 2, 255]));
    failed.outcome = Some(Outcome::Error(ErrorStatus {
        code: 9,
        message: "quota \"x\" exhausted — ünïcode".into(),
        details: vec![
            payload("google.rpc.ErrorInfo", &[8, 1]),
            payload("google.rpc.RetryInfo", &[]),
        ],
    }));
    failed.update_time = at(5);
    failed.end_time = Some(at(5));
    failed.cancel = CancelState::Requested {
        at: at(3),
        deadline: at(4),
    };
    failed.cancel_grace = Duration::from_micros(1_500_001);
    failed.started = true;
    failed.request_id = Some(RequestId::parse("req-7f3a").expect("request id"));
    failed.expire_time = Some(at(1_000));
    failed.version = 1;

    let mut answered = running(name("answered"), at(2));
    answered.outcome = Some(Outcome::Response(payload("test.Result", b"\x00done")));
    answered.end_time = Some(at(6));
    answered.expire_time = Some(at(2_000));

    let mut waiting = running(name("waiting"), at(3));
    waiting.cancel = CancelState::Requested {
        at: at(4),
        deadline: at(34),
    };
    waiting.started = true;
    waiting.cancel_grace = Duration::ZERO;

    let before_epoch = running(name("old"), UNIX_EPOCH - Duration::from_micros(1_234_567));

    for op in [failed, answered, waiting, before_epoch] {
        assert_eq!(
            created(&store, &op).await,
            op,
            "insert answer of {}",
            op.name
        );
        let got = store.get(&op.name).await.expect("get");
        assert_eq!(got.as_ref(), Some(&op), "round trip of {}", op.name);
    }
    assert_eq!(store.get(&name("absent")).await.expect("get"), None);
}

pub async fn insert_answers_with_what_get_returns<S: OperationStore>(store: S) {
    // Nanoseconds may be cut to what the backend keeps; the answer of the
    // write and later reads must agree on the result, and be close to it.
    let created_at = at(7) + Duration::from_nanos(123_456_789);
    let op = running(name("precise"), created_at);
    let stored = created(&store, &op).await;
    assert_eq!(
        store.get(&op.name).await.expect("get"),
        Some(stored.clone())
    );
    let drift = created_at
        .duration_since(stored.create_time)
        .expect("never rounded up");
    assert!(drift < Duration::from_micros(1), "drift {drift:?}");

    let next = bumped(&stored, 1);
    let Swapped::Written(written) = store.swap(&next).await.expect("swap") else {
        panic!("swap from the current version must write");
    };
    assert_eq!(store.get(&op.name).await.expect("get"), Some(written));
}

pub async fn insert_with_taken_name_conflicts_with_existing<S: OperationStore>(store: S) {
    let first = running(name("taken"), at(1));
    created(&store, &first).await;
    let mut second = running(name("taken"), at(2));
    second.metadata = Some(payload("test.Other", b"x"));
    assert_eq!(
        store.insert(&second).await.expect("insert"),
        Inserted::Conflict(first.clone())
    );
    assert_eq!(store.get(&first.name).await.expect("get"), Some(first));
}

pub async fn insert_with_same_parent_and_request_id_conflicts<S: OperationStore>(store: S) {
    let request_id = RequestId::parse("retry-1").expect("request id");
    let mut first = running(name("a"), at(1));
    first.request_id = Some(request_id.clone());
    created(&store, &first).await;

    let mut retry = running(name("b"), at(2));
    retry.request_id = Some(request_id.clone());
    assert_eq!(
        store.insert(&retry).await.expect("insert"),
        Inserted::Conflict(first.clone())
    );
    assert_eq!(store.get(&retry.name).await.expect("get"), None);

    // The key is scoped to the parent: another location or project is free.
    let mut elsewhere = running(name_in("p", "other", "b"), at(3));
    elsewhere.request_id = Some(request_id.clone());
    created(&store, &elsewhere).await;
    let mut other_project = running(name_in("q", "l", "b"), at(3));
    other_project.request_id = Some(request_id);
    created(&store, &other_project).await;

    // Without a request id nothing is deduplicated.
    created(&store, &running(name("c"), at(4))).await;
    created(&store, &running(name("d"), at(4))).await;
}

pub async fn swap_with_current_version_writes<S: OperationStore>(store: S) {
    let op = created(&store, &running(name("s"), at(1))).await;
    let next = bumped(&op, 1);
    assert_eq!(
        store.swap(&next).await.expect("swap"),
        Swapped::Written(next.clone())
    );
    let done = finished(&next, at(9), at(99));
    assert_eq!(
        store.swap(&done).await.expect("swap"),
        Swapped::Written(done.clone())
    );
    assert_eq!(store.get(&op.name).await.expect("get"), Some(done));
}

pub async fn swap_with_stale_version_returns_current<S: OperationStore>(store: S) {
    let op = created(&store, &running(name("s"), at(1))).await;
    let winner = bumped(&op, 1);
    store.swap(&winner).await.expect("swap");
    // Computed from version 1 again: expects 1, finds 2.
    let loser = bumped(&op, 2);
    assert_eq!(
        store.swap(&loser).await.expect("swap"),
        Swapped::Stale(Some(winner.clone()))
    );
    // A version from the future is stale too.
    let mut ahead = bumped(&winner, 3);
    ahead.version += 5;
    assert_eq!(
        store.swap(&ahead).await.expect("swap"),
        Swapped::Stale(Some(winner.clone()))
    );
    assert_eq!(store.get(&op.name).await.expect("get"), Some(winner));
}

pub async fn swap_on_deleted_operation_returns_stale_none<S: OperationStore>(store: S) {
    let op = created(&store, &running(name("s"), at(1))).await;
    assert!(store.delete(&op.name).await.expect("delete"));
    assert_eq!(
        store.swap(&bumped(&op, 1)).await.expect("swap"),
        Swapped::Stale(None)
    );
    assert_eq!(store.get(&op.name).await.expect("get"), None);
}

pub async fn concurrent_swaps_from_same_version_have_one_winner<S: OperationStore>(store: S) {
    let store = Arc::new(store);
    for round in 0..40 {
        let op = created(&*store, &running(name(&format!("race-{round}")), at(1))).await;
        let contenders: Vec<_> = (0..4u8)
            .map(|marker| {
                let store = Arc::clone(&store);
                let next = bumped(&op, marker);
                tokio::spawn(async move { (next.clone(), store.swap(&next).await) })
            })
            .collect();
        let mut winners = Vec::new();
        let mut stale = Vec::new();
        for contender in contenders {
            let (next, result) = contender.await.expect("task");
            match result.expect("swap") {
                Swapped::Written(written) => {
                    assert_eq!(written, next);
                    winners.push(written);
                }
                Swapped::Stale(current) => stale.push(current),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one swap wins");
        let winner = winners.pop().expect("one winner");
        for current in stale {
            assert_eq!(current.as_ref(), Some(&winner), "round {round}");
        }
        assert_eq!(store.get(&op.name).await.expect("get"), Some(winner));
    }
}

pub async fn delete_then_get_returns_none_and_second_delete_false<S: OperationStore>(store: S) {
    let op = created(&store, &running(name("d"), at(1))).await;
    let other = created(&store, &running(name("kept"), at(1))).await;
    assert!(store.delete(&op.name).await.expect("delete"));
    assert_eq!(store.get(&op.name).await.expect("get"), None);
    assert!(!store.delete(&op.name).await.expect("second delete"));
    assert!(!store.delete(&name("never")).await.expect("delete"));
    assert_eq!(store.get(&other.name).await.expect("get"), Some(other));
}

pub async fn deleted_name_can_be_inserted_again<S: OperationStore>(store: S) {
    let mut op = running(name("again"), at(1));
    op.request_id = Some(RequestId::parse("r-1").expect("request id"));
    created(&store, &op).await;
    store.delete(&op.name).await.expect("delete");
    let second = running(name("again"), at(2));
    assert_eq!(created(&store, &second).await, second);
    let mut same_request = running(name("other"), at(3));
    same_request.request_id = op.request_id.clone();
    created(&store, &same_request).await;
}

pub async fn page_token_key_is_stable_across_calls<S: OperationStore>(store: S) {
    let store = Arc::new(store);
    // Concurrent first calls must agree on one key too.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.page_token_key().await })
        })
        .collect();
    let mut keys = HashSet::new();
    for call in calls {
        keys.insert(call.await.expect("task").expect("key"));
    }
    keys.insert(store.page_token_key().await.expect("key"));
    assert_eq!(keys.len(), 1);
    let key = keys.into_iter().next().expect("one key");
    assert_ne!(key, [0; 32]);
}

pub async fn close_then_write_returns_closed<S: OperationStore>(store: S) {
    let op = created(&store, &running(name("before"), at(1))).await;
    store.close().await;
    let after = running(name("after"), at(2));
    assert!(matches!(
        store.insert(&after).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        store.swap(&bumped(&op, 1)).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        store.delete(&op.name).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        store.purge_expired(at(10), 10).await,
        Err(StoreError::Closed)
    ));
    // Closing twice is harmless.
    store.close().await;
}
