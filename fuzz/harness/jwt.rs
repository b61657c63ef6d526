//! Bearer-token authentication, both modes. The first byte picks how the
//! rest is used:
//! - 0: the `authorization` header value itself (`Bearer <JWT>`, or not);
//! - 1: JWT claims (a JSON object), signed with the configured EdDSA key
//!   (`PRIVATE_PEM`) by longrun's own mint code, so the fuzzer reaches the claims after a
//!   valid signature;
//! - 2: the header of the sidecar mode (a base64url JWT payload).
//!
//! Whatever the token, the answer is a principal or UNAUTHENTICATED (never
//! INTERNAL or UNAVAILABLE: the keys are in memory), and the scope check
//! of a principal passes or is PERMISSION_DENIED.

use std::sync::OnceLock;

use jsonwebtoken::Algorithm;
use longrun::auth::mint::sign_claims;
use longrun::auth::{
    Authenticator, CLOUD_PLATFORM_SCOPE, JwtSettings, KeySet, KeySource, TokenSource,
};
use longrun::domain::ErrorKind;

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "longrun";
pub const KID: &str = "fuzz-1";
pub const FORWARDED_HEADER: &str = "x-jwt-payload";

/// A fixed key pair (`longrun token keygen --kid fuzz-1`), so the corpus can
/// hold tokens that verify (minted by `longrun token mint`, valid to 2100).
/// It protects nothing: it is known to everyone who reads this file.
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICNfGZFWHaf3It64ifwTFQ2WFDe92fRIKueB9nbXeQ88
-----END PRIVATE KEY-----
";
const JWKS: &str = r#"{"keys": [{"use": "sig", "alg": "EdDSA", "kid": "fuzz-1", "kty": "OKP",
  "crv": "Ed25519", "x": "-It2HXwVkmnovkKfYhiNeqcT9r9fMc0hivS2iWdKlIc"}]}"#;

struct Setup {
    /// The authenticators' futures run here: the harness is called from
    /// plain threads, never from inside another runtime.
    runtime: tokio::runtime::Runtime,
    jwt: Authenticator,
    forwarded: Authenticator,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let scopes = vec![CLOUD_PLATFORM_SCOPE.to_owned()];
        let keys = KeySet::from_jwks(JWKS.as_bytes()).expect("the JWKS loads");
        let settings = JwtSettings::new(
            KeySource::JwksFile("in-memory".into()),
            vec![ISSUER.to_owned()],
            vec![AUDIENCE.to_owned()],
        );
        let jwt = Authenticator::with_key_set(&settings, keys, "groups", scopes.clone())
            .expect("a JWT authenticator");
        let source = TokenSource::ForwardedPayload {
            header: FORWARDED_HEADER.to_owned(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let forwarded = runtime
            .block_on(Authenticator::new(&source, "groups", scopes))
            .expect("a sidecar authenticator");
        Setup {
            runtime,
            jwt,
            forwarded,
        }
    })
}

pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let setup = setup();
    let mut headers = http::HeaderMap::new();
    let authenticator = match mode % 3 {
        0 => {
            let Ok(value) = http::HeaderValue::from_bytes(rest) else {
                return;
            };
            headers.insert(http::header::AUTHORIZATION, value);
            &setup.jwt
        }
        1 => {
            let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(rest) else {
                return;
            };
            let token = sign_claims(&claims, Algorithm::EdDSA, Some(KID), PRIVATE_PEM.as_bytes())
                .expect("claims sign");
            let value = http::HeaderValue::try_from(format!("Bearer {token}"))
                .expect("a JWT is a header value");
            headers.insert(http::header::AUTHORIZATION, value);
            &setup.jwt
        }
        _ => {
            let Ok(value) = http::HeaderValue::from_bytes(rest) else {
                return;
            };
            headers.insert(FORWARDED_HEADER, value);
            &setup.forwarded
        }
    };
    match setup.runtime.block_on(authenticator.authenticate(&headers)) {
        Ok(principal) => {
            if let Err(err) = authenticator.check_scopes(&principal) {
                assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err:?}");
            }
        }
        Err(err) => assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err:?}"),
    }
}
