//! Property tests: no query string and no body, random or nearly valid,
//! makes the request builder panic; each input is either a message or a
//! client error (never INTERNAL: the bindings here are valid).

use http::Method;
use proptest::prelude::*;
use serde_json::Value as Json;

use super::testing::{binding, bound};
use super::*;

const SINK: &str = "longrun.test.Kitchen.Sink";

/// Names that reach the field and system-parameter paths.
const NAMES: &[&str] = &[
    "name",
    "count",
    "big",
    "huge",
    "flag",
    "ratio",
    "scale",
    "blob",
    "color",
    "tags",
    "colors",
    "inner",
    "inner.id",
    "inner.child.n",
    "inners",
    "inners.id",
    "byKey",
    "by_key",
    "timeout",
    "at",
    "maybe",
    "mask",
    "payload",
    "extra",
    "explicit",
    "left",
    "right.id",
    "right",
    "signed",
    "bigs",
    "counts",
    "maybeFlag",
    "$alt",
    "alt",
    "prettyPrint",
    "fields",
    "key",
    "access_token",
    "nope",
    "",
    "a.b",
];

/// Values that are valid for some field and not for others.
const VALUES: &[&str] = &[
    "",
    "0",
    "-1",
    "1.5",
    "true",
    "True",
    "RED",
    "2",
    "1s",
    "2026-01-02T03:04:05Z",
    "AQID",
    "NaN",
    "-Infinity",
    "1e39",
    "18446744073709551616",
    "json;enum-encoding=int",
    "%",
    "%zz",
    "a+b",
    "%C3%A9",
    "%ff",
];

/// JSON keys, mostly the kitchen's own.
const KEYS: &[&str] = &[
    "name", "count", "big", "tags", "inner", "child", "kids", "id", "n", "inners", "byKey",
    "payload", "@type", "value", "timeout", "extra", "left", "right", "counts", "zz",
];

const TYPE_URLS: &[&str] = &[
    "type.googleapis.com/longrun.test.Inner",
    "type.googleapis.com/google.protobuf.Empty",
    "type.googleapis.com/google.protobuf.Any",
    "type.googleapis.com/google.protobuf.Duration",
    "type.googleapis.com/acme.Unknown",
    "no-slash",
];

fn query() -> impl Strategy<Value = String> {
    let pair = (prop::sample::select(NAMES), prop::sample::select(VALUES))
        .prop_map(|(name, value)| format!("{name}={value}"));
    prop::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&"))
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        prop::sample::select(VALUES).prop_map(Json::from),
        prop::sample::select(TYPE_URLS).prop_map(Json::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|entries| {
                Json::Object(
                    entries
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    })
}

fn bindings() -> Vec<Binding> {
    vec![
        binding(SINK, Method::GET, BodyRule::None, None),
        binding(SINK, Method::POST, BodyRule::All, None),
        binding(SINK, Method::POST, BodyRule::Field("inner".into()), None),
        binding(SINK, Method::POST, BodyRule::Field("tags".into()), None),
        binding(SINK, Method::POST, BodyRule::Field("payload".into()), None),
    ]
}

/// Runs every binding and checks the outcome is a message or a client error.
fn never_internal(query: Option<&str>, body: &[u8]) {
    let path = [bound("inner.child.id", "p")];
    for binding in bindings() {
        if let Err(err) = build_request(&binding, &path, query, body, None) {
            assert_ne!(err.code, Code::Internal, "{err:?}");
            assert!(!err.reason.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_query_text_is_a_message_or_a_client_error(query in ".{0,200}") {
        never_internal(Some(&query), b"");
    }

    #[test]
    fn nearly_valid_queries_are_a_message_or_a_client_error(query in query()) {
        never_internal(Some(&query), b"");
    }

    #[test]
    fn any_body_bytes_are_a_message_or_a_client_error(
        body in prop::collection::vec(any::<u8>(), 0..200)
    ) {
        never_internal(None, &body);
    }

    #[test]
    fn any_body_text_is_a_message_or_a_client_error(body in r#"[{}\[\]":,0-9a-z@ .\\-]{0,120}"#) {
        never_internal(None, body.as_bytes());
    }

    #[test]
    fn json_shaped_bodies_are_a_message_or_a_client_error(body in json()) {
        never_internal(None, body.to_string().as_bytes());
    }
}
