//! cargo-fuzz target: `harness::filter` (fuzz/harness/filter.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::filter::check(data));
