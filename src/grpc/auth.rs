//! The authentication layer, right behind the edge layer and in front of
//! the tonic routes, so gRPC, gRPC-Web and the in-process REST gateway all
//! pass the same check. It authenticates, checks scopes, and hands the
//! handlers a `Caller` (the principal and the plane's current policy) in
//! the request extensions; permissions are checked by the use cases on the
//! parsed names. A refusal is a trailers-only gRPC status with ErrorInfo,
//! which the REST gateway turns into 401/403 with `WWW-Authenticate`.
//! Health stays open: load balancers probe it without credentials.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};

use super::status::{code_for, status_with_info};
use crate::auth::{AuthError, Authenticator, Caller, PolicyHandle, identify};

const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// How one plane (public or control) admits callers.
pub enum PlaneAuth {
    /// No authentication: every caller is trusted (loopback, or explicitly
    /// allowed by the operator).
    Open,
    /// Callers are named by a bearer token or, failing one, by their TLS
    /// client certificate (`auth::identify`), and held to the policy.
    Checked {
        /// `None` when client certificates are the only credential.
        authenticator: Option<Arc<Authenticator>>,
        policy: Arc<PolicyHandle>,
    },
}

#[derive(Clone)]
pub struct AuthLayer {
    plane: Arc<PlaneAuth>,
    domain: Arc<str>,
}

impl AuthLayer {
    pub fn new(plane: PlaneAuth, domain: &str) -> Self {
        Self {
            plane: Arc::new(plane),
            domain: Arc::from(domain),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate {
            inner,
            plane: Arc::clone(&self.plane),
            domain: Arc::clone(&self.domain),
        }
    }
}

#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    plane: Arc<PlaneAuth>,
    domain: Arc<str>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<Request<B>> for Authenticate<S>
where
    S: tower::Service<Request<B>, Response = Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not ready; the one poll_ready readied goes along.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (authenticator, policy) = match &*self.plane {
            PlaneAuth::Open => {
                request.extensions_mut().insert(Caller::trusted());
                let call = inner.call(request);
                return Box::pin(async move { call.await.map_err(Into::into) });
            }
            PlaneAuth::Checked { .. } if request.uri().path().starts_with(HEALTH_PREFIX) => {
                let call = inner.call(request);
                return Box::pin(async move { call.await.map_err(Into::into) });
            }
            PlaneAuth::Checked {
                authenticator,
                policy,
            } => (authenticator.clone(), Arc::clone(policy)),
        };
        let domain = Arc::clone(&self.domain);
        Box::pin(async move {
            let checked = identify(
                authenticator.as_deref(),
                request.headers(),
                request.extensions(),
            )
            .await;
            match checked {
                Ok(principal) => {
                    request
                        .extensions_mut()
                        .insert(Caller::new(principal, policy.current()));
                    inner.call(request).await.map_err(Into::into)
                }
                Err(err) => Ok(refusal(&err, &domain)),
            }
        })
    }
}

fn refusal(err: &AuthError, domain: &str) -> Response<tonic::body::Body> {
    refusal_status(err, domain).into_http()
}

fn refusal_status(err: &AuthError, domain: &str) -> tonic::Status {
    // The detail of a bad token goes to the log, never to the caller.
    tracing::debug!(error = ?err, request_id = super::edge::current_request_id().as_deref().unwrap_or("-"), "call refused");
    status_with_info(
        code_for(err.kind()),
        err.to_string(),
        err.reason(),
        domain,
        err.metadata().into_iter().map(|(k, v)| (k.to_owned(), v)),
    )
}

impl AuthLayer {
    /// True when every caller is let in unchecked.
    pub fn is_open(&self) -> bool {
        matches!(&*self.plane, PlaneAuth::Open)
    }

    /// The layer's check (authenticate, then scopes) on a request's head
    /// alone, with the refusal it would answer, for callers that must know
    /// before they go further (the REST gateway, before it parses a request).
    pub async fn admit(
        &self,
        headers: &http::HeaderMap,
        extensions: &http::Extensions,
    ) -> Result<(), tonic::Status> {
        let PlaneAuth::Checked { authenticator, .. } = &*self.plane else {
            return Ok(());
        };
        identify(authenticator.as_deref(), headers, extensions)
            .await
            .map(drop)
            .map_err(|err| refusal_status(&err, &self.domain))
    }
}

/// The caller the layer put on the request. A request without one came
/// through a stack that has no auth layer: refused, unless the adapter was
/// built to trust such callers (embedding).
pub(crate) fn caller_of(
    extensions: &http::Extensions,
    fallback: Option<&Caller>,
) -> Result<Caller, AuthError> {
    extensions
        .get::<Caller>()
        .or(fallback)
        .cloned()
        .ok_or(AuthError::Missing)
}
