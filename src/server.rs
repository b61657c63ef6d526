//! The composition root: the only place where concrete types meet. Opens the
//! store, builds the use cases, mounts the gRPC services on two listeners
//! (public and control) and runs them until shutdown, then drains.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod database;
mod dispatch;
mod error;
mod head_limit;
mod health;
mod listener;
mod port;
mod refusals;
mod rest_methods;
mod security;
mod services;
mod settings;
mod tls;

pub use database::{OpenedStore, migrate, open_store, open_store_with};
pub use error::ServerError;
pub use security::PolicyReloader;
pub use settings::{DEFAULT_CACHE_ENTRIES, Limits, ServerConfig};
pub use tls::{TlsError, TlsFiles, TlsSettings};

use crate::observe::Recorder;
use crate::registry::TypeRegistry;
use crate::service::{BackgroundTasks, Core};
use crate::store::OperationStore;
use crate::telemetry::metrics::{Metrics, MetricsServer};
use health::Health;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const PUBLIC_SERVICE: &str = "google.longrunning.Operations";
pub const CONTROL_SERVICE: &str = "longrun.v1.OperationsControl";

/// A server that is accepting calls.
pub struct RunningServer {
    pub public_addr: std::net::SocketAddr,
    pub control_addr: std::net::SocketAddr,
    /// Where `GET /metrics` is served, with `--metrics-listen`.
    pub metrics_addr: Option<std::net::SocketAddr>,
    core: Core,
    reloader: PolicyReloader,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The use cases, for embedding (e.g. running workers in-process).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Reloads the policy files and the TLS certificates and keys (what
    /// SIGHUP does); calls in flight keep the policy they started with, open
    /// connections the certificate they were made with.
    pub fn policy_reloader(&self) -> PolicyReloader {
        self.reloader.clone()
    }

    /// Drains: health says NOT_SERVING, open Waits return the latest state,
    /// Watches end, in-flight calls finish, the store flushes. Returns when
    /// all of it is done.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    /// Completes when the server has stopped for any reason.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }
}

pub fn load_registry(paths: &[PathBuf]) -> Result<TypeRegistry, ServerError> {
    let mut registry = TypeRegistry::builtin()?;
    for path in paths {
        let bytes = std::fs::read(path).map_err(|source| ServerError::DescriptorFile {
            path: path.clone(),
            source,
        })?;
        registry
            .add_descriptor_set(&bytes)
            .map_err(|source| ServerError::Descriptor {
                path: path.clone(),
                source,
            })?;
    }
    Ok(registry)
}

/// Opens everything and starts serving; returns once both listeners accept.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let metrics = config.metrics_listen.map(|_| Metrics::new());
    let recorder = recorder_of(metrics.as_ref(), &config);
    // Refuse an unsafe or broken security set-up before opening anything.
    let security = security::configure(&config, &recorder).await?;
    let opened = open_store_with(
        &config.database,
        config.cache_entries,
        &config.postgres,
        recorder,
    )
    .await?;
    run(config, opened, security, metrics).await
}

/// The handle the use cases, stores and authenticator report through: to
/// the metrics if any, and opening trace spans if traces are on.
fn recorder_of(metrics: Option<&Metrics>, config: &ServerConfig) -> Recorder {
    metrics
        .map_or_else(Recorder::default, Metrics::recorder)
        .with_spans(config.traces)
}

/// `start` on a store the caller opened (`config.database` is not used);
/// the store has no change feed, so this process must be its only writer.
pub async fn start_with_store(
    config: ServerConfig,
    store: Arc<dyn OperationStore>,
) -> Result<RunningServer, ServerError> {
    let metrics = config.metrics_listen.map(|_| Metrics::new());
    let security = security::configure(&config, &recorder_of(metrics.as_ref(), &config)).await?;
    run(config, OpenedStore { store, feed: None }, security, metrics).await
}

async fn run(
    config: ServerConfig,
    opened: OpenedStore,
    security: security::Security,
    metrics: Option<Metrics>,
) -> Result<RunningServer, ServerError> {
    let registry = load_registry(&config.descriptor_sets)?;
    let core = Core::with_recorder(
        opened.store,
        registry,
        config.service.clone(),
        Arc::clone(&config.clock),
        recorder_of(metrics.as_ref(), &config),
    )
    .await?;
    let (public, public_addr) = listener::bind(config.listen)?;
    let (control, control_addr) = listener::bind(config.control_listen)?;
    let (health, health_service) = Health::serving().await;
    let (public_service, control_service) =
        services::port_services(&core, &config, &security, health_service, metrics.as_ref())?;

    let stop = CancellationToken::new();
    let metrics_server = match (config.metrics_listen, metrics) {
        (Some(addr), Some(metrics)) => {
            Some(MetricsServer::start(addr, metrics, stop.clone()).await?)
        }
        _ => None,
    };
    let metrics_addr = metrics_server.as_ref().map(|server| server.addr);
    if let Some(metrics_addr) = metrics_addr {
        tracing::info!(%metrics_addr, "metrics at /metrics");
    }
    let limits = &config.limits;
    let domain: Arc<str> = Arc::from(config.service_name.as_str());
    let listeners = [
        tokio::spawn(listener::serve(
            public,
            public_service,
            limits.clone(),
            security.public_tls.clone(),
            Arc::clone(&domain),
            stop.clone(),
        )),
        tokio::spawn(listener::serve(
            control,
            control_service,
            limits.clone(),
            security.control_tls.clone(),
            Arc::clone(&domain),
            stop.clone(),
        )),
    ];
    let running = Running {
        background: BackgroundTasks::spawn(&core, opened.feed),
        probe: tokio::spawn(health.clone().follow_store(
            core.clone(),
            config.health_probe_interval,
            stop.clone(),
        )),
        core: core.clone(),
        health,
        listeners,
        metrics: metrics_server,
    };
    let task = tokio::spawn(running.drain_when(stop.clone()));
    let database = database::redacted_url(&config.database);
    tracing::info!(%public_addr, %control_addr, %database, "longrun serving");
    Ok(RunningServer {
        public_addr,
        control_addr,
        metrics_addr,
        core,
        reloader: security.reloader,
        stop,
        task,
    })
}

/// Everything a started server runs, stopped in order by `drain_when`.
struct Running {
    core: Core,
    health: Health,
    probe: JoinHandle<()>,
    listeners: [JoinHandle<()>; 2],
    background: BackgroundTasks,
    metrics: Option<MetricsServer>,
}

impl Running {
    /// After `stop`: health tells load balancers to go elsewhere (every
    /// service, so a worker's probe on the control port hears it too), open
    /// Waits and Watches end, the listeners drain their connections, the
    /// timers stop and the store flushes.
    async fn drain_when(self, stop: CancellationToken) {
        stop.cancelled().await;
        tracing::info!("shutting down: draining calls");
        // The probe has stopped too, so it cannot report SERVING again.
        let _ = self.probe.await;
        self.health.not_serving().await;
        self.core.begin_shutdown();
        for listener in self.listeners {
            let _ = listener.await;
        }
        self.background.join().await;
        self.core.close_store().await;
        if let Some(metrics) = self.metrics {
            metrics.stopped().await;
        }
        tracing::info!("shut down");
    }
}
