//! Keys and tokens for local development and tests (`longrun token`):
//! makes a key pair (private key as PKCS#8 PEM, public key as a JWK) and
//! signs tokens with it. Not an identity provider: nothing here is needed
//! to run the server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("{0} keys cannot be made here: use EdDSA, ES256 or RS256")]
    Unsupported(String),
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("not a {alg:?} private key in PEM form: {message}")]
    Key { alg: Algorithm, message: String },
    #[error("not a JWKS document: {0}")]
    Jwks(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A fresh key pair.
pub struct NewKey {
    pub private_pem: String,
    /// The public half, with `kid`, `alg` and `use: sig`.
    pub jwk: Jwk,
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "Algorithm is non_exhaustive: the other kinds, known or not, are unsupported"
)]
pub fn generate_key(alg: Algorithm, kid: &str) -> Result<NewKey, MintError> {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let generate = |e: &dyn std::fmt::Display| MintError::Generate(e.to_string());
    let private_pem = match alg {
        Algorithm::EdDSA => {
            // PKCS#8 v1 (no public key inside), the form OpenSSL writes and
            // the one jsonwebtoken derives the public JWK from.
            let key = ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: rand::random::<[u8; 32]>(),
                public_key: None,
            };
            key.to_pkcs8_pem(Default::default())
                .map_err(|e| generate(&e))?
                .to_string()
        }
        Algorithm::ES256 => {
            // A random 32-byte string is a valid P-256 scalar with
            // overwhelming probability; try again in the rare other case.
            let key = loop {
                if let Ok(key) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                    break key;
                }
            };
            p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, Default::default())
                .map_err(|e| generate(&e))?
                .to_string()
        }
        Algorithm::RS256 => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|e| generate(&e))?;
            rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, Default::default())
                .map_err(|e| generate(&e))?
                .to_string()
        }
        other => return Err(MintError::Unsupported(format!("{other:?}"))),
    };
    let encoding = encoding_key(alg, private_pem.as_bytes())?;
    let mut jwk = Jwk::from_encoding_key(&encoding, alg).map_err(|e| generate(&e))?;
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(NewKey { private_pem, jwk })
}

/// `existing` (a JWKS document, or nothing) with `jwk` added; a key with
/// the same `kid` is replaced. Keeping old keys in the set is how a
/// rotation stays seamless.
pub fn add_to_jwks(existing: Option<&[u8]>, jwk: Jwk) -> Result<String, MintError> {
    let mut set: JwkSet = match existing {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| MintError::Jwks(e.to_string()))?,
        None => JwkSet::default(),
    };
    set.keys.retain(|k| k.common.key_id != jwk.common.key_id);
    set.keys.push(jwk);
    serde_json::to_string_pretty(&set).map_err(|e| MintError::Jwks(e.to_string()))
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "Algorithm is non_exhaustive: the other kinds, known or not, are unsupported"
)]
fn encoding_key(alg: Algorithm, pem: &[u8]) -> Result<EncodingKey, MintError> {
    let result = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => EncodingKey::from_rsa_pem(pem),
        other => return Err(MintError::Unsupported(format!("{other:?}"))),
    };
    result.map_err(|e| MintError::Key {
        alg,
        message: e.to_string(),
    })
}

/// What a minted token says.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub issuer: String,
    pub audience: String,
    pub subject: String,
    pub email: Option<String>,
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
    pub lifetime: Duration,
}

impl TokenRequest {
    /// The claims: `iat` and `nbf` now, `exp` after `lifetime`.
    pub fn claims(&self, now: SystemTime) -> Map<String, Value> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("aud".into(), json!(self.audience));
        claims.insert("sub".into(), json!(self.subject));
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now));
        claims.insert("exp".into(), json!(now + self.lifetime.as_secs()));
        if let Some(email) = &self.email {
            claims.insert("email".into(), json!(email));
        }
        if !self.scopes.is_empty() {
            claims.insert("scope".into(), json!(self.scopes.join(" ")));
        }
        if !self.groups.is_empty() {
            claims.insert("groups".into(), json!(self.groups));
        }
        claims
    }
}

