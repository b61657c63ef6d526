//! The path router and templates. The first byte picks the HTTP method, the
//! rest is a raw request path, routed on the control listener's routes: a
//! malformed path is INVALID_ARGUMENT, a matched one binds variables that
//! build a request without INTERNAL (a bound value the field cannot hold is
//! the client's error). The same text is parsed as a `google.api.http`
//! template too: a template that parses prints to text that parses back to
//! it, and matches without panicking.

use longrun::transcode::request::build_request;
use longrun::transcode::router::RouteResult;
use longrun::transcode::template::PathTemplate;
use tonic::Code;

use super::fixtures::router;

const METHODS: &[&str] = &["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"];

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(path) = std::str::from_utf8(rest) else {
        return;
    };
    let method =
        http::Method::from_bytes(METHODS[usize::from(selector) % METHODS.len()].as_bytes())
            .expect("a method");
    match router().route(&method, path) {
        RouteResult::Matched {
            binding, bindings, ..
        } => {
            if let Err(err) = build_request(binding, &bindings, None, b"", None) {
                assert_ne!(err.code, Code::Internal, "{method} {path:?}: {err:?}");
            }
        }
        RouteResult::BadPath(err) => {
            assert_eq!(err.code, Code::InvalidArgument, "{path:?}: {err:?}");
        }
        RouteResult::MethodNotAllowed { allow } => {
            assert!(
                !allow.is_empty() && !allow.contains(&method),
                "{path:?}: {allow:?}"
            );
        }
        RouteResult::NotFound => {}
    }
    if let Ok(template) = PathTemplate::parse(path) {
        let printed = template.to_string();
        assert_eq!(
            PathTemplate::parse(&printed).as_ref(),
            Ok(&template),
            "{path:?} prints as {printed:?}"
        );
        let _ = template.matches(path);
        let _ = template.matches(&printed);
    }
}
