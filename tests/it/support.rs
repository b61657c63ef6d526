//! The whole stack in-process: a TestServer on ephemeral ports with real
//! gRPC clients, plus helpers shared by the scenario files.

pub mod certs;
pub mod logs;
pub mod otlp_collector;
pub mod postgres;
pub mod proxy;

use std::time::Duration;

use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro, rpc};
use longrun::server::{RunningServer, ServerConfig};
use longrun::service::ServiceSettings;
use prost::Message;
use tonic::transport::Channel;

pub const PARENT: &str = "projects/test/locations/us-east1";
pub const LONGRUN_METADATA: &str = "longrun.v1.OperationMetadata";

/// The settings of `--default-metadata-type longrun.v1.OperationMetadata`.
pub fn default_metadata_settings() -> ServiceSettings {
    ServiceSettings {
        default_metadata_type: Some(LONGRUN_METADATA.into()),
        ..ServiceSettings::default()
    }
}

pub struct TestServer {
    pub server: RunningServer,
    pub ops: OperationsClient<Channel>,
    pub control: OperationsControlClient<Channel>,
    /// Keeps a file database alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_settings(ServiceSettings::default()).await
    }

    /// A server started with `--default-metadata-type
    /// longrun.v1.OperationMetadata`: operations created without metadata
    /// get longrun's own, kept current by the server.
    pub async fn with_default_metadata() -> Self {
        Self::with_settings(default_metadata_settings()).await
    }

    pub async fn with_settings(settings: ServiceSettings) -> Self {
        Self::with_config(config("sqlite::memory:".into(), settings), None).await
    }

    /// A server on a database file that outlives the server (for restarts).
    pub async fn on_file(path: &std::path::Path, settings: ServiceSettings) -> Self {
        let url = format!("sqlite://{}", path.display());
        Self::with_config(config(url, settings), None).await
    }

    pub async fn with_config(config: ServerConfig, dir: Option<tempfile::TempDir>) -> Self {
        let server = longrun::server::start(config).await.expect("server starts");
        let mut test_server = Self::around(server).await;
        test_server._dir = dir;
        test_server
    }

    /// Clients for a server the test started itself.
    pub async fn around(server: RunningServer) -> Self {
        let ops = OperationsClient::new(channel(server.public_addr).await);
        let control = OperationsControlClient::new(channel(server.control_addr).await);
        Self {
            server,
            ops,
            control,
            _dir: None,
        }
    }

    pub async fn create(&self) -> lro::Operation {
        self.create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn create_with(&self, request: ctl::CreateOperationRequest) -> lro::Operation {
        self.control
            .clone()
            .create_operation(request)
            .await
            .expect("create succeeds")
            .into_inner()
    }

    pub async fn get(&self, name: &str) -> Result<lro::Operation, tonic::Status> {
        self.ops
            .clone()
            .get_operation(lro::GetOperationRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn cancel(&self, name: &str) -> Result<(), tonic::Status> {
        self.ops
            .clone()
            .cancel_operation(lro::CancelOperationRequest { name: name.into() })
            .await
            .map(|_| ())
    }

    pub async fn complete(
        &self,
        name: &str,
        result: ctl::complete_operation_request::Result,
    ) -> Result<lro::Operation, tonic::Status> {
        self.control
            .clone()
            .complete_operation(ctl::CompleteOperationRequest {
                name: name.into(),
                result: Some(result),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn wait(
        &self,
        name: &str,
        timeout: Option<Duration>,
    ) -> Result<lro::Operation, tonic::Status> {
        self.ops
            .clone()
            .wait_operation(lro::WaitOperationRequest {
                name: name.into(),
                timeout: timeout.map(pb_duration),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Starts a Wait on its own connection and returns once the server holds
    /// it, so what the test does next is what wakes it.
    pub async fn spawn_wait(
        &self,
        name: &str,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<Result<lro::Operation, tonic::Status>> {
        let waiting_before = self.server.core().notifier().watched_count();
        let mut ops = OperationsClient::new(channel(self.server.public_addr).await);
        let request = lro::WaitOperationRequest {
            name: name.into(),
            timeout: Some(pb_duration(timeout)),
        };
        let waiter = tokio::spawn(async move {
            ops.wait_operation(request)
                .await
                .map(tonic::Response::into_inner)
        });
        while self.server.core().notifier().watched_count() == waiting_before {
            tokio::task::yield_now().await;
        }
        waiter
    }

    pub async fn watch(&self, name: &str) -> tonic::Streaming<ctl::OperationEvent> {
        self.control
            .clone()
            .watch_operation(ctl::WatchOperationRequest { name: name.into() })
            .await
            .expect("watch opens")
            .into_inner()
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}

pub fn config(database: String, service: ServiceSettings) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        control_listen: "127.0.0.1:0".parse().expect("addr"),
        database,
        service,
        ..ServerConfig::default()
    }
}

pub async fn channel(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects")
}

pub fn pb_duration(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).expect("fits"),
        nanos: i32::try_from(duration.subsec_nanos()).expect("fits"),
    }
}

pub fn empty_response() -> ctl::complete_operation_request::Result {
    ctl::complete_operation_request::Result::Response(prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.Empty".into(),
        value: Vec::new(),
    })
}

pub fn cancelled_by_worker() -> ctl::complete_operation_request::Result {
    ctl::complete_operation_request::Result::Error(rpc::Status {
        code: 1,
        message: "worker stopped".into(),
        details: Vec::new(),
    })
}

/// The `ErrorInfo.reason` inside a status's details.
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    let details = status
        .check_error_details()
        .expect("details are a google.rpc.Status");
    details
        .error_info()
        .expect("an ErrorInfo detail")
        .reason
        .clone()
}

pub fn error_code(op: &lro::Operation) -> Option<i32> {
    match &op.result {
        Some(lro::operation::Result::Error(status)) => Some(status.code),
        Some(lro::operation::Result::Response(_)) | None => None,
    }
}

pub fn error_message(op: &lro::Operation) -> Option<&str> {
    match &op.result {
        Some(lro::operation::Result::Error(status)) => Some(&status.message),
        Some(lro::operation::Result::Response(_)) | None => None,
    }
}

/// longrun's own metadata, packed as a producer or worker sends it.
pub fn longrun_metadata(metadata: &ctl::OperationMetadata) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{LONGRUN_METADATA}"),
        value: metadata.encode_to_vec(),
    }
}

pub fn is_response(op: &lro::Operation) -> bool {
    matches!(op.result, Some(lro::operation::Result::Response(_)))
}

/// The metadata as longrun's own OperationMetadata.
pub fn metadata(op: &lro::Operation) -> ctl::OperationMetadata {
    let any = op.metadata.as_ref().expect("metadata is set");
    assert_eq!(
        any.type_url,
        "type.googleapis.com/longrun.v1.OperationMetadata"
    );
    ctl::OperationMetadata::decode(any.value.as_slice()).expect("metadata decodes")
}

/// Next watch event, failing the test if none arrives in time.
pub async fn next_event(stream: &mut tonic::Streaming<ctl::OperationEvent>) -> ctl::OperationEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("an event arrives in time")
        .expect("the stream is healthy")
        .expect("the stream has not ended")
}

/// A gRPC-Web Operations client (HTTP/1.1, tonic-web's client layer).
pub fn web_client(
    addr: std::net::SocketAddr,
) -> OperationsClient<
    tonic_web::GrpcWebClientService<
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            tonic_web::GrpcWebCall<tonic::body::Body>,
        >,
    >,
> {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let service = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http);
    OperationsClient::with_origin(service, format!("http://{addr}").parse().expect("uri"))
}
