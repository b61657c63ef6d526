//! The client over REST/JSON, on HTTP/1.1 or on h2c: each call goes to its
//! route in config/http_rules.yaml, with the request as proto3 JSON (path
//! fields in the path, the rest in the body or the query), and each answer
//! comes back as the protobuf message or a `Failure` whose HTTP status is
//! checked against its code.

mod json;
mod watch;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use longrun::pb::{control as ctl, longrunning as lro};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use prost::Message;
use serde_json::{Map, Value};

use crate::scenarios::client::{CallOptions, Client, Deadline, Events, Reply};
use json::{envelope, from_json, to_json};
use watch::RestEvents;

/// What stays unescaped in a path segment or a query value: RFC 3986's
/// unreserved characters.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Clone, Copy, Debug)]
pub enum Http {
    H1,
    H2c,
}

#[derive(Clone)]
pub struct Rest {
    http: HttpClient<HttpConnector, Full<Bytes>>,
    public: String,
    control: String,
    options: CallOptions,
}

impl Rest {
    pub fn new(version: Http, public: std::net::SocketAddr, control: std::net::SocketAddr) -> Self {
        let mut builder = HttpClient::builder(TokioExecutor::new());
        match version {
            // No idle connections: the server closes an idle HTTP/1.1
            // connection after its header-read timeout, and a scenario that
            // moves the clock past it must not race a request onto it.
            Http::H1 => builder.pool_max_idle_per_host(0),
            Http::H2c => builder.http2_only(true),
        };
        // As tonic's channels do: without it, small h2 frames wait on Nagle
        // and delayed ACKs.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            http: builder.build(connector),
            public: format!("http://{public}"),
            control: format!("http://{control}"),
            options: CallOptions::default(),
        }
    }

    fn request(
        &self,
        method: Method,
        uri: String,
        body: Option<Map<String, Value>>,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::builder().method(method).uri(uri);
        match &self.options.deadline {
            Some(Deadline::After(timeout)) => {
                request = request.header("x-server-timeout", timeout.as_secs_f64().to_string());
            }
            Some(Deadline::Malformed(value)) => {
                request = request.header("x-server-timeout", *value)
            }
            None => {}
        }
        if let Some(id) = &self.options.request_id {
            request = request.header("x-request-id", id);
        }
        let body = match body {
            Some(object) => {
                request = request.header("content-type", "application/json");
                Bytes::from(Value::Object(object).to_string())
            }
            None => Bytes::new(),
        };
        request.body(Full::new(body)).expect("a valid request")
    }

    /// Sends `request`; the JSON of a 200, or the failure of anything else.
    async fn call(&self, request: Request<Full<Bytes>>) -> Reply<Value> {
        let response = self
            .http
            .request(request)
            .await
            .expect("the server answers");
        let status = response.status();
        let request_id = header(response.headers(), "x-request-id");
        let content_type = header(response.headers(), "content-type").unwrap_or_default();
        assert_eq!(content_type, "application/json; charset=utf-8", "{status}");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{status}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        if status == StatusCode::OK {
            Ok(json)
        } else {
            Err(envelope(Some(status), &json, request_id))
        }
    }

    async fn operation(&self, request: Request<Full<Bytes>>) -> Reply<lro::Operation> {
        let json = self.call(request).await?;
        Ok(from_json(&json, "google.longrunning.Operation"))
    }

    /// An answer that must be `Empty`: `{}`.
    async fn empty(&self, request: Request<Full<Bytes>>) -> Reply<()> {
        let json = self.call(request).await?;
        assert_eq!(json, Value::Object(Map::new()), "Empty is written as {{}}");
        Ok(())
    }
}

fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// `/v1/` and the resource name, each segment escaped: the name's slashes
/// are the template's, anything else in a segment stays inside it.
fn path(name: &str) -> String {
    let segments: Vec<String> = name
        .split('/')
        .map(|segment| utf8_percent_encode(segment, ESCAPED).to_string())
        .collect();
    format!("/v1/{}", segments.join("/"))
}

