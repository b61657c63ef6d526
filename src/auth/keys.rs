//! Verification keys: a JWKS document or one PEM public key, turned into
//! `DecodingKey`s that are each bound to the algorithms they may verify.
//! Symmetric (`oct`) keys are never loaded: a public key set must not turn
//! into an HMAC secret (the RS256 -> HS256 confusion).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a JWKS document: {0}")]
    Jwks(String),
    #[error("not a PEM public key (RSA, EC P-256 or Ed25519)")]
    Pem,
    #[error("the key set has no usable signature keys")]
    Empty,
}

struct KeyEntry {
    kid: Option<String>,
    /// The JWK's own `alg`, when it names one.
    alg: Option<Algorithm>,
    curve: Option<EllipticCurve>,
    key: DecodingKey,
}

impl KeyEntry {
    /// Whether this key may verify a token signed with `alg`.
    fn fits(&self, alg: Algorithm) -> bool {
        if self.key.family() != alg.family() || self.alg.is_some_and(|a| a != alg) {
            return false;
        }
        match (&self.curve, alg) {
            (Some(EllipticCurve::P256), Algorithm::ES256)
            | (Some(EllipticCurve::P384), Algorithm::ES384)
            | (Some(EllipticCurve::Ed25519), Algorithm::EdDSA)
            | (None, _) => true,
            (Some(_), _) => false,
        }
    }
}

/// The keys tokens may be signed with.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<KeyEntry>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.kid))
            .finish()
    }
}

impl KeySet {
    /// Reads a JWKS. Keys for encryption, symmetric keys and keys of
    /// unknown types are skipped; a set with none left is an error.
    pub fn from_jwks(json: &[u8]) -> Result<Self, KeyError> {
        let set: JwkSet =
            serde_json::from_slice(json).map_err(|e| KeyError::Jwks(e.to_string()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            // Only the asymmetric kinds; `oct`, unknown kinds and any a
            // later jsonwebtoken adds are skipped (the enum is non-exhaustive).
            let curve = if let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm {
                Some(ec.curve.clone())
            } else if let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm {
                Some(okp.curve.clone())
            } else if let AlgorithmParameters::RSA(_) = &jwk.algorithm {
                None
            } else {
                continue;
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            keys.push(KeyEntry {
                kid: jwk.common.key_id.clone(),
                alg,
                curve,
                key,
            });
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { keys })
    }

    /// One PEM public key; it verifies tokens that carry no `kid`.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let key = DecodingKey::from_rsa_pem(pem)
            .or_else(|_| DecodingKey::from_ec_pem(pem))
            .or_else(|_| DecodingKey::from_ed_pem(pem))
            .map_err(|_| KeyError::Pem)?;
        Ok(Self {
            keys: vec![KeyEntry {
                kid: None,
                alg: None,
                curve: None,
                key,
            }],
        })
    }

    /// The key for a token's `kid` and `alg`. A token with a `kid` only
    /// matches a key with that id; one without matches only id-less keys.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&DecodingKey> {
        self.keys
            .iter()
            .find(|k| k.kid.as_deref() == kid && k.fits(alg))
            .map(|k| &k.key)
    }

    pub fn contains_kid(&self, kid: Option<&str>) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// An `alg` an operator may allow: asymmetric only.
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    let alg = name.parse::<Algorithm>().ok()?;
    (alg.family() != AlgorithmFamily::Hmac).then_some(alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_with_only_symmetric_key_is_empty() {
        let json = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#;
        assert!(matches!(KeySet::from_jwks(json), Err(KeyError::Empty)));
    }

    #[test]
    fn jwks_garbage_is_rejected() {
        assert!(matches!(KeySet::from_jwks(b"{"), Err(KeyError::Jwks(_))));
        assert!(matches!(KeySet::from_pem(b"nope"), Err(KeyError::Pem)));
    }

    #[test]
    fn hmac_algorithms_cannot_be_allowed() {
        assert!(parse_algorithm("HS256").is_none());
        assert!(parse_algorithm("none").is_none());
        assert_eq!(parse_algorithm("EdDSA"), Some(Algorithm::EdDSA));
        assert_eq!(parse_algorithm("RS256"), Some(Algorithm::RS256));
    }
}
