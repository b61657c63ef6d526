//! Authentication and permissions end to end: bad tokens over gRPC and
//! REST, the role x method x project matrix, no existence leak, List
//! filtering, key rotation through a JWKS URL, policy reload, and the safe
//! defaults. Every refusal is checked not to have reached the store.

mod bad_tokens;
mod console;
mod defaults;
mod leak;
mod list;
mod matrix;
mod reload;
mod rotation;
pub(crate) mod support;
