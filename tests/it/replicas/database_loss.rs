//! The database goes away (here: a TCP proxy in front of it is cut, so the
//! shared test server keeps running): calls fail fast with UNAVAILABLE,
//! health reports NOT_SERVING, and both recover by themselves.

use std::time::Duration;

use longrun::pb::control as ctl;
use longrun::service::ServiceSettings;
use tokio::time::Instant;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::replica_config;
use crate::support::postgres::PgSchema;
use crate::support::proxy::Proxy;
use crate::support::*;

async fn health(server: &TestServer) -> ServingStatus {
    let mut health = HealthClient::new(channel(server.server.public_addr).await);
    let response = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers")
        .into_inner();
    ServingStatus::try_from(response.status).expect("a known status")
}

async fn health_becomes(server: &TestServer, want: ServingStatus, within: Duration) {
    let deadline = Instant::now() + within;
    while health(server).await != want {
        assert!(Instant::now() < deadline, "health never became {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_loss_fails_calls_fast_reports_not_serving_then_recovers() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let proxy = Proxy::start(schema.server_addr()).await;
    let mut config = replica_config(
        schema.url_via(proxy.addr, "lossy"),
        ServiceSettings::default(),
    );
    config.postgres.acquire_timeout = Duration::from_secs(1);
    config.postgres.statement_timeout = Duration::from_secs(2);
    config.health_probe_interval = Duration::from_millis(200);
    let server = TestServer::with_config(config, None).await;
    let op = server.create().await;
    assert_eq!(health(&server).await, ServingStatus::Serving);

    proxy.cut();
    let started = Instant::now();
    let err = server.get(&op.name).await.expect_err("no database");
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    let err = server
        .control
        .clone()
        .create_operation(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect_err("no database");
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "calls failed after {:?}",
        started.elapsed()
    );
    health_becomes(&server, ServingStatus::NotServing, Duration::from_secs(10)).await;

    proxy.restore();
    health_becomes(&server, ServingStatus::Serving, Duration::from_secs(20)).await;
    let got = server.get(&op.name).await.expect("get works again");
    assert_eq!(got.name, op.name);
    let fresh = server.create().await;
    server
        .complete(&fresh.name, empty_response())
        .await
        .expect("writes work again");
    server.stop().await;
}
