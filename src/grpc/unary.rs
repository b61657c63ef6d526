//! The unary methods of both services, called on their generated traits
//! without gRPC's framing, for the in-process REST gateway. Through tonic's
//! codec a REST call's message was framed, stream-decoded, answered, framed
//! again with trailers, and unframed by the gateway; here the request
//! message's bytes are decoded once and the answer is encoded once.
//! The HTTP request and response around them still pass the same edge and
//! auth layers as every gRPC call, so deadlines, request ids, limits and
//! authentication are handled in one place for every transport.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::request::Parts;
use http::{HeaderName, HeaderValue, Response};
use http_body_util::Full;
use prost::Message;
use tonic::Status;

use super::{ControlGrpc, OperationsGrpc};
use crate::pb::control::operations_control_server::OperationsControl;
use crate::pb::longrunning::operations_server::Operations;

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

type Answer = Response<tonic::body::Body>;

/// The typed handlers of one port's unary methods and the port's message
/// size limit, the one tonic's servers are configured with.
#[derive(Clone)]
pub struct UnaryMethods {
    operations: Arc<OperationsGrpc>,
    control: Option<Arc<ControlGrpc>>,
    max_message_bytes: usize,
}

impl UnaryMethods {
    pub fn new(
        operations: OperationsGrpc,
        control: Option<ControlGrpc>,
        max_message_bytes: usize,
    ) -> Self {
        Self {
            operations: Arc::new(operations),
            control: control.map(Arc::new),
            max_message_bytes,
        }
    }

    /// Calls the unary method that `parts`' path names
    /// (`/package.Service/Method`) with the request `message`; `None` when
    /// this port has no such unary method (Watch streams, and goes through
    /// tonic).
    ///
    /// The answer is what tonic's server would answer, except that a
    /// success is the bare response message with `grpc-status: 0` in its
    /// headers instead of a frame and trailers.
    pub fn call(&self, parts: Parts, message: Bytes) -> Option<BoxFuture<'static, Answer>> {
        let method = Method::of(parts.uri.path())?;
        let call = Call {
            parts,
            message,
            max: self.max_message_bytes,
        };
        let ops = Arc::clone(&self.operations);
        let control = || self.control.as_ref().map(Arc::clone);
        Some(match method {
            Method::Get => Box::pin(call.run(move |r| async move { ops.get_operation(r).await })),
            Method::List => {
                Box::pin(call.run(move |r| async move { ops.list_operations(r).await }))
            }
            Method::Cancel => {
                Box::pin(call.run(move |r| async move { ops.cancel_operation(r).await }))
            }
            Method::Delete => {
                Box::pin(call.run(move |r| async move { ops.delete_operation(r).await }))
            }
            Method::Wait => Box::pin(call.run(move |r| async move { ops.wait_operation(r).await })),
            Method::Create => {
                let control = control()?;
                Box::pin(call.run(move |r| async move { control.create_operation(r).await }))
            }
            Method::Update => {
                let control = control()?;
                Box::pin(call.run(move |r| async move { control.update_operation(r).await }))
            }
            Method::Complete => {
                let control = control()?;
                Box::pin(call.run(move |r| async move { control.complete_operation(r).await }))
            }
        })
    }
}

/// The unary methods of both services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    List,
    Get,
    Delete,
    Cancel,
    Wait,
    Create,
    Update,
    Complete,
}

impl Method {
    fn of(path: &str) -> Option<Self> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        match (service, method) {
            ("google.longrunning.Operations", "ListOperations") => Some(Self::List),
            ("google.longrunning.Operations", "GetOperation") => Some(Self::Get),
            ("google.longrunning.Operations", "DeleteOperation") => Some(Self::Delete),
            ("google.longrunning.Operations", "CancelOperation") => Some(Self::Cancel),
            ("google.longrunning.Operations", "WaitOperation") => Some(Self::Wait),
            ("longrun.v1.OperationsControl", "CreateOperation") => Some(Self::Create),
            ("longrun.v1.OperationsControl", "UpdateOperation") => Some(Self::Update),
            ("longrun.v1.OperationsControl", "CompleteOperation") => Some(Self::Complete),
            _ => None,
        }
    }
}

/// One call's request: the HTTP parts (headers become metadata, the
/// extensions carry the caller and deadline) and the message's bytes.
struct Call {
    parts: Parts,
    message: Bytes,
    max: usize,
}

impl Call {
    async fn run<Q, A, F, Fut>(self, method: F) -> Answer
    where
        Q: Message + Default,
        A: Message,
        F: FnOnce(tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<A>, Status>>,
    {
        match self.answer(method).await {
            Ok(answer) => answer,
            Err(status) => status.into_http(),
        }
    }

    async fn answer<Q, A, F, Fut>(self, method: F) -> Result<Answer, Status>
    where
        Q: Message + Default,
        A: Message,
        F: FnOnce(tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<A>, Status>>,
    {
        // The same statuses as tonic's codec, so the edge gives them the
        // same codes and details (RESOURCE_EXHAUSTED, INVALID_ARGUMENT).
        if self.message.len() > self.max {
            return Err(too_large("decoded", self.message.len(), self.max));
        }
        let request = Q::decode(self.message).map_err(|err| Status::internal(err.to_string()))?;
        let request = tonic::Request::from_http(http::Request::from_parts(self.parts, request));
        let (metadata, response, extensions) = method(request).await?.into_parts();
        let encoded = response.encode_to_vec();
        if encoded.len() > self.max {
            return Err(too_large("encoded", encoded.len(), self.max));
        }
        let mut answer = Response::new(tonic::body::Body::new(Full::new(Bytes::from(encoded))));
        *answer.headers_mut() = metadata.into_headers();
        answer
            .headers_mut()
            .insert(GRPC_STATUS, HeaderValue::from_static("0"));
        *answer.extensions_mut() = extensions;
        Ok(answer)
    }
}

fn too_large(what: &str, found: usize, limit: usize) -> Status {
    Status::out_of_range(format!(
        "Error, {what} message length too large: found {found} bytes, the limit is: {limit} bytes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unary_method_of_both_services_is_known_and_watch_is_not() {
        let methods = [
            (
                "/google.longrunning.Operations/ListOperations",
                Method::List,
            ),
            ("/google.longrunning.Operations/GetOperation", Method::Get),
            (
                "/google.longrunning.Operations/DeleteOperation",
                Method::Delete,
            ),
            (
                "/google.longrunning.Operations/CancelOperation",
                Method::Cancel,
            ),
            ("/google.longrunning.Operations/WaitOperation", Method::Wait),
            (
                "/longrun.v1.OperationsControl/CreateOperation",
                Method::Create,
            ),
            (
                "/longrun.v1.OperationsControl/UpdateOperation",
                Method::Update,
            ),
            (
                "/longrun.v1.OperationsControl/CompleteOperation",
                Method::Complete,
            ),
        ];
        for (path, method) in methods {
            assert_eq!(Method::of(path), Some(method), "{path}");
        }
        assert_eq!(
            Method::of("/longrun.v1.OperationsControl/WatchOperation"),
            None
        );
        assert_eq!(
            Method::of("/google.longrunning.Operations/GetOperationX"),
            None
        );
        assert_eq!(
            Method::of("google.longrunning.Operations/GetOperation"),
            None
        );
    }
}
