//! The REST side of a listener: routes an HTTP/JSON request to its RPC,
//! builds the protobuf request, calls the gRPC service in-process (through
//! the same edge and auth layers as gRPC clients, so deadlines, request ids,
//! limits, authentication and errors are handled once), and renders the
//! answer as JSON or Google's error envelope.

mod call;
mod frame;
mod reply;
mod stream;

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::Code;

use super::render_cache::RenderCache;
use super::request::{PathOnlyPlan, build_request};
use super::response::{RenderOptions, render_response};
use super::router::{RouteResult, Router};
use super::{Binding, PathBinding, TranscodeError};
use call::{forward, grpc_path, grpc_request};
use frame::{encode_message, encode_path_only, frame};
use reply::{
    json_response, method_not_allowed, no_route, openapi_response, refuse, status_response,
    unreadable_body,
};

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
    /// `extensions` are the connection's (e.g. a TLS client's identity).
    fn admit<'a>(
        &'a self,
        headers: &'a HeaderMap,
        extensions: &'a http::Extensions,
    ) -> BoxFuture<'a, Result<(), tonic::Status>>;
}

/// Where the OpenAPI document of a listener's REST routes is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Renderings remembered per listener (see `render_cache`): enough for the
/// operations a busy server's clients poll at once, a few MB at most.
const RENDER_CACHE_ENTRIES: NonZeroUsize = NonZeroUsize::new(1024).expect("not zero");

/// A unary call's request message, in the extensions of the in-process
/// request (whose body is empty). The service answers it with the bare
/// response message as the body and its status in the headers: no frames,
/// no trailers. A REST call's message is built here and rendered here, so
/// framing it for tonic's codec to unframe, and the answer back, was work
/// for nothing, and most of what a REST GET cost beyond bare hyper (see
/// `grpc::UnaryMethods`, which serves it).
#[derive(Clone, Debug)]
pub struct UnaryCall(pub Bytes);

/// A tower service for REST requests; `grpc` is the service that serves the
/// same methods over gRPC, behind the same layers. It receives each call as
/// an HTTP/2 `POST` to `/package.Service/Method` with no `content-type` or
/// `te` header, plus the forwarded headers and `grpc-timeout`: a unary call
/// with its message as a [`UnaryCall`], a streaming one with one
/// uncompressed message frame as its body.
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

/// Every REST request, step by step; a refusal at any step is the answer.
async fn handle<S, B>(shared: Arc<Shared>, grpc: S, request: Request<B>) -> RestResponse
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    if let Some(document) = openapi(&shared.config, &parts) {
        return openapi_response(document);
    }
    match call_route(&shared, grpc, parts, body).await {
        Ok(answer) => answer,
        Err(refused) => *refused,
    }
}

async fn call_route<S, B>(
    shared: &Arc<Shared>,
    grpc: S,
    parts: Parts,
    body: B,
) -> Result<RestResponse, Refused>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    let route = find_route(config, &parts)?;
    admit(config, &parts).await?;
    let body = read_body(body, config.max_body_bytes)
        .await
        .map_err(|err| Box::new(unreadable_body(&err, config)))?;
    let (message, options) = encode(shared, &route, &parts, &body)?;
    let path = shared.grpc_path(route.index)?;
    let mut call = grpc_request(path, &parts.headers, &config.forwarded_headers);
    // What the connection put there (a TLS client's identity) goes along,
    // so the in-process call is authenticated as the REST request was.
    *call.extensions_mut() = parts.extensions.clone();
    if route.binding.method.is_server_streaming() {
        *call.body_mut() = tonic::body::Body::new(Full::new(frame(&message)));
        let binding = route.binding.clone();
        let shared = Arc::clone(shared);
        return Ok(stream::stream_response(grpc, call, binding, options, shared).await);
    }
    call.extensions_mut().insert(UnaryCall(message));
    let answer = forward(grpc, call)
        .await
        .map_err(|status| Box::new(status_response(&status, config)))?;
    let rendered = shared
        .rendered
        .get_or_render(route.index, options, &answer, || {
            render(route.binding, &answer, &options)
        });
    rendered
        .map(|json| json_response(StatusCode::OK, json))
        .map_err(|err| Box::new(refuse(&err, &config.domain)))
}

/// The answer of a step that refused the request. Boxed: the refusal is
/// the rare path, and the steps' results stay small on the common one.
type Refused = Box<RestResponse>;

/// A matched route: the binding, its index in the router, and the values
/// the path gave its variables.
struct Route<'a> {
    index: usize,
    binding: &'a Binding,
    path: Vec<PathBinding>,
}

/// `GET /openapi.json`, when the listener serves the document.
fn openapi<'a>(config: &'a GatewayConfig, parts: &Parts) -> Option<&'a Bytes> {
    let asked = parts.method == Method::GET && parts.uri.path() == OPENAPI_PATH;
    config.openapi_json.as_ref().filter(|_| asked)
}

fn find_route<'a>(config: &'a GatewayConfig, parts: &Parts) -> Result<Route<'a>, Refused> {
    let (method, path) = (&parts.method, parts.uri.path());
    match config.router.route(method, path) {
        RouteResult::Matched {
            index,
            binding,
            bindings,
        } => Ok(Route {
            index,
            binding,
            path: bindings,
        }),
        RouteResult::NotFound => Err(Box::new(no_route(method, path, &config.domain))),
        RouteResult::MethodNotAllowed { allow } => Err(Box::new(method_not_allowed(
            method,
            path,
            &allow,
            &config.domain,
        ))),
        RouteResult::BadPath(err) => Err(Box::new(refuse(&err, &config.domain))),
    }
}

async fn admit(config: &GatewayConfig, parts: &Parts) -> Result<(), Refused> {
    let Some(admission) = &config.admission else {
        return Ok(());
    };
    admission
        .admit(&parts.headers, &parts.extensions)
        .await
        .map_err(|status| Box::new(status_response(&status, config)))
}

/// The request message, encoded: straight from the path when the request
/// carries nothing else, else built from path, query and body.
fn encode(
    shared: &Shared,
    route: &Route<'_>,
    parts: &Parts,
    body: &Bytes,
) -> Result<(Bytes, RenderOptions), Refused> {
    let query = parts.uri.query();
    let plan = shared
        .path_only
        .get(route.index)
        .and_then(Option::as_ref)
        .filter(|_| body.is_empty() && query.is_none());
    if let Some(encoded) = plan.and_then(|plan| encode_path_only(plan, &route.path)) {
        return Ok((encoded, RenderOptions::default()));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (message, options) = build_request(route.binding, &route.path, query, body, content_type)
        .map_err(|err| Box::new(refuse(&err, &shared.config.domain)))?;
    // The message is rarely larger than the JSON it came from.
    Ok((encode_message(&message, 64 + body.len()), options))
}

impl Shared {
    fn grpc_path(&self, route: usize) -> Result<http::Uri, Refused> {
        self.grpc_paths.get(route).cloned().ok_or_else(|| {
            let err = TranscodeError::new(
                Code::Internal,
                "ROUTE_NOT_FOUND",
                format!("route {route} has no gRPC path"),
            );
            Box::new(refuse(&err, &self.config.domain))
        })
    }
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
