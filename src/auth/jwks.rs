//! Where keys come from: fixed (a file read at start) or a JWKS URL fetched
//! over HTTP(S) and cached as its `Cache-Control: max-age` says. A token
//! with an unknown `kid` triggers a refetch, at most once per
//! `refetch_interval`, so a key rotation costs no minutes of 401s and a
//! flood of made-up kids costs the issuer nothing.
//! Every successful fetch bumps a generation number; verified tokens are
//! cached with the generation they were checked under, so a key that
//! disappears from the set stops working when the set is next fetched.

use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use super::{AuthError, KeyError, KeySet};
use crate::observe::Recorder;

/// A JWKS larger than this is not a key set.
const MAX_JWKS_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys are kept at least this long, whatever `max-age` says, and at most
/// a day, so a misconfigured issuer cannot make us fetch on every call or
/// keep a revoked key forever.
const MIN_MAX_AGE: Duration = Duration::from_secs(1);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

pub enum KeyProvider {
    Fixed(Arc<KeySet>),
    Remote(Box<RemoteKeys>),
}

impl KeyProvider {
    /// The keys to use now, and their generation.
    pub async fn current(&self) -> Result<(Arc<KeySet>, u64), AuthError> {
        match self {
            KeyProvider::Fixed(keys) => Ok((Arc::clone(keys), 0)),
            KeyProvider::Remote(remote) => remote.current().await,
        }
    }

    /// Called when a token names a key we do not have; returns fresher
    /// keys if a refetch was allowed and worked.
    pub async fn refresh_for_unknown_kid(&self) -> Option<(Arc<KeySet>, u64)> {
        match self {
            KeyProvider::Fixed(_) => None,
            KeyProvider::Remote(remote) => remote.refresh_for_unknown_kid().await,
        }
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

struct Fetched {
    keys: Arc<KeySet>,
    generation: u64,
    expires: Instant,
    /// The last fetch attempt, successful or not (rate limit).
    attempted: Option<Instant>,
}

pub struct RemoteKeys {
    url: http::Uri,
    client: HttpsClient,
    refetch_interval: Duration,
    default_max_age: Duration,
    state: RwLock<Fetched>,
    /// One fetch at a time; callers that waited use its result.
    fetching: tokio::sync::Mutex<()>,
    recorder: Recorder,
}

impl RemoteKeys {
    pub fn new(
        url: &str,
        refetch_interval: Duration,
        default_max_age: Duration,
    ) -> Result<Self, String> {
        let url: http::Uri = url.parse().map_err(|e| format!("JWKS URL {url:?}: {e}"))?;
        match url.scheme_str() {
            Some("https" | "http") => {}
            _ => {
                return Err(format!(
                    "JWKS URL {url}: use https:// (or http:// on a trusted network)"
                ));
            }
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            url,
            client: Client::builder(TokioExecutor::new()).build(connector),
            refetch_interval,
            default_max_age,
            state: RwLock::new(Fetched {
                keys: Arc::new(KeySet::default()),
                generation: 0,
                expires: Instant::now(),
                attempted: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
            recorder: Recorder::default(),
        })
    }

    /// Reports every fetch and its result to `recorder`.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = recorder;
        self
    }

    fn snapshot(&self) -> (Arc<KeySet>, u64, Instant, Option<Instant>) {
        let state = self
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (
            Arc::clone(&state.keys),
            state.generation,
            state.expires,
            state.attempted,
        )
    }

    async fn current(&self) -> Result<(Arc<KeySet>, u64), AuthError> {
        let (keys, generation, expires, _) = self.snapshot();
        if Instant::now() < expires {
            return Ok((keys, generation));
        }
        // Expired: refetch, but keep serving the old keys if the issuer is
        // down (retrying no more than once per refetch interval).
        self.fetch_limited().await;
        let (keys, generation, _, _) = self.snapshot();
        if keys.is_empty() {
            return Err(AuthError::KeysUnavailable);
        }
        Ok((keys, generation))
    }

    async fn refresh_for_unknown_kid(&self) -> Option<(Arc<KeySet>, u64)> {
        let (_, before, _, _) = self.snapshot();
        self.fetch_limited().await;
        let (keys, generation, _, _) = self.snapshot();
        (generation != before).then_some((keys, generation))
    }

    /// Fetches unless another fetch ran less than `refetch_interval` ago.
    async fn fetch_limited(&self) {
        let started_waiting = Instant::now();
        let _guard = self.fetching.lock().await;
        let (_, _, expires, attempted) = self.snapshot();
        if let Some(attempted) = attempted {
            // Someone fetched while we waited for the lock: use theirs.
            if attempted >= started_waiting && Instant::now() < expires {
                return;
            }
            if attempted.elapsed() < self.refetch_interval {
                return;
            }
        }
        self.fetch_now().await;
    }

    /// Fetches and installs the key set; failures are logged and leave the
    /// old keys in place.
    pub async fn fetch_now(&self) -> bool {
        let result = tokio::time::timeout(FETCH_TIMEOUT, self.fetch()).await;
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.attempted = Some(Instant::now());
        self.recorder.jwks_fetched(matches!(result, Ok(Ok(_))));
        match result {
            Ok(Ok((keys, max_age))) => {
                tracing::debug!(url = %self.url, keys = keys.len(), ?max_age, "fetched JWKS");
                state.keys = Arc::new(keys);
                state.generation += 1;
                state.expires = Instant::now() + max_age;
                true
            }
            Ok(Err(err)) => {
                tracing::warn!(url = %self.url, error = %err, "JWKS fetch failed; keeping the previous keys");
                false
            }
            Err(_) => {
                tracing::warn!(url = %self.url, "JWKS fetch timed out; keeping the previous keys");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<(KeySet, Duration), String> {
        let request = http::Request::get(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP status {}", response.status()));
        }
        let max_age = max_age(response.headers()).unwrap_or(self.default_max_age);
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let keys = KeySet::from_jwks(&body).map_err(|e: KeyError| e.to_string())?;
        Ok((keys, max_age.clamp(MIN_MAX_AGE, MAX_MAX_AGE)))
    }
}

/// `Cache-Control: max-age=N` (also with other directives); `no-store` and
/// `no-cache` mean "as short as allowed".
fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::CACHE_CONTROL)?.to_str().ok()?;
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        map.insert(http::header::CACHE_CONTROL, value.parse().expect("header"));
        map
    }

    #[test]
    fn cache_control_max_age_is_read_among_other_directives() {
        assert_eq!(
            max_age(&headers("public, max-age=19204, must-revalidate")),
            Some(Duration::from_secs(19204))
        );
        assert_eq!(max_age(&headers("no-store")), Some(Duration::ZERO));
        assert_eq!(max_age(&headers("public")), None);
        assert_eq!(max_age(&http::HeaderMap::new()), None);
    }

    #[test]
    fn remote_keys_refuse_urls_without_http_scheme() {
        assert!(RemoteKeys::new("file:///etc/passwd", Duration::ZERO, Duration::ZERO).is_err());
        assert!(
            RemoteKeys::new(
                "https://issuer.example/jwks",
                Duration::ZERO,
                Duration::ZERO
            )
            .is_ok()
        );
    }
}
