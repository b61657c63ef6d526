//! The REST side of a listener: routes an HTTP/JSON request to its RPC,
//! builds the protobuf request, calls the gRPC routes in-process (through the
//! same edge layer as gRPC clients, so deadlines, request ids and errors are
//! handled once), and renders the answer as JSON or Google's error envelope.

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::Code;

use super::render_cache::RenderCache;
use super::request::{PathOnlyPlan, build_request};
use super::response::{RenderOptions, render_response};
use super::router::{RouteResult, Router};
use super::status::{error_body, error_body_from_status, www_authenticate};
use super::{Binding, PathBinding, TranscodeError};

/// Headers of a REST request that travel on as gRPC metadata. Names are
/// made once, not parsed from text on every request.
const FORWARDED_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    X_REQUEST_ID,
    HeaderName::from_static("x-goog-request-params"),
];
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_SERVER_TIMEOUT: HeaderName = HeaderName::from_static("x-server-timeout");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type RestResponse = Response<tonic::body::Body>;

pub struct GatewayConfig {
    pub pool: DescriptorPool,
    pub router: Router,
    /// `ErrorInfo.domain` of the transcoder's own errors.
    pub domain: String,
    pub max_body_bytes: usize,
    /// Served at `GET /openapi.json` when set.
    pub openapi_json: Option<Bytes>,
    /// More headers that travel on as gRPC metadata (e.g. the header a mesh
    /// sidecar puts the verified token payload in).
    pub forwarded_headers: Vec<http::HeaderName>,
    /// Who may call at all, asked before the body is read (see [`Admission`]).
    pub admission: Option<Arc<dyn Admission>>,
}

/// The gRPC stack's own admission check (who is calling, with which scopes),
/// asked on a REST request's headers once it is routed and before its query
/// and body are read and parsed. Without it a caller with no credentials
/// would learn what is wrong with their request before being told to sign
/// in, the reverse of the order gRPC callers get (authenticate, then
/// validate). The in-process gRPC call still passes the same check; its
/// refusal is rendered like any other status.
pub trait Admission: Send + Sync + 'static {
    fn admit<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<(), tonic::Status>>;
}

/// Where the OpenAPI document of a listener's REST routes is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Renderings remembered per listener (see `render_cache`): enough for the
/// operations a busy server's clients poll at once, a few MB at most.
const RENDER_CACHE_ENTRIES: NonZeroUsize = NonZeroUsize::new(1024).expect("not zero");

/// A tower service for REST requests; `grpc` is the service that serves the
/// same methods over gRPC. It receives each call as an HTTP/2 `POST` to
/// `/package.Service/Method` with one uncompressed message frame and no
/// `content-type` or `te` header (tonic's servers read neither), plus the
/// forwarded headers and `grpc-timeout`.
pub struct RestGateway<S> {
    shared: Arc<Shared>,
    /// Behind an `Arc`: the gateway is cloned for every request, and only
    /// the call itself needs a copy of the stack.
    grpc: Arc<S>,
}

impl<S> Clone for RestGateway<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            grpc: Arc::clone(&self.grpc),
        }
    }
}

/// What every clone of a gateway shares.
struct Shared {
    config: GatewayConfig,
    rendered: RenderCache,
    /// The gRPC path of each route, by its index in the router, made once.
    grpc_paths: Vec<http::Uri>,
    /// How to encode each route's requests that carry only a path.
    path_only: Vec<Option<PathOnlyPlan>>,
}

impl<S> RestGateway<S> {
    pub fn new(config: GatewayConfig, grpc: S) -> Self {
        Self {
            shared: Arc::new(Shared {
                grpc_paths: config.router.bindings().iter().map(grpc_path).collect(),
                path_only: config
                    .router
                    .bindings()
                    .iter()
                    .map(PathOnlyPlan::for_binding)
                    .collect(),
                config,
                rendered: RenderCache::new(RENDER_CACHE_ENTRIES),
            }),
            grpc: Arc::new(grpc),
        }
    }
}

impl<S, B> tower::Service<Request<B>> for RestGateway<S>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = RestResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<RestResponse, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        // The clone is ready-checked in `forward`, the standard tower pattern.
        let grpc = S::clone(&self.grpc);
        Box::pin(async move { Ok(handle(shared, grpc, request).await) })
    }
}

