//! Who is calling and what they may do: bearer-token verification (JWT with
//! keys from a JWKS file, a PEM file or a JWKS URL), the sidecar mode that
//! reads an already-verified payload from a header, OAuth scopes, and the
//! IAM-style policy that binds members to roles on projects and locations.
//!
//! Owns: `Authenticator` (headers -> `Principal`), `PeerIdentity` (a
//! verified client certificate -> `Principal`, peer.rs), `Policy` and its reload
//! handle, `Caller` (a principal and the policy of the plane it came in on)
//! and the access passes (`authorize_*`, pass.rs) that the service's store
//! calls require. The service layer makes the authorization calls; the gRPC
//! layer only authenticates and checks scopes.
//! Uses only `domain` of the crate (not store or service) and no tonic or
//! sqlx: it sees `http::HeaderMap`, domain names and plain values.

mod authenticator;
mod caller;
mod error;
mod forwarded;
mod jwks;
mod keys;
pub mod mint;
mod pass;
mod peer;
mod permission;
mod policy;
mod principal;
mod settings;
mod verify;

pub use authenticator::Authenticator;
pub use caller::{Caller, ListScope};
pub use error::AuthError;
pub use keys::{KeyError, KeySet};
pub use pass::{
    ListPass, OperationPass, ParentPass, ServerPass, authorize_list, authorize_operation,
    authorize_parent,
};
pub use peer::{PeerIdentity, identify};
pub use permission::{Permission, PermissionSet};
pub use policy::{Policy, PolicyError, PolicyHandle};
pub use principal::Principal;
pub use settings::{AuthSettings, JwtSettings, KeySource, TokenSource};

/// The scope Google's Cloud APIs ask for, and the default this server needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
