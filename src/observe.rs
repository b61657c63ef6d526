//! What the use cases, the stores and the authenticator report as they work
//! (operations created and ended, open waiters, store writes, JWKS fetches),
//! and `Recorder`, the one handle they report it through.
//!
//! Neutral ground: this module names no outside crate and no other module of
//! the crate, so `domain`-free layers such as `store` and `service` can take
//! a `Recorder` without learning what listens. The listener (Prometheus
//! metrics, `telemetry::metrics`) implements `Sink`; the server hands the
//! handle out. The default `Recorder` has no sink and costs one branch.
//!
//! The handle also says whether trace spans are wanted (`spans`): with
//! traces off the stores and use cases open none, so the hot path does not
//! even build a disabled span.

use std::sync::Arc;
use std::time::Duration;

/// How an operation became done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ended {
    /// Completed with a response.
    Response,
    /// Completed with an error other than a cancel acknowledgement.
    Error,
    /// After a cancel request, the worker completed with CANCELLED.
    CancelledByWorker,
    /// After a cancel request, the grace ran out.
    CancelledByGrace,
    /// Cancelled with nobody working on it, or with a zero grace.
    CancelledAtOnce,
}

/// A call the server holds open until something happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Waiter {
    Wait,
    Watch,
}

/// A connection pool as it is now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, idle or in use.
    pub size: u32,
    pub idle: u32,
    /// Calls waiting for a connection.
    pub waiting: u32,
}

/// Something that can tell its pool's state when asked (at scrape time).
pub trait PoolProbe: Send + Sync + 'static {
    fn stats(&self) -> PoolStats;
}

/// Whoever listens to the events. Every method must be cheap: some run on
/// every store write.
pub trait Sink: Send + Sync + 'static {
    fn operation_created(&self);
    fn operation_ended(&self, how: Ended);
    /// A worker's Watch delivered a cancel request, `latency` after it was
    /// made.
    fn cancel_delivered(&self, latency: Duration);
    fn waiter_opened(&self, kind: Waiter);
    fn waiter_closed(&self, kind: Waiter);
    /// Refused: `--max-waiters` calls were open already.
    fn waiter_refused(&self, kind: Waiter);
    /// One write (insert, swap, delete, purge) took `latency`, queueing and
    /// commit included.
    fn store_write(&self, latency: Duration);
    /// One group commit wrote `writes` requests together.
    fn commit_group(&self, writes: usize);
    /// The change feed's connection was lost and is back.
    fn feed_reconnected(&self);
    fn jwks_fetched(&self, ok: bool);
    /// The store's pool, asked for its state at scrape time.
    fn watch_pool(&self, probe: Arc<dyn PoolProbe>);
}

/// The handle every layer keeps: cheap to clone, and a no-op by default.
#[derive(Clone, Default)]
pub struct Recorder {
    sink: Option<Arc<dyn Sink>>,
    spans: bool,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("on", &self.sink.is_some())
            .field("spans", &self.spans)
            .finish()
    }
}

impl Recorder {
    pub fn new(sink: Arc<dyn Sink>) -> Self {
        Self {
            sink: Some(sink),
            spans: false,
        }
    }

    /// The same handle, opening trace spans or not (`spans`).
    #[must_use]
    pub fn with_spans(mut self, on: bool) -> Self {
        self.spans = on;
        self
    }

    /// Whether anything listens (so a caller can skip reading the clock).
    pub fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Whether traces are on, so the caller should open its span.
    pub fn spans(&self) -> bool {
        self.spans
    }

    fn with(&self, event: impl FnOnce(&dyn Sink)) {
        if let Some(sink) = &self.sink {
            event(sink.as_ref());
        }
    }

    pub fn operation_created(&self) {
        self.with(|sink| sink.operation_created());
    }

    pub fn operation_ended(&self, how: Ended) {
        self.with(|sink| sink.operation_ended(how));
    }

    pub fn cancel_delivered(&self, latency: Duration) {
        self.with(|sink| sink.cancel_delivered(latency));
    }

    /// Counts `kind` open until the returned guard is dropped.
    pub fn waiter_opened(&self, kind: Waiter) -> OpenWaiter {
        self.with(|sink| sink.waiter_opened(kind));
        OpenWaiter {
            recorder: self.clone(),
            kind,
        }
    }

    pub fn waiter_refused(&self, kind: Waiter) {
        self.with(|sink| sink.waiter_refused(kind));
    }

    pub fn store_write(&self, latency: Duration) {
        self.with(|sink| sink.store_write(latency));
    }

    pub fn commit_group(&self, writes: usize) {
        self.with(|sink| sink.commit_group(writes));
    }

    pub fn feed_reconnected(&self) {
        self.with(|sink| sink.feed_reconnected());
    }

    pub fn jwks_fetched(&self, ok: bool) {
        self.with(|sink| sink.jwks_fetched(ok));
    }

    pub fn watch_pool(&self, probe: Arc<dyn PoolProbe>) {
        self.with(|sink| sink.watch_pool(probe));
    }
}

/// An open Wait or Watch; closing is counted when this is dropped.
pub struct OpenWaiter {
    recorder: Recorder,
    kind: Waiter,
}

impl Drop for OpenWaiter {
    fn drop(&mut self) {
        let kind = self.kind;
        self.recorder.with(|sink| sink.waiter_closed(kind));
    }
}
