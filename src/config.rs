//! The flags of `longrun serve` (the README's flags table), each also read from
//! `LONGRUN_<NAME>`; flags win over the environment, the environment over
//! the defaults. Validated here into the typed `ServerConfig`.

mod auth_args;
mod telemetry_args;
mod tls_args;
mod trace_args;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::domain::parse_duration;
use crate::server::{Limits, ServerConfig};
use crate::service::{ServiceSettings, SystemClock};
use crate::store::PgSettings;

pub use auth_args::AuthArgs;
pub use telemetry_args::TelemetryArgs;
pub use tls_args::TlsArgs;
pub use trace_args::{ProtocolArg, TraceArgs, TraceConfigError};

/// --service-name when none is given.
pub const DEFAULT_SERVICE_NAME: &str = "cloudaicompanion.googleapis.com";

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Public address: google.longrunning.Operations over gRPC, gRPC-Web and
    /// REST/JSON on one port, with health, reflection and /openapi.json.
    #[arg(long, env = "LONGRUN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Control API address (longrun.v1.OperationsControl, for producers and
    /// workers; also serves the public methods), same protocols. Keep it
    /// private.
    #[arg(long, env = "LONGRUN_CONTROL_LISTEN", default_value = "127.0.0.1:8081")]
    pub control_listen: SocketAddr,

    /// sqlite://FILE (created if missing; one server per file),
    /// sqlite::memory:, or postgres://USER@HOST:PORT/DB (shared by replicas).
    // The environment's value stays out of --help: it may hold a password.
    #[arg(
        long,
        env = "LONGRUN_DATABASE",
        default_value = "sqlite://longrun.db",
        hide_env_values = true
    )]
    pub database: String,

    /// PostgreSQL: apply the schema migrations at start. With false, leave
    /// them to `longrun migrate`; the server then refuses to start on an
    /// older schema. SQLite always migrates.
    #[arg(
        long,
        env = "LONGRUN_MIGRATE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub migrate: bool,

    /// Same as --migrate=false.
    #[arg(long)]
    pub no_migrate: bool,

    /// PostgreSQL: connections in this replica's pool (plus one for
    /// LISTEN).
    #[arg(long, env = "LONGRUN_PG_MAX_CONNECTIONS", default_value_t = 16)]
    pub pg_max_connections: u32,

    /// PostgreSQL: how long a call waits for a pool connection before it
    /// fails with UNAVAILABLE (so also how long calls hang while the database
    /// is unreachable). Short, so an outage fails calls fast: clients retry
    /// UNAVAILABLE, and a healthy pool hands out connections in milliseconds.
    #[arg(long, env = "LONGRUN_PG_ACQUIRE_TIMEOUT", default_value = "1s", value_parser = duration)]
    pub pg_acquire_timeout: Duration,

    /// PostgreSQL: wake other replicas with LISTEN/NOTIFY. Set it to false
    /// on compatible engines without it (CockroachDB, YugabyteDB); replicas
    /// then see each other's changes by polling, every 3 seconds.
    #[arg(
        long,
        env = "LONGRUN_PG_NOTIFY",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub pg_notify: bool,

    /// PostgreSQL: the server-side statement_timeout of every connection.
    #[arg(long, env = "LONGRUN_PG_STATEMENT_TIMEOUT", default_value = "5s", value_parser = duration)]
    pub pg_statement_timeout: Duration,

    /// SQLite: operations kept in memory for reads and transitions; 0 turns
    /// the cache off. PostgreSQL has none (replicas share the database).
    #[arg(long, env = "LONGRUN_CACHE_ENTRIES", default_value_t = crate::server::DEFAULT_CACHE_ENTRIES)]
    pub cache_entries: usize,

    /// FileDescriptorSet files (`protoc --include_imports -o FILE`) with the
    /// types of your metadata and responses, for REST/JSON and filters
    /// (repeatable; comma-separated in the environment).
    #[arg(
        long = "descriptor-set",
        env = "LONGRUN_DESCRIPTOR_SET",
        value_delimiter = ','
    )]
    pub descriptor_sets: Vec<PathBuf>,

    /// Give operations created without metadata an empty message of this
    /// type (full name, e.g. myapi.v1.OperationMetadata); the server keeps
    /// its create_time, end_time and requested_cancellation current, where
    /// the type has them. It must be longrun.v1.OperationMetadata or come
    /// from a --descriptor-set. Unset: such operations have no metadata,
    /// which every client can read.
    #[arg(long, env = "LONGRUN_DEFAULT_METADATA_TYPE", value_name = "FULL.NAME")]
    pub default_metadata_type: Option<String>,

    /// After a cancel, how long the worker has to acknowledge before the
    /// server ends the operation as CANCELLED (at once if no worker started
    /// it); for operations created without their own cancel_grace.
    #[arg(long, env = "LONGRUN_CANCEL_GRACE", default_value = "30s", value_parser = duration)]
    pub cancel_grace: Duration,

    /// The longest one WaitOperation blocks, whatever timeout it asks for.
    #[arg(long, env = "LONGRUN_WAIT_CAP", default_value = "60s", value_parser = duration)]
    pub wait_cap: Duration,

    /// How long a done operation is kept; after that it is gone
    /// (NOT_FOUND).
    #[arg(long, env = "LONGRUN_RETENTION", default_value = "30d", value_parser = duration)]
    pub retention: Duration,

    /// WaitOperation and WatchOperation calls held open at once, across all
    /// connections; one more gets RESOURCE_EXHAUSTED.
    #[arg(long, env = "LONGRUN_MAX_WAITERS", default_value_t = 10_000)]
    pub max_waiters: usize,

    /// Answer every CancelOperation with UNIMPLEMENTED.
    #[arg(long, env = "LONGRUN_DISABLE_CANCEL")]
    pub disable_cancel: bool,

    /// Your API's service name: the `domain` of every error's ErrorInfo,
    /// and (its first label) the default --permission-prefix.
    #[arg(long, env = "LONGRUN_SERVICE_NAME", default_value = DEFAULT_SERVICE_NAME)]
    pub service_name: String,

    /// Largest gRPC message (either way) or REST request body, in bytes.
    #[arg(long, env = "LONGRUN_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Concurrent calls (streams) per HTTP/2 connection.
    #[arg(long, env = "LONGRUN_MAX_CONCURRENT_STREAMS", default_value_t = 200)]
    pub max_concurrent_streams: u32,

    /// A service-config YAML (`http: rules:`) to use instead of the built-in
    /// one (config/http_rules.yaml); its rules replace the google.api.http
    /// annotations per method.
    #[arg(long, env = "LONGRUN_HTTP_RULES")]
    pub http_rules: Option<PathBuf>,

    /// Let browser pages from this origin call both ports (CORS;
    /// repeatable, `*` for any). Without it no CORS headers are sent.
    #[arg(
        long = "cors-origin",
        env = "LONGRUN_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Serve the web console at /console/ on the public port (it calls the
    /// public REST API, with the same authentication and policy).
    #[arg(
        long,
        env = "LONGRUN_CONSOLE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub console: bool,

    /// Log format, on stderr. LONGRUN_LOG picks what is logged, as an
    /// env-filter (`debug`, `info,longrun=trace`) [default: info].
    #[arg(long, env = "LONGRUN_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,

    #[command(flatten)]
    pub traces: TraceArgs,

    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

