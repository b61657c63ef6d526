//! JSON request bodies. The first byte picks one of the default routes
//! (`fixtures::ROUTES`) and the content type, the rest is the body: bodies
//! of Create, Update and Complete hold `Any`s, whose `@type` may name a
//! longrun type, the registered `fuzz.v1.Job` or a type nobody knows. The
//! request builds, or is refused as the client's error, never INTERNAL; a
//! built request encodes and prints as JSON.

use longrun::transcode::request::build_request;
use prost::Message as _;
use tonic::Code;

use super::fixtures::{ROUTES, sample_route};

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    None,
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
];

pub fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (binding, path) = sample_route(selector);
    // `ROUTES.len()` is odd: route and content type vary independently.
    let content_type = CONTENT_TYPES[usize::from(selector) / ROUTES.len() % CONTENT_TYPES.len()];
    match build_request(binding, &path, None, body, content_type) {
        Ok((message, _)) => {
            let _ = message.encode_to_vec();
            let _ = serde_json::to_string(&message);
        }
        Err(err) => assert_ne!(err.code, Code::Internal, "{err:?}"),
    }
}
