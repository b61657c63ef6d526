//! The web console's files on the public port (src/console): content types,
//! security headers, caching, the redirect, 404s, HEAD, other methods, and
//! the off switch. The page itself is tested in a browser (tests/console).

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use longrun::service::ServiceSettings;

use crate::support::*;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn send(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("http answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(addr: std::net::SocketAddr, path: &str) -> Answer {
    send(addr, Method::GET, path, &[]).await
}

fn assert_security_headers(answer: &Answer) {
    let policy = answer.header(header::CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "require-trusted-types-for 'script'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(answer.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(answer.header(header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(answer.header(header::REFERRER_POLICY), "no-referrer");
}

#[tokio::test]
async fn console_page_is_html_with_strict_security_headers() {
    let server = TestServer::start().await;
    let answer = get(server.server.public_addr, "/console/").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_security_headers(&answer);
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-cache");
    assert!(answer.header(header::ETAG).starts_with('"'));
    let page = String::from_utf8_lossy(&answer.body);
    assert!(
        page.contains(r#"<script type="module" src="app.js"></script>"#),
        "{page}"
    );
    // No inline script or style for the policy to refuse.
    assert!(!page.contains("<style"), "{page}");
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    server.stop().await;
}

#[tokio::test]
async fn console_files_have_their_content_types() {
    let server = TestServer::start().await;
    for (path, content_type) in [
        ("/console/index.html", "text/html; charset=utf-8"),
        ("/console/app.js", "text/javascript; charset=utf-8"),
        (
            "/console/vendor/preact.mjs",
            "text/javascript; charset=utf-8",
        ),
        ("/console/style.css", "text/css; charset=utf-8"),
        ("/console/favicon.svg", "image/svg+xml"),
        (
            "/console/vendor/LICENSE-preact.txt",
            "text/plain; charset=utf-8",
        ),
    ] {
        let answer = get(server.server.public_addr, path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.header(header::CONTENT_TYPE), content_type, "{path}");
        assert_eq!(
            answer.header(header::CONTENT_LENGTH),
            answer.body.len().to_string(),
            "{path}"
        );
        assert_security_headers(&answer);
        assert!(!answer.body.is_empty(), "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn console_without_slash_redirects_keeping_the_query() {
    let server = TestServer::start().await;
    let addr = server.server.public_addr;
    let bare = get(addr, "/console").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.header(header::LOCATION), "/console/");
    let with_query = get(addr, "/console?parent=projects/p/locations/-").await;
    assert_eq!(
        with_query.header(header::LOCATION),
        "/console/?parent=projects/p/locations/-"
    );
    assert_security_headers(&with_query);
    server.stop().await;
}

#[tokio::test]
async fn unknown_console_paths_are_404_with_the_same_headers() {
    let server = TestServer::start().await;
    for path in [
        "/console/nope.js",
        "/console/vendor/",
        "/console/%2e%2e/Cargo.toml",
        "/console/../Cargo.toml",
        "/console//app.js",
    ] {
        let answer = get(server.server.public_addr, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            answer.header(header::CONTENT_TYPE),
            "text/plain; charset=utf-8"
        );
        assert_security_headers(&answer);
    }
    server.stop().await;
}

#[tokio::test]
async fn head_answers_the_headers_of_get_without_a_body() {
    let server = TestServer::start().await;
    let addr = server.server.public_addr;
    let full = get(addr, "/console/app.js").await;
    let head = send(addr, Method::HEAD, "/console/app.js", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::ETAG] {
        assert_eq!(
            head.header(name.clone()),
            full.header(name.clone()),
            "{name}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_current_etag_gets_304_without_a_body() {
    let server = TestServer::start().await;
    let addr = server.server.public_addr;
    let first = get(addr, "/console/style.css").await;
    let etag = first.header(header::ETAG).to_owned();
    let again = send(
        addr,
        Method::GET,
        "/console/style.css",
        &[(header::IF_NONE_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header(header::ETAG), etag);
    let stale = send(
        addr,
        Method::GET,
        "/console/style.css",
        &[(header::IF_NONE_MATCH, "\"an-older-one\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, first.body);
    server.stop().await;
}

#[tokio::test]
async fn methods_other_than_get_and_head_are_405() {
    let server = TestServer::start().await;
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let answer = send(server.server.public_addr, method.clone(), "/console/", &[]).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(answer.header(header::ALLOW), "GET, HEAD");
    }
    server.stop().await;
}

#[tokio::test]
async fn other_paths_pass_through_to_rest() {
    let server = TestServer::start().await;
    let addr = server.server.public_addr;
    let op = server.create().await;
    let found = get(addr, &format!("/v1/{}", op.name)).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found
            .header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    assert!(found.headers.get(header::CONTENT_SECURITY_POLICY).is_none());
    // Only /console and below belong to the console.
    let elsewhere = get(addr, "/consoles").await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(
        elsewhere
            .header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    server.stop().await;
}

#[tokio::test]
async fn console_off_answers_its_paths_404() {
    let config = longrun::server::ServerConfig {
        console: false,
        ..config("sqlite::memory:".into(), ServiceSettings::default())
    };
    let server = TestServer::with_config(config, None).await;
    for path in ["/console/", "/console", "/console/app.js"] {
        let answer = get(server.server.public_addr, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            String::from_utf8_lossy(&answer.body).contains("--console=false"),
            "{path}"
        );
    }
    // The API is still there.
    let op = server.create().await;
    let found = get(server.server.public_addr, &format!("/v1/{}", op.name)).await;
    assert_eq!(found.status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn control_port_has_no_console() {
    let server = TestServer::start().await;
    for path in ["/console/", "/console/app.js"] {
        let answer = get(server.server.control_addr, path).await;
        // The REST gateway's own refusal of a path it does not route.
        assert!(answer.status.is_client_error(), "{path}: {}", answer.status);
        assert!(
            answer
                .header(header::CONTENT_TYPE)
                .starts_with("application/json")
        );
        assert!(
            answer
                .headers
                .get(header::CONTENT_SECURITY_POLICY)
                .is_none()
        );
    }
    server.stop().await;
}