impl ServeArgs {
    /// Where trace spans are exported, from the flags and the process's
    /// environment (OTEL_*), or `None` with traces off.
    pub fn trace_settings(
        &self,
    ) -> Result<Option<crate::telemetry::traces::TraceSettings>, TraceConfigError> {
        // Left at its default, --service-name yields to OTEL_SERVICE_NAME.
        let given = self.service_name != DEFAULT_SERVICE_NAME
            || std::env::var_os("LONGRUN_SERVICE_NAME").is_some();
        self.traces
            .settings(&self.service_name, given, |name| std::env::var(name).ok())
    }

    pub fn into_config(self) -> ServerConfig {
        let auth = self.auth.into_settings(&self.service_name);
        ServerConfig {
            listen: self.listen,
            control_listen: self.control_listen,
            database: self.database,
            descriptor_sets: self.descriptor_sets,
            cache_entries: self.cache_entries,
            service: ServiceSettings {
                cancel_enabled: !self.disable_cancel,
                default_cancel_grace: self.cancel_grace,
                wait_cap: self.wait_cap,
                retention: self.retention,
                max_waiters: self.max_waiters,
                default_metadata_type: self.default_metadata_type,
                ..ServiceSettings::default()
            },
            service_name: self.service_name,
            http_rules: self.http_rules,
            cors_origins: self.cors_origins,
            limits: Limits {
                max_message_bytes: self.max_message_bytes,
                max_concurrent_streams: self.max_concurrent_streams,
                ..Limits::default()
            },
            postgres: PgSettings {
                max_connections: self.pg_max_connections,
                acquire_timeout: self.pg_acquire_timeout,
                statement_timeout: self.pg_statement_timeout,
                migrate: self.migrate && !self.no_migrate,
                notify: self.pg_notify,
            },
            auth,
            tls: self.tls.into_settings(),
            console: self.console,
            metrics_listen: self.telemetry.metrics_listen,
            clock: Arc::new(SystemClock),
            ..ServerConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn defaults_match_the_spec() {
        let config = Harness::try_parse_from(["longrun"])
            .expect("parses")
            .serve
            .into_config();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.control_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(config.database, "sqlite://longrun.db");
        assert_eq!(config.service.default_cancel_grace, Duration::from_secs(30));
        assert_eq!(config.service.wait_cap, Duration::from_secs(60));
        assert_eq!(config.service.retention, Duration::from_secs(30 * 86_400));
        assert!(config.service.cancel_enabled);
        assert_eq!(config.service.default_metadata_type, None);
        assert!(config.auth.tokens.is_none());
        assert!(config.console);
        assert_eq!(config.metrics_listen, None);
        assert_eq!(config.auth.permission_prefix, "cloudaicompanion");
        assert_eq!(
            config.auth.required_scopes,
            [crate::auth::CLOUD_PLATFORM_SCOPE]
        );
    }

    #[test]
    fn auth_flags_make_jwt_settings_and_prefix_follows_service_name() {
        let config = Harness::try_parse_from([
            "longrun",
            "--jwks-file",
            "keys.json",
            "--jwt-issuer",
            "https://issuer.test",
            "--jwt-audience",
            "a,b",
            "--policy",
            "policy.yaml",
            "--service-name",
            "myapi.example.com",
            "--required-scope",
            "",
        ])
        .expect("parses")
        .serve
        .into_config();
        let Some(crate::auth::TokenSource::Jwt(jwt)) = &config.auth.tokens else {
            panic!("expected JWT settings");
        };
        assert_eq!(jwt.audiences, ["a", "b"]);
        assert_eq!(config.auth.permission_prefix, "myapi");
        assert!(config.auth.required_scopes.is_empty());
    }

    #[test]
    fn two_key_sources_are_refused() {
        assert!(
            Harness::try_parse_from([
                "longrun",
                "--jwks-file",
                "a",
                "--forward-payload-header",
                "x"
            ])
            .is_err()
        );
    }

    #[test]
    fn flags_parse_durations_with_units() {
        let config = Harness::try_parse_from([
            "longrun",
            "--cancel-grace",
            "1.5s",
            "--wait-cap",
            "2m",
            "--retention",
            "7d",
            "--disable-cancel",
        ])
        .expect("parses")
        .serve
        .into_config();
        assert_eq!(
            config.service.default_cancel_grace,
            Duration::from_millis(1500)
        );
        assert_eq!(config.service.wait_cap, Duration::from_secs(120));
        assert_eq!(config.service.retention, Duration::from_secs(7 * 86_400));
        assert!(!config.service.cancel_enabled);
    }

    #[test]
    fn postgres_flags_fill_the_pool_settings() {
        let parse = |args: &[&str]| {
            Harness::try_parse_from(args)
                .expect("parses")
                .serve
                .into_config()
                .postgres
        };
        assert_eq!(parse(&["longrun"]), PgSettings::default());
        let settings = parse(&[
            "longrun",
            "--pg-max-connections",
            "4",
            "--pg-acquire-timeout",
            "500ms",
            "--pg-statement-timeout",
            "2s",
            "--migrate",
            "false",
            "--pg-notify",
            "false",
        ]);
        assert_eq!(settings.max_connections, 4);
        assert_eq!(settings.acquire_timeout, Duration::from_millis(500));
        assert_eq!(settings.statement_timeout, Duration::from_secs(2));
        assert!(!settings.migrate);
        assert!(!settings.notify);
        assert!(!parse(&["longrun", "--no-migrate"]).migrate);
    }

    #[test]
    fn console_flag_turns_the_console_off() {
        let console = |args: &[&str]| {
            Harness::try_parse_from(args)
                .expect("parses")
                .serve
                .into_config()
                .console
        };
        assert!(!console(&["longrun", "--console=false"]));
        assert!(!console(&["longrun", "--console", "false"]));
        assert!(console(&["longrun", "--console=true"]));
    }

    #[test]
    fn bad_duration_is_a_clear_error() {
        let err = Harness::try_parse_from(["longrun", "--wait-cap", "soon"])
            .err()
            .expect("rejected");
        assert!(err.to_string().contains("not a duration"), "{err}");
    }
}
