//! Every metric longrun exports, in one place: names, help, types, buckets
//! and the closed sets of label values. No label value comes from a request
//! (an operation name, a caller): each is one of the enums below, so the
//! number of series is bounded by this file. README "Metrics" lists them.

use std::sync::{Arc, OnceLock};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use crate::observe::{Ended, PoolProbe, Waiter};

/// Seconds, for calls: 100 µs up to the longest Wait the default cap allows.
const CALL_BUCKETS: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];
/// Seconds, for one store write (an fsync on a disk, a round trip to PostgreSQL).
const WRITE_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Requests in one group commit (at most 256, `MAX_GROUP` of the SQLite writer).
const GROUP_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// Seconds from a cancel request to the watching worker.
const DELIVERY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0,
];

/// Writes a label value as the fixed text `as_str` gives.
macro_rules! label_value {
    ($type:ty) => {
        impl EncodeLabelValue for $type {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

/// The gRPC services a port serves; anything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Operations,
    Control,
    Health,
    ReflectionV1,
    ReflectionV1Alpha,
    Other,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Operations,
        Service::Control,
        Service::Health,
        Service::ReflectionV1,
        Service::ReflectionV1Alpha,
        Service::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Operations => "google.longrunning.Operations",
            Service::Control => "longrun.v1.OperationsControl",
            Service::Health => "grpc.health.v1.Health",
            Service::ReflectionV1 => "grpc.reflection.v1.ServerReflection",
            Service::ReflectionV1Alpha => "grpc.reflection.v1alpha.ServerReflection",
            Service::Other => "other",
        }
    }
}

/// The methods of those services; an unknown one is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    GetOperation,
    ListOperations,
    CancelOperation,
    DeleteOperation,
    WaitOperation,
    CreateOperation,
    UpdateOperation,
    CompleteOperation,
    WatchOperation,
    Check,
    Watch,
    ServerReflectionInfo,
    Other,
}

impl Method {
    pub const COUNT: usize = 13;

    pub fn as_str(self) -> &'static str {
        match self {
            Method::GetOperation => "GetOperation",
            Method::ListOperations => "ListOperations",
            Method::CancelOperation => "CancelOperation",
            Method::DeleteOperation => "DeleteOperation",
            Method::WaitOperation => "WaitOperation",
            Method::CreateOperation => "CreateOperation",
            Method::UpdateOperation => "UpdateOperation",
            Method::CompleteOperation => "CompleteOperation",
            Method::WatchOperation => "WatchOperation",
            Method::Check => "Check",
            Method::Watch => "Watch",
            Method::ServerReflectionInfo => "ServerReflectionInfo",
            Method::Other => "other",
        }
    }
}

/// How the call reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Grpc,
    GrpcWeb,
    Rest,
}

impl Transport {
    pub const COUNT: usize = 3;

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::GrpcWeb => "grpc-web",
            Transport::Rest => "rest",
        }
    }
}

/// The 17 gRPC status codes, by their canonical names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code(pub u8);

impl Code {
    pub const COUNT: usize = 17;
    pub const CANCELLED: Code = Code(1);
    pub const UNKNOWN: Code = Code(2);

    /// A `grpc-status` value; anything unparsable or out of range is UNKNOWN.
    pub fn from_header(value: &[u8]) -> Code {
        let code = match value {
            [digit] if digit.is_ascii_digit() => digit - b'0',
            [b'1', digit] if digit.is_ascii_digit() => 10 + (digit - b'0'),
            _ => return Code::UNKNOWN,
        };
        Code::from_number(i32::from(code))
    }

    /// A code's number; one out of range is UNKNOWN.
    pub fn from_number(number: i32) -> Code {
        u8::try_from(number)
            .ok()
            .filter(|code| usize::from(*code) < Code::COUNT)
            .map_or(Code::UNKNOWN, Code)
    }

    pub fn as_str(self) -> &'static str {
        const NAMES: [&str; Code::COUNT] = [
            "OK",
            "CANCELLED",
            "UNKNOWN",
            "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION",
            "ABORTED",
            "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL",
            "UNAVAILABLE",
            "DATA_LOSS",
            "UNAUTHENTICATED",
        ];
        NAMES.get(usize::from(self.0)).copied().unwrap_or("UNKNOWN")
    }
}

fn ended_str(how: Ended) -> &'static str {
    match how {
        Ended::Response => "response",
        Ended::Error => "error",
        Ended::CancelledByWorker => "cancelled_by_worker",
        Ended::CancelledByGrace => "cancelled_by_grace",
        Ended::CancelledAtOnce => "cancelled_at_once",
    }
}

/// `Ended`, as a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Outcome(pub Ended);

impl Outcome {
    fn as_str(self) -> &'static str {
        ended_str(self.0)
    }
}

/// `Waiter`, as a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kind(pub Waiter);

impl Kind {
    fn as_str(self) -> &'static str {
        match self.0 {
            Waiter::Wait => "wait",
            Waiter::Watch => "watch",
        }
    }
}

/// The result of one JWKS fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fetch {
    Ok,
    Error,
}

impl Fetch {
    fn as_str(self) -> &'static str {
        match self {
            Fetch::Ok => "ok",
            Fetch::Error => "error",
        }
    }
}

