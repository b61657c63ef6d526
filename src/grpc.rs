//! Thin gRPC adapters: the generated service traits, implemented by
//! unwrapping the request, calling the use case and converting the answer.
//!
//! Owns: pb <-> domain conversion, the one ErrorKind -> `tonic::Code` table,
//! `ErrorInfo` details, and the edge fixes for tonic defaults (grpc-timeout,
//! oversized messages), the layer that authenticates every call (auth.rs),
//! and the unary methods called without gRPC framing by the REST gateway
//! (unary.rs).
//! Uses domain, service, auth and pb, never store, transcode or sqlx.

mod adapter;
pub mod auth;
mod control;
mod convert;
mod deadline;
pub mod edge;
mod operations;
mod status;
mod unary;

pub use control::ControlGrpc;
pub use operations::OperationsGrpc;
pub use status::{code_for, error_status};
pub use unary::UnaryMethods;
