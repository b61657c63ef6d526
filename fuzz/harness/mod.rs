//! The fuzz harness: one `check(data)` per parser that sees client input,
//! asserting what must hold for any bytes (no panic, and every refusal is
//! the client's error, never INTERNAL). The cargo-fuzz targets
//! (fuzz/fuzz_targets/) and the stable replay of the committed corpora
//! (tests/it/fuzz_corpora.rs) both include this module by `#[path]`, so the
//! replay checks exactly what the fuzzer checked.

pub mod filter;
pub mod fixtures;
pub mod grpc_web;
pub mod json_body;
pub mod jwt;
pub mod page_token;
pub mod query;
pub mod router;

/// One harness function: panics when a property fails for `data`.
pub type Check = fn(&[u8]);

/// Every target by its directory name under fuzz/corpus/ and fuzz/regressions/.
pub const TARGETS: &[(&str, Check)] = &[
    ("router", router::check),
    ("query", query::check),
    ("json_body", json_body::check),
    ("filter", filter::check),
    ("page_token", page_token::check),
    ("jwt", jwt::check),
    ("grpc_web", grpc_web::check),
];
