//! REST/JSON transcoding over real HTTP connections (docs/behaviour.md §6), against the
//! same server the gRPC tests use. Bodies are compared as parsed JSON.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use serde_json::{Value, json};

use crate::support::*;

mod client;

use client::error_reason;
pub use client::{Answer, Rest};

#[tokio::test]
async fn get_of_an_operation_without_metadata_has_no_metadata_field() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let answer = rest.get(&format!("/v1/{}", op.name)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json, json!({"name": op.name}));
}

#[tokio::test]
async fn get_returns_the_operation_as_proto3_json() {
    let server = TestServer::with_default_metadata().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let answer = rest.get(&format!("/v1/{}", op.name)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["name"], json!(op.name));
    assert_eq!(
        answer.json["metadata"]["@type"],
        json!("type.googleapis.com/longrun.v1.OperationMetadata")
    );
    assert!(answer.json["metadata"]["createTime"].is_string());
    assert!(answer.json.get("done").is_none(), "defaults are omitted");
    assert!(
        answer.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "{:?}",
        answer.headers
    );
}

/// Polls are answered from remembered renderings; a changed operation must
/// never be shown as it was.
#[tokio::test]
async fn well_known_types_in_results_render_without_registration() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let structured = prost_types::Struct {
        fields: [(
            "rows".to_owned(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::NumberValue(3.0)),
            },
        )]
        .into(),
    };
    let results = [
        (
            "google.protobuf.Struct",
            structured.encode_to_vec(),
            json!({"rows": 3.0}),
        ),
        (
            "google.protobuf.StringValue",
            "done".to_owned().encode_to_vec(),
            json!("done"),
        ),
    ];
    for (type_name, value, shown) in results {
        let op = server.create().await;
        let response = prost_types::Any {
            type_url: format!("type.googleapis.com/{type_name}"),
            value,
        };
        let result = longrun::pb::control::complete_operation_request::Result::Response(response);
        server.complete(&op.name, result).await.expect("completes");
        let answer = rest.get(&format!("/v1/{}", op.name)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{type_name}: {}",
            answer.json
        );
        assert_eq!(
            answer.json["response"],
            json!({"@type": format!("type.googleapis.com/{type_name}"), "value": shown}),
            "a well-known type inside Any is shown under \"value\""
        );
    }
}

#[tokio::test]
async fn polling_get_sees_every_change_of_the_operation() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let path = format!("/v1/{}", op.name);
    let first = rest.get(&path).await;
    assert_eq!(
        rest.get(&path).await.json,
        first.json,
        "same state, same JSON"
    );
    assert!(first.json.get("done").is_none());
    server
        .complete(&op.name, empty_response())
        .await
        .expect("completes");
    let done = rest.get(&path).await;
    assert_eq!(done.json["done"], json!(true), "{}", done.json);
    assert_eq!(
        done.json["response"],
        json!({"@type": "type.googleapis.com/google.protobuf.Empty"})
    );
    assert_eq!(
        rest.get(&format!("{path}?prettyPrint=true")).await.json,
        done.json,
        "the same state printed another way"
    );
}

#[tokio::test]
async fn errors_use_googles_envelope_with_error_info() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let answer = rest.get(&format!("/v1/{PARENT}/operations/missing")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json["error"]["code"], json!(404));
    assert_eq!(answer.json["error"]["status"], json!("NOT_FOUND"));
    assert_eq!(error_reason(&answer), "OPERATION_NOT_FOUND");
    let no_route = rest.get("/v2/nothing/here").await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.json["error"]["status"], json!("NOT_FOUND"));
}

#[tokio::test]
async fn cancel_accepts_no_body_empty_object_and_same_name() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    for body in [None, Some("{}"), Some("SAME")] {
        let op = server.create().await;
        let body = body.map(|b| {
            if b == "SAME" {
                format!("{{\"name\": \"{}\"}}", op.name)
            } else {
                b.to_owned()
            }
        });
        let answer = rest
            .post(&format!("/v1/{}:cancel", op.name), body.as_deref())
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{body:?}: {}", answer.json);
        assert_eq!(answer.json, json!({}));
        let got = rest.get(&format!("/v1/{}", op.name)).await;
        assert_eq!(got.json["done"], json!(true));
        assert_eq!(
            got.json["error"]["code"],
            json!(1),
            "the rpc code, not an HTTP status"
        );
    }
    let op = server.create().await;
    let other = rest
        .post(
            &format!("/v1/{}:cancel", op.name),
            Some("{\"name\": \"projects/x/locations/y/operations/z\"}"),
        )
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn registered_verb_on_the_wrong_method_is_405_with_allow() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let answer = rest.get(&format!("/v1/{}:cancel", op.name)).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "POST");
    assert_eq!(answer.json["error"]["status"], json!("UNIMPLEMENTED"));
}

