//! cargo-fuzz target: `harness::jwt` (fuzz/harness/jwt.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::jwt::check(data));
