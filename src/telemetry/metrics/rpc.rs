//! The tower layer that counts calls: one per transport, in front of the
//! gRPC edge, where every call (gRPC, gRPC-Web after tonic-web's
//! translation, REST as the in-process gRPC call the gateway makes) is a
//! gRPC request with its `/package.Service/Method` path and ends in a
//! `grpc-status`. The code is read from the response headers (trailers-only
//! errors) or from the trailers at the end of the body, so a streaming
//! Watch is counted when its stream ends; a body dropped before its
//! trailers (the client went away) counts as CANCELLED.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request, Response};
use http_body::{Body, Frame, SizeHint};

use super::families::{Code, Method, Service, Transport};
use super::{Call, Metrics};

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

/// Counts the calls of one transport; without metrics it only passes them
/// on (one branch per call).
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: Option<Metrics>,
    transport: Transport,
}

impl RpcMetricsLayer {
    pub fn new(metrics: Option<&Metrics>, transport: Transport) -> Self {
        Self {
            metrics: metrics.cloned(),
            transport,
        }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            metrics: self.metrics.clone(),
            transport: self.transport,
        }
    }
}

#[derive(Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    metrics: Option<Metrics>,
    transport: Transport,
}

impl<S, B> tower::Service<Request<B>> for RpcMetrics<S>
where
    S: tower::Service<Request<B>, Response = Response<tonic::body::Body>>,
    S::Future: Unpin,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let finish = self.metrics.as_ref().map(|metrics| {
            let (service, method) = parse_path(request.uri().path());
            Finish {
                metrics: metrics.clone(),
                call: Call {
                    service,
                    method,
                    transport: self.transport,
                },
                start: Instant::now(),
            }
        });
        Counted {
            inner: self.inner.call(request),
            finish,
        }
    }
}

/// What is needed to count a call once its code is known.
struct Finish {
    metrics: Metrics,
    call: Call,
    start: Instant,
}

impl Finish {
    fn record(self, code: Code) {
        self.metrics
            .call_finished(self.call, code, self.start.elapsed());
    }
}

/// The inner call's future; sees the response headers.
pub struct Counted<F> {
    inner: F,
    finish: Option<Finish>,
}

impl<F, E> Future for Counted<F>
where
    F: Future<Output = Result<Response<tonic::body::Body>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = match Pin::new(&mut this.inner).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        let Some(finish) = this.finish.take() else {
            return Poll::Ready(result);
        };
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                // The connection gets no answer; nothing said what failed.
                finish.record(Code::UNKNOWN);
                return Poll::Ready(Err(err));
            }
        };
        if let Some(code) = status_of(response.headers()) {
            finish.record(code);
            return Poll::Ready(Ok(response));
        }
        Poll::Ready(Ok(response.map(|body| {
            tonic::body::Body::new(CountedBody {
                inner: body,
                finish: Some(finish),
            })
        })))
    }
}

impl<F> Drop for Counted<F> {
    fn drop(&mut self) {
        // Dropped before the handler answered: the client went away.
        if let Some(finish) = self.finish.take() {
            finish.record(Code::CANCELLED);
        }
    }
}

fn status_of(headers: &HeaderMap) -> Option<Code> {
    headers
        .get(&GRPC_STATUS)
        .map(|value| Code::from_header(value.as_bytes()))
}

fn code_of(status: &tonic::Status) -> Code {
    Code::from_number(status.code() as i32)
}

/// A response body that counts the call when its trailers pass.
struct CountedBody {
    inner: tonic::body::Body,
    finish: Option<Finish>,
}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|trailers| status_of(trailers).unwrap_or(Code::UNKNOWN)),
            Poll::Ready(Some(Err(status))) => Some(code_of(status)),
            // Ended without trailers: no status was ever sent.
            Poll::Ready(None) => Some(Code::UNKNOWN),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(finish) = this.finish.take()
        {
            finish.record(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for CountedBody {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take() {
            finish.record(Code::CANCELLED);
        }
    }
}

/// `/package.Service/Method` as labels from the fixed sets.
fn parse_path(path: &str) -> (Service, Method) {
    let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return (Service::Other, Method::Other);
    };
    let service = match service {
        "google.longrunning.Operations" => Service::Operations,
        "longrun.v1.OperationsControl" => Service::Control,
        "grpc.health.v1.Health" => Service::Health,
        "grpc.reflection.v1.ServerReflection" => Service::ReflectionV1,
        "grpc.reflection.v1alpha.ServerReflection" => Service::ReflectionV1Alpha,
        _ => return (Service::Other, Method::Other),
    };
    let method = match (service, method) {
        (Service::Operations, "GetOperation") => Method::GetOperation,
        (Service::Operations, "ListOperations") => Method::ListOperations,
        (Service::Operations, "CancelOperation") => Method::CancelOperation,
        (Service::Operations, "DeleteOperation") => Method::DeleteOperation,
        (Service::Operations, "WaitOperation") => Method::WaitOperation,
        (Service::Control, "CreateOperation") => Method::CreateOperation,
        (Service::Control, "UpdateOperation") => Method::UpdateOperation,
        (Service::Control, "CompleteOperation") => Method::CompleteOperation,
        (Service::Control, "WatchOperation") => Method::WatchOperation,
        (Service::Health, "Check") => Method::Check,
        (Service::Health, "Watch") => Method::Watch,
        (Service::ReflectionV1 | Service::ReflectionV1Alpha, "ServerReflectionInfo") => {
            Method::ServerReflectionInfo
        }
        _ => Method::Other,
    };
    (service, method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_fixed_labels_and_unknown_ones_to_other() {
        assert_eq!(
            parse_path("/google.longrunning.Operations/GetOperation"),
            (Service::Operations, Method::GetOperation)
        );
        assert_eq!(
            parse_path("/longrun.v1.OperationsControl/WatchOperation"),
            (Service::Control, Method::WatchOperation)
        );
        // A method of another service is not that service's.
        assert_eq!(
            parse_path("/google.longrunning.Operations/WatchOperation"),
            (Service::Operations, Method::Other)
        );
        assert_eq!(
            parse_path("/evil.Service/projects-p-operations-x"),
            (Service::Other, Method::Other)
        );
        assert_eq!(parse_path("/"), (Service::Other, Method::Other));
        assert_eq!(parse_path("nonsense"), (Service::Other, Method::Other));
    }
}
