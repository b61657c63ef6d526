//! The service stack of one listening port: the web console (public port
//! only), CORS (when configured), then the dispatch between gRPC/gRPC-Web and REST, both ending in the same tonic
//! routes behind the same edge and authentication layers; with metrics on,
//! each transport's calls are counted in front of the edge, and with traces
//! on each call opens its span in front of that.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use tonic::service::Routes;
use tower::{Layer, ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::dispatch::Dispatch;
use crate::console::ConsoleLayer;
use crate::grpc::auth::AuthLayer;
use crate::grpc::edge::GrpcEdgeLayer;
use crate::telemetry::metrics::{Metrics, RpcMetricsLayer, Transport};
use crate::telemetry::traces::{HttpTraceLayer, RpcTraceLayer};
use crate::transcode::gateway::{GatewayConfig, RestGateway};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
#[expect(
    clippy::too_many_arguments,
    reason = "each is one layer of the stack, made by the caller for its port"
)]
pub fn port_service<M>(
    routes: Routes,
    rest_methods: M,
    edge: GrpcEdgeLayer,
    auth: AuthLayer,
    gateway: GatewayConfig,
    cors_origins: &[String],
    console: Option<ConsoleLayer>,
    metrics: Option<&Metrics>,
    traces: bool,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<tonic::body::Body>,
    Error = BoxError,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static
where
    M: tower::Service<
            Request<tonic::body::Body>,
            Response = Response<tonic::body::Body>,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    // Authentication sits behind the edge (so refusals get request ids and
    // deadlines) and in front of the routes, on the one path that gRPC,
    // gRPC-Web and REST share. An open plane has no layer at all: its
    // routes were built to trust callers (`server::trusts`), so the hot
    // path pays nothing for a check that admits everyone.
    let behind_edge = |edge: GrpcEdgeLayer, auth: AuthLayer| {
        ServiceBuilder::new()
            .layer(edge)
            .option_layer((!auth.is_open()).then_some(auth))
            // Both sides of the option answer with the same error type.
            .map_err(|never: std::convert::Infallible| -> BoxError { match never {} })
    };
    // Calls are counted in front of the edge, so its answers (deadline,
    // malformed timeout) count too; each transport has its own layer, and
    // gRPC-Web and REST are counted as the gRPC calls they turn into.
    let counted = |transport| RpcMetricsLayer::new(metrics, transport);
    // The method's span covers the whole call. A REST request has its own
    // span, opened before routing; the method's span of the gateway's
    // in-process call is its child.
    let traced = |transport| RpcTraceLayer::new(traces, transport);
    let grpc = behind_edge(edge.clone(), auth.clone()).service(routes);
    // REST reaches the same tonic services behind the same layers, without
    // the general router (see `rest_methods`).
    let rest = ServiceBuilder::new()
        .layer(traced(Transport::Rest))
        .layer(counted(Transport::Rest))
        .service(behind_edge(edge, auth).service(rest_methods));
    let dispatch = Dispatch::new(
        ServiceBuilder::new()
            .layer(traced(Transport::Grpc))
            .layer(counted(Transport::Grpc))
            .service(grpc.clone()),
        ServiceBuilder::new()
            .layer(traced(Transport::GrpcWeb))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(counted(Transport::GrpcWeb))
            .service(grpc),
        HttpTraceLayer::new(traces).layer(RestGateway::new(gateway, rest)),
    );
    let cors = cors_layer(cors_origins);
    // Outside CORS: the console is a same-origin page, never called cross-origin.
    ServiceBuilder::new()
        .option_layer(console)
        .option_layer(cors)
        .service(dispatch)
}

/// Browsers may call from these origins (`*` for any); none by default.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let header = HeaderName::from_static;
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                http::header::CONTENT_TYPE,
                http::header::AUTHORIZATION,
                header("x-grpc-web"),
                header("x-user-agent"),
                header("grpc-timeout"),
                header("x-request-id"),
                header("x-server-timeout"),
            ])
            .expose_headers([
                header("grpc-status"),
                header("grpc-message"),
                header("grpc-status-details-bin"),
                header("x-request-id"),
            ])
            .max_age(Duration::from_secs(3600)),
    )
}
