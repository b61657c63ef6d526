//! What a server is started with: addresses, database, behaviour, limits
//! and security, as `longrun serve`'s flags (config.rs) fill them in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::tls::TlsSettings;
use crate::auth::AuthSettings;
use crate::service::{Clock, ServiceSettings, SystemClock};
use crate::store::PgSettings;

/// Operations kept in memory by default (see `CachedStore`).
pub const DEFAULT_CACHE_ENTRIES: usize = 100_000;

/// Bounds on what one client can make the server hold (docs/behaviour.md §9).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_concurrent_streams: u32,
    pub max_local_error_resets: usize,
    pub max_pending_accept_resets: usize,
    /// The largest header list, h2's and HTTP/1's alike (counted as h2 does).
    pub max_header_list_bytes: u32,
    /// HTTP/1: hyper's read buffer, which bounds the memory a half-sent
    /// request head holds (one read may carry a head a little past it).
    /// Above hyper's fixed URI limit (65,534 bytes), so that a long URI
    /// gets 414 and not 431; the header limit itself is
    /// `max_header_list_bytes`, as for h2 (src/server/head_limit.rs).
    pub max_http1_head_bytes: usize,
    pub header_read_timeout: Duration,
    /// How long a TLS client may take over its handshake.
    pub tls_handshake_timeout: Duration,
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
            max_http1_head_bytes: 80 * 1024,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
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
    /// Certificates per plane, and the client CAs of mTLS (server/tls.rs).
    pub tls: TlsSettings,
    /// Serve the web console at `/console/` on the public port.
    pub console: bool,
    /// Serve Prometheus metrics on this address (`--metrics-listen`).
    pub metrics_listen: Option<SocketAddr>,
    /// Open trace spans: each call's, and the use cases' and stores' below
    /// it. Whoever set up the `tracing` subscriber exports them (the
    /// binary, with `--otlp-endpoint`); off, no span is even built.
    pub traces: bool,
    /// The wall clock the use cases stamp and expire by. Tests give one
    /// that follows tokio's paused clock, so cancel graces and retention
    /// run on the same time as the timers that wait for them.
    pub clock: Arc<dyn Clock>,
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
            tls: TlsSettings::default(),
            console: true,
            metrics_listen: None,
            traces: false,
            clock: Arc::new(SystemClock),
        }
    }
}
