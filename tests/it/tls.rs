//! TLS and mTLS on both listeners: gRPC, gRPC-Web and REST over TLS on one
//! port, client certificates refused at the handshake or named as the
//! policy's principal, certificate reload without dropping connections,
//! expiry warnings, and the CLI over https. Certificates are made here
//! (support/certs.rs).

mod cli;
mod mtls;
mod reload;
mod serving;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro};
use longrun::server::{RunningServer, ServerConfig, TlsFiles};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::support::certs::{Ca, LONG, Leaf, client_config};
use crate::support::{PARENT, config};

/// A CA and a server certificate it signed, written to a temporary folder.
struct Certs {
    dir: tempfile::TempDir,
    ca: Ca,
    cert: PathBuf,
    key: PathBuf,
}

impl Certs {
    fn new() -> Self {
        Self::valid_for(LONG)
    }

    fn valid_for(valid: time::Duration) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = Ca::new("longrun test CA");
        let (cert, key) = ca.server(valid).write(dir.path(), "server");
        Self { dir, ca, cert, key }
    }

    fn files(&self, client_ca: Option<&Ca>) -> TlsFiles {
        TlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: client_ca.map(|ca| self.write("client-ca.pem", &ca.pem)),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

/// A server with TLS on both planes (client certificates from `client_ca`
/// required on the public one when given).
fn tls_config(certs: &Certs, client_ca: Option<&Ca>) -> ServerConfig {
    let mut config = config("sqlite::memory:".into(), Default::default());
    config.tls.public = Some(certs.files(client_ca));
    config.tls.control = Some(certs.files(None));
    config
}

async fn start(config: ServerConfig) -> RunningServer {
    longrun::server::start(config).await.expect("server starts")
}

/// A tonic channel over TLS trusting `ca`, showing `client` when given.
async fn channel(
    addr: SocketAddr,
    ca: &str,
    client: Option<&Leaf>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
    if let Some(leaf) = client {
        tls = tls.identity(Identity::from_pem(&leaf.cert, &leaf.key));
    }
    Channel::from_shared(format!("https://{addr}"))
        .expect("uri")
        .tls_config(tls)?
        .connect()
        .await
}

async fn create(server: &RunningServer, ca: &str, id: &str) -> lro::Operation {
    let channel = channel(server.control_addr, ca, None)
        .await
        .expect("control connects over TLS");
    OperationsControlClient::new(channel)
        .create_operation(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            operation_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("create over TLS")
        .into_inner()
}

async fn get(channel: Channel, name: &str) -> Result<lro::Operation, tonic::Status> {
    OperationsClient::new(channel)
        .get_operation(lro::GetOperationRequest { name: name.into() })
        .await
        .map(tonic::Response::into_inner)
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An HTTPS client (HTTP/1.1) trusting `ca`, showing `client` when given.
fn https_client(ca: &str, client: Option<&Leaf>) -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(Arc::unwrap_or_clone(client_config(ca, client, &[])))
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// GET over HTTPS: the status and the body as JSON.
async fn rest_get(client: &HttpsClient, url: String) -> (http::StatusCode, serde_json::Value) {
    let request = http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("https answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

/// Makes a TLS connection and reads the server's first bytes (its h2
/// SETTINGS): the negotiated ALPN protocol, or why it failed. With TLS 1.3
/// the server judges the client certificate after the client's last
/// flight, so a refusal may arrive only on that first read.
async fn handshake(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<Option<Vec<u8>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await?;
    tls.flush().await?;
    let mut first = [0_u8; 1];
    if tls.read(&mut first).await? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed without an answer",
        ));
    }
    Ok(alpn)
}
