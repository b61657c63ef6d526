//! The methods a port's REST routes call. A unary call (its message in a
//! `UnaryCall`) goes straight to the generated trait's method
//! (`grpc::UnaryMethods`); a streaming one to the tonic service, chosen by
//! the gRPC path's service prefix. The gRPC side reaches the same generated
//! services through `tonic::service::Routes`, an axum router that also
//! serves health and reflection; REST only ever calls the methods its rules
//! bind, so it needs no general router, and skipping one saves a match and
//! an extensions map on every REST call. Same handlers, same edge and auth
//! layers in front.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either, Ready, ready};
use http::{Request, Response};
use tonic::server::NamedService;

use crate::grpc::UnaryMethods;
use crate::transcode::gateway::UnaryCall;

/// One service, or two (the control port serves the public methods too),
/// and the same handlers' unary methods.
#[derive(Clone)]
pub struct RestMethods<A, B> {
    first: A,
    second: Option<B>,
    unary: UnaryMethods,
}

impl<A: NamedService> RestMethods<A, A> {
    pub fn one(service: A, unary: UnaryMethods) -> Self {
        Self {
            first: service,
            second: None,
            unary,
        }
    }
}

impl<A, B> RestMethods<A, B> {
    pub fn two(first: A, second: B, unary: UnaryMethods) -> Self {
        Self {
            first,
            second: Some(second),
            unary,
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
    type Future =
        Either<Either<A::Future, B::Future>, Either<Unary, Ready<Result<Answer, Infallible>>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.first.poll_ready(cx).is_pending() {
            return Poll::Pending;
        }
        match &mut self.second {
            Some(second) => second.poll_ready(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if let Some(UnaryCall(message)) = request.extensions_mut().remove::<UnaryCall>() {
            let (parts, _) = request.into_parts();
            return match self.unary.call(parts, message) {
                Some(answer) => Either::Right(Either::Left(Unary(answer))),
                None => Either::Right(Either::Right(unknown_method())),
            };
        }
        let path = request.uri().path();
        if serves::<A>(path) {
            return Either::Left(Either::Left(self.first.call(request)));
        }
        match &mut self.second {
            Some(second) if serves::<B>(path) => Either::Left(Either::Right(second.call(request))),
            _ => Either::Right(Either::Right(unknown_method())),
        }
    }
}

/// Rules are checked against the port's services when loaded, so this is a
/// bug, answered as tonic answers an unknown method.
fn unknown_method() -> Ready<Result<Answer, Infallible>> {
    ready(Ok(tonic::Status::unimplemented(
        "no such method on this port",
    )
    .into_http()))
}

/// A unary method's answer, which never fails as a service.
pub struct Unary(BoxFuture<'static, Answer>);

impl Future for Unary {
    type Output = Result<Answer, Infallible>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
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
