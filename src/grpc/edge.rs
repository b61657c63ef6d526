//! A tower layer in front of every gRPC route that fixes what tonic's
//! defaults get wrong for us:
//! - a malformed `grpc-timeout` is refused with INVALID_ARGUMENT instead of
//!   being ignored;
//! - the deadline is enforced here and reported as DEADLINE_EXCEEDED (tonic
//!   reports CANCELLED), and handed to handlers as a `RequestDeadline`;
//! - an oversized message is RESOURCE_EXHAUSTED (tonic says OUT_OF_RANGE,
//!   which no longrun handler ever returns).
//!
//! It also gives every call a request id (the caller's `x-request-id`, or a
//! new one), echoed in the response and attached to internal errors, so a
//! report from a client can be found in the log.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue, Request, Response};
use tokio::time::Instant;
use tonic::Code;

use super::deadline::parse_grpc_timeout;
use super::status::status_with_info;

tokio::task_local! {
    static REQUEST_ID: HeaderValue;
}

/// The id of the call being served, inside the handler's task.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID
        .try_with(|id| id.to_str().map(str::to_owned).ok())
        .ok()
        .flatten()
}

/// Runs `future` as the call `id` (for tests and embedders' own layers).
pub async fn with_request_id<F: std::future::Future>(id: &str, future: F) -> F::Output {
    let id = HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    REQUEST_ID.scope(id, future).await
}

/// Header names made once rather than parsed from text on every call.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_STATUS_DETAILS: HeaderName = HeaderName::from_static("grpc-status-details-bin");

/// A caller's id is kept when it is short and printable; otherwise ours.
fn request_id(headers: &http::HeaderMap) -> HeaderValue {
    let theirs = headers.get(&X_REQUEST_ID).filter(|id| {
        let bytes = id.as_bytes();
        (1..=128).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
    });
    if let Some(id) = theirs {
        return id.clone();
    }
    // 16 hex digits, formatted without an intermediate String: this runs
    // on every call.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let random = rand::random::<u64>();
    let mut digits = [0u8; 16];
    for (i, digit) in digits.iter_mut().enumerate() {
        *digit = HEX[((random >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&digits).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

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
        let timeout = match request.headers().get(&GRPC_TIMEOUT) {
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
        let id = request_id(request.headers());
        let response = REQUEST_ID.scope(id.clone(), self.inner.call(request));
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
            let mut response = give_tonic_errors_details(response, &domain);
            response.headers_mut().insert(X_REQUEST_ID, id);
            Ok(response)
        })
    }
}

/// Errors that tonic answers by itself (a message over the size limit, a
/// body that is not the request message, an unknown method) come without
/// details, and two with the wrong code: OUT_OF_RANGE for an oversized
/// message (the gRPC spec says RESOURCE_EXHAUSTED) and INTERNAL for a body
/// that does not decode (the client's fault: INVALID_ARGUMENT). Our own
/// errors always carry details, so a trailers-only error without them is
/// tonic's, and is replaced by one with the right code and an ErrorInfo.
fn give_tonic_errors_details(
    response: Response<tonic::body::Body>,
    domain: &str,
) -> Response<tonic::body::Body> {
    let headers = response.headers();
    // A successful unary answer has no status in its headers (it comes in
    // the trailers), or OK there (a REST call's `grpc::UnaryMethods`): the
    // common case is decided by one lookup.
    let ok = headers
        .get(&GRPC_STATUS)
        .is_none_or(|code| code.as_bytes() == b"0");
    if ok || headers.contains_key(&GRPC_STATUS_DETAILS) {
        return response;
    }
    let Some(original) = tonic::Status::from_header_map(headers) else {
        return response;
    };
    let (code, reason, message) = match original.code() {
        Code::Ok => return response,
        Code::OutOfRange | Code::ResourceExhausted => (
            Code::ResourceExhausted,
            "MESSAGE_TOO_LARGE",
            "the message is larger than this server accepts",
        ),
        Code::Internal | Code::InvalidArgument | Code::DataLoss => (
            Code::InvalidArgument,
            "MALFORMED_MESSAGE",
            "the request body is not a valid message for this method",
        ),
        Code::Unimplemented => (
            Code::Unimplemented,
            "METHOD_NOT_FOUND",
            "this server does not serve that method",
        ),
        Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::Unavailable
        | Code::Unauthenticated => (original.code(), "GRPC_TRANSPORT_ERROR", "the call failed"),
    };
    let message = format!("{message}: {}", original.message());
    status_with_info(code, message, reason, domain, []).into_http()
}
