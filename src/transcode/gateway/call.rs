//! The in-process gRPC call behind one REST request: the request it sends
//! (path, forwarded headers, deadline) and the answer it reads back.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, header};
use http_body_util::BodyExt;
use tonic::Code;

use super::BoxError;
use crate::transcode::Binding;

/// Headers of a REST request that travel on as gRPC metadata. Names are
/// made once, not parsed from text on every request.
const FORWARDED_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    X_REQUEST_ID,
    HeaderName::from_static("x-goog-request-params"),
];
pub(super) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_SERVER_TIMEOUT: HeaderName = HeaderName::from_static("x-server-timeout");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

/// `/package.Service/Method`, the path gRPC calls `binding`'s method on.
pub(super) fn grpc_path(binding: &Binding) -> http::Uri {
    let path = format!(
        "/{}/{}",
        binding.method.parent_service().full_name(),
        binding.method.name()
    );
    // Service and method names are protobuf identifiers: always a valid path.
    http::Uri::try_from(path).unwrap_or_default()
}

/// The in-process gRPC request for one REST call, without a body: a unary
/// call's message goes in its extensions (`UnaryCall`), a streaming call's
/// frame in its body.
pub(super) fn grpc_request(
    path: http::Uri,
    headers: &HeaderMap,
    extra_headers: &[HeaderName],
) -> Request<tonic::body::Body> {
    let mut request = Request::new(tonic::body::Body::empty());
    *request.method_mut() = Method::POST;
    *request.version_mut() = http::Version::HTTP_2;
    *request.uri_mut() = path;
    // No `content-type` or `te`: the call never leaves the process, and
    // neither the edge nor tonic's server reads them, so the common request
    // (no forwarded headers) needs no header map at all.
    let grpc_headers = request.headers_mut();
    // One walk over the (few) request headers compares names, where a
    // lookup per forwarded name would hash each of them.
    for (name, value) in headers {
        if FORWARDED_HEADERS.contains(name) || extra_headers.contains(name) {
            grpc_headers.append(name.clone(), value.clone());
        }
    }
    if let Some(timeout) = server_timeout(headers) {
        grpc_headers.insert(GRPC_TIMEOUT, timeout);
    }
    request
}

/// Google's REST deadline header, `X-Server-Timeout: <seconds>`, as a
/// `grpc-timeout` in milliseconds. A malformed value is passed on malformed,
/// so the edge refuses it the same way it refuses a bad `grpc-timeout`.
fn server_timeout(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(&X_SERVER_TIMEOUT)?.to_str().ok()?;
    let millis = match value.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            format!("{}m", (seconds * 1000.0).round().min(99_999_999.0))
        }
        _ => "invalid".to_owned(),
    };
    HeaderValue::from_str(&millis).ok()
}

/// Sends `request` through the gRPC stack; the response, or the status that
/// its headers already carry.
pub(super) async fn send<S>(
    mut grpc: S,
    request: Request<tonic::body::Body>,
) -> Result<Response<tonic::body::Body>, tonic::Status>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
{
    let unavailable = |err: S::Error| tonic::Status::unavailable(err.into().to_string());
    std::future::poll_fn(|cx| grpc.poll_ready(cx))
        .await
        .map_err(unavailable)?;
    let response = grpc.call(request).await.map_err(unavailable)?;
    match failure(response.headers()) {
        Some(status) => Err(status),
        None => Ok(response),
    }
}

/// A unary call: the response message (the body holds it bare, see
/// `UnaryCall`), or the status.
pub(super) async fn forward<S>(
    grpc: S,
    request: Request<tonic::body::Body>,
) -> Result<Bytes, tonic::Status>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<tonic::body::Body>>,
    S::Error: Into<BoxError>,
{
    let mut body = send(grpc, request).await?.into_body();
    // The frames are read one by one rather than collected: a unary answer
    // is one data frame, kept as it is.
    let mut bytes = Bytes::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|status| {
            tonic::Status::internal(format!("reading the response failed: {status}"))
        })?;
        match frame.into_data() {
            Ok(data) if bytes.is_empty() => bytes = data,
            Ok(data) => {
                let mut joined = BytesMut::with_capacity(bytes.len() + data.len());
                joined.extend_from_slice(&bytes);
                joined.extend_from_slice(&data);
                bytes = joined.freeze();
            }
            Err(frame) => {
                if let Some(status) = frame.trailers_ref().and_then(failure) {
                    return Err(status);
                }
            }
        }
    }
    Ok(bytes)
}

/// The error status in gRPC headers or trailers; `None` when there is none
/// or it is OK (checked without building a `Status`, the common case).
pub(super) fn failure(headers: &HeaderMap) -> Option<tonic::Status> {
    let code = headers.get(&GRPC_STATUS)?;
    if code.as_bytes() == b"0" {
        return None;
    }
    tonic::Status::from_header_map(headers).filter(|status| status.code() != Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout_of(value: &str) -> Option<HeaderValue> {
        let mut headers = HeaderMap::new();
        headers.insert(X_SERVER_TIMEOUT, HeaderValue::from_str(value).ok()?);
        server_timeout(&headers)
    }

    #[test]
    fn server_timeout_in_seconds_becomes_grpc_milliseconds() {
        assert_eq!(timeout_of("1.5"), Some(HeaderValue::from_static("1500m")));
        assert_eq!(timeout_of(" 0 "), Some(HeaderValue::from_static("0m")));
        assert_eq!(timeout_of("-1"), Some(HeaderValue::from_static("invalid")));
        assert_eq!(
            timeout_of("soon"),
            Some(HeaderValue::from_static("invalid"))
        );
        assert_eq!(server_timeout(&HeaderMap::new()), None);
    }

    #[test]
    fn forwarded_headers_travel_and_others_stay() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(header::COOKIE, HeaderValue::from_static("c=1"));
        let extra = HeaderName::from_static("x-payload");
        headers.insert(extra.clone(), HeaderValue::from_static("p"));
        let request = grpc_request(
            http::Uri::from_static("/a.B/C"),
            &headers,
            std::slice::from_ref(&extra),
        );
        assert_eq!(request.headers()[header::AUTHORIZATION], "Bearer t");
        assert_eq!(request.headers()[&extra], "p");
        assert!(request.headers().get(header::COOKIE).is_none());
        assert_eq!(request.method(), Method::POST);
    }
}
