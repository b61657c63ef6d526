//! Get, List, Delete and Wait (docs/behaviour.md §2), and the gRPC edge.

use std::time::{Duration, Instant};

use longrun::pb::{control as ctl, longrunning as lro};
use longrun::service::ServiceSettings;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn get_unknown_is_not_found_and_malformed_is_invalid_argument() {
    let server = TestServer::start().await;
    let missing = server
        .get(&format!("{PARENT}/operations/missing"))
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(reason(&missing), "OPERATION_NOT_FOUND");
    for bad in [
        "",
        "nope",
        "projects/p/locations/l/operations/a/b",
        "projects/p/locations/l/operations/x:cancel",
    ] {
        let err = server.get(bad).await.expect_err("malformed");
        assert_eq!(err.code(), Code::InvalidArgument, "{bad}");
        assert_eq!(reason(&err), "INVALID_NAME");
    }
}

#[tokio::test]
async fn delete_forgets_without_cancelling_and_frees_the_id() {
    let server = TestServer::start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "reused".into(),
        ..Default::default()
    };
    let op = server.create_with(request.clone()).await;
    let delete = || {
        let mut ops = server.ops.clone();
        let name = op.name.clone();
        async move {
            ops.delete_operation(lro::DeleteOperationRequest { name })
                .await
        }
    };
    delete().await.expect("delete");
    assert_eq!(
        server.get(&op.name).await.expect_err("gone").code(),
        Code::NotFound
    );
    let late = server
        .complete(&op.name, empty_response())
        .await
        .expect_err("deleted");
    assert_eq!(late.code(), Code::NotFound);
    assert_eq!(delete().await.expect_err("twice").code(), Code::NotFound);
    let again = server.create_with(request).await;
    assert_eq!(again.name, op.name, "the id is free again");
    assert!(!again.done);
}

#[tokio::test]
async fn wait_is_woken_by_a_complete_from_another_client() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let waiter = server.spawn_wait(&op.name, Duration::from_secs(30)).await;
    let started = Instant::now();
    server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let waited = waiter.await.expect("joins").expect("wait succeeds");
    assert!(waited.done && is_response(&waited));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken, not timed out"
    );
}

#[tokio::test]
async fn wait_timeout_returns_the_latest_running_state() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let waited = server
        .wait(&op.name, Some(Duration::from_millis(200)))
        .await
        .expect("no error at the timeout");
    assert!(!waited.done);
    assert_eq!(waited.name, op.name);
}

#[tokio::test]
async fn wait_on_a_deadline_returns_the_latest_state_not_deadline_exceeded() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let mut request = tonic::Request::new(lro::WaitOperationRequest {
        name: op.name.clone(),
        timeout: Some(pb_duration(Duration::from_secs(30))),
    });
    request.set_timeout(Duration::from_millis(400));
    let waited = server
        .ops
        .clone()
        .wait_operation(request)
        .await
        .expect("returns before the deadline")
        .into_inner();
    assert!(!waited.done);
}

#[tokio::test]
async fn wait_is_capped_by_the_server() {
    let server = TestServer::with_settings(ServiceSettings {
        wait_cap: Duration::from_millis(200),
        ..ServiceSettings::default()
    })
    .await;
    let op = server.create().await;
    let started = Instant::now();
    let waited = server
        .wait(&op.name, Some(Duration::from_secs(60)))
        .await
        .expect("capped wait");
    assert!(!waited.done);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn wait_on_done_returns_at_once_and_negative_timeout_is_invalid() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let zero = server
        .wait(&op.name, Some(Duration::ZERO))
        .await
        .expect("zero");
    assert!(!zero.done);
    server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    let done = server
        .wait(&op.name, Some(Duration::from_secs(60)))
        .await
        .expect("done");
    assert!(done.done);
    let negative = server
        .ops
        .clone()
        .wait_operation(lro::WaitOperationRequest {
            name: op.name.clone(),
            timeout: Some(prost_types::Duration {
                seconds: -5,
                nanos: 0,
            }),
        })
        .await
        .expect_err("negative");
    assert_eq!(negative.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn shutdown_ends_open_waits_with_the_latest_state() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let waiter = server.spawn_wait(&op.name, Duration::from_secs(60)).await;
    let started = Instant::now();
    server.stop().await;
    let waited = waiter.await.expect("joins").expect("wait answered");
    assert_eq!(waited.name, op.name);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "drained promptly"
    );
}

