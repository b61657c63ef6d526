//! Health follows the store: `grpc.health.v1` says NOT_SERVING while the
//! database does not answer.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{CONTROL_SERVICE, PUBLIC_SERVICE};
use crate::service::Core;

/// Health follows the store: while the database does not answer, both
/// services (and the server as a whole, `""`) report NOT_SERVING, so a load
/// balancer sends calls to a replica that can answer them.
pub(super) async fn probe_store(
    core: Core,
    health: tonic_health::server::HealthReporter,
    interval: Duration,
    stop: CancellationToken,
) {
    use tonic_health::ServingStatus;
    let services = ["", PUBLIC_SERVICE, CONTROL_SERVICE];
    let mut serving = true;
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = stop.cancelled() => return,
        }
        let reachable = match core.ping_store().await {
            Ok(()) => true,
            Err(err) => {
                if serving {
                    tracing::warn!(error = %err, "the store does not answer: NOT_SERVING");
                }
                false
            }
        };
        if reachable == serving {
            continue;
        }
        if reachable {
            tracing::info!("the store answers again: SERVING");
        }
        serving = reachable;
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in services {
            health.set_service_status(service, status).await;
        }
    }
}
