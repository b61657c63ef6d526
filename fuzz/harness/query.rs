//! Query-parameter binding. The first byte picks one of the default routes
//! (`fixtures::ROUTES`), the rest is the raw query string of a request to
//! it: the request builds, or is refused as the client's error, never
//! INTERNAL.

use longrun::transcode::request::build_request;
use tonic::Code;

use super::fixtures::sample_route;

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else {
        return;
    };
    let (binding, path) = sample_route(selector);
    if let Err(err) = build_request(binding, &path, Some(query), b"", None) {
        assert_ne!(err.code, Code::Internal, "{query:?}: {err:?}");
    }
}
