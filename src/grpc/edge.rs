//! A tower layer in front of every gRPC route that fixes what tonic's
//! defaults get wrong for us (HARDENING.md):
//! - a malformed `grpc-timeout` is refused with INVALID_ARGUMENT instead of
//!   being ignored;
//! - the deadline is enforced here and reported as DEADLINE_EXCEEDED (tonic
//!   reports CANCELLED), and handed to handlers as a `RequestDeadline`;
//! - an oversized message is RESOURCE_EXHAUSTED (tonic says OUT_OF_RANGE,
//!   which no longrun handler ever returns).

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use tokio::time::Instant;
use tonic::Code;

use super::deadline::parse_grpc_timeout;
use super::status::status_with_info;

/// When the caller stops waiting, from its `grpc-timeout`.
#[derive(Clone, Copy, Debug)]
pub struct RequestDeadline(pub Instant);

#[derive(Clone)]
pub struct GrpcEdgeLayer {
    domain: Arc<str>,
}

impl GrpcEdgeLayer {
    pub fn new(domain: &str) -> Self {
        Self {
            domain: Arc::from(domain),
        }
    }
}

impl<S> tower::Layer<S> for GrpcEdgeLayer {
    type Service = GrpcEdge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcEdge {
            inner,
            domain: Arc::clone(&self.domain),
        }
    }
}

#[derive(Clone)]
pub struct GrpcEdge<S> {
    inner: S,
    domain: Arc<str>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<Request<B>> for GrpcEdge<S>
where
    S: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let domain = Arc::clone(&self.domain);
        let timeout = match request.headers().get("grpc-timeout") {
            None => None,
            Some(value) => match parse_grpc_timeout(value.as_bytes()) {
                Ok(timeout) => Some(timeout),
                Err(_) => {
                    let status = status_with_info(
                        Code::InvalidArgument,
                        "malformed grpc-timeout header".into(),
                        "INVALID_GRPC_TIMEOUT",
                        &domain,
                        [("header".to_owned(), "grpc-timeout".to_owned())],
                    );
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            },
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        if let Some(deadline) = deadline {
            request.extensions_mut().insert(RequestDeadline(deadline));
        }
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = match deadline {
                None => response.await.map_err(Into::into)?,
                Some(deadline) => match tokio::time::timeout_at(deadline, response).await {
                    Ok(result) => result.map_err(Into::into)?,
                    Err(_) => {
                        let status = status_with_info(
                            Code::DeadlineExceeded,
                            "the deadline passed before the call finished".into(),
                            "DEADLINE_EXCEEDED",
                            &domain,
                            [],
                        );
                        return Ok(status.into_http());
                    }
                },
            };
            Ok(fix_size_limit_code(response))
        })
    }
}

/// tonic reports a message over the size limit as OUT_OF_RANGE in a
/// trailers-only response; the gRPC spec says RESOURCE_EXHAUSTED.
fn fix_size_limit_code(mut response: Response<tonic::body::Body>) -> Response<tonic::body::Body> {
    let out_of_range = (Code::OutOfRange as i32).to_string();
    let headers = response.headers_mut();
    if headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == out_of_range.as_bytes())
    {
        let exhausted = (Code::ResourceExhausted as i32).to_string();
        if let Ok(value) = HeaderValue::from_str(&exhausted) {
            headers.insert("grpc-status", value);
        }
    }
    response
}
