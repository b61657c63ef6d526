//! The composition root: the only place where concrete types meet. Opens the
//! store, builds the use cases, mounts the gRPC services on two listeners
//! (public and control) and runs them until shutdown, then drains.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

mod database;
mod dispatch;
mod health;
mod port;
mod rest_methods;
mod security;

pub use security::PolicyReloader;

use crate::auth::{AuthSettings, Caller, PolicyError};
use crate::console::ConsoleLayer;
use crate::grpc::auth::AuthLayer;
use crate::grpc::edge::GrpcEdgeLayer;
use crate::transcode::gateway::GatewayConfig;
use crate::transcode::openapi::openapi_document;
use crate::transcode::router::Router;
use crate::transcode::rules::{self, DEFAULT_RULES, RulesError};
use port::port_service;
use rest_methods::RestMethods;

pub use database::{OpenedStore, migrate, open_store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
use crate::grpc::{ControlGrpc, OperationsGrpc};
use crate::pb;
use crate::registry::{RegistryError, TypeRegistry};
use crate::service::{BackgroundTasks, Core, ServiceError, ServiceSettings, SystemClock};
use crate::store::{OperationStore, PgSettings, StoreError};

pub const PUBLIC_SERVICE: &str = "google.longrunning.Operations";
pub const CONTROL_SERVICE: &str = "longrun.v1.OperationsControl";

/// Bounds on what one client can make the server hold (docs/behaviour.md §9).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_concurrent_streams: u32,
    pub max_local_error_resets: usize,
    pub max_pending_accept_resets: usize,
    pub max_header_list_bytes: u32,
    pub header_read_timeout: Duration,
    /// How long shutdown waits for in-flight calls.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 200,
            max_local_error_resets: 1024,
            max_pending_accept_resets: 20,
            max_header_list_bytes: 16 * 1024,
            header_read_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub control_listen: SocketAddr,
    pub database: String,
    pub descriptor_sets: Vec<PathBuf>,
    /// Operations kept in memory; 0 turns the cache off.
    pub cache_entries: usize,
    pub service: ServiceSettings,
    /// The `ErrorInfo.domain` of every error.
    pub service_name: String,
    /// A service-config YAML (`http: rules:`) replacing the default REST routes.
    pub http_rules: Option<PathBuf>,
    /// Origins browsers may call from (CORS); empty turns CORS off.
    pub cors_origins: Vec<String>,
    pub limits: Limits,
    /// Pool bounds and migration choice for a `postgres://` database.
    pub postgres: PgSettings,
    /// How often health asks the store whether it answers.
    pub health_probe_interval: Duration,
    /// Tokens, policies and what may run open (server/security.rs).
    pub auth: AuthSettings,
    /// Serve the web console at `/console/` on the public port.
    pub console: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            control_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database: "sqlite://longrun.db".into(),
            descriptor_sets: Vec::new(),
            cache_entries: DEFAULT_CACHE_ENTRIES,
            service: ServiceSettings::default(),
            service_name: "cloudaicompanion.googleapis.com".into(),
            http_rules: None,
            cors_origins: Vec::new(),
            limits: Limits::default(),
            postgres: PgSettings::default(),
            health_probe_interval: Duration::from_secs(1),
            auth: AuthSettings::default(),
            console: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("unsupported database URL {0:?}: use sqlite://FILE, sqlite::memory: or postgres://...")]
    DatabaseUrl(String),
    #[error(
        "database {0:?} is in use by another longrun server; a SQLite file serves one server (use PostgreSQL for several replicas)"
    )]
    DatabaseInUse(String),
    #[error("cannot lock {path}: {source}")]
    LockFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read descriptor set {path}: {source}")]
    DescriptorFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("descriptor set {path}: {source}")]
    Descriptor {
        path: PathBuf,
        source: RegistryError,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("cannot read the HTTP rules file {path}: {source}")]
    RulesFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid HTTP rules: {0}")]
    Rules(#[from] RulesError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start: {0}")]
    Service(#[from] ServiceError),
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("authentication: {0}")]
    Auth(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// A server that is accepting calls.
pub struct RunningServer {
    pub public_addr: SocketAddr,
    pub control_addr: SocketAddr,
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

    /// Reloads the policy files (what SIGHUP does); calls in flight keep
    /// the policy they started with.
    pub fn policy_reloader(&self) -> PolicyReloader {
        self.reloader.clone()
    }

    /// Drains: open Waits return the latest state, Watches end, in-flight
    /// calls finish, the store flushes. Returns when all of it is done.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    /// Completes when the server has stopped for any reason.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Operations kept in memory by default (see `CachedStore`).
pub const DEFAULT_CACHE_ENTRIES: usize = 100_000;

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
    // Refuse an unsafe or broken security set-up before opening anything.
    let security = security::configure(&config).await?;
    let opened = open_store(&config.database, config.cache_entries, &config.postgres).await?;
    run(config, opened, security).await
}

/// `start` on a store the caller opened (`config.database` is not used);
/// the store has no change feed, so this process must be its only writer.
pub async fn start_with_store(
    config: ServerConfig,
    store: Arc<dyn OperationStore>,
) -> Result<RunningServer, ServerError> {
    let security = security::configure(&config).await?;
    run(config, OpenedStore { store, feed: None }, security).await
}

async fn run(
    config: ServerConfig,
    opened: OpenedStore,
    security: security::Security,
) -> Result<RunningServer, ServerError> {
    let registry = load_registry(&config.descriptor_sets)?;
    let core = Core::new(
        opened.store,
        registry,
        config.service.clone(),
        Arc::new(SystemClock),
    )
    .await?;
    let public = bind(config.listen).await?;
    let control = bind(config.control_listen).await?;
    let public_addr = local_addr(&public, config.listen)?;
    let control_addr = local_addr(&control, config.control_listen)?;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::longrunning::operations_server::OperationsServer<OperationsGrpc>>()
        .await;
    health
        .set_serving::<pb::control::operations_control_server::OperationsControlServer<ControlGrpc>>()
        .await;
    let public_operations = operations_server(&core, &config, security.public.is_open());
    let control_operations = operations_server(&core, &config, security.control.is_open());
    let control_server = control_server(&core, &config, security.control.is_open());
    let public_routes = public_routes(public_operations.clone(), health_service.clone())?;
    // Workers poll and wait too, so the control listener also serves the
    // public methods; the public listener never serves the control ones.
    let control_routes = Routes::new(control_server.clone())
        .add_service(control_operations.clone())
        .add_service(health_service);

    let edge = GrpcEdgeLayer::new(&config.service_name);
    let rules_text = match &config.http_rules {
        Some(path) => std::fs::read_to_string(path).map_err(|source| ServerError::RulesFile {
            path: path.clone(),
            source,
        })?,
        None => DEFAULT_RULES.to_owned(),
    };
    let gateway = |services: &[&str], auth: &AuthLayer| -> Result<GatewayConfig, ServerError> {
        let pool = core.registry().pool().clone();
        let bindings = rules::load(&pool, Some(&rules_text), services)?;
        let document = openapi_document(&pool, &bindings, "longrun", env!("CARGO_PKG_VERSION"));
        Ok(GatewayConfig {
            pool,
            router: Router::new(bindings),
            domain: config.service_name.clone(),
            max_body_bytes: config.limits.max_message_bytes,
            openapi_json: Some(bytes::Bytes::from(document.to_string())),
            forwarded_headers: security::forwarded_headers(&config.auth),
            admission: security::admission(auth),
        })
    };
    let public_service = port_service(
        public_routes,
        RestMethods::one(public_operations),
        edge.clone(),
        security.public.clone(),
        gateway(&[PUBLIC_SERVICE], &security.public)?,
        &config.cors_origins,
        Some(ConsoleLayer::new(config.console)),
    );
    let control_service = port_service(
        control_routes,
        RestMethods::two(control_server, control_operations),
        edge,
        security.control.clone(),
        gateway(&[CONTROL_SERVICE, PUBLIC_SERVICE], &security.control)?,
        &config.cors_origins,
        None,
    );

    let stop = CancellationToken::new();
    let background = BackgroundTasks::spawn(&core, opened.feed);
    let probe = tokio::spawn(health::probe_store(
        core.clone(),
        health.clone(),
        config.health_probe_interval,
        stop.clone(),
    ));
    let limits = config.limits.clone();
    let task_core = core.clone();
    let task_stop = stop.clone();
    let task = tokio::spawn(async move {
        let public_task = tokio::spawn(serve(
            public,
            public_service,
            limits.clone(),
            task_stop.clone(),
        ));
        let control_task = tokio::spawn(serve(control, control_service, limits, task_stop.clone()));
        task_stop.cancelled().await;
        tracing::info!("shutting down: draining calls");
        let _ = probe.await;
        health.set_not_serving::<pb::longrunning::operations_server::OperationsServer<OperationsGrpc>>().await;
        task_core.begin_shutdown();
        let _ = public_task.await;
        let _ = control_task.await;
        background.join().await;
        task_core.close_store().await;
        tracing::info!("shut down");
    });
    let database = database::redacted_url(&config.database);
    tracing::info!(%public_addr, %control_addr, %database, "longrun serving");
    Ok(RunningServer {
        public_addr,
        control_addr,
        core,
        reloader: security.reloader,
        stop,
        task,
    })
}

/// An adapter of a plane without authentication acts for every caller as
/// trusted; on a plane with it, a request the auth layer did not admit has
/// no `Caller` and is refused. Both follow from the same `open`, the one
/// `port_service` uses to leave the layer out.
fn trusts<A>(adapter: A, open: bool, with_default_caller: fn(A, Caller) -> A) -> A {
    if open {
        with_default_caller(adapter, Caller::trusted())
    } else {
        adapter
    }
}

type OperationsServer = pb::longrunning::operations_server::OperationsServer<OperationsGrpc>;
type ControlServer = pb::control::operations_control_server::OperationsControlServer<ControlGrpc>;

fn operations_server(core: &Core, config: &ServerConfig, open: bool) -> OperationsServer {
    let max = config.limits.max_message_bytes;
    OperationsServer::new(trusts(
        OperationsGrpc::new(core.clone(), &config.service_name),
        open,
        OperationsGrpc::with_default_caller,
    ))
    .max_decoding_message_size(max)
    .max_encoding_message_size(max)
}

fn control_server(core: &Core, config: &ServerConfig, open: bool) -> ControlServer {
    let max = config.limits.max_message_bytes;
    ControlServer::new(trusts(
        ControlGrpc::new(core.clone(), &config.service_name),
        open,
        ControlGrpc::with_default_caller,
    ))
    .max_decoding_message_size(max)
    .max_encoding_message_size(max)
}

fn public_routes(
    operations: OperationsServer,
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> Result<Routes, ServerError> {
    let reflection_v1 = public_reflection().build_v1()?;
    let reflection_v1alpha = public_reflection().build_v1alpha()?;
    Ok(Routes::new(operations)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
}

/// Reflection that advertises only what the public port serves: the control
/// service's descriptors are in the same set, but it is not served here.
fn public_reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("google.longrunning.Operations")
        .with_service_name("grpc.health.v1.Health")
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, ServerError> {
    listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })
}

/// Accepts connections until `stop`, serving HTTP/1.1 and h2c on one port
/// with the limits tonic leaves open, then drains the open connections.
async fn serve<S>(listener: TcpListener, service: S, limits: Limits, stop: CancellationToken)
where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<tonic::body::Body>,
            Error = BoxError,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_local_error_reset_streams(limits.max_local_error_resets)
        .max_pending_accept_reset_streams(limits.max_pending_accept_resets)
        .max_header_list_size(limits.max_header_list_bytes)
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(conn) => conn,
            Err(err) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // No HTTP/1.1 upgrades: nothing here speaks WebSocket, and hyper
        // does not do `Upgrade: h2c` (h2c clients start with the preface).
        let connection = builder
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(service.clone()),
            )
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = watched.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout: closing the remaining connections");
    }
}
