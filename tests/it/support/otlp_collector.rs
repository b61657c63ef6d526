//! An OTLP collector in the test process: it keeps every span it is sent,
//! over OTLP/gRPC (the collector's `TraceService`, served by tonic) or
//! OTLP/HTTP (`POST /v1/traces` with an `ExportTraceServiceRequest`
//! protobuf body, served by hyper), and counts the connections made to it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One span as the collector received it.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    /// OTLP's `SpanKind` number (2 is SERVER, 1 INTERNAL).
    pub kind: i32,
    pub attributes: Vec<KeyValue>,
    /// The `service.name` of its resource.
    pub service_name: Option<String>,
}

impl ReceivedSpan {
    /// An attribute's value as text (strings, integers and booleans).
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| text_of(kv.value.as_ref()?.value.as_ref()?))
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::StringValue(text) => Some(text.clone()),
        Value::IntValue(number) => Some(number.to_string()),
        Value::BoolValue(flag) => Some(flag.to_string()),
        Value::DoubleValue(number) => Some(number.to_string()),
        Value::ArrayValue(_)
        | Value::KvlistValue(_)
        | Value::BytesValue(_)
        | Value::StringValueStrindex(_) => None,
    }
}

#[derive(Clone, Default)]
struct Received {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    connections: Arc<AtomicUsize>,
}

impl Received {
    fn keep(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        for resource_spans in request.resource_spans {
            let service_name = resource_spans.resource.as_ref().and_then(|resource| {
                resource
                    .attributes
                    .iter()
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| text_of(kv.value.as_ref()?.value.as_ref()?))
            });
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(ReceivedSpan {
                        name: span.name,
                        trace_id: span.trace_id,
                        span_id: span.span_id,
                        parent_span_id: span.parent_span_id,
                        kind: span.kind,
                        attributes: span.attributes,
                        service_name: service_name.clone(),
                    });
                }
            }
        }
    }
}

pub struct Collector {
    addr: SocketAddr,
    received: Received,
    stop: CancellationToken,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Collector {
    /// A collector speaking OTLP/gRPC.
    pub async fn grpc() -> Self {
        let (listener, collector) = Self::bind().await;
        let received = collector.received.clone();
        let stop = collector.stop.clone();
        let incoming = async_stream_of(listener, received.connections.clone());
        let service = TraceServiceServer::new(Sink(received));
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                .await;
        });
        collector
    }

    /// A collector speaking OTLP/HTTP with protobuf bodies.
    pub async fn http() -> Self {
        let (listener, collector) = Self::bind().await;
        let received = collector.received.clone();
        let stop = collector.stop.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    () = stop.cancelled() => return,
                };
                let Ok((stream, _)) = accepted else { continue };
                received.connections.fetch_add(1, Ordering::SeqCst);
                let received = received.clone();
                let service = hyper::service::service_fn(move |request| {
                    let received = received.clone();
                    async move { Ok::<_, Infallible>(export_over_http(request, &received).await) }
                });
                tokio::spawn(
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned(),
                );
            }
        });
        collector
    }

    async fn bind() -> (TcpListener, Self) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let collector = Self {
            addr,
            received: Received::default(),
            stop: CancellationToken::new(),
        };
        (listener, collector)
    }

    /// The base URL to give the exporter.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections the exporter made so far.
    pub fn connections(&self) -> usize {
        self.received.connections.load(Ordering::SeqCst)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The spans received once `done` holds for them, polling for up to
    /// `within` (spans come in batches, on the exporter's schedule).
    pub async fn spans_when(
        &self,
        within: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the collector did not get the expected spans within {within:?}; it got {:#?}",
                spans
                    .iter()
                    .map(|span| (&span.name, hex(&span.trace_id)))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The listener's connections, counted as they are accepted.
fn async_stream_of(
    listener: TcpListener,
    connections: Arc<AtomicUsize>,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures::stream::unfold(
        (listener, connections),
        |(listener, connections)| async move {
            let accepted = listener.accept().await.map(|(stream, _)| {
                connections.fetch_add(1, Ordering::SeqCst);
                stream
            });
            Some((accepted, (listener, connections)))
        },
    )
}

struct Sink(Received);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.keep(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn export_over_http(
    request: http::Request<hyper::body::Incoming>,
    received: &Received,
) -> http::Response<Full<Bytes>> {
    let answer = |status: u16, body: Vec<u8>| {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-protobuf")
            .body(Full::new(Bytes::from(body)))
            .expect("response")
    };
    let protobuf = request
        .headers()
        .get("content-type")
        .is_some_and(|value| value.as_bytes() == b"application/x-protobuf");
    if request.method() != http::Method::POST || request.uri().path() != "/v1/traces" || !protobuf {
        return answer(404, Vec::new());
    }
    let Ok(body) = request.into_body().collect().await else {
        return answer(400, Vec::new());
    };
    match ExportTraceServiceRequest::decode(body.to_bytes()) {
        Ok(export) => {
            received.keep(export);
            answer(200, ExportTraceServiceResponse::default().encode_to_vec())
        }
        Err(_) => answer(400, Vec::new()),
    }
}
