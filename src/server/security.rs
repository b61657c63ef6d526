//! Who may call each plane, decided once at start (docs/security.md):
//! - with a token source (`--jwks-*`, `--jwt-pem-file` or
//!   `--forward-payload-header`) the public plane needs `--policy`, and the
//!   control plane uses `--control-policy` when given;
//! - a plane with a client CA (`--[control-]tls-client-ca`, mTLS) admits
//!   only clients with a certificate from it: that is authentication too,
//!   and with the plane's policy the certificate names the principal;
//! - a plane without authentication is open, which is allowed on a
//!   loopback address (with a warning) and refused anywhere else unless
//!   the operator says `--allow-unauthenticated[-control]`. TLS without
//!   client certificates is not authentication.
//!
//! Also keeps the policies' and certificates' reload handles for SIGHUP.

use std::net::SocketAddr;
use std::sync::Arc;

use super::tls::TlsEndpoint;
use super::{ServerConfig, ServerError};
use crate::auth::{AuthSettings, Authenticator, PolicyHandle, TokenSource};
use crate::grpc::auth::{AuthLayer, PlaneAuth};
use crate::transcode::gateway::Admission;

pub struct Security {
    pub public: AuthLayer,
    pub control: AuthLayer,
    pub reloader: PolicyReloader,
    pub public_tls: Option<Arc<TlsEndpoint>>,
    pub control_tls: Option<Arc<TlsEndpoint>>,
}

/// Reloads every policy file and TLS certificate the server uses; a bad
/// file keeps the old policy or certificate in force (and is logged).
#[derive(Clone, Default)]
pub struct PolicyReloader {
    handles: Vec<Arc<PolicyHandle>>,
    certificates: Vec<Arc<TlsEndpoint>>,
}

impl PolicyReloader {
    /// Returns how many policies and certificates failed to reload.
    pub fn reload(&self) -> usize {
        let mut failed = 0;
        for handle in &self.handles {
            if let Err(err) = handle.reload() {
                tracing::error!(error = %err, "policy not reloaded; the previous one stays in force");
                failed += 1;
            }
        }
        for endpoint in &self.certificates {
            if let Err(err) = endpoint.reload() {
                tracing::error!(error = %err, "TLS certificate not reloaded; the previous one stays in force");
                failed += 1;
            }
        }
        failed
    }
}

/// `source`, with its JWKS fetches reported to `recorder`.
fn reporting_to(source: &TokenSource, recorder: &crate::observe::Recorder) -> TokenSource {
    let mut source = source.clone();
    if let TokenSource::Jwt(settings) = &mut source {
        settings.recorder = recorder.clone();
    }
    source
}

pub async fn configure(
    config: &ServerConfig,
    recorder: &crate::observe::Recorder,
) -> Result<Security, ServerError> {
    let auth = &config.auth;
    let authenticator = match &auth.tokens {
        Some(source) => Some(Arc::new(
            Authenticator::new(
                &reporting_to(source, recorder),
                &auth.group_claim,
                auth.required_scopes.clone(),
            )
            .await
            .map_err(ServerError::Auth)?,
        )),
        None => None,
    };
    let load = |plane, files: &Option<super::TlsFiles>| {
        files
            .clone()
            .map(|files| TlsEndpoint::load(plane, files).map(Arc::new))
            .transpose()
    };
    let public_tls = load("public", &config.tls.public)?;
    let control_tls = load("control", &config.tls.control)?;
    let mtls = |tls: &Option<Arc<TlsEndpoint>>| {
        tls.as_ref()
            .is_some_and(|tls| tls.requires_client_certificate())
    };
    let mut reloader = PolicyReloader {
        certificates: public_tls.iter().chain(&control_tls).cloned().collect(),
        ..PolicyReloader::default()
    };
    let public = plane(
        authenticator.as_ref(),
        auth,
        auth.policy.as_ref(),
        Open {
            plane: "public",
            addr: config.listen,
            allowed: auth.allow_unauthenticated,
            flag: "--allow-unauthenticated",
            client_certificates: mtls(&public_tls),
        },
        &mut reloader,
    )?;
    let control = plane(
        authenticator.as_ref(),
        auth,
        auth.control_policy.as_ref(),
        Open {
            plane: "control",
            addr: config.control_listen,
            allowed: auth.allow_unauthenticated_control,
            flag: "--allow-unauthenticated-control",
            client_certificates: mtls(&control_tls),
        },
        &mut reloader,
    )?;
    if authenticator.is_some() && matches!(public, PlaneAuth::Open) {
        return Err(ServerError::Auth(
            "token authentication needs --policy: who may do what on the public API".into(),
        ));
    }
    Ok(Security {
        public: AuthLayer::new(public, &config.service_name),
        control: AuthLayer::new(control, &config.service_name),
        reloader,
        public_tls,
        control_tls,
    })
}

