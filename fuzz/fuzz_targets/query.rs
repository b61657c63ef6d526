//! cargo-fuzz target: `harness::query` (fuzz/harness/query.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::query::check(data));
