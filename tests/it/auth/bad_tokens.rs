//! One table of bad credentials, each sent over gRPC and over REST: the
//! right code, HTTP status, ErrorInfo reason and RFC 6750 challenge, no
//! detail that helps an attacker, and no call that reaches the store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use serde_json::{Value, json};
use tonic::Code;

use super::support::*;

/// What a bad credential must get.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// 401, CREDENTIALS_MISSING, challenge without an error code.
    Missing,
    /// 401, ACCESS_TOKEN_INVALID, `error="invalid_token"`.
    Invalid,
    /// 401, ACCESS_TOKEN_EXPIRED, `error="invalid_token"`.
    Expired,
    /// 403, ACCESS_TOKEN_SCOPE_INSUFFICIENT, `error="insufficient_scope"`.
    Scope,
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// A token signed by a key the server does not know, naming a place to
/// fetch it from (which must never be followed).
fn self_keyed(header_field: &str) -> String {
    let attacker = longrun::auth::mint::generate_key(Algorithm::EdDSA, "evil").expect("key");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("evil".into());
    match header_field {
        "jku" => header.jku = Some("http://127.0.0.1:9/jwks.json".into()),
        "x5u" => header.x5u = Some("http://127.0.0.1:9/cert.pem".into()),
        _ => header.jwk = Some(attacker.jwk.clone()),
    }
    let key = EncodingKey::from_ed_pem(attacker.private_pem.as_bytes()).expect("pem");
    jsonwebtoken::encode(&header, &claims(VIEWER), &key).expect("signs")
}

