//! What a server offers besides the API, and what it refuses at start:
//! health, reflection, drain, and start-up checks (docs/behaviour.md §11,
//! §12). Not scenarios of the API: they are about one server's life.

use std::time::Duration;

use longrun::service::ServiceSettings;

use crate::scenarios::ClockHold;
use crate::support::*;

#[tokio::test]
async fn health_reports_serving() {
    let server = TestServer::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        channel(server.server.public_addr).await,
    );
    let response = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "google.longrunning.Operations".into(),
        })
        .await
        .expect("health answers")
        .into_inner();
    assert_eq!(
        response.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test(start_paused = true)]
async fn drain_reports_not_serving_for_every_service_on_both_ports() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let _hold = ClockHold::new();
    let mut config = config("sqlite::memory:".into(), ServiceSettings::default());
    // The open health Watches keep their connections busy; drain waits for
    // them only this long, on the held clock.
    config.limits.drain_timeout = Duration::from_secs(30);
    let server = TestServer::with_config(config, None).await;
    let services = [
        "",
        "google.longrunning.Operations",
        "longrun.v1.OperationsControl",
    ];
    let mut watches = Vec::new();
    for addr in [server.server.public_addr, server.server.control_addr] {
        for service in services {
            let mut health = HealthClient::new(channel(addr).await);
            let mut stream = health
                .watch(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .expect("watch opens")
                .into_inner();
            let first = stream.message().await.expect("healthy").expect("a status");
            assert_eq!(
                first.status,
                ServingStatus::Serving as i32,
                "{addr} {service:?}"
            );
            watches.push((addr, service, stream));
        }
    }
    let draining = tokio::spawn(server.server.shutdown());
    for (addr, service, stream) in &mut watches {
        let next = stream
            .message()
            .await
            .expect("the watch is healthy")
            .expect("a status");
        assert_eq!(
            next.status,
            ServingStatus::NotServing as i32,
            "{addr} {service:?} says NOT_SERVING once the drain starts"
        );
    }
    // Only the drain timeout ends the drain while the Watches stay open.
    tokio::time::advance(Duration::from_secs(30)).await;
    draining.await.expect("the drain ends");
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_public_services() {
    use tonic_reflection::pb::{v1, v1alpha};
    let server = TestServer::start().await;
    let channel = channel(server.server.public_addr).await;

    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut responses = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1 answers")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("stream")
        .expect("a response");
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"google.longrunning.Operations".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"longrun.v1.OperationsControl".to_owned()),
        "control stays private: {names:?}"
    );

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut responses = alpha
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1alpha answers")
        .into_inner();
    assert!(responses.message().await.expect("stream").is_some());
}

#[tokio::test]
async fn second_server_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("one.db");
    let first = TestServer::on_file(&path, ServiceSettings::default()).await;
    let url = format!("sqlite://{}", path.display());
    let second =
        longrun::server::start(crate::support::config(url, ServiceSettings::default())).await;
    let Err(err) = second else {
        panic!("a second server on the same file must not start");
    };
    assert!(
        err.to_string().contains("in use by another longrun server"),
        "{err}"
    );
    first.stop().await;
}

#[tokio::test]
async fn server_with_an_unknown_default_metadata_type_refuses_to_start() {
    let settings = longrun::service::ServiceSettings {
        default_metadata_type: Some("myapi.v1.OperationMetadata".into()),
        ..Default::default()
    };
    let config = config("sqlite::memory:".into(), settings);
    let Err(err) = longrun::server::start(config).await else {
        panic!("a type the server cannot decode must be refused");
    };
    let message = err.to_string();
    assert!(
        message.contains("\"myapi.v1.OperationMetadata\""),
        "{message}"
    );
    assert!(message.contains("descriptor set"), "{message}");
}