async fn handle<S, B>(shared: Arc<Shared>, grpc: S, request: Request<B>) -> RestResponse
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET
        && parts.uri.path() == OPENAPI_PATH
        && let Some(document) = &config.openapi_json
    {
        let mut response = Response::new(tonic::body::Body::new(Full::new(document.clone())));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return response;
    }
    let (route, binding, path_bindings) = match config.router.route(&parts.method, parts.uri.path())
    {
        RouteResult::Matched {
            index,
            binding,
            bindings,
        } => (index, binding, bindings),
        RouteResult::NotFound => {
            let err = TranscodeError::new(
                Code::NotFound,
                "ROUTE_NOT_FOUND",
                format!("no route for {} {}", parts.method, parts.uri.path()),
            )
            .with_http_status(StatusCode::NOT_FOUND);
            return refuse(&err, &config.domain);
        }
        RouteResult::MethodNotAllowed { allow } => {
            let err = TranscodeError::new(
                Code::Unimplemented,
                "METHOD_NOT_ALLOWED",
                format!("{} is not allowed on {}", parts.method, parts.uri.path()),
            )
            .with_http_status(StatusCode::METHOD_NOT_ALLOWED);
            let mut response = refuse(&err, &config.domain);
            let allowed = allow
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(value) = HeaderValue::from_str(&allowed) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            return response;
        }
        RouteResult::BadPath(err) => return refuse(&err, &config.domain),
    };
    if let Some(admission) = &config.admission
        && let Err(status) = admission.admit(&parts.headers).await
    {
        return status_response(&status, config);
    }
    let body = match read_body(body, config.max_body_bytes).await {
        Ok(body) => body,
        Err(err) => {
            let too_large = err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let err = if too_large {
                TranscodeError::new(
                    Code::ResourceExhausted,
                    "REQUEST_TOO_LARGE",
                    format!(
                        "the request body is larger than {} bytes",
                        config.max_body_bytes
                    ),
                )
                .with_http_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                TranscodeError::new(
                    Code::InvalidArgument,
                    "BODY_READ_FAILED",
                    "the request body could not be read",
                )
            };
            return refuse(&err, &config.domain);
        }
    };
    let query = parts.uri.query();
    let path_only = shared
        .path_only
        .get(route)
        .and_then(Option::as_ref)
        .filter(|_| body.is_empty() && query.is_none());
    let (framed, options) = match path_only.and_then(|plan| frame_path_only(plan, &path_bindings)) {
        Some(framed) => (framed, RenderOptions::default()),
        None => {
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            match build_request(binding, &path_bindings, query, &body, content_type) {
                // The message is rarely larger than the JSON it came from.
                Ok((message, options)) => (frame(&message, 64 + body.len()), options),
                Err(err) => return refuse(&err, &config.domain),
            }
        }
    };
    let Some(path) = shared.grpc_paths.get(route) else {
        let err = TranscodeError::new(
            Code::Internal,
            "ROUTE_NOT_FOUND",
            format!("route {route} has no gRPC path"),
        );
        return refuse(&err, &config.domain);
    };
    let call = grpc_request(
        path.clone(),
        framed,
        &parts.headers,
        &config.forwarded_headers,
    );
    if binding.method.is_server_streaming() {
        let binding = binding.clone();
        return stream_response(grpc, call, binding, options, Arc::clone(&shared)).await;
    }
    let answer = match forward(grpc, call).await {
        Ok(answer) => answer,
        Err(status) => return status_response(&status, config),
    };
    let rendered = shared.rendered.get_or_render(route, options, &answer, || {
        render(binding, &answer, &options)
    });
    match rendered {
        Ok(json) => json_response(StatusCode::OK, json),
        Err(err) => refuse(&err, &config.domain),
    }
}

/// `/package.Service/Method`, the path gRPC calls `binding`'s method on.
fn grpc_path(binding: &Binding) -> http::Uri {
    let path = format!(
        "/{}/{}",
        binding.method.parent_service().full_name(),
        binding.method.name()
    );
    // Service and method names are protobuf identifiers: always a valid path.
    http::Uri::try_from(path).unwrap_or_default()
}

/// The request body, up to `limit` bytes. Most REST calls (every GET) have
/// none, and knowing that up front saves collecting nothing.
async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BoxError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    Ok(Limited::new(body, limit).collect().await?.to_bytes())
}

/// A gRPC message frame's header: a compression flag and a 4-byte length.
const FRAME_HEADER: usize = 5;

/// `message` as one gRPC message frame. One pass: encoded behind a
/// placeholder header whose length is filled in after (measuring first
/// would walk the dynamic message twice).
fn frame(message: &DynamicMessage, size_hint: usize) -> Bytes {
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + size_hint);
    framed.put_bytes(0, FRAME_HEADER);
    message.encode_raw(&mut framed);
    seal_frame(framed)
}

