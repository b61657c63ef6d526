//! Work no request drives: ending operations whose cancel grace ran out,
//! forgetting done operations whose retention ran out, and relaying other
//! replicas' changes. Deadlines live in the store, so they still fire after
//! a restart, and on another replica when this one is gone: every replica
//! runs the timer, and the compare-and-swap lets exactly one of them end
//! each operation.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::error::StoreResult;
use super::{Core, Subject};
use crate::auth::ServerPass;
use crate::observe::Ended;
use crate::store::ChangeFeed;

/// How often the timer looks at the store even when nothing woke it. Keeps a
/// deadline written by another process (or a lost wakeup) from being missed.
const GRACE_BACKSTOP: Duration = Duration::from_secs(5);
const GRACE_BATCH: u32 = 256;
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
        for op in due {
            // A worker may finish between the read and the write: the
            // transition re-checks, and the first writer wins.
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