label_value!(Service);
label_value!(Method);
label_value!(Transport);
label_value!(Code);
label_value!(Outcome);
label_value!(Kind);
label_value!(Fetch);

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CallLabels {
    pub service: Service,
    pub method: Method,
    pub transport: Transport,
    pub code: Code,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct MethodLabels {
    pub service: Service,
    pub method: Method,
    pub transport: Transport,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: Fetch,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    pub revision: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn call_histogram() -> Histogram {
    Histogram::new(CALL_BUCKETS)
}

/// Every metric, registered once per server.
pub struct Families {
    pub rpc_requests: Family<CallLabels, Counter>,
    pub rpc_duration: Histograms<MethodLabels>,
    pub operations_created: Counter,
    pub operations_ended: Family<OutcomeLabels, Counter>,
    pub cancel_delivery: Histogram,
    pub waiters_open: Family<KindLabels, Gauge>,
    pub waiters_refused: Family<KindLabels, Counter>,
    pub store_write: Histogram,
    pub commit_group: Histogram,
    pub feed_reconnects: Counter,
    pub jwks_fetches: Family<ResultLabels, Counter>,
    /// The store's pool, once a PostgreSQL store has said it has one.
    pub pool: Arc<OnceLock<Arc<dyn PoolProbe>>>,
}

impl Families {
    pub fn register(registry: &mut Registry) -> Self {
        let families = Families {
            rpc_requests: Family::default(),
            rpc_duration: Family::new_with_constructor(call_histogram),
            operations_created: Counter::default(),
            operations_ended: Family::default(),
            cancel_delivery: Histogram::new(DELIVERY_BUCKETS),
            waiters_open: Family::default(),
            waiters_refused: Family::default(),
            store_write: Histogram::new(WRITE_BUCKETS),
            commit_group: Histogram::new(GROUP_BUCKETS),
            feed_reconnects: Counter::default(),
            jwks_fetches: Family::default(),
            pool: Arc::new(OnceLock::new()),
        };
        let f = &families;
        registry.register(
            "rpc_requests",
            "Calls finished, by service, method, transport (grpc, grpc-web, rest) and gRPC code",
            f.rpc_requests.clone(),
        );
        registry.register_with_unit(
            "rpc_duration",
            "Time from a call's arrival to the end of its response (a Watch: the stream's life)",
            Unit::Seconds,
            f.rpc_duration.clone(),
        );
        registry.register(
            "operations_created",
            "Operations created by this server",
            f.operations_created.clone(),
        );
        registry.register(
            "operations_completed",
            "Operations this server made done, by outcome",
            f.operations_ended.clone(),
        );
        registry.register_with_unit(
            "cancel_delivery",
            "Time from a cancel request to its delivery on a worker's Watch",
            Unit::Seconds,
            f.cancel_delivery.clone(),
        );
        registry.register(
            "waiters_open",
            "WaitOperation and WatchOperation calls open now, by kind",
            f.waiters_open.clone(),
        );
        registry.register(
            "waiters_refused",
            "Waits and Watches refused with RESOURCE_EXHAUSTED because --max-waiters were open",
            f.waiters_refused.clone(),
        );
        registry.register_with_unit(
            "store_write_duration",
            "Time one store write took, queueing and commit included",
            Unit::Seconds,
            f.store_write.clone(),
        );
        registry.register(
            "store_commit_group_size",
            "Writes committed together in one SQLite transaction (group commit)",
            f.commit_group.clone(),
        );
        registry.register(
            "pg_listener_reconnects",
            "Times the PostgreSQL change feed lost its connection and listened again",
            f.feed_reconnects.clone(),
        );
        registry.register(
            "jwks_fetches",
            "Fetches of the --jwks-url key set, by result (ok, error)",
            f.jwks_fetches.clone(),
        );
        registry.register_collector(Box::new(PoolCollector(Arc::clone(&f.pool))));
        let build: Family<BuildLabels, Gauge> = Family::default();
        build.get_or_create(&build_labels()).set(1);
        registry.register(
            "build_info",
            "Always 1; the labels say which build is running",
            build,
        );
        families
    }
}

/// `LONGRUN_VERSION` is "0.1.0" or "0.1.0 (abc1234)" (build.rs).
fn build_labels() -> BuildLabels {
    let full: &'static str = env!("LONGRUN_VERSION");
    let revision = full
        .split_once(" (")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or("unknown");
    BuildLabels {
        version: env!("CARGO_PKG_VERSION"),
        revision,
    }
}

/// The PostgreSQL pool's gauges, read from the pool at scrape time; nothing
/// is exported until a store registers its pool (SQLite has none).
struct PoolCollector(Arc<OnceLock<Arc<dyn PoolProbe>>>);

impl std::fmt::Debug for PoolCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolCollector").finish_non_exhaustive()
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(probe) = self.0.get() else {
            return Ok(());
        };
        let stats = probe.stats();
        for (name, help, value) in [
            (
                "pg_pool_connections",
                "Connections in the PostgreSQL pool, idle or in use",
                stats.size,
            ),
            (
                "pg_pool_idle",
                "Idle connections in the PostgreSQL pool",
                stats.idle,
            ),
            (
                "pg_pool_waiting",
                "Store calls in flight beyond the connections in use: waiting for one",
                stats.waiting,
            ),
        ] {
            let gauge = ConstGauge::new(i64::from(value));
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_status_values_map_to_their_names_and_junk_to_unknown() {
        assert_eq!(Code::from_header(b"0").as_str(), "OK");
        assert_eq!(Code::from_header(b"5").as_str(), "NOT_FOUND");
        assert_eq!(Code::from_header(b"16").as_str(), "UNAUTHENTICATED");
        assert_eq!(Code::from_header(b"17"), Code::UNKNOWN);
        assert_eq!(Code::from_header(b""), Code::UNKNOWN);
        assert_eq!(Code::from_header(b"x"), Code::UNKNOWN);
        assert_eq!(Code::from_header(b"007"), Code::UNKNOWN);
    }
}
