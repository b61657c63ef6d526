//! The use cases: the public Operations methods and the control API for
//! producers and workers, plus the background work they need (cancel grace
//! timers, retention).
//!
//! Owns: the order of checks (authorize on the parsed name, then validate,
//! then touch the store; see access.rs), validation, the compare-and-swap retry loop around every
//! transition, waking Waits and Watches. Uses domain, store, auth,
//! registry and observe (to report what happens), never tonic, http, hyper, sqlx or a concrete store: it sees
//! `dyn OperationStore` and plain domain values.

mod access;
mod background;
mod clock;
mod control;
mod error;
mod filter_fields;
mod metadata;
mod notify;
mod operations;
mod outside;
// Public for the fuzz harness (fuzz/harness/page_token.rs) only.
#[doc(hidden)]
pub mod page_token;
mod passes;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::auth::{OperationPass, ServerPass};
use crate::domain::Operation;
use crate::observe::{OpenWaiter, Recorder, Waiter};
use crate::registry::TypeRegistry;
use crate::store::{OperationStore, Swapped};
use clock::SharedClock;
use passes::PassStore;

pub use access::WireDuration;
pub use background::BackgroundTasks;
pub use control::{CreateRequest, WatchEvent, WatchStream};
use error::StoreResult;
pub use error::{ServiceError, Subject};
pub use metadata::MetadataKeeper;
pub use notify::{Change, Notifier};
pub use operations::{ListPage, ListRequest};
use page_token::PageTokens;

/// Behaviour a server operator chooses (the `longrun serve` flags).
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    pub cancel_enabled: bool,
    /// Grace for operations created without one.
    pub default_cancel_grace: Duration,
    /// The longest a WaitOperation blocks.
    pub wait_cap: Duration,
    /// How long a done operation is kept.
    pub retention: Duration,
    /// Open Waits and Watches the server holds at once, across connections;
    /// one more is RESOURCE_EXHAUSTED.
    pub max_waiters: usize,
    /// The message type (full name, in the registry) of the metadata made
    /// for an operation created without any; `None` leaves it without.
    pub default_metadata_type: Option<String>,
    /// How long one filtered List may read before it answers with what it
    /// found and a token; only then may a page be short, or empty, while
    /// more matches exist.
    pub list_scan_budget: Duration,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            cancel_enabled: true,
            default_cancel_grace: Duration::from_secs(30),
            wait_cap: Duration::from_secs(60),
            retention: Duration::from_secs(30 * 24 * 3600),
            max_waiters: 10_000,
            default_metadata_type: None,
            list_scan_budget: DEFAULT_LIST_SCAN_BUDGET,
        }
    }
}

/// About what reading 10,000 stored operations costs on SQLite: a selective
/// filter answers within it, and a client pages on with the token.
pub const DEFAULT_LIST_SCAN_BUDGET: Duration = Duration::from_millis(250);

/// Wall-clock time, replaceable in tests.
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Attempts at one compare-and-swap before the caller gets ABORTED. Conflicts
/// need a concurrent writer each time, so a handful is plenty.
const MAX_SWAP_ATTEMPTS: usize = 64;

/// Everything the use cases share. Cheap to clone (`Arc` inside).
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Inner {
    store: PassStore,
    notifier: Arc<Notifier>,
    /// The configured clock, moved onto the database's when replicas share one.
    clock: SharedClock,
    settings: ServiceSettings,
    metadata: MetadataKeeper,
    tokens: PageTokens,
    /// Wakes the grace timer when a new deadline is recorded.
    grace_changed: Notify,
    /// Cancelled when the server drains: Waits return, Watches end.
    shutdown: CancellationToken,
    /// Bounds the Waits and Watches held open at once.
    waiters: Arc<Semaphore>,
    /// Where operations' ends, waiters and cancel deliveries are reported.
    recorder: Recorder,
}

/// A place for one open Wait or Watch, counted while it is held.
struct WaiterPlace {
    _permit: OwnedSemaphorePermit,
    _open: OpenWaiter,
}