/// Signs any claims with a PEM private key, `kid` in the header.
pub fn sign_claims(
    claims: &Map<String, Value>,
    alg: Algorithm,
    kid: Option<&str>,
    private_pem: &[u8],
) -> Result<String, MintError> {
    let key = encoding_key(alg, private_pem)?;
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).map_err(|e| MintError::Sign(e.to_string()))
}

pub fn mint(
    request: &TokenRequest,
    alg: Algorithm,
    kid: Option<&str>,
    private_pem: &[u8],
) -> Result<String, MintError> {
    sign_claims(&request.claims(SystemTime::now()), alg, kid, private_pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthError, JwtSettings, KeySet, KeySource};

    fn request() -> TokenRequest {
        TokenRequest {
            issuer: "https://issuer.test".into(),
            audience: "longrun".into(),
            subject: "alice".into(),
            email: Some("alice@example.com".into()),
            scopes: vec![crate::auth::CLOUD_PLATFORM_SCOPE.into()],
            groups: vec!["eng".into()],
            lifetime: Duration::from_secs(600),
        }
    }

    fn verifier(jwks: &str) -> super::super::verify::JwtVerifier {
        let settings = JwtSettings::new(
            KeySource::JwksFile("unused".into()),
            vec!["https://issuer.test".into()],
            vec!["longrun".into()],
        );
        let keys = KeySet::from_jwks(jwks.as_bytes()).expect("jwks");
        let provider = super::super::jwks::KeyProvider::Fixed(std::sync::Arc::new(keys));
        super::super::verify::JwtVerifier::new(&settings, provider, "groups").expect("verifier")
    }

    #[tokio::test]
    async fn minted_tokens_verify_for_every_algorithm() {
        for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
            let key = generate_key(alg, "k1").expect("key");
            let jwks = add_to_jwks(None, key.jwk.clone()).expect("jwks");
            let token =
                mint(&request(), alg, Some("k1"), key.private_pem.as_bytes()).expect("token");
            let principal = verifier(&jwks).verify(&token).await.expect("verifies");
            assert_eq!(principal.subject, "alice");
            assert!(principal.members().contains(&"group:eng".to_owned()));
        }
    }

    #[tokio::test]
    async fn token_signed_by_another_key_with_same_kid_is_invalid() {
        let ours = generate_key(Algorithm::EdDSA, "k1").expect("key");
        let theirs = generate_key(Algorithm::EdDSA, "k1").expect("key");
        let jwks = add_to_jwks(None, ours.jwk).expect("jwks");
        let token = mint(
            &request(),
            Algorithm::EdDSA,
            Some("k1"),
            theirs.private_pem.as_bytes(),
        )
        .expect("token");
        let err = verifier(&jwks).verify(&token).await.expect_err("forged");
        assert!(matches!(err, AuthError::Invalid(_)), "{err:?}");
    }

    #[tokio::test]
    async fn expired_token_is_expired_and_wrong_audience_is_invalid() {
        let key = generate_key(Algorithm::ES256, "k1").expect("key");
        let jwks = add_to_jwks(None, key.jwk).expect("jwks");
        let v = verifier(&jwks);
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        let expired = sign_claims(
            &request().claims(long_ago),
            Algorithm::ES256,
            Some("k1"),
            key.private_pem.as_bytes(),
        )
        .expect("token");
        assert_eq!(
            v.verify(&expired).await.expect_err("expired"),
            AuthError::Expired
        );
        let mut other = request();
        other.audience = "someone-else".into();
        let token = mint(
            &other,
            Algorithm::ES256,
            Some("k1"),
            key.private_pem.as_bytes(),
        )
        .expect("token");
        assert!(matches!(v.verify(&token).await, Err(AuthError::Invalid(_))));
    }

    #[test]
    fn add_to_jwks_replaces_same_kid_and_keeps_others() {
        let a = generate_key(Algorithm::EdDSA, "a").expect("key");
        let b = generate_key(Algorithm::EdDSA, "b").expect("key");
        let b2 = generate_key(Algorithm::EdDSA, "b").expect("key");
        let one = add_to_jwks(None, a.jwk).expect("jwks");
        let two = add_to_jwks(Some(one.as_bytes()), b.jwk).expect("jwks");
        let three = add_to_jwks(Some(two.as_bytes()), b2.jwk.clone()).expect("jwks");
        let set: JwkSet = serde_json::from_str(&three).expect("parses");
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.keys[1], b2.jwk);
    }
}
