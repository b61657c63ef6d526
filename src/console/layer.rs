//! The tower layer in front of a port's service: a request whose path is
//! `/console` or below gets the console's answer, every other request goes
//! to the inner service as it came. The check is one prefix comparison, so
//! the gRPC and REST paths pay nothing measurable. Turned off, the layer
//! still owns its paths and answers them 404, saying so.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::{Either, Ready, ready};
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;

use super::assets::{self, Asset};

type Body = tonic::body::Body;

/// Adds the console to a service (see `Console`).
#[derive(Clone, Copy, Debug)]
pub struct ConsoleLayer {
    serving: bool,
}

impl ConsoleLayer {
    /// `serving: false` answers the console's paths with 404 (`--console=false`).
    pub fn new(serving: bool) -> Self {
        Self { serving }
    }
}

impl<S> tower::Layer<S> for ConsoleLayer {
    type Service = Console<S>;

    fn layer(&self, inner: S) -> Console<S> {
        Console {
            inner,
            serving: self.serving,
        }
    }
}

/// Answers `/console` and `/console/...`; passes the rest to `S`.
#[derive(Clone, Debug)]
pub struct Console<S> {
    inner: S,
    serving: bool,
}

impl<S, B> tower::Service<Request<B>> for Console<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<Body>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match console_path(request.uri().path()) {
            Some(_) if !self.serving => Either::Left(ready(Ok(text(
                StatusCode::NOT_FOUND,
                "the console is turned off on this server (--console=false)\n",
            )))),
            Some(path) => Either::Left(ready(Ok(answer(&request, path)))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}

/// What follows `/console`: `None` for paths that are not the console's
/// (`/consoles` is not), `Some("")` for `/console` itself.
fn console_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/console")?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

fn answer<B>(request: &Request<B>, path: &str) -> Response<Body> {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "the console only serves GET and HEAD\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let Some(file) = path.strip_prefix('/') else {
        return redirect_to_slash(request);
    };
    let Some(asset) = assets::find(file) else {
        return text(StatusCode::NOT_FOUND, "no such file in the console\n");
    };
    if not_modified(request.headers(), &asset.etag) {
        return respond(StatusCode::NOT_MODIFIED, Body::empty(), |headers| {
            validators(headers, asset);
        });
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::new(Full::new(Bytes::from_static(asset.bytes)))
    };
    respond(StatusCode::OK, body, |headers| {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.bytes.len()));
        validators(headers, asset);
    })
}

/// `/console` -> `/console/`, keeping the query: the page's relative links
/// only resolve below the slash.
fn redirect_to_slash<B>(request: &Request<B>) -> Response<Body> {
    let location = match request.uri().query() {
        Some(query) => format!("{}?{query}", super::PATH),
        None => super::PATH.to_owned(),
    };
    respond(StatusCode::PERMANENT_REDIRECT, Body::empty(), |headers| {
        // The query came in a valid URI, so it makes a valid header value.
        if let Ok(value) = HeaderValue::try_from(location) {
            headers.insert(header::LOCATION, value);
        }
    })
}

/// The client's cached copy is current (RFC 9110 §13.1.2: weak comparison).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn validators(headers: &mut HeaderMap, asset: &Asset) {
    if let Ok(etag) = HeaderValue::try_from(asset.etag.as_str()) {
        headers.insert(header::ETAG, etag);
    }
    // Always revalidate: a new binary must show its new console at once,
    // and a revalidation is a 304 without a body.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn text(status: StatusCode, message: &'static str) -> Response<Body> {
    respond(
        status,
        Body::new(Full::new(Bytes::from_static(message.as_bytes()))),
        |headers| {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        },
    )
}

/// Scripts and styles only from the console's own files, no inline code,
/// no strings turned into HTML (Trusted Types), calls only to this origin,
/// and never inside a frame.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'; \
    require-trusted-types-for 'script'; trusted-types 'none'";

fn respond(status: StatusCode, body: Body, set: impl FnOnce(&mut HeaderMap)) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    set(headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths_are_the_prefix_and_below_only() {
        assert_eq!(console_path("/console"), Some(""));
        assert_eq!(console_path("/console/"), Some("/"));
        assert_eq!(console_path("/console/app.js"), Some("/app.js"));
        assert_eq!(console_path("/consoles"), None);
        assert_eq!(console_path("/v1/projects/p/locations/l/operations"), None);
        assert_eq!(
            console_path("/google.longrunning.Operations/GetOperation"),
            None
        );
    }

    #[test]
    fn if_none_match_matches_strong_weak_lists_and_star() {
        let tag = "\"abc\"";
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(value).expect("value"),
            );
            not_modified(&headers, tag)
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!not_modified(&HeaderMap::new(), tag));
    }
}