#[tokio::test]
async fn list_pages_with_camel_or_snake_query_names() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    for _ in 0..3 {
        server.create().await;
    }
    let first = rest
        .get(&format!("/v1/{PARENT}/operations?pageSize=2"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["operations"].as_array().expect("array").len(), 2);
    let token = first.json["nextPageToken"].as_str().expect("token");
    let second = rest
        .get(&format!(
            "/v1/{PARENT}/operations?page_size=2&pageToken={token}"
        ))
        .await;
    assert_eq!(
        second.json["operations"].as_array().expect("array").len(),
        1
    );
    assert!(second.json.get("nextPageToken").is_none());
    let unknown = rest
        .get(&format!("/v1/{PARENT}/operations?colour=blue"))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_content_type_is_415_and_get_with_body_is_400() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let wrong = rest
        .send(
            Method::POST,
            &format!("/v1/{}:cancel", op.name),
            Some("name=x"),
            Some("text/plain"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body_on_get = rest
        .send(
            Method::GET,
            &format!("/v1/{}", op.name),
            Some("{}"),
            Some("application/json"),
        )
        .await;
    assert_eq!(body_on_get.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_rest_input_is_4xx_with_the_envelope_never_500() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let cancel = format!("/v1/{}:cancel", op.name);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_body = format!("{{\"name\": {deep}}}");
    let cases: Vec<(&str, Method, String, Option<String>, StatusCode)> = vec![
        (
            "malformed percent-encoding",
            Method::GET,
            format!("/v1/{PARENT}/operations/a%G1"),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "dot-dot segment",
            Method::GET,
            format!("/v1/{PARENT}/operations/.."),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "empty segment",
            Method::GET,
            "/v1/projects//locations/l/operations/x".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON nested too deep",
            Method::POST,
            cancel.clone(),
            Some(deep_body),
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate keys",
            Method::POST,
            cancel.clone(),
            Some(format!("{{\"name\": \"{0}\", \"name\": \"{0}\"}}", op.name)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown body field",
            Method::POST,
            cancel.clone(),
            Some("{\"colour\": 1}".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not JSON",
            Method::POST,
            cancel.clone(),
            Some("{nope".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "number out of range",
            Method::GET,
            format!("/v1/{PARENT}/operations?pageSize=99999999999"),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong @type",
            Method::POST,
            format!("/v1/{}:wait", op.name),
            Some("{\"timeout\": {\"@type\": \"x\"}}".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "token in the query",
            Method::GET,
            format!("/v1/{}?access_token=abc", op.name),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "negative page size",
            Method::GET,
            format!("/v1/{PARENT}/operations?pageSize=-1"),
            None,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, method, path, body, expected) in cases {
        let answer = rest
            .send(
                method,
                &path,
                body.as_deref(),
                body.as_ref().map(|_| "application/json"),
            )
            .await;
        assert_eq!(answer.status, expected, "{what}: {}", answer.json);
        assert_eq!(
            answer.json["error"]["code"],
            json!(expected.as_u16()),
            "{what}"
        );
        assert!(!error_reason(&answer).is_empty(), "{what}");
    }
    // Invalid UTF-8 in a body.
    let raw = rest
        .send_bytes(
            Method::POST,
            &cancel,
            vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
        )
        .await;
    assert_eq!(raw.status, StatusCode::BAD_REQUEST, "{}", raw.json);
    assert!(
        !server.get(&op.name).await.expect("exists").done,
        "nothing was cancelled"
    );
}

#[tokio::test]
async fn cors_is_off_by_default_and_answers_preflight_when_configured() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let plain = rest.get(&format!("/v1/{}", op.name)).await;
    assert!(plain.headers.get("access-control-allow-origin").is_none());

    let mut config = config(
        "sqlite::memory:".into(),
        longrun::service::ServiceSettings::default(),
    );
    config.cors_origins = vec!["https://console.example".into()];
    let with_cors = TestServer::with_config(config, None).await;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(format!(
            "http://{}/v1/{PARENT}/operations/x:cancel",
            with_cors.server.public_addr
        ))
        .header("origin", "https://console.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(preflight).await.expect("answers");
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://console.example"
    );
    let stranger = Request::builder()
        .method(Method::OPTIONS)
        .uri(format!(
            "http://{}/v1/{PARENT}/operations/x:cancel",
            with_cors.server.public_addr
        ))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(stranger).await.expect("answers");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn openapi_document_is_served_and_matches_the_cli() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let served = rest.get("/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json["openapi"], json!("3.0.3"));
    let paths = served.json["paths"].as_object().expect("paths");
    for path in [
        "/v1/{name}",
        "/v1/{name}/operations",
        "/v1/{name}:cancel",
        "/v1/{name}:wait",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing: {:?}",
            paths.keys()
        );
    }
    assert!(
        !paths.contains_key("/v1/{name}:complete"),
        "control routes stay off the public document"
    );

    let printed = tokio::process::Command::new(env!("CARGO_BIN_EXE_longrun"))
        .arg("openapi")
        .output()
        .await
        .expect("runs");
    assert!(printed.status.success());
    let printed: Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    assert_eq!(
        printed, served.json,
        "`longrun openapi` prints what the server serves"
    );

    let control = Rest::new(server.server.control_addr)
        .get("/openapi.json")
        .await;
    assert!(
        control.json["paths"]
            .as_object()
            .expect("paths")
            .contains_key("/v1/{name}:complete")
    );
}