/// Headers the REST gateway must pass on for authentication to see them:
/// the sidecar's payload header (`authorization` always travels).
pub fn forwarded_headers(auth: &AuthSettings) -> Vec<http::HeaderName> {
    match &auth.tokens {
        Some(TokenSource::ForwardedPayload { header }) => {
            http::HeaderName::try_from(header.as_str())
                .into_iter()
                .collect()
        }
        Some(TokenSource::Jwt(_)) | None => Vec::new(),
    }
}

/// What an open plane needs to be allowed.
struct Open {
    plane: &'static str,
    addr: SocketAddr,
    allowed: bool,
    flag: &'static str,
    /// mTLS: the handshake admits only holders of a client-CA certificate.
    client_certificates: bool,
}

fn plane(
    authenticator: Option<&Arc<Authenticator>>,
    auth: &AuthSettings,
    policy: Option<&std::path::PathBuf>,
    open: Open,
    reloader: &mut PolicyReloader,
) -> Result<PlaneAuth, ServerError> {
    match (authenticator, policy) {
        (authenticator, Some(path)) if authenticator.is_some() || open.client_certificates => {
            let handle = Arc::new(PolicyHandle::from_file(
                path.clone(),
                &auth.permission_prefix,
            )?);
            reloader.handles.push(Arc::clone(&handle));
            Ok(PlaneAuth::Checked {
                authenticator: authenticator.cloned(),
                policy: handle,
            })
        }
        (_, Some(path)) => Err(ServerError::Auth(format!(
            "policy {} needs a token source (--jwks-file, --jwks-url, --jwt-pem-file or --forward-payload-header) or client certificates (--{}tls-client-ca)",
            path.display(),
            if open.plane == "control" {
                "control-"
            } else {
                ""
            }
        ))),
        (_, None) => {
            if open.client_certificates {
                tracing::info!(plane = open.plane, addr = %open.addr,
                    "mTLS without a policy: every client with a certificate from the client CA may call everything");
            } else if open.addr.ip().is_loopback() {
                tracing::warn!(plane = open.plane, addr = %open.addr,
                    "no authentication: anyone who can connect to this loopback address may call everything");
            } else if open.allowed {
                tracing::warn!(plane = open.plane, addr = %open.addr,
                    "no authentication on a non-loopback address ({} given): anyone who can reach it may call everything", open.flag);
            } else {
                return Err(ServerError::Auth(format!(
                    "refusing to serve the {} API on {} without authentication: configure tokens and a policy or client certificates (mTLS), listen on a loopback address, or pass {}",
                    open.plane, open.addr, open.flag
                )));
            }
            Ok(PlaneAuth::Open)
        }
    }
}

/// The REST gateway's admission check: the plane's own auth layer, asked
/// before a REST request is parsed; `None` when the plane is open.
pub fn admission(auth: &AuthLayer) -> Option<Arc<dyn Admission>> {
    (!auth.is_open()).then(|| Arc::new(RestAdmission(auth.clone())) as Arc<dyn Admission>)
}

struct RestAdmission(AuthLayer);

impl Admission for RestAdmission {
    fn admit<'a>(
        &'a self,
        headers: &'a http::HeaderMap,
        extensions: &'a http::Extensions,
    ) -> futures::future::BoxFuture<'a, Result<(), tonic::Status>> {
        Box::pin(self.0.admit(headers, extensions))
    }
}
