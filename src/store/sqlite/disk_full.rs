//! Regression test of the disk-full scenario (tests/faults/power): a full
//! database refuses writes as `Unavailable`, keeps serving reads, stays
//! whole, and takes writes again once space is free.
//!
//! The writer's `max_page_count` stands in for the filesystem: SQLite
//! answers both with the same SQLITE_FULL, and the limit needs no mount.

use std::time::{Duration, UNIX_EPOCH};

use sqlx::Row;

use super::SqliteStore;
use crate::domain::{CancelState, ErrorKind, Operation, OperationName, Payload};
use crate::observe::Recorder;
use crate::store::{Inserted, OperationStore, StoreError};

/// Pages the database may hold: the schema takes about a dozen, and each
/// operation below needs two or more, so it fills within a few dozen.
const MAX_PAGES: &str = "48";

fn large(id: usize) -> Operation {
    let name = OperationName::parse(&format!("projects/p/locations/l/operations/full-{id}"))
        .expect("valid name");
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Operation {
        name,
        metadata: Some(Payload {
            type_url: "type.googleapis.com/google.protobuf.BytesValue".into(),
            value: vec![7; 6000],
        }),
        outcome: None,
        create_time: at,
        update_time: at,
        end_time: None,
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: false,
        request_id: None,
        expire_time: None,
        version: 1,
    }
}

#[tokio::test]
async fn disk_full_refuses_writes_as_unavailable_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("full.db").display());
    let store =
        SqliteStore::open_tuned(&url, Recorder::default(), &[("max_page_count", MAX_PAGES)])
            .await
            .expect("open");

    let mut stored = Vec::new();
    let mut refusal = None;
    for id in 0..200 {
        let op = large(id);
        match store.insert(&op).await {
            Ok(Inserted::Created(_)) => stored.push(op.name),
            Ok(other) => panic!("a new name was taken: {other:?}"),
            Err(err) => {
                refusal = Some(err);
                break;
            }
        }
    }
    let refusal = refusal.expect("the database filled up");
    assert!(matches!(refusal, StoreError::Unavailable(_)), "{refusal:?}");
    assert_eq!(refusal.kind(), ErrorKind::Unavailable);
    assert!(stored.len() >= 2, "only {} operations fitted", stored.len());

    // Full, it still answers reads, and refuses the next write the same way.
    for name in &stored {
        assert!(
            store.get(name).await.expect("read while full").is_some(),
            "{name}"
        );
    }
    let again = store.insert(&large(1000)).await;
    assert!(
        matches!(again, Err(StoreError::Unavailable(_))),
        "{again:?}"
    );

    // Space comes back (deleted rows free their pages): writes commit again.
    for name in stored.drain(..2) {
        assert!(store.delete(&name).await.expect("delete while full"));
    }
    let op = large(1001);
    assert!(
        matches!(store.insert(&op).await, Ok(Inserted::Created(_))),
        "writes resumed"
    );
    assert!(store.get(&op.name).await.expect("read").is_some());

    let check = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&store.readers)
        .await
        .expect("integrity check");
    assert_eq!(check.get::<String, _>(0), "ok");
    store.close().await;
}