impl Core {
    pub async fn new(
        store: Arc<dyn OperationStore>,
        registry: TypeRegistry,
        settings: ServiceSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServiceError> {
        Self::with_recorder(store, registry, settings, clock, Recorder::default()).await
    }

    /// `new`, reporting what happens to `recorder` (the server's metrics).
    pub async fn with_recorder(
        store: Arc<dyn OperationStore>,
        registry: TypeRegistry,
        settings: ServiceSettings,
        clock: Arc<dyn Clock>,
        recorder: Recorder,
    ) -> Result<Self, ServiceError> {
        let metadata = MetadataKeeper::new(registry, settings.default_metadata_type.as_deref())?;
        let store = PassStore::new(store);
        let key = store
            .page_token_key(&ServerPass::for_server_work())
            .await
            .about(|| Subject::Server)?;
        // Before the first call: every time this replica stamps comes from
        // the database's clock when the store has one.
        let clock = SharedClock::new(clock);
        clock
            .sync(&store, &ServerPass::for_server_work())
            .await
            .about(|| Subject::Server)?;
        let waiters = Arc::new(Semaphore::new(settings.max_waiters));
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                notifier: Arc::new(Notifier::default()),
                clock,
                settings,
                metadata,
                tokens: PageTokens::new(key),
                grace_changed: Notify::new(),
                shutdown: CancellationToken::new(),
                waiters,
                recorder,
            }),
        })
    }

    pub fn settings(&self) -> &ServiceSettings {
        &self.inner.settings
    }

    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.inner.notifier
    }

    pub fn registry(&self) -> &TypeRegistry {
        self.inner.metadata.registry()
    }

    /// Starts draining: open Waits return the latest state, Watches end.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    pub async fn close_store(&self) {
        self.inner.store.close(&ServerPass::for_server_work()).await;
    }

    /// Measures the offset to the database's clock again (the background
    /// task); false when the store has no clock of its own.
    async fn sync_clock(&self) -> Result<bool, crate::store::StoreError> {
        self.inner
            .clock
            .sync(&self.inner.store, &ServerPass::for_server_work())
            .await
    }

    /// Whether the store answers now (the server's health probe).
    pub async fn ping_store(&self) -> Result<(), ServiceError> {
        self.inner
            .store
            .ping(&ServerPass::for_server_work())
            .await
            .about(|| Subject::Server)
    }

    /// A place for one more open Wait or Watch, or RESOURCE_EXHAUSTED.
    fn waiter_permit(&self, kind: Waiter) -> Result<WaiterPlace, ServiceError> {
        let recorder = &self.inner.recorder;
        match Arc::clone(&self.inner.waiters).try_acquire_owned() {
            Ok(permit) => Ok(WaiterPlace {
                _permit: permit,
                _open: recorder.waiter_opened(kind),
            }),
            Err(_) => {
                recorder.waiter_refused(kind);
                Err(ServiceError::TooManyWaiters)
            }
        }
    }

    fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// Now, cut to whole microseconds: what the stores keep. Stamping
    /// metadata with finer time would make an operation's times change the
    /// first time it is read back and written again.
    fn now(&self) -> SystemTime {
        let now = self.inner.clock.now();
        match now.duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => now - Duration::from_nanos(u64::from(since.subsec_nanos() % 1_000)),
            Err(_) => now,
        }
    }

    fn store(&self) -> &PassStore {
        &self.inner.store
    }

    /// The operation as callers may see it: retention makes it disappear.
    async fn load(&self, pass: &OperationPass) -> Result<Operation, ServiceError> {
        let name = pass.name();
        match self.store().get(pass).await.about(|| subject(name))? {
            // Only a done operation has an expiry; the others skip reading
            // the clock, a noticeable share of a cached Get.
            Some(op) if op.expire_time.is_none() || !op.is_expired(self.now()) => Ok(op),
            Some(_) | None => Err(ServiceError::NotFound(name.to_string())),
        }
    }

    /// Applies a transition with compare-and-swap, retrying on conflict:
    /// `decide` sees the current state and returns the next one, or `None`
    /// to leave it unchanged. Returns the state that is now stored.
    async fn transition<F>(
        &self,
        pass: &OperationPass,
        mut decide: F,
    ) -> Result<Operation, ServiceError>
    where
        F: FnMut(&Operation, SystemTime) -> Result<Option<Operation>, ServiceError>,
    {
        let name = pass.name();
        let mut current = self.load(pass).await?;
        for _ in 0..MAX_SWAP_ATTEMPTS {
            let Some(mut next) = decide(&current, self.now())? else {
                return Ok(current);
            };
            self.inner.metadata.stamp(&mut next);
            match self
                .store()
                .swap(pass, &next)
                .await
                .about(|| subject(name))?
            {
                Swapped::Written(written) => {
                    self.announce(&written);
                    return Ok(written);
                }
                Swapped::Stale(Some(latest)) if !latest.is_expired(self.now()) => current = latest,
                Swapped::Stale(_) => return Err(ServiceError::NotFound(name.to_string())),
            }
        }
        Err(ServiceError::Contended(name.to_string()))
    }

    fn announce(&self, op: &Operation) {
        if op.pending_cancel_deadline().is_some() {
            self.inner.grace_changed.notify_one();
        }
        self.inner
            .notifier
            .publish(&op.name, Change::Updated(Arc::new(op.clone())));
    }
}

fn subject(name: &crate::domain::OperationName) -> Subject {
    Subject::Operation(name.to_string())
}
