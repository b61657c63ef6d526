//! The single integration test binary: every scenario runs the whole stack,
//! and `architecture.rs` checks the layout of the source itself.

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking, in its helpers as in its #[test] functions"
)]

mod support;

mod abuse;
mod architecture;
mod auth;
mod cli;
mod cli_docs;
mod console;
mod custom_metadata;
mod durability;
mod embedded;
mod errors_in_our_words;
mod fuzz_corpora;
mod grpc_edge;
mod list_filters;
mod metrics;
mod races;
mod replicas;
mod rest;
mod rest_control;
mod rest_golden;
mod scenarios;
mod serving;
mod store;
mod tls;
mod traces;