fn cases() -> Vec<(&'static str, Vec<String>, Expect)> {
    let good = claims(VIEWER);
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = good.clone();
        edit(&mut c);
        c
    };
    let rsa = key(Algorithm::RS256);
    let rsa_public_pem = {
        let private =
            <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&rsa.pem)
                .expect("rsa key");
        rsa::pkcs8::EncodePublicKey::to_public_key_pem(
            &rsa::RsaPublicKey::from(&private),
            Default::default(),
        )
        .expect("public pem")
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(rsa.kid.into());
        let secret = EncodingKey::from_secret(rsa_public_pem.as_bytes());
        jsonwebtoken::encode(&header, &good, &secret).expect("hs256")
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "k-ed"})),
        b64(&Value::Object(good.clone()))
    );
    let good_token = sign(&good, Algorithm::EdDSA);
    let other_signature = sign(
        &with(&|c| {
            c.insert("sub".into(), json!("x"));
        }),
        Algorithm::EdDSA,
    );
    let bad_signature = format!(
        "{}.{}",
        good_token.rsplit_once('.').expect("dots").0,
        other_signature.rsplit_once('.').expect("dots").1
    );
    let mut unknown_kid = Header::new(Algorithm::EdDSA);
    unknown_kid.kid = Some("nobody".into());
    let ed = key(Algorithm::EdDSA);
    let unknown_kid = jsonwebtoken::encode(
        &unknown_kid,
        &good,
        &EncodingKey::from_ed_pem(ed.pem.as_bytes()).expect("pem"),
    )
    .expect("signs");
    let bearer = |t: &str| vec![format!("Bearer {t}")];
    vec![
        ("no authorization header", vec![], Expect::Missing),
        ("alg none", bearer(&alg_none), Expect::Invalid),
        (
            "HS256 keyed with the RSA public key",
            bearer(&hs256),
            Expect::Invalid,
        ),
        (
            "expired",
            bearer(&sign(
                &with(&|c| {
                    c.insert("exp".into(), json!(now() - 3600));
                }),
                Algorithm::ES256,
            )),
            Expect::Expired,
        ),
        (
            "not yet valid",
            bearer(&sign(
                &with(&|c| {
                    c.insert("nbf".into(), json!(now() + 3600));
                }),
                Algorithm::RS256,
            )),
            Expect::Invalid,
        ),
        (
            "no nbf",
            bearer(&sign(
                &with(&|c| {
                    c.remove("nbf");
                }),
                Algorithm::ES256,
            )),
            Expect::Invalid,
        ),
        (
            "wrong issuer",
            bearer(&sign(
                &with(&|c| {
                    c.insert("iss".into(), json!("https://evil.test"));
                }),
                Algorithm::EdDSA,
            )),
            Expect::Invalid,
        ),
        (
            "wrong audience",
            bearer(&sign(
                &with(&|c| {
                    c.insert("aud".into(), json!("someone-else"));
                }),
                Algorithm::EdDSA,
            )),
            Expect::Invalid,
        ),
        (
            "no audience",
            bearer(&sign(
                &with(&|c| {
                    c.remove("aud");
                }),
                Algorithm::EdDSA,
            )),
            Expect::Invalid,
        ),
        (
            "exp as a string",
            bearer(&sign(
                &with(&|c| {
                    c.insert("exp".into(), json!("9999999999"));
                }),
                Algorithm::EdDSA,
            )),
            Expect::Invalid,
        ),
        (
            "no subject",
            bearer(&sign(
                &with(&|c| {
                    c.remove("sub");
                }),
                Algorithm::EdDSA,
            )),
            Expect::Invalid,
        ),
        ("unknown kid", bearer(&unknown_kid), Expect::Invalid),
        (
            "jku header pointing elsewhere",
            bearer(&self_keyed("jku")),
            Expect::Invalid,
        ),
        (
            "x5u header pointing elsewhere",
            bearer(&self_keyed("x5u")),
            Expect::Invalid,
        ),
        (
            "embedded jwk header",
            bearer(&self_keyed("jwk")),
            Expect::Invalid,
        ),
        ("bad signature", bearer(&bad_signature), Expect::Invalid),
        (
            "malformed base64",
            bearer("eyJ!!!.e30.sig"),
            Expect::Invalid,
        ),
        (
            "malformed JSON",
            bearer(&format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode("{not json"),
                URL_SAFE_NO_PAD.encode("{")
            )),
            Expect::Invalid,
        ),
        ("not a JWT", bearer("opaque-access-token"), Expect::Invalid),
        (
            "missing Bearer prefix",
            vec![good_token.clone()],
            Expect::Invalid,
        ),
        (
            "Basic scheme",
            vec![format!("Basic {good_token}")],
            Expect::Invalid,
        ),
        (
            "two authorization headers",
            vec![
                format!("Bearer {good_token}"),
                format!("Bearer {good_token}"),
            ],
            Expect::Invalid,
        ),
        (
            "signature of another algorithm's key",
            {
                // EdDSA signature, header claiming ES256 with the EC key's kid.
                let mut header = Header::new(Algorithm::EdDSA);
                header.kid = Some("k-ec".into());
                let forged = jsonwebtoken::encode(
                    &header,
                    &good,
                    &EncodingKey::from_ed_pem(ed.pem.as_bytes()).expect("pem"),
                )
                .expect("signs");
                bearer(&forged)
            },
            Expect::Invalid,
        ),
        (
            "token over 16 KiB",
            bearer(&format!("{good_token}{}", "A".repeat(12 * 1024))),
            Expect::Invalid,
        ),
        (
            "no scope",
            bearer(&sign(
                &with(&|c| {
                    c.remove("scope");
                }),
                Algorithm::EdDSA,
            )),
            Expect::Scope,
        ),
        (
            "other scope only",
            bearer(&sign(
                &with(&|c| {
                    c.insert(
                        "scope".into(),
                        json!("https://www.googleapis.com/auth/userinfo.email"),
                    );
                }),
                Algorithm::EdDSA,
            )),
            Expect::Scope,
        ),
    ]
}

fn expected(expect: Expect) -> (Code, u16, &'static str, &'static str) {
    match expect {
        Expect::Missing => (
            Code::Unauthenticated,
            401,
            "CREDENTIALS_MISSING",
            "Bearer realm=",
        ),
        Expect::Invalid => (
            Code::Unauthenticated,
            401,
            "ACCESS_TOKEN_INVALID",
            "error=\"invalid_token\"",
        ),
        Expect::Expired => (
            Code::Unauthenticated,
            401,
            "ACCESS_TOKEN_EXPIRED",
            "error=\"invalid_token\"",
        ),
        Expect::Scope => (
            Code::PermissionDenied,
            403,
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "error=\"insufficient_scope\"",
        ),
    }
}

