//! The control API over REST on the control listener, including Watch as a
//! streamed JSON array, and gRPC-Web on the public port.

use base64::Engine;
use bytes::{Buf, Bytes};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use serde_json::{Value, json};

use crate::rest::Rest;
use crate::support::*;
use longrun::pb::longrunning as lro;

#[tokio::test]
async fn control_api_over_rest_creates_watches_and_completes() {
    let server = TestServer::start().await;
    let control = Rest::new(server.server.control_addr);
    let public = Rest::new(server.server.public_addr);
    let created = control
        .post(
            &format!("/v1/{PARENT}/operations"),
            Some(r#"{"operationId": "rest-made", "cancelGrace": "60s", "requestId": "r-1"}"#),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.json);
    let name = format!("{PARENT}/operations/rest-made");
    assert_eq!(created.json["name"], json!(name));

    // Watch streams a JSON array; read it frame by frame as it arrives.
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(Method::GET)
        .uri(format!(
            "http://{}/v1/{name}:watch",
            server.server.control_addr
        ))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("watch answers");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut seen = String::new();
    let mut read_until = async |needle: &str, seen: &mut String| {
        while !seen.contains(needle) {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
                .await
                .expect("a frame in time")
                .expect("the stream goes on")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(data.chunk()));
            }
        }
    };
    read_until("rest-made", &mut seen).await;
    let cancelled = public.post(&format!("/v1/{name}:cancel"), None).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    read_until("cancelRequested", &mut seen).await;
    let completed = control
        .post(
            &format!("/v1/{name}:complete"),
            Some(r#"{"error": {"code": 1, "message": "stopped"}}"#),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.json);
    assert_eq!(completed.json["done"], json!(true));
    read_until("]", &mut seen).await;
    let events: Value = serde_json::from_str(&seen).expect("the stream is one JSON array");
    let events = events.as_array().expect("array");
    assert_eq!(events.len(), 3, "{seen}");
    assert_eq!(events[1]["cancelRequested"], json!(true));
    assert_eq!(events[2]["operation"]["error"]["code"], json!(1));
}

#[tokio::test]
async fn control_routes_are_not_served_on_the_public_port() {
    let server = TestServer::start().await;
    let public = Rest::new(server.server.public_addr);
    let answer = public
        .post(&format!("/v1/{PARENT}/operations"), Some("{}"))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "List lives there, Create does not"
    );
}

fn grpc_web_frame(message: &impl Message) -> Vec<u8> {
    let encoded = message.encode_to_vec();
    let mut framed = vec![0];
    framed.extend_from_slice(&u32::try_from(encoded.len()).expect("small").to_be_bytes());
    framed.extend_from_slice(&encoded);
    framed
}

/// Splits a gRPC-Web response body into its message and its trailer block.
fn parse_grpc_web(mut body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let mut messages = Vec::new();
    let mut trailers = String::new();
    while body.len() >= 5 {
        let flag = body[0];
        let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let payload = &body[5..5 + length];
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(payload));
        } else {
            messages.push(payload.to_vec());
        }
        body = &body[5 + length..];
    }
    (messages, trailers)
}

#[tokio::test]
async fn grpc_web_binary_and_text_over_http1() {
    let server = TestServer::start().await;
    let op = server.create().await;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = lro::GetOperationRequest {
        name: op.name.clone(),
    };
    for (content_type, text) in [
        ("application/grpc-web+proto", false),
        ("application/grpc-web-text", true),
    ] {
        let framed = grpc_web_frame(&request);
        let body = if text {
            base64::engine::general_purpose::STANDARD
                .encode(&framed)
                .into_bytes()
        } else {
            framed
        };
        let http_request = Request::builder()
            .method(Method::POST)
            .uri(format!(
                "http://{}/google.longrunning.Operations/GetOperation",
                server.server.public_addr
            ))
            .header("content-type", content_type)
            .header("accept", content_type)
            .header("x-grpc-web", "1")
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let response = client.request(http_request).await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let bytes = if text {
            decode_base64_chunks(&bytes)
        } else {
            bytes.to_vec()
        };
        let (messages, trailers) = parse_grpc_web(&bytes);
        assert!(
            trailers.contains("grpc-status:0"),
            "{content_type}: {trailers}"
        );
        let got = lro::Operation::decode(messages[0].as_slice()).expect("an Operation");
        assert_eq!(got, op, "{content_type}");
    }
}

/// gRPC-Web text bodies are base64 chunk by chunk: padding may end a chunk
/// in the middle of the body, so decode each padded piece on its own.
fn decode_base64_chunks(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'=' {
            while i < text.len() && text[i] == b'=' {
                i += 1;
            }
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&text[start..i])
                    .expect("base64 chunk"),
            );
            start = i;
        } else {
            i += 1;
        }
    }
    if start < text.len() {
        out.extend(
            base64::engine::general_purpose::STANDARD
                .decode(&text[start..])
                .expect("base64 tail"),
        );
    }
    out
}
