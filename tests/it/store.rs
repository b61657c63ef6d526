//! The `OperationStore` conformance suite, and each backend run through it
//! plus its own backend-specific checks.

mod cached;
pub mod conformance;
mod postgres;
mod sqlite;