#[tokio::test]
async fn bad_credentials_get_their_code_over_grpc_and_rest_and_never_reach_the_store() {
    let server = SecureServer::start().await;
    let name = server.create(OWN, "target").await;
    let before = server.store_calls();
    for (what, authorization, expect) in cases() {
        let (code, http, reason, challenge) = expected(expect);
        let values: Vec<&str> = authorization.iter().map(String::as_str).collect();
        let status = OperationsClient::new(server.public.clone())
            .get_operation(with_auth(
                lro::GetOperationRequest { name: name.clone() },
                &values,
            ))
            .await
            .expect_err(what);
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert_eq!(error_info(&status).reason, reason, "{what}");
        if expect == Expect::Invalid {
            assert_eq!(
                status.message(),
                "the request has invalid authentication credentials",
                "{what}: no detail for a bad token"
            );
            assert!(error_info(&status).metadata.is_empty(), "{what}");
        }
        let answer = rest(
            server.server.public_addr,
            Method::GET,
            &format!("/v1/{name}"),
            &values,
            None,
            false,
        )
        .await;
        assert_eq!(answer.status.as_u16(), http, "{what}: {}", answer.json);
        assert_eq!(answer.reason(), reason, "{what}: {}", answer.json);
        assert!(
            answer.challenge().starts_with("Bearer realm="),
            "{what}: {}",
            answer.challenge()
        );
        assert!(
            answer.challenge().contains(challenge),
            "{what}: {}",
            answer.challenge()
        );
        if expect == Expect::Missing {
            assert!(
                !answer.challenge().contains("error="),
                "{what}: RFC 6750 3.1"
            );
        }
    }
    assert_eq!(
        server.store_calls(),
        before,
        "no refused call reached the store"
    );
    server.server.shutdown().await;
}

#[tokio::test]
async fn token_in_query_string_is_never_used() {
    let server = SecureServer::start().await;
    let name = server.create(OWN, "target").await;
    let before = server.store_calls();
    let path = format!("/v1/{name}?access_token={}", token(VIEWER));
    let answer = rest(
        server.server.public_addr,
        Method::GET,
        &path,
        &[],
        None,
        false,
    )
    .await;
    // The token in the URL is not looked at: the caller has no credentials.
    assert_eq!(answer.status.as_u16(), 401, "{}", answer.json);
    assert_eq!(answer.reason(), "CREDENTIALS_MISSING");
    // With a good header too, the unknown parameter is still refused.
    let header = bearer(&token(VIEWER));
    let answer = rest(
        server.server.public_addr,
        Method::GET,
        &path,
        &[&header],
        None,
        false,
    )
    .await;
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.json);
    assert_eq!(server.store_calls(), before);
    server.server.shutdown().await;
}

#[tokio::test]
async fn megabyte_token_gets_a_clean_client_error_on_both_transports() {
    let server = SecureServer::start().await;
    let name = server.create(OWN, "target").await;
    let before = server.store_calls();
    let huge = format!("Bearer {}", "A".repeat(1 << 20));
    let status = OperationsClient::new(server.public.clone())
        .get_operation(with_auth(
            lro::GetOperationRequest { name: name.clone() },
            &[&huge],
        ))
        .await
        .expect_err("refused");
    assert_ne!(status.code(), Code::Ok);
    assert_ne!(status.code(), Code::Internal, "{status:?}");
    let answer = rest(
        server.server.public_addr,
        Method::GET,
        &format!("/v1/{name}"),
        &[&huge],
        None,
        false,
    )
    .await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    assert_eq!(server.store_calls(), before);
    // The server still serves good calls afterwards.
    let good = bearer(&token(VIEWER));
    OperationsClient::new(crate::support::channel(server.server.public_addr).await)
        .get_operation(with_auth(lro::GetOperationRequest { name }, &[&good]))
        .await
        .expect("a good call still works");
    server.server.shutdown().await;
}

#[tokio::test]
async fn health_is_open_and_reflection_needs_a_token() {
    let server = SecureServer::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.public.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health needs no token");
    let mut reflection =
        tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(
            server.public.clone(),
        );
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let status = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    server.server.shutdown().await;
}
