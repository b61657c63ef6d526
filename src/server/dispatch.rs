//! One port for every client: gRPC (h2c), gRPC-Web (binary and text, over
//! HTTP/1.1 or h2) and REST/JSON. The content type decides: `application/grpc*`
//! goes to tonic (through tonic-web, which passes plain gRPC on untouched),
//! everything else to the REST gateway.

use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use http::{Request, Response, header};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct Dispatch<G, R> {
    grpc: G,
    rest: R,
}

impl<G, R> Dispatch<G, R> {
    pub fn new(grpc: G, rest: R) -> Self {
        Self { grpc, rest }
    }
}

fn boxed<E: Into<BoxError>>(err: E) -> BoxError {
    err.into()
}

fn is_grpc(request: &Request<impl Sized>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"))
}

impl<G, R, B> tower::Service<Request<B>> for Dispatch<G, R>
where
    G: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Clone + Send + 'static,
    G::Future: Send + 'static,
    G::Error: Into<BoxError>,
    R: tower::Service<Request<B>, Response = Response<tonic::body::Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    R::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both sides are ready-checked per call, on their clones.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if is_grpc(&request) {
            let mut grpc = self.grpc.clone();
            async move {
                if let Err(err) = std::future::poll_fn(|cx| grpc.poll_ready(cx)).await {
                    return Err(boxed(err));
                }
                grpc.call(request).await.map_err(boxed)
            }
            .boxed()
        } else {
            let mut rest = self.rest.clone();
            async move {
                std::future::poll_fn(|cx| rest.poll_ready(cx))
                    .await
                    .map_err(|never| match never {})?;
                rest.call(request).await.map_err(|never| match never {})
            }
            .boxed()
        }
    }
}
