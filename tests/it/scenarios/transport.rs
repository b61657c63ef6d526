//! The four transports a scenario runs over, each a `Client`.

mod grpc;
mod grpc_web;
mod rest;

use std::net::SocketAddr;
use std::sync::Arc;

use super::client::Client;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    RestH1,
    RestH2c,
    GrpcWeb,
}

impl Transport {
    /// A client of the server listening on `public` and `control`.
    pub async fn connect(self, public: SocketAddr, control: SocketAddr) -> Arc<dyn Client> {
        match self {
            Transport::Grpc => Arc::new(grpc::Grpc::new(
                grpc::channel(public).await,
                grpc::channel(control).await,
            )),
            Transport::RestH1 => Arc::new(rest::Rest::new(rest::Http::H1, public, control)),
            Transport::RestH2c => Arc::new(rest::Rest::new(rest::Http::H2c, public, control)),
            Transport::GrpcWeb => Arc::new(grpc_web::client(public, control)),
        }
    }
}
