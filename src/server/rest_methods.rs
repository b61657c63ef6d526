//! The tonic services a port's REST routes call, chosen by the gRPC path's
//! service prefix. The gRPC side reaches the same generated services through
//! `tonic::service::Routes`, an axum router that also serves health and
//! reflection; REST only ever calls the methods its rules bind, so it needs
//! no general router, and skipping one saves a match and an extensions map
//! on every REST call. Same services, same edge and auth layers in front.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use http::{Request, Response};
use tonic::server::NamedService;

/// One service, or two (the control port serves the public methods too).
#[derive(Clone)]
pub struct RestMethods<A, B> {
    first: A,
    second: Option<B>,
}

impl<A: NamedService> RestMethods<A, A> {
    pub fn one(service: A) -> Self {
        Self {
            first: service,
            second: None,
        }
    }
}

impl<A, B> RestMethods<A, B> {
    pub fn two(first: A, second: B) -> Self {
        Self {
            first,
            second: Some(second),
        }
    }
}

/// `/package.Service/Method` belongs to `S`.
fn serves<S: NamedService>(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(S::NAME))
        .is_some_and(|rest| rest.starts_with('/'))
}

type Answer = Response<tonic::body::Body>;

impl<A, B, Body> tower::Service<Request<Body>> for RestMethods<A, B>
where
    A: tower::Service<Request<Body>, Response = Answer, Error = Infallible> + NamedService,
    B: tower::Service<Request<Body>, Response = Answer, Error = Infallible> + NamedService,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Either<A::Future, Either<B::Future, Ready<Result<Answer, Infallible>>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.first.poll_ready(cx).is_pending() {
            return Poll::Pending;
        }
        match &mut self.second {
            Some(second) => second.poll_ready(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let path = request.uri().path();
        if serves::<A>(path) {
            return Either::Left(self.first.call(request));
        }
        match &mut self.second {
            Some(second) if serves::<B>(path) => Either::Right(Either::Left(second.call(request))),
            // Rules are checked against the port's services when loaded, so
            // this is a bug, answered as tonic answers an unknown method.
            _ => Either::Right(Either::Right(ready(Ok(tonic::Status::unimplemented(
                "no such service on this port",
            )
            .into_http())))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::control::operations_control_server::OperationsControlServer;
    use crate::pb::longrunning::operations_server::OperationsServer;

    type Operations = OperationsServer<crate::grpc::OperationsGrpc>;
    type Control = OperationsControlServer<crate::grpc::ControlGrpc>;

    #[test]
    fn a_path_belongs_to_the_service_it_names_and_no_other() {
        assert!(serves::<Operations>(
            "/google.longrunning.Operations/GetOperation"
        ));
        assert!(serves::<Control>(
            "/longrun.v1.OperationsControl/CreateOperation"
        ));
        assert!(!serves::<Control>(
            "/google.longrunning.Operations/GetOperation"
        ));
        // A service whose name merely starts with another's is not it.
        assert!(!serves::<Operations>(
            "/google.longrunning.OperationsX/GetOperation"
        ));
        assert!(!serves::<Operations>(
            "google.longrunning.Operations/GetOperation"
        ));
        assert!(!serves::<Operations>("/google.longrunning.Operations"));
    }
}
