//! The gRPC wire itself, below what the scenario client can send: a broken
//! body, a method the port does not serve, and the request id on a
//! successful answer (REST carries it on errors only, docs/behaviour.md §6).

use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn successful_answers_carry_the_callers_request_id_or_a_new_one() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let mut request = tonic::Request::new(lro::GetOperationRequest {
        name: op.name.clone(),
    });
    request
        .metadata_mut()
        .insert("x-request-id", "trace-abc-123".parse().expect("ascii"));
    let traced = server
        .ops
        .clone()
        .get_operation(request)
        .await
        .expect("get");
    assert_eq!(
        traced
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-abc-123")
    );
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

#[tokio::test]
async fn public_listener_does_not_serve_the_control_api() {
    let server = TestServer::start().await;
    let mut wrong = ctl::operations_control_client::OperationsControlClient::new(
        channel(server.server.public_addr).await,
    );
    let err = wrong
        .create_operation(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect_err("not served");
    assert_eq!(err.code(), Code::Unimplemented);
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
