//! What authentication adds to one call on the hot path (a token seen
//! before): the cached verification plus the policy check, in ns per call.
//! Run: `cargo run --release --example bench_auth`

#![expect(
    clippy::print_stdout,
    reason = "an example program reports to its terminal"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use longrun::auth::mint::{TokenRequest, add_to_jwks, generate_key, mint};
use longrun::auth::{
    Authenticator, CLOUD_PLATFORM_SCOPE, Caller, JwtSettings, KeySource, Permission, Policy,
    TokenSource, authorize_operation,
};
use longrun::domain::OperationName;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let key = generate_key(Algorithm::EdDSA, "k")?;
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, add_to_jwks(None, key.jwk)?)?;
    let settings = JwtSettings::new(
        KeySource::JwksFile(jwks),
        vec!["https://issuer".into()],
        vec!["aud".into()],
    );
    let authenticator = Authenticator::new(
        &TokenSource::Jwt(settings),
        "groups",
        vec![CLOUD_PLATFORM_SCOPE.into()],
    )
    .await?;
    let token = mint(
        &TokenRequest {
            issuer: "https://issuer".into(),
            audience: "aud".into(),
            subject: "bench".into(),
            email: Some("bench@example.com".into()),
            scopes: vec![CLOUD_PLATFORM_SCOPE.into()],
            groups: Vec::new(),
            lifetime: Duration::from_secs(3600),
        },
        Algorithm::EdDSA,
        Some("k"),
        key.private_pem.as_bytes(),
    )?;
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse()?);
    let policy = Arc::new(Policy::from_yaml(
        "bindings:\n  - role: roles/viewer\n    members: [user:bench@example.com]\n    resources: [projects/bench]\n",
        "svc",
    )?);
    let name = OperationName::parse("projects/bench/locations/l/operations/x")?;
    let rounds = 200_000;
    let start = Instant::now();
    for _ in 0..rounds {
        let principal = authenticator.authenticate(&headers).await?;
        authenticator.check_scopes(&principal)?;
        let caller = Caller::new(principal, Arc::clone(&policy));
        // The pass owns the checked name, as in the server; the clone is
        // what the server's parse of the request string stands for.
        let _pass = authorize_operation(&caller, Permission::Get, name.clone())?;
    }
    let per_call = start.elapsed() / rounds;
    println!(
        "token {} bytes: {per_call:?} per call (cached verify + scope + policy)",
        token.len()
    );
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(sha2::Digest::finalize(sha2::Digest::chain_update(
            <sha2::Sha256 as sha2::Digest>::new(),
            token.as_bytes(),
        )));
    }
    println!(
        "for comparison, a SHA-256 of the token: {:?}",
        start.elapsed() / rounds
    );
    Ok(())
}
