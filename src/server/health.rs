//! `grpc.health.v1` for both ports: SERVING while the store answers,
//! NOT_SERVING while it does not and from the start of a drain, for the
//! server as a whole (`""`) and for each service.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthApi, HealthServer};
use tonic_health::server::HealthReporter;

use super::{CONTROL_SERVICE, PUBLIC_SERVICE};
use crate::service::Core;

/// Every name a health check may ask about.
const SERVICES: [&str; 3] = ["", PUBLIC_SERVICE, CONTROL_SERVICE];

#[derive(Clone)]
pub(super) struct Health {
    reporter: HealthReporter,
}

impl Health {
    /// A reporter with every service SERVING, and the service that answers
    /// health checks from it.
    pub(super) async fn serving() -> (Self, HealthServer<impl HealthApi>) {
        let (reporter, service) = tonic_health::server::health_reporter();
        let health = Self { reporter };
        health.report(ServingStatus::Serving).await;
        (health, service)
    }

    pub(super) async fn not_serving(&self) {
        self.report(ServingStatus::NotServing).await;
    }

    async fn report(&self, status: ServingStatus) {
        for service in SERVICES {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Follows the store until `stop`: while the database does not answer,
    /// every service reports NOT_SERVING, so a load balancer sends calls to
    /// a replica that can answer them.
    pub(super) async fn follow_store(
        self,
        core: Core,
        interval: Duration,
        stop: CancellationToken,
    ) {
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
            self.report(status).await;
        }
    }
}
