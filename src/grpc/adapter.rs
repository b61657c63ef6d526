//! What both gRPC adapters hold and do alike: the use cases, the
//! `ErrorInfo` domain, who a request without a `Caller` acts as, and turning
//! service errors into statuses.

use std::sync::Arc;

use tonic::{Request, Status};

use super::auth::caller_of;
use super::status::error_status;
use crate::auth::Caller;
use crate::service::{Core, ServiceError};

#[derive(Clone)]
pub(super) struct Adapter {
    pub(super) core: Core,
    pub(super) domain: Arc<str>,
    /// Who a request without a `Caller` (no auth layer in front) acts as;
    /// `None` refuses such requests.
    default_caller: Option<Caller>,
}

impl Adapter {
    pub(super) fn new(core: Core, domain: &str) -> Self {
        Self {
            core,
            domain: Arc::from(domain),
            default_caller: None,
        }
    }

    pub(super) fn set_default_caller(&mut self, caller: Caller) {
        self.default_caller = Some(caller);
    }

    pub(super) fn fail(&self, err: &ServiceError) -> Status {
        error_status(err, &self.domain)
    }

    pub(super) fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        caller_of(request.extensions(), self.default_caller.as_ref())
            .map_err(|e| self.fail(&ServiceError::Auth(e)))
    }
}
