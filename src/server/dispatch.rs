//! One port for every client: gRPC (h2c), gRPC-Web (binary and text, over
//! HTTP/1.1 or h2) and REST/JSON. The content type decides: plain gRPC goes
//! straight to the tonic routes, gRPC-Web through tonic-web's translation,
//! everything else to the REST gateway. No boxing and no service clones on
//! the way: the gRPC path is the hot one (see bench/run.sh).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::TryFutureExt;
use futures::future::{Either, MapErr};
use http::{Request, Response, header};
use tower::ServiceExt;
use tower::util::Oneshot;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// hyper clones the service for every request, so the three are kept
/// behind one `Arc` and only the one a request needs is cloned.
pub struct Dispatch<G, W, R> {
    services: Arc<(G, W, R)>,
}

impl<G, W, R> Clone for Dispatch<G, W, R> {
    fn clone(&self) -> Self {
        Self {
            services: Arc::clone(&self.services),
        }
    }
}

impl<G, W, R> Dispatch<G, W, R> {
    pub fn new(grpc: G, grpc_web: W, rest: R) -> Self {
        Self {
            services: Arc::new((grpc, grpc_web, rest)),
        }
    }
}

fn boxed<E: Into<BoxError>>(err: E) -> BoxError {
    err.into()
}

fn never(never: Infallible) -> BoxError {
    match never {}
}

enum Kind {
    Grpc,
    GrpcWeb,
    Rest,
}

fn kind(request: &Request<impl Sized>) -> Kind {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map_or(&b""[..], |value| value.as_bytes());
    if content_type.starts_with(b"application/grpc-web") {
        Kind::GrpcWeb
    } else if content_type.starts_with(b"application/grpc") {
        Kind::Grpc
    } else {
        Kind::Rest
    }
}

type ErrFn<E> = fn(E) -> BoxError;

impl<G, W, R, B> tower::Service<Request<B>> for Dispatch<G, W, R>
where
    G: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Clone,
    G::Error: Into<BoxError>,
    W: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Clone,
    W::Error: Into<BoxError>,
    R: tower::Service<Request<B>, Response = Response<tonic::body::Body>, Error = Infallible>
        + Clone,
{
    type Response = Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = Either<
        MapErr<Oneshot<G, Request<B>>, ErrFn<G::Error>>,
        Either<
            MapErr<Oneshot<W, Request<B>>, ErrFn<W::Error>>,
            MapErr<Oneshot<R, Request<B>>, ErrFn<Infallible>>,
        >,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each call readies its own clone (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (grpc, grpc_web, rest) = &*self.services;
        match kind(&request) {
            Kind::Grpc => Either::Left(
                grpc.clone()
                    .oneshot(request)
                    .map_err(boxed as ErrFn<G::Error>),
            ),
            Kind::GrpcWeb => Either::Right(Either::Left(
                grpc_web
                    .clone()
                    .oneshot(request)
                    .map_err(boxed as ErrFn<W::Error>),
            )),
            Kind::Rest => Either::Right(Either::Right(
                rest.clone()
                    .oneshot(request)
                    .map_err(never as ErrFn<Infallible>),
            )),
        }
    }
}
