//! The read-through cache: the whole conformance suite through it, and the
//! races that could make it lie.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use longrun::domain::{NewOperation, Operation, OperationName};
use longrun::store::{
    CachedStore, Inserted, ListQuery, OperationStore, SqliteStore, StoreError, Swapped,
};

use super::conformance::conformance_suite;

fn capacity(entries: usize) -> NonZeroUsize {
    NonZeroUsize::new(entries).expect("non-zero")
}

async fn cached(entries: usize) -> CachedStore<SqliteStore> {
    let store = SqliteStore::open("sqlite::memory:").await.expect("open");
    CachedStore::new(store, capacity(entries))
}

async fn roomy() -> Option<(CachedStore<SqliteStore>, ())> {
    Some((cached(10_000).await, ()))
}

/// So small that entries are evicted all the time.
async fn tiny() -> Option<(CachedStore<SqliteStore>, ())> {
    Some((cached(2).await, ()))
}

conformance_suite!(cached_roomy, roomy());
conformance_suite!(cached_tiny, tiny());

fn op(id: &str) -> Operation {
    let name =
        OperationName::parse(&format!("projects/p/locations/l/operations/{id}")).expect("name");
    Operation::create(
        NewOperation {
            name,
            metadata: None,
            request_id: None,
            cancel_grace: Duration::ZERO,
        },
        SystemTime::now(),
    )
}

/// Lets a test hold a `get` after it has read the database and before its
/// answer reaches the cache (or a `swap` after it has committed): the window
/// where a delete can overtake it.
struct PausedReads {
    inner: SqliteStore,
    pause_next: std::sync::atomic::AtomicBool,
    read_done: tokio::sync::Notify,
    pause_next_swap: std::sync::atomic::AtomicBool,
    swap_done: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl PausedReads {
    async fn new() -> Self {
        Self {
            inner: SqliteStore::open("sqlite::memory:").await.expect("open"),
            pause_next: std::sync::atomic::AtomicBool::new(false),
            read_done: tokio::sync::Notify::new(),
            pause_next_swap: std::sync::atomic::AtomicBool::new(false),
            swap_done: tokio::sync::Notify::new(),
            release: tokio::sync::Notify::new(),
        }
    }
}

#[async_trait::async_trait]
impl OperationStore for PausedReads {
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
        self.inner.insert(op).await
    }
    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
        let read = self.inner.get(name).await;
        if self
            .pause_next
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            self.read_done.notify_one();
            self.release.notified().await;
        }
        read
    }
    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
        let written = self.inner.swap(next).await;
        if self
            .pause_next_swap
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            self.swap_done.notify_one();
            self.release.notified().await;
        }
        written
    }
    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError> {
        self.inner.delete(name).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        self.inner.list(query).await
    }
    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        self.inner.due_cancellations(now, limit).await
    }
    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        self.inner.next_cancel_deadline().await
    }
    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError> {
        self.inner.purge_expired(now, limit).await
    }
    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner.page_token_key().await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_get_racing_delete_never_resurrects_the_operation() {
    let inner = PausedReads::new().await;
    // Room for one entry: the filler evicts the operation under test, so
    // the reader below has to go to the database.
    let store = Arc::new(CachedStore::new(inner, capacity(1)));
    let Inserted::Created(created) = store.insert(&op("target")).await.expect("insert") else {
        panic!("fresh name");
    };
    store.insert(&op("filler")).await.expect("filler");
    store_inner(&store)
        .pause_next
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let reader = {
        let store = Arc::clone(&store);
        let name = created.name.clone();
        tokio::spawn(async move { store.get(&name).await.expect("get") })
    };
    // The reader has seen the row; now the delete overtakes it.
    store_inner(&store).read_done.notified().await;
    assert!(store.delete(&created.name).await.expect("delete"));
    store_inner(&store).release.notify_one();
    assert!(
        reader.await.expect("reader").is_some(),
        "the reader saw the old row"
    );
    // Its stale answer must not have been cached.
    assert_eq!(
        store.get(&created.name).await.expect("get"),
        None,
        "a deleted operation came back"
    );
}

/// Found by the kill -9 campaign on SQLite (tests/faults/history): a Cancel
/// and a Delete of one operation at once. The cancel's swap committed first,
/// but its answer reached the cache after the delete had dropped the entry,
/// and put the deleted operation back: a later Cancel answered OK from
/// memory, and a Get would have shown it, until the server restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_kill9_swap_racing_delete_never_resurrects_the_operation() {
    let store = Arc::new(CachedStore::new(PausedReads::new().await, capacity(100)));
    let Inserted::Created(created) = store.insert(&op("target")).await.expect("insert") else {
        panic!("fresh name");
    };
    let next = created
        .update_metadata(None, SystemTime::now())
        .expect("running");
    store_inner(&store)
        .pause_next_swap
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.swap(&next).await.expect("swap") })
    };
    // The swap has committed; now the delete overtakes its answer.
    store_inner(&store).swap_done.notified().await;
    assert!(store.delete(&created.name).await.expect("delete"));
    store_inner(&store).release.notify_one();
    assert!(
        matches!(writer.await.expect("writer"), Swapped::Written(_)),
        "the swap was written before the delete"
    );
    assert_eq!(
        store.get(&created.name).await.expect("get"),
        None,
        "a deleted operation came back"
    );
}

fn store_inner(store: &CachedStore<PausedReads>) -> &PausedReads {
    store.inner()
}

#[tokio::test]
async fn cache_keeps_the_newest_version_after_swaps() {
    let store = cached(10_000).await;
    let Inserted::Created(first) = store.insert(&op("v")).await.expect("insert") else {
        panic!("fresh name");
    };
    let updated = first
        .update_metadata(None, SystemTime::now())
        .expect("running");
    let Swapped::Written(written) = store.swap(&updated).await.expect("swap") else {
        panic!("current version");
    };
    // A stale swap must not roll the cache back.
    let stale = store.swap(&updated).await.expect("swap");
    assert!(
        matches!(stale, Swapped::Stale(Some(ref current)) if current.version == written.version)
    );
    assert_eq!(store.get(&first.name).await.expect("get"), Some(written));
}
