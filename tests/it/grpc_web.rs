//! The Operations scenarios over gRPC-Web (HTTP/1.1), with the generated
//! client on tonic-web's client layer: same answers as over gRPC.

use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tonic::Code;
use tonic_web::{GrpcWebCall, GrpcWebClientLayer, GrpcWebClientService};

use crate::support::*;

type WebClient = OperationsClient<
    GrpcWebClientService<
        Client<hyper_util::client::legacy::connect::HttpConnector, GrpcWebCall<tonic::body::Body>>,
    >,
>;

pub fn web_client(addr: std::net::SocketAddr) -> WebClient {
    let http = Client::builder(TokioExecutor::new()).build_http();
    let service = tower::ServiceBuilder::new()
        .layer(GrpcWebClientLayer::new())
        .service(http);
    OperationsClient::with_origin(service, format!("http://{addr}").parse().expect("uri"))
}

#[tokio::test]
async fn operations_over_grpc_web_match_grpc() {
    let server = TestServer::start().await;
    let mut web = web_client(server.server.public_addr);
    let op = server.create().await;

    let got = web
        .get_operation(lro::GetOperationRequest {
            name: op.name.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got, server.get(&op.name).await.expect("grpc get"));

    let listed = web
        .list_operations(lro::ListOperationsRequest {
            name: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.operations, vec![got.clone()]);

    web.cancel_operation(lro::CancelOperationRequest {
        name: op.name.clone(),
    })
    .await
    .expect("cancel");
    let waited = web
        .wait_operation(lro::WaitOperationRequest {
            name: op.name.clone(),
            timeout: Some(pb_duration(Duration::from_secs(5))),
        })
        .await
        .expect("wait")
        .into_inner();
    assert!(waited.done);
    assert_eq!(error_code(&waited), Some(1));

    web.delete_operation(lro::DeleteOperationRequest {
        name: op.name.clone(),
    })
    .await
    .expect("delete");
    let missing = web
        .get_operation(lro::GetOperationRequest {
            name: op.name.clone(),
        })
        .await
        .expect_err("deleted");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(reason(&missing), "OPERATION_NOT_FOUND");
    let malformed = web
        .get_operation(lro::GetOperationRequest {
            name: "nope".into(),
        })
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(reason(&malformed), "INVALID_NAME");
}
