//! Headers in, `Principal` out: the one authentication check that gRPC,
//! gRPC-Web and REST (which reaches us in-process with its headers
//! forwarded) all pass through. Then the scope check.

use std::sync::Arc;

use super::forwarded::ForwardedPayload;
use super::jwks::{KeyProvider, RemoteKeys};
use super::verify::JwtVerifier;
use super::{AuthError, JwtSettings, KeySet, KeySource, Principal, TokenSource};

enum Mode {
    Jwt(Box<JwtVerifier>),
    Forwarded(ForwardedPayload),
}

pub struct Authenticator {
    mode: Mode,
    required_scopes: Vec<String>,
}

impl Authenticator {
    /// Builds the checker for `source`, reading key files and making the
    /// first JWKS fetch now, so a broken configuration fails at start.
    pub async fn new(
        source: &TokenSource,
        group_claim: &str,
        required_scopes: Vec<String>,
    ) -> Result<Self, String> {
        let mode = match source {
            TokenSource::Jwt(settings) => {
                let keys = key_provider(settings).await?;
                Mode::Jwt(Box::new(JwtVerifier::new(settings, keys, group_claim)?))
            }
            TokenSource::ForwardedPayload { header } => {
                Mode::Forwarded(ForwardedPayload::new(header, group_claim)?)
            }
        };
        Ok(Self {
            mode,
            required_scopes,
        })
    }

    /// A JWT authenticator over keys already in memory: no file to read and
    /// nothing to fetch. For the fuzz harness (fuzz/harness/jwt.rs), which
    /// signs its own tokens; the server builds through [`Self::new`].
    #[doc(hidden)]
    pub fn with_key_set(
        settings: &JwtSettings,
        keys: KeySet,
        group_claim: &str,
        required_scopes: Vec<String>,
    ) -> Result<Self, String> {
        let keys = KeyProvider::Fixed(Arc::new(keys));
        Ok(Self {
            mode: Mode::Jwt(Box::new(JwtVerifier::new(settings, keys, group_claim)?)),
            required_scopes,
        })
    }

    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Arc<Principal>, AuthError> {
        match &self.mode {
            Mode::Jwt(verifier) => verifier.verify(bearer_token(headers)?).await,
            Mode::Forwarded(forwarded) => forwarded.principal(headers),
        }
    }

    /// ACCESS_TOKEN_SCOPE_INSUFFICIENT unless every required scope was granted.
    pub fn check_scopes(&self, principal: &Principal) -> Result<(), AuthError> {
        if principal.has_scopes(&self.required_scopes) {
            Ok(())
        } else {
            Err(AuthError::ScopeInsufficient {
                required: self.required_scopes.join(" "),
            })
        }
    }
}

async fn key_provider(settings: &JwtSettings) -> Result<KeyProvider, String> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    Ok(match &settings.keys {
        KeySource::JwksFile(path) => KeyProvider::Fixed(Arc::new(
            KeySet::from_jwks(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        KeySource::PemFile(path) => KeyProvider::Fixed(Arc::new(
            KeySet::from_pem(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        KeySource::JwksUrl {
            url,
            refetch_interval,
            default_max_age,
        } => {
            let remote = RemoteKeys::new(url, *refetch_interval, *default_max_age)?
                .with_recorder(settings.recorder.clone());
            // An issuer that is down at start should not keep us down:
            // calls get UNAVAILABLE until a later fetch works.
            if !remote.fetch_now().await {
                tracing::error!(%url, "the first JWKS fetch failed; tokens are refused until one works");
            }
            KeyProvider::Remote(Box::new(remote))
        }
    })
}

/// The token of the one `authorization: Bearer <token>` header. Two
/// headers are refused rather than picking one: proxies and clients may
/// disagree on which counts.
fn bearer_token(headers: &http::HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(AuthError::Missing),
        (Some(value), None) => value,
        (Some(_), Some(_)) => return Err(AuthError::Invalid("more than one authorization header")),
    };
    let text = value
        .to_str()
        .map_err(|_| AuthError::Invalid("authorization header is not ASCII"))?;
    let (scheme, token) = text.split_once(' ').ok_or(AuthError::Invalid(
        "authorization header is not \"Bearer <token>\"",
    ))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(AuthError::Invalid(
            "authorization header is not \"Bearer <token>\"",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for v in values {
            map.append(http::header::AUTHORIZATION, v.parse().expect("value"));
        }
        map
    }

    #[test]
    fn bearer_token_is_taken_from_one_well_formed_header() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&["bearer  abc "])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[])), Err(AuthError::Missing));
        for bad in [
            &["abc"][..],
            &["Basic abc"],
            &["Bearer "],
            &["Bearer a b"],
            &["Bearer a", "Bearer a"],
        ] {
            assert!(
                matches!(bearer_token(&headers(bad)), Err(AuthError::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
