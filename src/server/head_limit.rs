//! The header limit of HTTP/1 requests, checked on the parsed request so
//! that going over it is answered with Google's error envelope.
//!
//! h2 refuses a header list over `max_header_list_bytes` itself (a bare 431
//! before the request exists); HTTP/1 had no such limit but hyper's read
//! buffer, which is a memory bound rather than a limit (one read can carry
//! a head past it) and about 400 kB by default. Here HTTP/1 requests get
//! h2's limit, counted as h2 counts it: each field's name and value and 32
//! bytes (RFC 9113 section 6.5.2). The request line is not counted: a URI
//! hyper accepts is answered by the router, and a longer one gets 414.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::Either;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Version, header};
use http_body_util::Full;
use hyper::body::Incoming;
use tonic::Code;

use super::BoxError;
use crate::transcode::TranscodeError;
use crate::transcode::status::error_body;

#[derive(Clone)]
pub(super) struct HeadLimit<S> {
    inner: S,
    max_header_list_bytes: usize,
    refusal: Arc<Bytes>,
}

impl<S> HeadLimit<S> {
    pub(super) fn new(inner: S, max_header_list_bytes: usize, domain: &str) -> Self {
        let err = TranscodeError::new(
            Code::InvalidArgument,
            "HEADERS_TOO_LARGE",
            format!("the request headers are larger than {max_header_list_bytes} bytes"),
        )
        .with_http_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        Self {
            inner,
            max_header_list_bytes,
            refusal: Arc::new(Bytes::from(error_body(&err, domain).1)),
        }
    }

    fn refuse(&self) -> Response<tonic::body::Body> {
        let body = Bytes::clone(&self.refusal);
        let mut response = Response::new(tonic::body::Body::new(Full::new(body)));
        *response.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        // As hyper does after its own refusals: a client that sends this
        // much may be sending it on purpose, and its connection is let go.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

/// The size h2 gives a header list, pseudo-headers aside.
fn header_list_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum()
}

type Answer = Result<Response<tonic::body::Body>, BoxError>;

impl<S> tower::Service<Request<Incoming>> for HeadLimit<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<tonic::body::Body>, Error = BoxError>,
{
    type Response = Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = Either<Ready<Answer>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        if request.version() < Version::HTTP_2
            && header_list_bytes(request.headers()) > self.max_header_list_bytes
        {
            return Either::Left(ready(Ok(self.refuse())));
        }
        Either::Right(self.inner.call(request))
    }
}
