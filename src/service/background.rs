//! Work no request drives: ending operations whose cancel grace ran out,
//! forgetting done operations whose retention ran out, and relaying other
//! replicas' changes. Deadlines live in the store, so they still fire after
//! a restart, and on another replica when this one is gone: every replica
//! runs the timer, and the compare-and-swap lets exactly one of them end
//! each operation.

use std::time::Duration;

use futures::StreamExt;
use tokio::task::JoinHandle;

use super::error::StoreResult;
use super::{Core, Subject};
use crate::auth::ServerPass;
use crate::domain::Operation;
use crate::observe::Ended;
use crate::store::ChangeFeed;

/// How often the timer looks at the store even when nothing woke it. Keeps a
/// deadline written by another process (or a lost wakeup) from being missed.
const GRACE_BACKSTOP: Duration = Duration::from_secs(5);
const GRACE_BATCH: u32 = 256;
/// Expiries of one batch in flight at once.
const GRACE_CONCURRENCY: usize = 64;
const RETENTION_INTERVAL: Duration = Duration::from_secs(60);
const PURGE_BATCH: u32 = 1000;
/// Wait this long after a store error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);
/// How often the offset to the database's clock is measured again: a
/// machine's clock that is stepped (NTP, by hand) is followed within this.
const CLOCK_SYNC_INTERVAL: Duration = Duration::from_secs(10);

pub struct BackgroundTasks {
    handles: Vec<JoinHandle<()>>,
}

impl BackgroundTasks {
    /// Starts the timers, and the relay of `feed` when the store has one
    /// (several replicas on one database).
    pub fn spawn(core: &Core, feed: Option<ChangeFeed>) -> Self {
        let mut handles = vec![
            tokio::spawn(run_grace_timer(core.clone())),
            tokio::spawn(run_retention(core.clone())),
            tokio::spawn(run_clock_sync(core.clone())),
        ];
        if let Some(feed) = feed {
            handles.push(tokio::spawn(super::outside::relay(core.clone(), feed)));
        }
        Self { handles }
    }

