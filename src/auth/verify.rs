//! JWT verification: header checks, key lookup, signature and claims by
//! `jsonwebtoken`, and a bounded cache of verified tokens keyed by their
//! SHA-256, so a token used again costs a hash and a map lookup, not a
//! signature check. The cache never outlives a token's `exp` or the key
//! set generation it was verified under.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use lru::LruCache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jwks::KeyProvider;
use super::keys::parse_algorithm;
use super::{AuthError, JwtSettings, Principal};

/// Longer than any real access token (Google's are ~2 KB, with groups a
/// few KB); anything longer is refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

struct Cached {
    principal: Arc<Principal>,
    expires_at: SystemTime,
    generation: u64,
}

pub struct JwtVerifier {
    keys: KeyProvider,
    validations: HashMap<Algorithm, Validation>,
    group_claim: String,
    cache: Option<Mutex<LruCache<[u8; 32], Cached>>>,
}

impl JwtVerifier {
    pub fn new(
        settings: &JwtSettings,
        keys: KeyProvider,
        group_claim: &str,
    ) -> Result<Self, String> {
        if settings.issuers.is_empty() || settings.audiences.is_empty() {
            return Err("token verification needs at least one issuer and one audience".into());
        }
        let mut validations = HashMap::new();
        for name in &settings.algorithms {
            let alg = parse_algorithm(name).ok_or_else(|| {
                format!("algorithm {name:?} is not allowed: use RS256, ES256, EdDSA (or another asymmetric one)")
            })?;
            // One Validation per algorithm, so a token is checked with
            // exactly the algorithm its key was matched for.
            let mut validation = Validation::new(alg);
            validation.set_issuer(&settings.issuers);
            validation.set_audience(&settings.audiences);
            let mut required = vec!["exp", "iss", "aud", "sub"];
            if settings.require_nbf {
                required.push("nbf");
            }
            validation.set_required_spec_claims(&required);
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.validate_aud = true;
            validation.leeway = settings.leeway.as_secs();
            validations.insert(alg, validation);
        }
        if validations.is_empty() {
            return Err("no token algorithms allowed".into());
        }
        let cache = NonZeroUsize::new(settings.cache_entries).map(|n| Mutex::new(LruCache::new(n)));
        Ok(Self {
            keys,
            validations,
            group_claim: group_claim.to_owned(),
            cache,
        })
    }

    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("token too long"));
        }
        let (keys, generation) = self.keys.current().await?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.cached(&digest, generation) {
            return Ok(principal);
        }
        let header = decode_header(token).map_err(|_| AuthError::Invalid("malformed header"))?;
        // Keys come from our configuration only: a token that tries to
        // bring its own (jku, jwk, x5u, x5c) or to demand extensions we do
        // not implement (crit) is refused outright.
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(AuthError::Invalid("token header names its own key"));
        }
        let validation = self
            .validations
            .get(&header.alg)
            .ok_or(AuthError::Invalid("algorithm not allowed"))?;
        let kid = header.kid.as_deref();
        let (keys, generation) = match keys.find(kid, header.alg) {
            Some(_) => (keys, generation),
            None => self
                .keys
                .refresh_for_unknown_kid()
                .await
                .ok_or(AuthError::Invalid("unknown kid"))?,
        };
        let key = keys
            .find(kid, header.alg)
            .ok_or(AuthError::Invalid("unknown kid"))?;
        let claims = decode::<Map<String, Value>>(token, key, validation)
            .map_err(|err| {
                // Only a token that verified but ran out is worth telling
                // apart: the caller should fetch a new one.
                if matches!(err.kind(), JwtErrorKind::ExpiredSignature) {
                    AuthError::Expired
                } else {
                    AuthError::Invalid("token rejected by verification")
                }
            })?
            .claims;
        let principal = Arc::new(Principal::from_claims(&claims, &self.group_claim)?);
        self.remember(digest, &principal, generation);
        Ok(principal)
    }

    fn cached(&self, digest: &[u8; 32], generation: u64) -> Option<Arc<Principal>> {
        let mut cache = self.cache.as_ref()?.lock().ok()?;
        let entry = cache.get(digest)?;
        if entry.generation == generation && SystemTime::now() < entry.expires_at {
            return Some(Arc::clone(&entry.principal));
        }
        cache.pop(digest);
        None
    }

    fn remember(&self, digest: [u8; 32], principal: &Arc<Principal>, generation: u64) {
        let (Some(cache), Some(expires_at)) = (&self.cache, principal.expires_at) else {
            return;
        };
        if let Ok(mut cache) = cache.lock() {
            cache.put(
                digest,
                Cached {
                    principal: Arc::clone(principal),
                    expires_at,
                    generation,
                },
            );
        }
    }
}