#[tokio::test]
async fn malformed_grpc_timeout_is_invalid_argument() {
    let server = TestServer::start().await;
    let mut request = tonic::Request::new(lro::GetOperationRequest {
        name: format!("{PARENT}/operations/x"),
    });
    request
        .metadata_mut()
        .insert("grpc-timeout", "soon".parse().expect("ascii"));
    let err = server
        .ops
        .clone()
        .get_operation(request)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "INVALID_GRPC_TIMEOUT");
}

#[tokio::test]
async fn oversized_message_is_resource_exhausted_and_stores_nothing() {
    let server = TestServer::start().await;
    let huge = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "huge".into(),
        metadata: Some(prost_types::Any {
            type_url: "type.googleapis.com/x.Y".into(),
            value: vec![0; 5 * 1024 * 1024],
        }),
        ..Default::default()
    };
    let err = server
        .control
        .clone()
        .max_encoding_message_size(usize::MAX)
        .create_operation(huge)
        .await
        .expect_err("too large");
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert_eq!(reason(&err), "MESSAGE_TOO_LARGE");
    let lookup = server
        .get(&format!("{PARENT}/operations/huge"))
        .await
        .expect_err("not stored");
    assert_eq!(lookup.code(), Code::NotFound);
}

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

#[tokio::test]
async fn drain_reports_not_serving_for_every_service_on_both_ports() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut config = config("sqlite::memory:".into(), ServiceSettings::default());
    // The open health Watches keep their connections busy; drain waits for
    // them only this long.
    config.limits.drain_timeout = Duration::from_millis(300);
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
    for (addr, service, mut stream) in watches {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("a status in time")
            .expect("the watch is healthy")
            .expect("a status");
        assert_eq!(
            next.status,
            ServingStatus::NotServing as i32,
            "{addr} {service:?} says NOT_SERVING once the drain starts"
        );
    }
    draining.await.expect("the drain ends");
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
async fn waits_beyond_the_server_limit_are_resource_exhausted() {
    let server = TestServer::with_settings(ServiceSettings {
        max_waiters: 1,
        ..ServiceSettings::default()
    })
    .await;
    let op = server.create().await;
    let holder = server.spawn_wait(&op.name, Duration::from_secs(30)).await;
    let refused = server
        .wait(&op.name, Some(Duration::from_secs(1)))
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(reason(&refused), "TOO_MANY_WAITERS");
    server
        .complete(&op.name, empty_response())
        .await
        .expect("complete");
    assert!(holder.await.expect("joins").expect("answered").done);
    // The place is free again once the first Wait returned.
    assert!(
        server
            .wait(&op.name, Some(Duration::ZERO))
            .await
            .expect("admitted")
            .done
    );
}

#[tokio::test]
async fn every_call_gets_a_request_id_the_callers_own_when_it_sent_one() {
    let server = TestServer::start().await;
    let mut request = tonic::Request::new(lro::GetOperationRequest {
        name: format!("{PARENT}/operations/missing"),
    });
    request
        .metadata_mut()
        .insert("x-request-id", "trace-abc-123".parse().expect("ascii"));
    let err = server
        .ops
        .clone()
        .get_operation(request)
        .await
        .expect_err("missing");
    assert_eq!(
        err.metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-abc-123")
    );
    let op = server.create().await;
    let response = server
        .ops
        .clone()
        .get_operation(lro::GetOperationRequest { name: op.name })
        .await
        .expect("get");
    let made = response
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id is made");
    assert_eq!(made.len(), 16);
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
}

/// Sends bytes as they are, to test what a broken client can send.
#[derive(Clone, Default)]
struct RawCodec;

struct RawBytes;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> Self::Encoder {
        RawBytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawBytes
    }
}

impl tonic::codec::Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        let bytes = bytes::Buf::copy_to_bytes(src, bytes::Buf::remaining(src));
        Ok(Some(bytes.to_vec()))
    }
}

async fn raw_call(addr: std::net::SocketAddr, path: &'static str, body: Vec<u8>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel(addr).await);
    grpc.ready().await.expect("ready");
    grpc.unary(
        tonic::Request::new(body),
        http::uri::PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .expect_err("refused")
}

#[tokio::test]
async fn garbage_request_body_is_invalid_argument_not_internal() {
    let server = TestServer::start().await;
    let status = raw_call(
        server.server.public_addr,
        "/google.longrunning.Operations/GetOperation",
        vec![0xff, 0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason(&status), "MALFORMED_MESSAGE");
}

#[tokio::test]
async fn unknown_method_is_unimplemented_with_error_info() {
    let server = TestServer::start().await;
    let status = raw_call(
        server.server.public_addr,
        "/google.longrunning.Operations/Nope",
        Vec::new(),
    )
    .await;
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(reason(&status), "METHOD_NOT_FOUND");
}
