//! The identity a verified TLS client certificate proves (mTLS), carried
//! per connection in the request extensions, and how it and a bearer token
//! together name one principal.
//!
//! The certificate's first SAN URI (a SPIFFE id, say), else its first SAN
//! DNS name, is the principal's subject, so a policy names it as
//! `subject:spiffe://example.org/worker`, the same member form a JWT's
//! `sub` gets. A certificate grants no OAuth scopes, so the required
//! scopes are asked of tokens only.

use std::sync::Arc;
use std::time::SystemTime;

use super::{AuthError, Authenticator, Principal};

/// Set by the listener on every request of an mTLS connection.
#[derive(Clone, Debug)]
pub struct PeerIdentity(Arc<Principal>);

impl PeerIdentity {
    /// `subject` is the certificate's SAN URI or DNS name; the principal
    /// expires with the certificate.
    pub fn new(subject: String, not_after: Option<SystemTime>) -> Self {
        Self(Arc::new(Principal::new(
            subject,
            None,
            Vec::new(),
            Vec::new(),
            not_after,
        )))
    }

    pub fn principal(&self) -> &Arc<Principal> {
        &self.0
    }
}

/// Who is calling: a bearer token when the request carries one (it must
/// then be valid, and grant the required scopes; a bad token is refused,
/// never replaced by the certificate), else the connection's client
/// certificate. The token wins because it is the more specific claim: a
/// proxy that holds a client certificate may call on behalf of the user
/// whose token it forwards, and a caller who sends a token means it.
pub async fn identify(
    authenticator: Option<&Authenticator>,
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
) -> Result<Arc<Principal>, AuthError> {
    let peer = || {
        extensions
            .get::<PeerIdentity>()
            .map(|peer| Arc::clone(&peer.0))
            .ok_or(AuthError::Missing)
    };
    let Some(authenticator) = authenticator else {
        return peer();
    };
    match authenticator.authenticate(headers).await {
        Ok(principal) => {
            authenticator.check_scopes(&principal)?;
            Ok(principal)
        }
        Err(AuthError::Missing) => peer(),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn identify_without_token_source_uses_the_certificate() {
        let mut extensions = http::Extensions::new();
        assert_eq!(
            identify(None, &http::HeaderMap::new(), &extensions).await,
            Err(AuthError::Missing)
        );
        extensions.insert(PeerIdentity::new("spiffe://example.org/w".into(), None));
        let principal = identify(None, &http::HeaderMap::new(), &extensions)
            .await
            .expect("certificate principal");
        assert!(
            principal
                .members()
                .contains(&"subject:spiffe://example.org/w".to_owned())
        );
    }
}
