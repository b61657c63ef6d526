//! The one client every scenario is written against: the public Operations
//! methods and the control methods, in protobuf types, with every failure
//! normalised to the gRPC code, the message and the `ErrorInfo`, so a
//! scenario asserts the same answer whatever the transport.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use longrun::pb::{control as ctl, longrunning as lro, rpc};

/// A failed call, as any transport reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: tonic::Code,
    pub message: String,
    /// Every error carries one (docs/behaviour.md §8); a transport that
    /// finds none fails the test there. Boxed: a `Result` is kept small.
    pub info: Box<rpc::ErrorInfo>,
    /// The `x-request-id` the answer carried, if any.
    pub request_id: Option<String>,
}

impl Failure {
    pub fn reason(&self) -> &str {
        &self.info.reason
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.info.metadata.get(key).map(String::as_str)
    }
}

/// Builds a `Failure` from a code and the parts every transport decodes.
pub fn failure(
    code: tonic::Code,
    message: String,
    info: Option<rpc::ErrorInfo>,
    request_id: Option<String>,
) -> Failure {
    let Some(info) = info else {
        panic!("{code:?} {message:?} carries no ErrorInfo");
    };
    Failure {
        code,
        message,
        info: Box::new(info),
        request_id,
    }
}

/// The call's deadline, as the transport sends it: `grpc-timeout` over gRPC
/// and gRPC-Web, `X-Server-Timeout` over REST.
#[derive(Clone, Debug)]
pub enum Deadline {
    After(Duration),
    /// A header value that is not a timeout at all.
    Malformed(&'static str),
}

/// What a call sends besides its request message.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    pub deadline: Option<Deadline>,
    pub request_id: Option<String>,
}

/// A server-streamed Watch.
#[async_trait]
pub trait Events: Send {
    /// The next event; `None` once the stream ended without an error.
    async fn next(&mut self) -> Option<Result<ctl::OperationEvent, Failure>>;
}

pub type Reply<T> = Result<T, Failure>;

/// google.longrunning.Operations on the public port and
/// longrun.v1.OperationsControl on the control port, over one transport.
#[async_trait]
pub trait Client: Send + Sync {
    /// The same client, sending `options` with each call.
    fn with(&self, options: CallOptions) -> Arc<dyn Client>;

    async fn get(&self, name: &str) -> Reply<lro::Operation>;
    async fn list(&self, request: lro::ListOperationsRequest)
    -> Reply<lro::ListOperationsResponse>;
    async fn cancel(&self, name: &str) -> Reply<()>;
    async fn delete(&self, name: &str) -> Reply<()>;
    async fn wait(&self, request: lro::WaitOperationRequest) -> Reply<lro::Operation>;

    async fn create(&self, request: ctl::CreateOperationRequest) -> Reply<lro::Operation>;
    async fn update(&self, request: ctl::UpdateOperationRequest) -> Reply<lro::Operation>;
    async fn complete(&self, request: ctl::CompleteOperationRequest) -> Reply<lro::Operation>;
    async fn watch(&self, name: &str) -> Reply<Box<dyn Events>>;
}
