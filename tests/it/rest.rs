//! REST/JSON transcoding over real HTTP connections (SPEC §2), against the
//! same server the gRPC tests use. Bodies are compared as parsed JSON.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::support::*;

pub struct Rest {
    base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub json: Value,
}

impl Rest {
    pub fn new(addr: std::net::SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let body = Full::new(Bytes::from(body.unwrap_or("").to_owned()));
        let response = self
            .client
            .request(request.body(body).expect("request"))
            .await
            .expect("http answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{status}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Option<&str>) -> Answer {
        self.send(Method::POST, path, body, body.map(|_| "application/json"))
            .await
    }
}

fn error_reason(answer: &Answer) -> &str {
    let details = answer.json["error"]["details"].as_array().expect("details");
    details
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
        .and_then(|d| d["reason"].as_str())
        .expect("an ErrorInfo")
}

#[tokio::test]
async fn get_returns_the_operation_as_proto3_json() {
    let server = TestServer::start().await;
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
async fn delete_and_wait_over_rest() {
    let server = TestServer::start().await;
    let rest = Rest::new(server.server.public_addr);
    let op = server.create().await;
    let waited = rest
        .post(
            &format!("/v1/{}:wait", op.name),
            Some("{\"timeout\": \"0.1s\"}"),
        )
        .await;
    assert_eq!(waited.status, StatusCode::OK, "{}", waited.json);
    assert_eq!(waited.json["name"], json!(op.name));
    let deleted = rest
        .send(Method::DELETE, &format!("/v1/{}", op.name), None, None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json, json!({}));
    assert_eq!(
        rest.get(&format!("/v1/{}", op.name)).await.status,
        StatusCode::NOT_FOUND
    );
}
