//! `longrun.v1.OperationsControl` over gRPC: each method takes the caller
//! from the request, calls one `Core` use case and converts the answer; Watch
//! turns the use case's stream of operations into wire messages.

use std::sync::Arc;

use futures::StreamExt;
use tonic::{Request, Response, Status};

use super::adapter::Adapter;
use super::convert::{any_to_payload, operation_to_pb, status_from_pb, wire_duration};
use super::status::error_status;
use crate::auth::Caller;
use crate::domain::Outcome;
use crate::pb::control as ctl;
use crate::pb::longrunning as lro;
use crate::service::{Core, CreateRequest};

#[derive(Clone)]
pub struct ControlGrpc {
    base: Adapter,
}

impl ControlGrpc {
    pub fn new(core: Core, domain: &str) -> Self {
        Self {
            base: Adapter::new(core, domain),
        }
    }

    /// Requests that arrive without a `Caller` act as `caller` (embedders
    /// that authenticate in their own stack, or not at all).
    #[must_use]
    pub fn with_default_caller(mut self, caller: Caller) -> Self {
        self.base.set_default_caller(caller);
        self
    }
}

type WatchResponseStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<ctl::OperationEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ctl::operations_control_server::OperationsControl for ControlGrpc {
    async fn create_operation(
        &self,
        request: Request<ctl::CreateOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let caller = self.base.caller(&request)?;
        let request = request.into_inner();
        let op = self
            .base
            .core
            .create_operation(
                &caller,
                CreateRequest {
                    parent: request.parent,
                    operation_id: request.operation_id,
                    metadata: request.metadata.map(any_to_payload),
                    request_id: request.request_id,
                    cancel_grace: request.cancel_grace.as_ref().map(wire_duration),
                },
            )
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(operation_to_pb(op)))
    }

    async fn update_operation(
        &self,
        request: Request<ctl::UpdateOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let caller = self.base.caller(&request)?;
        let request = request.into_inner();
        let op = self
            .base
            .core
            .update_operation(&caller, request.name, request.metadata.map(any_to_payload))
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(operation_to_pb(op)))
    }

    async fn complete_operation(
        &self,
        request: Request<ctl::CompleteOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let caller = self.base.caller(&request)?;
        let request = request.into_inner();
        let outcome = request.result.map(|result| match result {
            ctl::complete_operation_request::Result::Response(any) => {
                Outcome::Response(any_to_payload(any))
            }
            ctl::complete_operation_request::Result::Error(status) => {
                Outcome::Error(status_from_pb(status))
            }
        });
        let op = self
            .base
            .core
            .complete_operation(&caller, request.name, outcome)
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(operation_to_pb(op)))
    }

    type WatchOperationStream = WatchResponseStream;

    async fn watch_operation(
        &self,
        request: Request<ctl::WatchOperationRequest>,
    ) -> Result<Response<Self::WatchOperationStream>, Status> {
        let caller = self.base.caller(&request)?;
        let events = self
            .base
            .core
            .watch_operation(&caller, request.into_inner().name)
            .await
            .map_err(|e| self.base.fail(&e))?;
        let domain = Arc::clone(&self.base.domain);
        let stream = events.map(move |event| match event {
            Ok(event) => Ok(ctl::OperationEvent {
                // A change is shared with every subscriber: then this copies.
                operation: Some(operation_to_pb(Arc::unwrap_or_clone(event.operation))),
                cancel_requested: event.cancel_requested,
            }),
            Err(err) => Err(error_status(&err, &domain)),
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
