//! cargo-fuzz target: `harness::grpc_web` (fuzz/harness/grpc_web.rs says what it checks).

#![no_main]

#[allow(dead_code)]
#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::grpc_web::check(data));
