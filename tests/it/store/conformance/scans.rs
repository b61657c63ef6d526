//! Cases for the scans: List pages, the cancel-grace timer, retention.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use longrun::domain::{CancelState, Operation};
use longrun::store::OperationStore;

use super::fixtures::{
    at, created, finished, name, name_in, names, newest_first, pages, query, running,
};

pub async fn list_pages_return_every_operation_once_in_order<S: OperationStore>(store: S) {
    // 250 operations, 25 distinct create times: most ties are broken by name.
    let mut all = Vec::new();
    for i in 0..250u64 {
        let id = format!("op-{:03}", (i * 97) % 250);
        let op = running(name(&id), at(i % 25));
        all.push(created(&store, &op).await);
    }
    newest_first(&mut all);

    for page_size in [1, 7, 50, 250, 1000] {
        let pages = pages(&store, query(Some("l"), page_size, at(10_000)), all.len()).await;
        assert!(pages.iter().all(|page| page.len() <= page_size as usize));
        let seen: Vec<_> = pages.into_iter().flatten().collect();
        assert_eq!(names(&seen), names(&all), "page size {page_size}");
    }
}

pub async fn list_by_done_pages_through_that_state_only<S: OperationStore>(store: S) {
    // Every third operation still runs; the others finished, one of them
    // since it was listed once (a state change moves it between indexes).
    let mut running_ops = Vec::new();
    let mut done_ops = Vec::new();
    for i in 0..60u64 {
        let location = if i % 2 == 0 { "l" } else { "l2" };
        let op = created(
            &store,
            &running(name_in("p", location, &format!("op-{i:02}")), at(i / 4)),
        )
        .await;
        if i % 3 == 0 {
            running_ops.push(op);
        } else {
            let done = finished(&op, at(100), at(100_000));
            store.swap(&done).await.expect("swap");
            done_ops.push(done);
        }
    }
    newest_first(&mut running_ops);
    newest_first(&mut done_ops);
    for (done, expected, location) in [
        (false, &running_ops, None),
        (true, &done_ops, None),
        (false, &running_ops, Some("l")),
    ] {
        let expected: Vec<&Operation> = expected
            .iter()
            .filter(|op| location.is_none_or(|l| op.name.location() == l))
            .collect();
        let mut q = query(location, 7, at(200));
        q.done = Some(done);
        let seen: Vec<_> = pages(&store, q, expected.len())
            .await
            .into_iter()
            .flatten()
            .collect();
        assert!(seen.iter().all(|op| op.is_done() == done));
        let expected: Vec<Operation> = expected.into_iter().cloned().collect();
        assert_eq!(
            names(&seen),
            names(&expected),
            "done = {done}, {location:?}"
        );
    }
}

pub async fn list_scope_covers_one_or_all_locations_of_project<S: OperationStore>(store: S) {
    let here = created(&store, &running(name_in("p", "l1", "a"), at(3))).await;
    let there = created(&store, &running(name_in("p", "l2", "b"), at(2))).await;
    created(&store, &running(name_in("q", "l1", "c"), at(4))).await;
    created(&store, &running(name_in("pp", "l1", "d"), at(4))).await;

    let one = store
        .list(&query(Some("l1"), 100, at(100)))
        .await
        .expect("list");
    assert_eq!(one, vec![here.clone()]);
    let all = store.list(&query(None, 100, at(100))).await.expect("list");
    assert_eq!(all, vec![here, there]);
    let empty = store
        .list(&query(Some("elsewhere"), 100, at(100)))
        .await
        .expect("list");
    assert!(empty.is_empty());
}

pub async fn list_excludes_expired_operations<S: OperationStore>(store: S) {
    let now = at(500);
    let live = created(&store, &running(name("live"), at(1))).await;
    let base = created(&store, &running(name("expires-later"), at(2))).await;
    let later = finished(&base, at(3), now + Duration::from_micros(1));
    store.swap(&later).await.expect("swap");
    let base = created(&store, &running(name("expires-now"), at(3))).await;
    store
        .swap(&finished(&base, at(4), now))
        .await
        .expect("swap");
    let base = created(&store, &running(name("expired"), at(4))).await;
    store
        .swap(&finished(&base, at(5), at(100)))
        .await
        .expect("swap");

    for location in [Some("l"), None] {
        let listed = store.list(&query(location, 100, now)).await.expect("list");
        assert_eq!(listed, vec![later.clone(), live.clone()]);
    }
    // Expired is still stored until purged; get leaves retention to callers.
    assert!(store.get(&name("expired")).await.expect("get").is_some());
}

