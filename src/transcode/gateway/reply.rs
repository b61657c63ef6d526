//! The HTTP answers the gateway writes itself: JSON bodies, Google's error
//! envelope for its own refusals and for a gRPC status, and the OpenAPI
//! document.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use tonic::Code;

use super::call::X_REQUEST_ID;
use super::{BoxError, GatewayConfig, RestResponse};
use crate::transcode::TranscodeError;
use crate::transcode::status::{error_body, error_body_from_status, www_authenticate};

pub(super) fn json_response(status: StatusCode, body: impl Into<Bytes>) -> RestResponse {
    let mut response = Response::new(tonic::body::Body::new(Full::new(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

pub(super) fn openapi_response(document: &Bytes) -> RestResponse {
    let mut response = Response::new(tonic::body::Body::new(Full::new(document.clone())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A gRPC status as Google's envelope, with the challenge a 401 needs and
/// the request id the edge gave the call.
pub(super) fn status_response(status: &tonic::Status, config: &GatewayConfig) -> RestResponse {
    let (code, body) = error_body_from_status(status, &config.pool, &config.domain);
    let mut response = json_response(code, body);
    if let Some(challenge) = www_authenticate(status, &config.domain) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    if let Some(id) = status.metadata().get(X_REQUEST_ID.as_str())
        && let Ok(value) = HeaderValue::from_bytes(id.as_bytes())
    {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

/// One of the transcoder's own errors as Google's envelope.
pub(super) fn refuse(err: &TranscodeError, domain: &str) -> RestResponse {
    let (status, body) = error_body(err, domain);
    json_response(status, body)
}

pub(super) fn no_route(method: &Method, path: &str, domain: &str) -> RestResponse {
    let err = TranscodeError::new(
        Code::NotFound,
        "ROUTE_NOT_FOUND",
        format!("no route for {method} {path}"),
    )
    .with_http_status(StatusCode::NOT_FOUND);
    refuse(&err, domain)
}

/// 405 with `Allow` naming the methods the path has.
pub(super) fn method_not_allowed(
    method: &Method,
    path: &str,
    allow: &[Method],
    domain: &str,
) -> RestResponse {
    let err = TranscodeError::new(
        Code::Unimplemented,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on {path}"),
    )
    .with_http_status(StatusCode::METHOD_NOT_ALLOWED);
    let mut response = refuse(&err, domain);
    let allowed = allow
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Why the request body could not be read: too large (413), or the
/// connection failed while sending it.
pub(super) fn unreadable_body(err: &BoxError, config: &GatewayConfig) -> RestResponse {
    let too_large = err
        .downcast_ref::<http_body_util::LengthLimitError>()
        .is_some();
    let err = if too_large {
        TranscodeError::new(
            Code::ResourceExhausted,
            "REQUEST_TOO_LARGE",
            format!(
                "the request body is larger than {} bytes",
                config.max_body_bytes
            ),
        )
        .with_http_status(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        TranscodeError::new(
            Code::InvalidArgument,
            "BODY_READ_FAILED",
            "the request body could not be read",
        )
    };
    refuse(&err, &config.domain)
}
