//! `longrun operations health`: asks a server's `grpc.health.v1` service
//! whether it serves, for container health checks and load balancer probes
//! that have nothing but the binary (a distroless image has no curl).

use anyhow::bail;
use clap::Args;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::client::Session;

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// The service to ask about: "" (the default) is the server as a whole;
    /// or google.longrunning.Operations, longrun.v1.OperationsControl.
    #[arg(long, default_value = "")]
    pub service: String,

    /// Ask the control port (--control) instead of the public one (--server).
    #[arg(long)]
    pub control_port: bool,
}

/// Exits 0 when the server answers SERVING; otherwise says what it answered.
pub async fn health(session: &Session, args: &HealthArgs) -> anyhow::Result<()> {
    let (url, flag) = if args.control_port {
        (&session.control, "--control")
    } else {
        (&session.server, "--server")
    };
    let mut client = HealthClient::new(session.channel(url, flag).await?);
    let request = session.unary(HealthCheckRequest {
        service: args.service.clone(),
    });
    let status = match client.check(request).await {
        Ok(answer) => answer.into_inner().status,
        Err(status) => return Err(session.rpc_error("Check", url, &status)),
    };
    match ServingStatus::try_from(status) {
        Ok(ServingStatus::Serving) => super::client::emit("SERVING"),
        Ok(other) => bail!("{url} is {}", other.as_str_name()),
        Err(_) => bail!("{url} answered an unknown health status {status}"),
    }
}
