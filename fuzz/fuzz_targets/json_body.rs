//! cargo-fuzz target: `harness::json_body` (fuzz/harness/json_body.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::json_body::check(data));
