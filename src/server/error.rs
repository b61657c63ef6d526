//! Why a server could not start.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::PolicyError;
use crate::registry::RegistryError;
use crate::service::ServiceError;
use crate::store::StoreError;
use crate::transcode::rules::RulesError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Metrics(#[from] crate::telemetry::metrics::MetricsError),
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
    #[error(transparent)]
    Tls(#[from] super::tls::TlsError),
}
