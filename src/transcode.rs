//! HTTP/JSON <-> gRPC transcoding for any descriptor pool and any set of
//! `google.api.http` rules, in-process: a REST request is matched to a
//! method, turned into that method's protobuf request, and sent through the
//! same tonic routes that serve gRPC, so every RPC has one implementation,
//! one auth path and one error path.
//!
//! Owns: path templates, rules (annotations + service-config overrides),
//! routing, proto3 JSON mapping, the `Code` -> HTTP status table and Google's
//! error envelope. Uses only `pb` and `registry` of the crate (never domain,
//! service or store) and no sqlx: it works on descriptors and bytes.

mod binding;
mod error;
pub mod gateway;
pub mod openapi;
mod render_cache;
pub mod request;
pub mod response;
pub mod router;
pub mod rules;
pub mod status;
pub mod template;

pub use binding::{Binding, BodyRule, PathBinding};
pub use error::TranscodeError;
