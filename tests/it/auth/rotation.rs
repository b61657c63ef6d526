//! Keys from a JWKS URL, served by a small HTTP server in the test: a new
//! `kid` works at once (unknown kid -> refetch), a removed key stops
//! working once the cached set expires (max-age), and made-up kids cannot
//! make us hammer the issuer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jsonwebtoken::Algorithm;
use longrun::auth::KeySource;
use longrun::auth::mint::{add_to_jwks, generate_key, sign_claims};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tonic::Code;

use super::support::*;

struct Issuer {
    addr: SocketAddr,
    jwks: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Issuer {
    /// Serves `jwks` with `Cache-Control: max-age=1`.
    async fn start(jwks: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let jwks = Arc::new(Mutex::new(jwks));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&jwks), Arc::clone(&fetches));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                let service = service_fn(move |_request| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let body = served.lock().expect("lock").clone();
                    async move {
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .header("content-type", "application/json")
                                .header("cache-control", "public, max-age=1")
                                .body(Full::new(Bytes::from(body)))
                                .expect("response"),
                        )
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            jwks,
            fetches,
            task,
        }
    }

    fn set(&self, jwks: String) {
        *self.jwks.lock().expect("lock") = jwks;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn get(server: &SecureServer, name: &str, token: &str) -> Result<(), tonic::Status> {
    OperationsClient::new(server.public.clone())
        .get_operation(with_auth(
            lro::GetOperationRequest { name: name.into() },
            &[&bearer(token)],
        ))
        .await
        .map(drop)
}

async fn server_for(issuer: &Issuer, refetch_interval: Duration) -> SecureServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = settings(
        dir.path(),
        KeySource::JwksUrl {
            url: format!("http://{}/jwks.json", issuer.addr),
            refetch_interval,
            default_max_age: Duration::from_secs(300),
        },
    );
    SecureServer::with_auth(dir, auth).await
}

fn token_with(key: &longrun::auth::mint::NewKey, kid: &str) -> String {
    sign_claims(
        &claims(VIEWER),
        Algorithm::EdDSA,
        Some(kid),
        key.private_pem.as_bytes(),
    )
    .expect("signs")
}

#[tokio::test]
async fn rotated_key_works_without_restart_and_removed_key_stops_after_max_age() {
    let old = generate_key(Algorithm::EdDSA, "old").expect("key");
    let new = generate_key(Algorithm::EdDSA, "new").expect("key");
    let issuer = Issuer::start(add_to_jwks(None, old.jwk.clone()).expect("jwks")).await;
    let server = server_for(&issuer, Duration::ZERO).await;
    let name = server.create(OWN, "x").await;
    get(&server, &name, &token_with(&old, "old"))
        .await
        .expect("old key works");

    // Rotation, step 1: the issuer publishes the new key next to the old.
    let both = add_to_jwks(
        Some(add_to_jwks(None, old.jwk.clone()).expect("jwks").as_bytes()),
        new.jwk.clone(),
    )
    .expect("jwks");
    issuer.set(both);
    get(&server, &name, &token_with(&new, "new"))
        .await
        .expect("a new kid works at once");

    // Step 2: the old key is withdrawn. It keeps working only until the
    // cached set expires (max-age=1), even for a token verified before.
    issuer.set(add_to_jwks(None, new.jwk.clone()).expect("jwks"));
    let old_token = token_with(&old, "old");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match get(&server, &name, &old_token).await {
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                break;
            }
            Ok(()) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the removed key still works after 10s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    get(&server, &name, &token_with(&new, "new"))
        .await
        .expect("the new key still works");
    issuer.task.abort();
    server.server.shutdown().await;
}

#[tokio::test]
async fn made_up_kids_are_refetched_at_most_once_per_interval() {
    let key = generate_key(Algorithm::EdDSA, "real").expect("key");
    let issuer = Issuer::start(add_to_jwks(None, key.jwk.clone()).expect("jwks")).await;
    let server = server_for(&issuer, Duration::from_secs(3600)).await;
    let name = server.create(OWN, "x").await;
    let before = issuer.fetches();
    for i in 0..20 {
        let status = get(&server, &name, &token_with(&key, &format!("made-up-{i}")))
            .await
            .expect_err("unknown kid");
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    assert!(
        issuer.fetches() - before <= 1,
        "{} fetches for 20 made-up kids",
        issuer.fetches() - before
    );
    get(&server, &name, &token_with(&key, "real"))
        .await
        .expect("the real key works");
    issuer.task.abort();
    server.server.shutdown().await;
}