pub async fn list_with_limit_returns_at_most_limit<S: OperationStore>(store: S) {
    for i in 0..5 {
        created(&store, &running(name(&format!("op-{i}")), at(i))).await;
    }
    let page = store.list(&query(None, 2, at(100))).await.expect("list");
    assert_eq!(
        names(&page),
        [
            "projects/p/locations/l/operations/op-4",
            "projects/p/locations/l/operations/op-3"
        ]
    );
}

/// A started operation whose cancel was requested at `at(1)`, due at `deadline`.
fn cancel_requested(id: &str, deadline: SystemTime) -> Operation {
    let mut op = running(name(id), at(0));
    op.started = true;
    op.cancel = CancelState::Requested {
        at: at(1),
        deadline,
    };
    op
}

pub async fn due_cancellations_returns_only_running_operations_past_deadline<S: OperationStore>(
    store: S,
) {
    let now = at(100);
    let late = created(&store, &cancel_requested("late", at(50))).await;
    let exactly = created(&store, &cancel_requested("exactly", now)).await;
    created(&store, &cancel_requested("pending", at(101))).await;
    created(&store, &running(name("plain"), at(0))).await;
    let finished_first = cancel_requested("finished", at(10));
    let stored = created(&store, &finished_first).await;
    store
        .swap(&finished(&stored, at(5), at(10_000)))
        .await
        .expect("swap");

    let due = store.due_cancellations(now, 100).await.expect("due");
    let due: HashSet<String> = names(&due).into_iter().collect();
    let expected: HashSet<String> = names(&[late.clone(), exactly]).into_iter().collect();
    assert_eq!(due, expected);

    let first = store.due_cancellations(now, 1).await.expect("due");
    assert_eq!(first, vec![late], "earliest deadline first");
    assert!(
        store
            .due_cancellations(at(49), 10)
            .await
            .expect("due")
            .is_empty()
    );
}

pub async fn next_cancel_deadline_is_earliest_pending<S: OperationStore>(store: S) {
    assert_eq!(store.next_cancel_deadline().await.expect("next"), None);
    created(&store, &running(name("plain"), at(0))).await;
    assert_eq!(store.next_cancel_deadline().await.expect("next"), None);

    let soon = created(&store, &cancel_requested("soon", at(20))).await;
    created(&store, &cancel_requested("later", at(30))).await;
    assert_eq!(
        store.next_cancel_deadline().await.expect("next"),
        Some(at(20))
    );

    // Once the earliest finishes, its deadline no longer counts.
    store
        .swap(&finished(&soon, at(21), at(10_000)))
        .await
        .expect("swap");
    assert_eq!(
        store.next_cancel_deadline().await.expect("next"),
        Some(at(30))
    );
}

pub async fn purge_expired_deletes_only_expired_up_to_limit<S: OperationStore>(store: S) {
    let now = at(1_000);
    for i in 0..5u64 {
        let op = created(&store, &running(name(&format!("old-{i}")), at(i))).await;
        store
            .swap(&finished(&op, at(i + 1), at(500 + i)))
            .await
            .expect("swap");
    }
    let op = created(&store, &running(name("at-now"), at(6))).await;
    store.swap(&finished(&op, at(7), now)).await.expect("swap");
    let op = created(&store, &running(name("kept"), at(8))).await;
    let kept = finished(&op, at(9), now + Duration::from_secs(1));
    store.swap(&kept).await.expect("swap");
    let running_op = created(&store, &running(name("running"), at(10))).await;

    assert_eq!(store.purge_expired(now, 4).await.expect("purge"), 4);
    assert_eq!(store.purge_expired(now, 4).await.expect("purge"), 2);
    assert_eq!(store.purge_expired(now, 4).await.expect("purge"), 0);
    for i in 0..5 {
        let gone = name(&format!("old-{i}"));
        assert_eq!(store.get(&gone).await.expect("get"), None);
    }
    assert_eq!(store.get(&name("at-now")).await.expect("get"), None);
    assert_eq!(store.get(&kept.name).await.expect("get"), Some(kept));
    assert_eq!(
        store.get(&running_op.name).await.expect("get"),
        Some(running_op)
    );
}
