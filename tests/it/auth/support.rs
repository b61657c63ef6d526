//! A server with JWT authentication and a policy, a store that counts the
//! calls that reach it, test keys, tokens, and a REST client that sends
//! headers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::Algorithm;
use longrun::auth::mint::{TokenRequest, add_to_jwks, generate_key, sign_claims};
use longrun::auth::{
    AuthSettings, CLOUD_PLATFORM_SCOPE, Caller, JwtSettings, KeySource, TokenSource,
};
use longrun::domain::{Operation, OperationName};
use longrun::server::{RunningServer, ServerConfig};
use longrun::service::{CreateRequest, ServiceSettings};
use longrun::store::{Inserted, ListQuery, OperationStore, StoreError, Swapped};
use serde_json::{Map, Value};
use tonic::transport::Channel;

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "longrun-test";
pub const OWN: &str = "projects/own/locations/a";
pub const OTHER: &str = "projects/other/locations/a";

pub const VIEWER: &str = "viewer@example.com";
pub const EDITOR: &str = "editor@example.com";
pub const PRODUCER: &str = "producer@own.iam.gserviceaccount.com";
pub const WORKER: &str = "worker@own.iam.gserviceaccount.com";
pub const STRANGER: &str = "stranger@example.com";

/// One policy for both planes: the built-in roles on project `own`, and a
/// group that may only see location `a` of project `multi`.
pub const POLICY: &str = r"
bindings:
  - role: roles/viewer
    members: [user:viewer@example.com]
    resources: [projects/own]
  - role: roles/editor
    members: [user:editor@example.com]
    resources: [projects/own]
  - role: roles/longrun.producer
    members: [serviceAccount:producer@own.iam.gserviceaccount.com]
    resources: [projects/own]
  - role: roles/longrun.worker
    members: [serviceAccount:worker@own.iam.gserviceaccount.com]
    resources: [projects/own]
  - role: roles/viewer
    members: [group:multi-a]
    resources: [projects/multi/locations/a]
";

pub struct TestKey {
    pub alg: Algorithm,
    pub kid: &'static str,
    pub pem: String,
    pub jwk: jsonwebtoken::jwk::Jwk,
}

/// One key per algorithm, made once per test binary (RSA takes a moment).
pub fn keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            (Algorithm::EdDSA, "k-ed"),
            (Algorithm::ES256, "k-ec"),
            (Algorithm::RS256, "k-rsa"),
        ]
        .into_iter()
        .map(|(alg, kid)| {
            let key = generate_key(alg, kid).expect("key");
            TestKey {
                alg,
                kid,
                pem: key.private_pem,
                jwk: key.jwk,
            }
        })
        .collect()
    })
}

pub fn key(alg: Algorithm) -> &'static TestKey {
    keys().iter().find(|k| k.alg == alg).expect("a key for alg")
}

pub fn jwks() -> String {
    keys().iter().fold(String::new(), |acc, k| {
        add_to_jwks((!acc.is_empty()).then_some(acc.as_bytes()), k.jwk.clone()).expect("jwks")
    })
}

pub fn claims(email: &str) -> Map<String, Value> {
    TokenRequest {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        subject: format!("sub-{email}"),
        email: Some(email.into()),
        scopes: vec![CLOUD_PLATFORM_SCOPE.into()],
        groups: Vec::new(),
        lifetime: Duration::from_secs(600),
    }
    .claims(SystemTime::now())
}

pub fn sign(claims: &Map<String, Value>, alg: Algorithm) -> String {
    let key = key(alg);
    sign_claims(claims, alg, Some(key.kid), key.pem.as_bytes()).expect("signs")
}

/// A good token for `email`, EdDSA.
pub fn token(email: &str) -> String {
    sign(&claims(email), Algorithm::EdDSA)
}

/// Counts the calls that reach the store on behalf of a request.
pub struct CountingStore {
    inner: Arc<dyn OperationStore>,
    calls: AtomicUsize,
}

