//! JWT verification: header checks, key lookup, signature and claims by
//! `jsonwebtoken`, and a bounded cache of verified tokens, so a token used
//! again costs a map lookup, not a signature check. The cache never
//! outlives a token's `exp` or the key set generation it was verified under.
//!
//! The cache is keyed by the token itself (a randomly seeded hash, then a
//! comparison of the whole token), not by its SHA-256: the digest cost
//! 0.39 us per call (examples/bench_auth.rs), about half of what
//! authentication adds to a cached call, and equality on the whole token
//! leaves no collision to engineer. The price is that tokens of the last
//! 10,000 callers stay in memory until they expire, as they do in any
//! proxy's connection buffers; tokens over 4 KiB are verified every time
//! rather than held.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use lru::LruCache;
use serde_json::{Map, Value};

use super::jwks::KeyProvider;
use super::keys::parse_algorithm;
use super::{AuthError, JwtSettings, Principal};

/// Longer than any real access token (Google's are ~2 KB, with groups a
/// few KB); anything longer is refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Longer tokens are not cached (the cache holds 10,000 entries by default).
const MAX_CACHED_TOKEN_BYTES: usize = 4 * 1024;

struct Cached {
    principal: Arc<Principal>,
    expires_at: SystemTime,
    generation: u64,
}

pub struct JwtVerifier {
    keys: KeyProvider,
    validations: HashMap<Algorithm, Validation>,
    group_claim: String,
    cache: Option<Mutex<LruCache<Box<str>, Cached>>>,
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
        if let Some(principal) = self.cached(token, generation) {
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
        self.remember(token, &principal, generation);
        Ok(principal)
    }

    fn cached(&self, token: &str, generation: u64) -> Option<Arc<Principal>> {
        let mut cache = self.cache.as_ref()?.lock().ok()?;
        let entry = cache.get(token)?;
        if entry.generation == generation && SystemTime::now() < entry.expires_at {
            return Some(Arc::clone(&entry.principal));
        }
        cache.pop(token);
        None
    }

    fn remember(&self, token: &str, principal: &Arc<Principal>, generation: u64) {
        let (Some(cache), Some(expires_at)) = (&self.cache, principal.expires_at) else {
            return;
        };
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        if let Ok(mut cache) = cache.lock() {
            cache.put(
                Box::from(token),
                Cached {
                    principal: Arc::clone(principal),
                    expires_at,
                    generation,
                },
            );
        }
    }
}
