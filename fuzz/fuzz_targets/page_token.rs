//! cargo-fuzz target: `harness::page_token` (fuzz/harness/page_token.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::page_token::check(data));