impl CountingStore {
    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl OperationStore for CountingStore {
    async fn insert(&self, op: &Operation) -> Result<Inserted, StoreError> {
        self.count();
        self.inner.insert(op).await
    }
    async fn get(&self, name: &OperationName) -> Result<Option<Operation>, StoreError> {
        self.count();
        self.inner.get(name).await
    }
    async fn swap(&self, next: &Operation) -> Result<Swapped, StoreError> {
        self.count();
        self.inner.swap(next).await
    }
    async fn delete(&self, name: &OperationName) -> Result<bool, StoreError> {
        self.count();
        self.inner.delete(name).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Vec<Operation>, StoreError> {
        self.count();
        self.inner.list(query).await
    }
    // Background timers, not requests: not counted.
    async fn due_cancellations(
        &self,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<Operation>, StoreError> {
        self.inner.due_cancellations(now, limit).await
    }
    async fn next_cancel_deadline(&self) -> Result<Option<SystemTime>, StoreError> {
        self.inner.next_cancel_deadline().await
    }
    async fn purge_expired(&self, now: SystemTime, limit: u32) -> Result<u64, StoreError> {
        self.inner.purge_expired(now, limit).await
    }
    async fn page_token_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner.page_token_key().await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

pub struct SecureServer {
    pub server: RunningServer,
    pub store: Arc<CountingStore>,
    pub public: Channel,
    pub control: Channel,
    pub dir: tempfile::TempDir,
}

/// Auth settings for a JWKS file and policy file in `dir`.
pub fn settings(dir: &std::path::Path, keys: KeySource) -> AuthSettings {
    std::fs::write(dir.join("policy.yaml"), POLICY).expect("policy");
    AuthSettings {
        tokens: Some(TokenSource::Jwt(JwtSettings::new(
            keys,
            vec![ISSUER.into()],
            vec![AUDIENCE.into()],
        ))),
        policy: Some(dir.join("policy.yaml")),
        control_policy: Some(dir.join("policy.yaml")),
        ..AuthSettings::default()
    }
}

impl SecureServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("jwks.json"), jwks()).expect("jwks");
        let auth = settings(
            dir.path(),
            KeySource::JwksFile(dir.path().join("jwks.json")),
        );
        Self::with_auth(dir, auth).await
    }

    pub async fn with_auth(dir: tempfile::TempDir, auth: AuthSettings) -> Self {
        let config = ServerConfig {
            auth,
            ..crate::support::config("unused".into(), ServiceSettings::default())
        };
        let inner = longrun::server::open_store("sqlite::memory:", 0, &Default::default())
            .await
            .expect("store")
            .store;
        let store = Arc::new(CountingStore {
            inner,
            calls: AtomicUsize::new(0),
        });
        let server = longrun::server::start_with_store(config, store.clone())
            .await
            .expect("server starts");
        let public = crate::support::channel(server.public_addr).await;
        let control = crate::support::channel(server.control_addr).await;
        Self {
            server,
            store,
            public,
            control,
            dir,
        }
    }

    pub fn store_calls(&self) -> usize {
        self.store.calls.load(Ordering::SeqCst)
    }

    /// An operation made in-process, as a trusted producer.
    pub async fn create(&self, parent: &str, id: &str) -> String {
        self.server
            .core()
            .create_operation(
                &Caller::trusted(),
                CreateRequest {
                    parent: parent.into(),
                    operation_id: id.into(),
                    ..CreateRequest::default()
                },
            )
            .await
            .expect("create")
            .name
            .to_string()
    }
}

/// A gRPC request carrying `authorization` values.
pub fn with_auth<T>(message: T, authorization: &[&str]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    for value in authorization {
        request
            .metadata_mut()
            .append("authorization", value.parse().expect("ascii"));
    }
    request
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub struct RestAnswer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    /// `Null` when the body is not JSON (or was not read).
    pub json: Value,
}

impl RestAnswer {
    pub fn reason(&self) -> &str {
        self.json["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or("")
    }

    pub fn challenge(&self) -> &str {
        self.headers
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// One REST call. A streaming answer's body is not read when `stream`.
pub async fn rest(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    authorization: &[&str],
    body: Option<&str>,
    stream: bool,
) -> RestAnswer {
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|v| ("authorization", *v))
        .collect();
    rest_with_headers(addr, method, path, &headers, body, stream).await
}

pub async fn rest_with_headers(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    stream: bool,
) -> RestAnswer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("http answers");
    let status = response.status();
    let headers = response.headers().clone();
    if stream && status == StatusCode::OK {
        return RestAnswer {
            status,
            headers,
            json: Value::Null,
        };
    }
    let bytes = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect())
        .await
        .expect("body in time")
        .expect("body")
        .to_bytes();
    RestAnswer {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// The ErrorInfo of a gRPC status: reason and metadata.
pub fn error_info(status: &tonic::Status) -> longrun::pb::rpc::ErrorInfo {
    use prost::Message as _;
    let details = longrun::pb::rpc::Status::decode(status.details()).expect("details");
    let any = details
        .details
        .iter()
        .find(|a| a.type_url.ends_with("google.rpc.ErrorInfo"))
        .expect("an ErrorInfo");
    longrun::pb::rpc::ErrorInfo::decode(any.value.as_slice()).expect("decodes")
}
