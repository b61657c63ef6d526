//! The telemetry flags of `longrun serve`: where metrics are served.

use std::net::SocketAddr;

use clap::Args;

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Telemetry")]
pub struct TelemetryArgs {
    /// Serve Prometheus metrics at GET /metrics on this address (e.g.
    /// 127.0.0.1:9464); off when unset. Keep it private: it tells how busy
    /// the server is, though never an operation name or a caller.
    #[arg(long, env = "LONGRUN_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
}