/// The request as JSON without its path field `field`.
fn body(message: &impl Message, full_name: &str, field: &str) -> Map<String, Value> {
    let mut object = to_json(message, full_name);
    object.remove(field);
    object
}

/// The request's fields (but `name`) as query parameters.
fn query(request: &lro::ListOperationsRequest) -> String {
    let fields = body(request, "google.longrunning.ListOperationsRequest", "name");
    let pairs: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text,
                other @ (Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::Array(_)
                | Value::Object(_)) => other.to_string(),
            };
            format!("{key}={}", utf8_percent_encode(&text, ESCAPED))
        })
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

#[async_trait]
impl Client for Rest {
    fn with(&self, options: CallOptions) -> Arc<dyn Client> {
        Arc::new(Self {
            options,
            ..self.clone()
        })
    }

    async fn get(&self, name: &str) -> Reply<lro::Operation> {
        let uri = format!("{}{}", self.public, path(name));
        self.operation(self.request(Method::GET, uri, None)).await
    }

    async fn list(
        &self,
        request: lro::ListOperationsRequest,
    ) -> Reply<lro::ListOperationsResponse> {
        let uri = format!(
            "{}{}/operations{}",
            self.public,
            path(&request.name),
            query(&request)
        );
        let json = self.call(self.request(Method::GET, uri, None)).await?;
        Ok(from_json(
            &json,
            "google.longrunning.ListOperationsResponse",
        ))
    }

    async fn cancel(&self, name: &str) -> Reply<()> {
        let uri = format!("{}{}:cancel", self.public, path(name));
        self.empty(self.request(Method::POST, uri, Some(Map::new())))
            .await
    }

    async fn delete(&self, name: &str) -> Reply<()> {
        let uri = format!("{}{}", self.public, path(name));
        self.empty(self.request(Method::DELETE, uri, None)).await
    }

    async fn wait(&self, request: lro::WaitOperationRequest) -> Reply<lro::Operation> {
        let uri = format!("{}{}:wait", self.public, path(&request.name));
        let body = body(&request, "google.longrunning.WaitOperationRequest", "name");
        self.operation(self.request(Method::POST, uri, Some(body)))
            .await
    }

    async fn create(&self, request: ctl::CreateOperationRequest) -> Reply<lro::Operation> {
        let uri = format!("{}{}/operations", self.control, path(&request.parent));
        let body = body(&request, "longrun.v1.CreateOperationRequest", "parent");
        self.operation(self.request(Method::POST, uri, Some(body)))
            .await
    }

    async fn update(&self, request: ctl::UpdateOperationRequest) -> Reply<lro::Operation> {
        let uri = format!("{}{}", self.control, path(&request.name));
        let body = body(&request, "longrun.v1.UpdateOperationRequest", "name");
        self.operation(self.request(Method::PATCH, uri, Some(body)))
            .await
    }

    async fn complete(&self, request: ctl::CompleteOperationRequest) -> Reply<lro::Operation> {
        let uri = format!("{}{}:complete", self.control, path(&request.name));
        let body = body(&request, "longrun.v1.CompleteOperationRequest", "name");
        self.operation(self.request(Method::POST, uri, Some(body)))
            .await
    }

    async fn watch(&self, name: &str) -> Reply<Box<dyn Events>> {
        let uri = format!("{}{}:watch", self.control, path(name));
        let request = self.request(Method::GET, uri, None);
        let response = self
            .http
            .request(request)
            .await
            .expect("the server answers");
        if response.status() == StatusCode::OK {
            return Ok(Box::new(RestEvents::new(response.into_body())));
        }
        // An error before the first event is an ordinary error answer.
        let status = response.status();
        let request_id = header(response.headers(), "x-request-id");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let json: Value = serde_json::from_slice(&bytes).expect("an error envelope");
        Err(envelope(Some(status), &json, request_id))
    }
}