/// A path-only request as one frame, or `None` for the general builder.
fn frame_path_only(plan: &PathOnlyPlan, path: &[PathBinding]) -> Option<Bytes> {
    let size: usize = path.iter().map(|bound| bound.value.len() + 8).sum();
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + size);
    framed.put_bytes(0, FRAME_HEADER);
    plan.encode(path, &mut framed).then(|| seal_frame(framed))
}

/// Writes the message length into a frame that starts with a placeholder
/// header.
fn seal_frame(mut framed: BytesMut) -> Bytes {
    let length = u32::try_from(framed.len() - FRAME_HEADER).unwrap_or(u32::MAX);
    framed[1..FRAME_HEADER].copy_from_slice(&length.to_be_bytes());
    framed.freeze()
}

/// The in-process gRPC request for one REST call: `framed` is the request
/// message as a gRPC frame.
fn grpc_request(
    path: http::Uri,
    framed: Bytes,
    headers: &HeaderMap,
    extra_headers: &[http::HeaderName],
) -> Request<tonic::body::Body> {
    let mut request = Request::new(tonic::body::Body::new(Full::new(framed)));
    *request.method_mut() = Method::POST;
    *request.version_mut() = http::Version::HTTP_2;
    *request.uri_mut() = path;
    // No `content-type` or `te`: the call never leaves the process, and
    // neither the edge nor tonic's server reads them, so the common request
    // (no forwarded headers) needs no header map at all.
    let grpc_headers = request.headers_mut();
    // One walk over the (few) request headers compares names, where a
    // lookup per forwarded name would hash each of them.
    for (name, value) in headers {
        if FORWARDED_HEADERS.contains(name) || extra_headers.contains(name) {
            grpc_headers.append(name.clone(), value.clone());
        }
    }
    if let Some(timeout) = server_timeout(headers) {
        grpc_headers.insert(GRPC_TIMEOUT, timeout);
    }
    request
}

/// Google's REST deadline header, `X-Server-Timeout: <seconds>`, as a
/// `grpc-timeout` in milliseconds. A malformed value is passed on malformed,
/// so the edge refuses it the same way it refuses a bad `grpc-timeout`.
fn server_timeout(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(&X_SERVER_TIMEOUT)?.to_str().ok()?;
    let millis = match value.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            format!("{}m", (seconds * 1000.0).round().min(99_999_999.0))
        }
        _ => "invalid".to_owned(),
    };
    HeaderValue::from_str(&millis).ok()
}

/// Calls the gRPC routes; returns the single response message, or the status.
async fn forward<S>(
    mut grpc: S,
    request: Request<tonic::body::Body>,
) -> Result<Bytes, tonic::Status>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
{
    std::future::poll_fn(|cx| grpc.poll_ready(cx))
        .await
        .map_err(|err| tonic::Status::unavailable(err.into().to_string()))?;
    let response = grpc
        .call(request)
        .await
        .map_err(|err| tonic::Status::unavailable(err.into().to_string()))?;
    let (parts, mut body) = response.into_parts();
    if let Some(status) = failure(&parts.headers) {
        return Err(status);
    }
    // The frames are read one by one rather than collected: a unary answer
    // is one data frame, kept as it is, then the trailers.
    let mut bytes = Bytes::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|status| {
            tonic::Status::internal(format!("reading the response failed: {status}"))
        })?;
        match frame.into_data() {
            Ok(data) if bytes.is_empty() => bytes = data,
            Ok(data) => {
                let mut joined = BytesMut::with_capacity(bytes.len() + data.len());
                joined.extend_from_slice(&bytes);
                joined.extend_from_slice(&data);
                bytes = joined.freeze();
            }
            Err(frame) => {
                if let Some(status) = frame.trailers_ref().and_then(failure) {
                    return Err(status);
                }
            }
        }
    }
    if bytes.len() < 5 || bytes[0] != 0 {
        return Err(tonic::Status::internal(
            "the response was not one uncompressed message",
        ));
    }
    bytes.advance(1);
    let length = bytes.get_u32() as usize;
    if bytes.len() < length {
        return Err(tonic::Status::internal(
            "the response message was cut short",
        ));
    }
    Ok(bytes.split_to(length))
}

/// The error status in gRPC headers or trailers; `None` when there is none
/// or it is OK (checked without building a `Status`, the common case).
fn failure(headers: &HeaderMap) -> Option<tonic::Status> {
    let code = headers.get(&GRPC_STATUS)?;
    if code.as_bytes() == b"0" {
        return None;
    }
    tonic::Status::from_header_map(headers).filter(|status| status.code() != Code::Ok)
}

