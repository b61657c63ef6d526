//! The tonic services each port serves and the whole stack in front of
//! them: the public port (Operations, health, reflection) and the control
//! port (the control API, plus the public methods for workers), each with
//! REST routes bound by the HTTP rules.

use http::{Request, Response};
use hyper::body::Incoming;
use tonic::service::Routes;

use super::port::port_service;
use super::rest_methods::RestMethods;
use super::security::{self, Security};
use super::{BoxError, CONTROL_SERVICE, PUBLIC_SERVICE, ServerConfig, ServerError};
use crate::auth::Caller;
use crate::console::ConsoleLayer;
use crate::grpc::auth::AuthLayer;
use crate::grpc::edge::GrpcEdgeLayer;
use crate::grpc::{ControlGrpc, OperationsGrpc, UnaryMethods};
use crate::pb;
use crate::service::Core;
use crate::telemetry::metrics::Metrics;
use crate::transcode::gateway::GatewayConfig;
use crate::transcode::openapi::openapi_document;
use crate::transcode::router::Router;
use crate::transcode::rules::{self, DEFAULT_RULES};

/// What a listener serves: every connection's requests, HTTP/1.1 or h2.
pub(super) trait PortService:
    tower::Service<
        Request<Incoming>,
        Response = Response<tonic::body::Body>,
        Error = BoxError,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<T> PortService for T where
    T: tower::Service<
            Request<Incoming>,
            Response = Response<tonic::body::Body>,
            Error = BoxError,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// The stacks of the public and the control port.
pub(super) fn port_services(
    core: &Core,
    config: &ServerConfig,
    security: &Security,
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    metrics: Option<&Metrics>,
) -> Result<(impl PortService, impl PortService), ServerError> {
    let public_adapter = operations_adapter(core, config, security.public.is_open());
    let control_ops_adapter = operations_adapter(core, config, security.control.is_open());
    let control_adapter = control_adapter(core, config, security.control.is_open());
    let max = config.limits.max_message_bytes;
    // REST calls the same adapters' unary methods directly (`rest_methods`).
    let public_unary = UnaryMethods::new(public_adapter.clone(), None, max);
    let control_unary = UnaryMethods::new(
        control_ops_adapter.clone(),
        Some(control_adapter.clone()),
        max,
    );
    let public_operations = operations_server(public_adapter, config);
    let control_operations = operations_server(control_ops_adapter, config);
    let control_server = control_server(control_adapter, config);
    let public_routes = public_routes(public_operations.clone(), health.clone())?;
    // Workers poll and wait too, so the control listener also serves the
    // public methods; the public listener never serves the control ones.
    let control_routes = Routes::new(control_server.clone())
        .add_service(control_operations.clone())
        .add_service(health);
    let rules_text = http_rules(config)?;
    let gateway = |services: &[&str], auth: &AuthLayer| {
        gateway_config(core, config, &rules_text, services, auth)
    };
    let edge = GrpcEdgeLayer::new(&config.service_name);
    let public = port_service(
        public_routes,
        RestMethods::one(public_operations, public_unary),
        edge.clone(),
        security.public.clone(),
        gateway(&[PUBLIC_SERVICE], &security.public)?,
        &config.cors_origins,
        Some(ConsoleLayer::new(config.console)),
        metrics,
        config.traces,
    );
    let control = port_service(
        control_routes,
        RestMethods::two(control_server, control_operations, control_unary),
        edge,
        security.control.clone(),
        gateway(&[CONTROL_SERVICE, PUBLIC_SERVICE], &security.control)?,
        &config.cors_origins,
        None,
        metrics,
        config.traces,
    );
    Ok((public, control))
}

/// The service-config YAML of the REST routes: the user's, or ours.
fn http_rules(config: &ServerConfig) -> Result<String, ServerError> {
    match &config.http_rules {
        Some(path) => std::fs::read_to_string(path).map_err(|source| ServerError::RulesFile {
            path: path.clone(),
            source,
        }),
        None => Ok(DEFAULT_RULES.to_owned()),
    }
}

/// The REST gateway of one port: the rules of the services it serves.
fn gateway_config(
    core: &Core,
    config: &ServerConfig,
    rules_text: &str,
    services: &[&str],
    auth: &AuthLayer,
) -> Result<GatewayConfig, ServerError> {
    let pool = core.registry().pool().clone();
    let bindings = rules::load(&pool, Some(rules_text), services)?;
    let document = openapi_document(&pool, &bindings, "longrun", env!("CARGO_PKG_VERSION"));
    Ok(GatewayConfig {
        pool,
        router: Router::new(bindings),
        domain: config.service_name.clone(),
        max_body_bytes: config.limits.max_message_bytes,
        openapi_json: Some(bytes::Bytes::from(document.to_string())),
        forwarded_headers: security::forwarded_headers(&config.auth),
        admission: security::admission(auth),
    })
}

/// An adapter of a plane without authentication acts for every caller as
/// trusted; on a plane with it, a request the auth layer did not admit has
/// no `Caller` and is refused. Both follow from the same `open`, the one
/// `port_service` uses to leave the layer out.
fn trusts<A>(adapter: A, open: bool, with_default_caller: fn(A, Caller) -> A) -> A {
    if open {
        with_default_caller(adapter, Caller::trusted())
    } else {
        adapter
    }
}

type OperationsServer = pb::longrunning::operations_server::OperationsServer<OperationsGrpc>;
type ControlServer = pb::control::operations_control_server::OperationsControlServer<ControlGrpc>;

fn operations_adapter(core: &Core, config: &ServerConfig, open: bool) -> OperationsGrpc {
    trusts(
        OperationsGrpc::new(core.clone(), &config.service_name),
        open,
        OperationsGrpc::with_default_caller,
    )
}

fn control_adapter(core: &Core, config: &ServerConfig, open: bool) -> ControlGrpc {
    trusts(
        ControlGrpc::new(core.clone(), &config.service_name),
        open,
        ControlGrpc::with_default_caller,
    )
}

fn operations_server(adapter: OperationsGrpc, config: &ServerConfig) -> OperationsServer {
    let max = config.limits.max_message_bytes;
    OperationsServer::new(adapter)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max)
}

fn control_server(adapter: ControlGrpc, config: &ServerConfig) -> ControlServer {
    let max = config.limits.max_message_bytes;
    ControlServer::new(adapter)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max)
}

fn public_routes(
    operations: OperationsServer,
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> Result<Routes, ServerError> {
    let reflection_v1 = public_reflection().build_v1()?;
    let reflection_v1alpha = public_reflection().build_v1alpha()?;
    Ok(Routes::new(operations)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
}

/// Reflection that advertises only what the public port serves: the control
/// service's descriptors are in the same set, but it is not served here.
fn public_reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("google.longrunning.Operations")
        .with_service_name("grpc.health.v1.Health")
}
