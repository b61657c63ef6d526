//! The client over gRPC: tonic's generated clients on HTTP/2, one channel
//! per port. gRPC-Web uses the same client on another channel (grpc_web.rs).

use std::sync::Arc;

use async_trait::async_trait;
use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro, rpc};
use tower::util::BoxCloneSyncService;

use crate::scenarios::client::{CallOptions, Client, Deadline, Events, Failure, Reply, failure};

/// A gRPC connection of either kind, its type erased.
pub type GrpcChannel = BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    ChannelError,
>;

/// A connection's error. A struct rather than a boxed `dyn Error`: the
/// generated clients convert it with `Into`, and for a trait object the
/// compiler cannot prove their futures `Send`.
#[derive(Debug)]
pub struct ChannelError(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ChannelError {}

pub fn boxed<E: std::error::Error + Send + Sync + 'static>(err: E) -> ChannelError {
    ChannelError(Box::new(err))
}

#[derive(Clone)]
pub struct Grpc {
    ops: OperationsClient<GrpcChannel>,
    control: OperationsControlClient<GrpcChannel>,
    options: CallOptions,
}

impl Grpc {
    pub fn new(public: GrpcChannel, control: GrpcChannel) -> Self {
        Self {
            ops: OperationsClient::new(public),
            control: OperationsControlClient::new(control),
            options: CallOptions::default(),
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        match &self.options.deadline {
            Some(Deadline::After(timeout)) => request.set_timeout(*timeout),
            Some(Deadline::Malformed(value)) => {
                let value = value.parse().expect("an ASCII header value");
                request.metadata_mut().insert("grpc-timeout", value);
            }
            None => {}
        }
        if let Some(id) = &self.options.request_id {
            let value = id.parse().expect("an ASCII header value");
            request.metadata_mut().insert("x-request-id", value);
        }
        request
    }
}

/// A tonic status as a `Failure`: the ErrorInfo travels inside the
/// `google.rpc.Status` of `grpc-status-details-bin`.
pub fn from_status(status: &tonic::Status) -> Failure {
    use tonic_types::StatusExt;
    let details = status
        .check_error_details()
        .expect("details are a google.rpc.Status");
    let info = details.error_info().map(|info| rpc::ErrorInfo {
        reason: info.reason.clone(),
        domain: info.domain.clone(),
        metadata: info.metadata.clone(),
    });
    let request_id = status
        .metadata()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    failure(status.code(), status.message().to_owned(), info, request_id)
}

fn reply<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Reply<T> {
    result
        .map(tonic::Response::into_inner)
        .map_err(|status| from_status(&status))
}

#[async_trait]
impl Client for Grpc {
    fn with(&self, options: CallOptions) -> Arc<dyn Client> {
        Arc::new(Self {
            options,
            ..self.clone()
        })
    }

    async fn get(&self, name: &str) -> Reply<lro::Operation> {
        let request = self.request(lro::GetOperationRequest { name: name.into() });
        reply(self.ops.clone().get_operation(request).await)
    }

    async fn list(
        &self,
        request: lro::ListOperationsRequest,
    ) -> Reply<lro::ListOperationsResponse> {
        reply(
            self.ops
                .clone()
                .list_operations(self.request(request))
                .await,
        )
    }

    async fn cancel(&self, name: &str) -> Reply<()> {
        let request = self.request(lro::CancelOperationRequest { name: name.into() });
        reply(self.ops.clone().cancel_operation(request).await)
    }

    async fn delete(&self, name: &str) -> Reply<()> {
        let request = self.request(lro::DeleteOperationRequest { name: name.into() });
        reply(self.ops.clone().delete_operation(request).await)
    }

    async fn wait(&self, request: lro::WaitOperationRequest) -> Reply<lro::Operation> {
        reply(self.ops.clone().wait_operation(self.request(request)).await)
    }

    async fn create(&self, request: ctl::CreateOperationRequest) -> Reply<lro::Operation> {
        let request = self.request(request);
        reply(self.control.clone().create_operation(request).await)
    }

    async fn update(&self, request: ctl::UpdateOperationRequest) -> Reply<lro::Operation> {
        let request = self.request(request);
        reply(self.control.clone().update_operation(request).await)
    }

    async fn complete(&self, request: ctl::CompleteOperationRequest) -> Reply<lro::Operation> {
        let request = self.request(request);
        reply(self.control.clone().complete_operation(request).await)
    }

    async fn watch(&self, name: &str) -> Reply<Box<dyn Events>> {
        let request = self.request(ctl::WatchOperationRequest { name: name.into() });
        let stream = reply(self.control.clone().watch_operation(request).await)?;
        Ok(Box::new(GrpcEvents(stream)))
    }
}

struct GrpcEvents(tonic::Streaming<ctl::OperationEvent>);

#[async_trait]
impl Events for GrpcEvents {
    async fn next(&mut self) -> Option<Result<ctl::OperationEvent, Failure>> {
        self.0
            .message()
            .await
            .map_err(|status| from_status(&status))
            .transpose()
    }
}

/// A plain HTTP/2 gRPC channel to `addr`.
pub async fn channel(addr: std::net::SocketAddr) -> GrpcChannel {
    let channel = crate::support::channel(addr).await;
    BoxCloneSyncService::new(
        tower::ServiceBuilder::new()
            .map_err(boxed::<tonic::transport::Error>)
            .service(channel),
    )
}
