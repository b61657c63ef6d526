//! The tower layers that open a call's span: one per transport in front of
//! the gRPC edge (`RpcTraceLayer`, the span named for the method), and one
//! in front of the REST gateway (`HttpTraceLayer`, the HTTP request's span).
//!
//! Both read the caller's W3C `traceparent` and `tracestate` from the
//! request headers (gRPC metadata are HTTP/2 headers), so the server's spans
//! join the caller's trace. The gateway's in-process gRPC call carries no
//! `traceparent`: its RPC span is the child of the REST request's span, in
//! which the gateway runs, so a REST call and the method behind it are one
//! trace. Off, a layer opens no span at all (one branch per call).

use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderName, Request, Response};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::telemetry::metrics::Transport;

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Opens the span of each gRPC call (`google.longrunning.Operations/GetOperation`)
/// on one transport.
#[derive(Clone, Copy, Debug)]
pub struct RpcTraceLayer {
    on: bool,
    transport: Transport,
}

impl RpcTraceLayer {
    pub fn new(on: bool, transport: Transport) -> Self {
        Self { on, transport }
    }
}

impl<S> tower::Layer<S> for RpcTraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Traced {
            inner,
            on: self.on,
            kind: Kind::Rpc(self.transport),
        }
    }
}

/// Opens the span of each REST request, before it is routed.
#[derive(Clone, Copy, Debug)]
pub struct HttpTraceLayer {
    on: bool,
}

impl HttpTraceLayer {
    pub fn new(on: bool) -> Self {
        Self { on }
    }
}

impl<S> tower::Layer<S> for HttpTraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Traced {
            inner,
            on: self.on,
            kind: Kind::Http,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Rpc(Transport),
    Http,
}

#[derive(Clone, Debug)]
pub struct Traced<S> {
    inner: S,
    on: bool,
    kind: Kind,
}

impl<S, B, R> tower::Service<Request<B>> for Traced<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    S::Future: Unpin,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = InSpan<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !self.on {
            return InSpan {
                inner: self.inner.call(request),
                span: None,
            };
        }
        let span = match self.kind {
            Kind::Rpc(transport) => rpc_span(request.uri().path(), transport),
            Kind::Http => http_span(&request),
        };
        join_callers_trace(&span, request.headers());
        // The inner service may start its work in `call`; that is inside
        // the span too.
        let inner = span.in_scope(|| self.inner.call(request));
        InSpan {
            inner,
            span: Some((span, self.kind)),
        }
    }
}

/// `/package.Service/Method` as the span's name and attributes. The path
/// is the caller's: a long one is cut, and one that is no method path is
/// named for what it is.
fn rpc_span(path: &str, transport: Transport) -> Span {
    let (service, method) = path
        .strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .filter(|(service, method)| service.len() + method.len() < 256 && !method.contains('/'))
        .unwrap_or(("unknown", "unknown"));
    tracing::debug_span!(
        "rpc",
        otel.name = format_args!("{service}/{method}"),
        otel.kind = rpc_kind(transport),
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        longrun.transport = transport.as_str(),
    )
}

/// A REST call's method span runs inside the gateway, below the REST
/// request's own span (which is the server span).
fn rpc_kind(transport: Transport) -> &'static str {
    match transport {
        Transport::Grpc | Transport::GrpcWeb => "server",
        Transport::Rest => "internal",
    }
}

/// `POST`: HTTP's span is named for its method; the route is the
/// gateway's business, and the method span below names the RPC.
fn http_span<B>(request: &Request<B>) -> Span {
    let method = request.method().as_str();
    tracing::debug_span!(
        "http",
        otel.name = method,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        longrun.transport = "rest",
    )
}

/// Makes the caller's span (from `traceparent`) the parent; without one
/// the span stays where it is (a new trace, or the REST request's child).
fn join_callers_trace(span: &Span, headers: &HeaderMap) {
    if !headers.contains_key(TRACEPARENT) {
        return;
    }
    let caller = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if caller.span().span_context().is_valid() {
        // Fails only for a span no subscriber records; nothing to join then.
        let _ = span.set_parent(caller);
    }
}

/// The inner call's future, polled inside the span; notes the answer's
/// status when the headers carry it (a gRPC error, or any REST answer). A
/// gRPC call that succeeds says so in its trailers, after the span.
pub struct InSpan<F> {
    inner: F,
    span: Option<(Span, Kind)>,
}

impl<F, R, E> Future for InSpan<F>
where
    F: Future<Output = Result<Response<R>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some((span, kind)) = &this.span else {
            return Pin::new(&mut this.inner).poll(cx);
        };
        let polled = span.in_scope(|| Pin::new(&mut this.inner).poll(cx));
        if let Poll::Ready(Ok(response)) = &polled {
            record_answer(span, *kind, response.headers(), response.status());
        }
        polled
    }
}

fn record_answer(span: &Span, kind: Kind, headers: &HeaderMap, status: http::StatusCode) {
    match kind {
        Kind::Rpc(_) => {
            let Some(code) = headers
                .get(&GRPC_STATUS)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.parse::<u8>().ok())
            else {
                return;
            };
            span.record("rpc.grpc.status_code", code);
            if server_fault(code) {
                span.record("otel.status_code", "error");
            }
        }
        Kind::Http => {
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                span.record("otel.status_code", "error");
            }
        }
    }
}

/// The codes OpenTelemetry's RPC conventions count as the server's
/// failure: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
/// UNAVAILABLE, DATA_LOSS. The others are the caller's.
fn server_fault(code: u8) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_faults_are_the_conventions_six() {
        let faults: Vec<u8> = (0..=16).filter(|code| server_fault(*code)).collect();
        assert_eq!(faults, [2, 4, 12, 13, 14, 15]);
    }
}