    /// Waits for the tasks to notice the shutdown token and stop.
    pub async fn join(self) {
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

async fn run_grace_timer(core: Core) {
    let shutdown = core.shutdown_token();
    loop {
        let delay = match expire_due_graces(&core).await {
            Ok(delay) => delay,
            Err(err) => {
                tracing::warn!(error = %err, "cancel grace timer could not read the store");
                ERROR_BACKOFF
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = core.inner.grace_changed.notified() => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Ends every operation whose grace is over; returns how long to sleep until
/// the next deadline.
async fn expire_due_graces(core: &Core) -> Result<Duration, super::ServiceError> {
    let retention = core.inner.settings.retention;
    let server = ServerPass::for_server_work();
    loop {
        let due = core
            .store()
            .due_cancellations(&server, core.now(), GRACE_BATCH)
            .await
            .about(|| Subject::Server)?;
        let full_batch = due.len() == GRACE_BATCH as usize;
        // Many at once: each transition waits for its commit, and one at a
        // time is one commit each, far slower than graces can fall due
        // together (10,000 after a restart); concurrent ones share commits.
        futures::stream::iter(due)
            .for_each_concurrent(GRACE_CONCURRENCY, |op| {
                expire_one(core, &server, op, retention)
            })
            .await;
        if !full_batch {
            break;
        }
    }
    let next = core
        .store()
        .next_cancel_deadline(&server)
        .await
        .about(|| Subject::Server)?;
    Ok(next.map_or(GRACE_BACKSTOP, |deadline| {
        deadline
            .duration_since(core.now())
            .unwrap_or(Duration::ZERO)
            .min(GRACE_BACKSTOP)
    }))
}

/// Keeps the offset to the database's clock current; ends at once on a
/// store without a clock of its own.
async fn run_clock_sync(core: Core) {
    let shutdown = core.shutdown_token();
    loop {
        let delay = match core.sync_clock().await {
            Ok(true) => CLOCK_SYNC_INTERVAL,
            Ok(false) => return,
            Err(err) => {
                tracing::debug!(error = %err, "could not read the database's clock");
                ERROR_BACKOFF
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Ends `op` as cancelled if its grace is still over when the transition
/// reads it: a worker may finish between the read and the write, and the
/// first writer wins.
async fn expire_one(core: &Core, server: &ServerPass, op: Operation, retention: Duration) {
    let pass = server.operation(op.name);
    // The last decision is the one the transition wrote (or kept).
    let mut expired = false;
    let result = core
        .transition(&pass, |current, now| {
            let next = current.expire_cancel_grace(now, retention);
            expired = next.is_some();
            Ok(next)
        })
        .await;
    match result {
        Ok(_) if expired => core.recorder().operation_ended(Ended::CancelledByGrace),
        Ok(_) => {}
        Err(err) => {
            tracing::debug!(operation = %pass.name(), error = %err, "grace expiry skipped");
        }
    }
}

async fn run_retention(core: Core) {
    let shutdown = core.shutdown_token();
    loop {
        let purged = core
            .store()
            .purge_expired(&ServerPass::for_server_work(), core.now(), PURGE_BATCH)
            .await;
        match purged {
            // A full batch means more may be waiting: go again soon, but yield
            // to writers between batches.
            Ok(count) if count == u64::from(PURGE_BATCH) => {
                tokio::task::yield_now().await;
                continue;
            }
            Ok(count) => {
                if count > 0 {
                    tracing::info!(count, "expired operations purged");
                }
            }
            Err(err) => tracing::warn!(error = %err, "retention purge failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(RETENTION_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::SystemTime;

    use tokio::sync::Notify;

    use super::*;
    use crate::domain::{CancelState, OperationName};
    use crate::registry::TypeRegistry;
    use crate::service::{ServiceSettings, SystemClock};
    use crate::store::{Inserted, ListQuery, OperationStore, SqliteStore, StoreError, Swapped};

    /// A store whose first write waits until a second is in flight (or a
    /// bound passes): expiries made one at a time never get there.
    struct PairedSwaps {
        inner: SqliteStore,
        in_flight: AtomicUsize,
        most: AtomicUsize,
        waited: AtomicBool,
        paired: Notify,
    }

    #[async_trait::async_trait]
    impl OperationStore for PairedSwaps {
        async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
            self.inner.insert(op).await
        }
        async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
            self.inner.get(name).await
        }
        async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            let paired = self.paired.notified();
            if now >= 2 {
                self.paired.notify_waiters();
            } else if !self.waited.swap(true, Ordering::SeqCst) {
                // Only the first write waits, and only so long: a broken
                // (sequential) timer then goes on, and the assertion fails.
                let _ = tokio::time::timeout(Duration::from_secs(2), paired).await;
            }
            let result = self.inner.swap(next).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            result
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

    /// Started, cancelled, its grace over a minute ago.
    fn overdue(i: usize) -> Operation {
        let now = SystemTime::now();
        let name = format!("projects/p/locations/l/operations/due-{i}");
        Operation {
            name: OperationName::parse(&name).expect("name"),
            metadata: None,
            outcome: None,
            create_time: now - Duration::from_secs(120),
            update_time: now - Duration::from_secs(90),
            end_time: None,
            cancel: CancelState::Requested {
                at: now - Duration::from_secs(90),
                deadline: now - Duration::from_secs(60),
            },
            cancel_grace: Duration::from_secs(30),
            started: true,
            request_id: None,
            expire_time: None,
            version: 2,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn due_graces_expire_concurrently_and_all_of_them() {
        const DUE: usize = 300; // more than one batch
        let store = Arc::new(PairedSwaps {
            inner: SqliteStore::open("sqlite::memory:").await.expect("store"),
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            waited: AtomicBool::new(false),
            paired: Notify::new(),
        });
        let ops: Vec<_> = (0..DUE).map(overdue).collect();
        assert_eq!(store.import(&ops).await.expect("import"), DUE as u64);
        let core = Core::new(
            Arc::clone(&store) as Arc<dyn OperationStore>,
            TypeRegistry::builtin().expect("registry"),
            ServiceSettings::default(),
            Arc::new(SystemClock),
        )
        .await
        .expect("core");

        expire_due_graces(&core).await.expect("expiry");

        assert!(
            store.most.load(Ordering::SeqCst) >= 2,
            "the grace timer wrote one expiry at a time"
        );
        for op in &ops {
            let stored = store.get(&op.name).await.expect("get").expect("stored");
            assert!(stored.is_done(), "{} was not ended", op.name.as_str());
        }
    }
}