fn render(
    binding: &Binding,
    answer: &Bytes,
    options: &RenderOptions,
) -> Result<Vec<u8>, TranscodeError> {
    let message =
        DynamicMessage::decode(binding.method.output(), answer.as_ref()).map_err(|err| {
            TranscodeError::new(
                Code::Internal,
                "RESPONSE_DECODE_FAILED",
                format!("the response did not decode: {err}"),
            )
        })?;
    render_response(binding, &message, options)
}

fn status_response(status: &tonic::Status, config: &GatewayConfig) -> RestResponse {
    let (code, body) = error_body_from_status(status, &config.pool, &config.domain);
    let mut response = json_response(code, body);
    if let Some(challenge) = www_authenticate(status, &config.domain) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    if let Some(id) = status.metadata().get(X_REQUEST_ID.as_str())
        && let Ok(value) = HeaderValue::from_bytes(id.as_bytes())
    {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

fn refuse(err: &TranscodeError, domain: &str) -> RestResponse {
    let (status, body) = error_body(err, domain);
    json_response(status, body)
}

fn json_response(status: StatusCode, body: impl Into<Bytes>) -> RestResponse {
    let mut response = Response::new(tonic::body::Body::new(Full::new(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A server-streaming RPC over REST, as Google's front ends do it: one JSON
/// array, each message an element, sent as it arrives; an error after the
/// first message becomes a last `{"error": ...}` element.
async fn stream_response<S>(
    mut grpc: S,
    request: Request<tonic::body::Body>,
    binding: Binding,
    options: RenderOptions,
    shared: Arc<Shared>,
) -> RestResponse
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
{
    let config = &shared.config;
    let unavailable = |err: S::Error| tonic::Status::unavailable(err.into().to_string());
    if let Err(err) = std::future::poll_fn(|cx| grpc.poll_ready(cx)).await {
        return status_response(&unavailable(err), config);
    }
    let response = match grpc.call(request).await.map_err(unavailable) {
        Ok(response) => response,
        Err(status) => return status_response(&status, config),
    };
    if let Some(status) = tonic::Status::from_header_map(response.headers())
        && status.code() != Code::Ok
    {
        return status_response(&status, config);
    }
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, Infallible>>(8);
    tokio::spawn(async move {
        let config = &shared.config;
        let mut body = response.into_body();
        let mut buffer = BytesMut::new();
        let mut first = true;
        let send = async |chunk: Vec<u8>| {
            sender
                .send(Ok(http_body::Frame::data(Bytes::from(chunk))))
                .await
                .is_ok()
        };
        if !send(b"[".to_vec()).await {
            return;
        }
        let mut failure = None;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(status) => {
                    failure = Some(status);
                    break;
                }
            };
            let frame = match frame.into_data() {
                Ok(data) => data,
                Err(frame) => {
                    if let Some(status) = frame
                        .trailers_ref()
                        .and_then(tonic::Status::from_header_map)
                        && status.code() != Code::Ok
                    {
                        failure = Some(status);
                    }
                    continue;
                }
            };
            buffer.extend_from_slice(&frame);
            while let Some(message) = next_message(&mut buffer) {
                let element = DynamicMessage::decode(binding.method.output(), message.as_ref())
                    .map_err(|err| {
                        TranscodeError::new(
                            Code::Internal,
                            "RESPONSE_DECODE_FAILED",
                            err.to_string(),
                        )
                    })
                    .and_then(|message| render_response(&binding, &message, &options));
                let element = match element {
                    Ok(json) => json,
                    Err(err) => error_body(&err, &config.domain).1,
                };
                let mut chunk = if first { Vec::new() } else { b",\n".to_vec() };
                first = false;
                chunk.extend_from_slice(&element);
                if !send(chunk).await {
                    return;
                }
            }
        }
        let mut tail = Vec::new();
        if let Some(status) = failure {
            if !first {
                tail.extend_from_slice(b",\n");
            }
            tail.extend_from_slice(
                &error_body_from_status(&status, &config.pool, &config.domain).1,
            );
        }
        tail.push(b']');
        let _ = send(tail).await;
    });
    let body =
        http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let mut response = Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Takes one whole gRPC message (5-byte prefix + bytes) off the front of
/// `buffer`, if one has fully arrived.
fn next_message(buffer: &mut BytesMut) -> Option<Bytes> {
    if buffer.len() < 5 {
        return None;
    }
    let length = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
    if buffer.len() < 5 + length {
        return None;
    }
    buffer.advance(5);
    Some(buffer.split_to(length).freeze())
}
