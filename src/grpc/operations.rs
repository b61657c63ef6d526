//! `google.longrunning.Operations` over gRPC: each method takes the caller
//! from the request, calls one `Core` use case and converts the answer. Wait
//! answers a little before the caller's deadline.

use std::time::Duration;

use tonic::{Request, Response, Status};

use super::adapter::Adapter;
use super::convert::{operation_to_pb, wire_duration};
use super::edge::RequestDeadline;
use crate::auth::Caller;
use crate::pb::longrunning as lro;
use crate::service::{Core, ListRequest};

/// Wait returns this much before the caller's deadline, so the latest state
/// reaches the caller before its own timer fires (docs/behaviour.md §2: never
/// DEADLINE_EXCEEDED). A tenth of the time left, at most this.
const WAIT_DEADLINE_MARGIN: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct OperationsGrpc {
    base: Adapter,
}

impl OperationsGrpc {
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

#[tonic::async_trait]
impl lro::operations_server::Operations for OperationsGrpc {
    async fn list_operations(
        &self,
        request: Request<lro::ListOperationsRequest>,
    ) -> Result<Response<lro::ListOperationsResponse>, Status> {
        let caller = self.base.caller(&request)?;
        let request = request.into_inner();
        let page = self
            .base
            .core
            .list_operations(
                &caller,
                &ListRequest {
                    name: request.name,
                    filter: request.filter,
                    page_size: request.page_size,
                    page_token: request.page_token,
                    return_partial_success: request.return_partial_success,
                },
            )
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(lro::ListOperationsResponse {
            operations: page.operations.into_iter().map(operation_to_pb).collect(),
            next_page_token: page.next_page_token,
            unreachable: page.unreachable,
        }))
    }

    async fn get_operation(
        &self,
        request: Request<lro::GetOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let caller = self.base.caller(&request)?;
        let op = self
            .base
            .core
            .get_operation(&caller, request.into_inner().name)
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(operation_to_pb(op)))
    }

    async fn delete_operation(
        &self,
        request: Request<lro::DeleteOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = self.base.caller(&request)?;
        self.base
            .core
            .delete_operation(&caller, request.into_inner().name)
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(()))
    }

    async fn cancel_operation(
        &self,
        request: Request<lro::CancelOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = self.base.caller(&request)?;
        self.base
            .core
            .cancel_operation(&caller, request.into_inner().name)
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(()))
    }

    async fn wait_operation(
        &self,
        request: Request<lro::WaitOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let deadline = request.extensions().get::<RequestDeadline>().map(|d| {
            let left = d.0.saturating_duration_since(tokio::time::Instant::now());
            d.0 - (left / 10).min(WAIT_DEADLINE_MARGIN)
        });
        let caller = self.base.caller(&request)?;
        let request = request.into_inner();
        let timeout = request.timeout.as_ref().map(wire_duration);
        let op = self
            .base
            .core
            .wait_operation(&caller, request.name, timeout, deadline)
            .await
            .map_err(|e| self.base.fail(&e))?;
        Ok(Response::new(operation_to_pb(op)))
    }
}
