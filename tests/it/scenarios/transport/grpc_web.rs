//! The client over gRPC-Web: the same generated clients as over gRPC, on
//! tonic-web's client layer, binary frames over HTTP/1.1.

use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use tonic_web::GrpcWebClientLayer;
use tower::util::BoxCloneSyncService;

use super::grpc::{Grpc, GrpcChannel, boxed};

pub fn client(public: std::net::SocketAddr, control: std::net::SocketAddr) -> Grpc {
    Grpc::new(channel(public), channel(control))
}

fn channel(addr: std::net::SocketAddr) -> GrpcChannel {
    // No idle connections: the server closes an idle HTTP/1.1 connection
    // after its header-read timeout, and a scenario that moves the clock
    // past it must not race a request onto a connection being closed.
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let http = HttpClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let origin: http::Uri = format!("http://{addr}").parse().expect("uri");
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut request: http::Request<tonic::body::Body>| {
            // The generated client sends a path only; hyper's client needs
            // the whole URI.
            let path = request.uri().path_and_query().cloned();
            let mut parts = origin.clone().into_parts();
            parts.path_and_query = path;
            *request.uri_mut() = http::Uri::from_parts(parts).expect("uri");
            request
        })
        .map_response(|response: http::Response<_>| response.map(tonic::body::Body::new))
        .map_err(boxed::<hyper_util::client::legacy::Error>)
        .layer(GrpcWebClientLayer::new())
        .service(http);
    BoxCloneSyncService::new(service)
}
