//! Prometheus metrics (`--metrics-listen`): the families (families.rs), the
//! tower layer that counts every call on a port (rpc.rs), the sink that
//! turns the `observe` events of the use cases and stores into samples, and
//! the listener that serves `GET /metrics` (exposition.rs).
//!
//! The hot path pays no lock and no allocation for labels: a call's counter
//! and histogram are found by index in tables of pre-resolved handles, made
//! on first use (so only series that happened are exported).

mod exposition;
mod families;
mod rpc;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::observe::{Ended, PoolProbe, Recorder, Sink, Waiter};
use families::{
    CallLabels, Code, Families, Fetch, Kind, Method, MethodLabels, Outcome, OutcomeLabels,
    ResultLabels, Service,
};

pub use exposition::{MetricsError, MetricsServer};
pub use families::Transport;
pub use rpc::{RpcMetrics, RpcMetricsLayer};

/// One server's metrics: the registry and every handle into it.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    families: Families,
    calls: CallTable,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("longrun");
        let families = Families::register(&mut registry);
        Self {
            inner: Arc::new(Inner {
                registry,
                families,
                calls: CallTable::new(),
            }),
        }
    }

    /// The handle the use cases, stores and authenticator report through.
    pub fn recorder(&self) -> Recorder {
        Recorder::new(Arc::new(self.clone()))
    }

    /// The exposition in the Prometheus text format (0.0.4), or OpenMetrics.
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        if openmetrics {
            prometheus_client::encoding::text::encode(&mut text, &self.inner.registry)?;
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.inner.registry)?;
        }
        Ok(text)
    }

    fn call_finished(&self, call: Call, code: Code, elapsed: Duration) {
        let (counter, histogram) = self.inner.calls.handles(&self.inner.families, call, code);
        counter.inc();
        histogram.observe(elapsed.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What a call is, known when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Call {
    service: Service,
    method: Method,
    transport: Transport,
}

impl Call {
    fn method_index(self) -> usize {
        let service = self.service as usize;
        let method = self.method as usize;
        let transport = self.transport as usize;
        (service * Method::COUNT + method) * Transport::COUNT + transport
    }
}

const METHOD_SLOTS: usize = Service::ALL.len() * Method::COUNT * Transport::COUNT;

/// Pre-resolved handles, one slot per label set, filled on first use: after
/// that a call costs two atomic loads to find its series, where a `Family`
/// lookup would hash the labels and take a read lock.
struct CallTable {
    counters: Box<[OnceLock<Counter>]>,
    histograms: Box<[OnceLock<Histogram>]>,
}

impl CallTable {
    fn new() -> Self {
        Self {
            counters: (0..METHOD_SLOTS * Code::COUNT)
                .map(|_| OnceLock::new())
                .collect(),
            histograms: (0..METHOD_SLOTS).map(|_| OnceLock::new()).collect(),
        }
    }

    fn handles(&self, families: &Families, call: Call, code: Code) -> (&Counter, &Histogram) {
        let slot = call.method_index();
        let code_slot = slot * Code::COUNT + usize::from(code.0).min(Code::COUNT - 1);
        let method_labels = || MethodLabels {
            service: call.service,
            method: call.method,
            transport: call.transport,
        };
        let counter = self.counters[code_slot].get_or_init(|| {
            families.rpc_requests.get_or_create_owned(&CallLabels {
                service: call.service,
                method: call.method,
                transport: call.transport,
                code,
            })
        });
        let histogram = self.histograms[slot]
            .get_or_init(|| families.rpc_duration.get_or_create_owned(&method_labels()));
        (counter, histogram)
    }
}

impl Sink for Metrics {
    fn operation_created(&self) {
        self.inner.families.operations_created.inc();
    }

    fn operation_ended(&self, how: Ended) {
        self.inner
            .families
            .operations_ended
            .get_or_create(&OutcomeLabels {
                outcome: Outcome(how),
            })
            .inc();
    }

    fn cancel_delivered(&self, latency: Duration) {
        self.inner
            .families
            .cancel_delivery
            .observe(latency.as_secs_f64());
    }

    fn waiter_opened(&self, kind: Waiter) {
        let labels = families::KindLabels { kind: Kind(kind) };
        self.inner
            .families
            .waiters_open
            .get_or_create(&labels)
            .inc();
    }

    fn waiter_closed(&self, kind: Waiter) {
        let labels = families::KindLabels { kind: Kind(kind) };
        self.inner
            .families
            .waiters_open
            .get_or_create(&labels)
            .dec();
    }

    fn waiter_refused(&self, kind: Waiter) {
        let labels = families::KindLabels { kind: Kind(kind) };
        self.inner
            .families
            .waiters_refused
            .get_or_create(&labels)
            .inc();
    }

    fn store_write(&self, latency: Duration) {
        self.inner
            .families
            .store_write
            .observe(latency.as_secs_f64());
    }

    fn commit_group(&self, writes: usize) {
        let writes = u32::try_from(writes).unwrap_or(u32::MAX);
        self.inner.families.commit_group.observe(f64::from(writes));
    }

    fn feed_reconnected(&self) {
        self.inner.families.feed_reconnects.inc();
    }

    fn jwks_fetched(&self, ok: bool) {
        let result = if ok { Fetch::Ok } else { Fetch::Error };
        self.inner
            .families
            .jwks_fetches
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    fn watch_pool(&self, probe: Arc<dyn PoolProbe>) {
        // One store per server: a second pool would be a wiring mistake,
        // and the first one stays.
        let _ = self.inner.families.pool.set(probe);
    }
}
