//! The web console (README "Console"): a few static files built into the
//! binary and served at `/console/` on the public port. The page calls the
//! public REST API like any other browser client, so the same
//! authentication and policy apply; the console adds no API of its own.
//!
//! This module answers GET and HEAD for its own paths and passes every
//! other request through untouched. It uses nothing else of the crate (no
//! domain, service, store, grpc, transcode or auth): it knows files and
//! HTTP, nothing else.

mod assets;
mod layer;

pub use layer::{Console, ConsoleLayer};

/// The path the console is served under; `/console` redirects here.
pub const PATH: &str = "/console/";
