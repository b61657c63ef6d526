//! What an operator configures about authentication: plain data, filled in
//! by `config` from flags and checked when the server starts.

use std::path::PathBuf;
use std::time::Duration;

use super::CLOUD_PLATFORM_SCOPE;

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// How callers prove who they are; `None` runs without authentication
    /// (loopback only, unless `allow_unauthenticated`).
    pub tokens: Option<TokenSource>,
    /// The public plane's policy file (required with `tokens`).
    pub policy: Option<PathBuf>,
    /// The control plane's policy file. Without one the control plane is
    /// open, which is allowed on loopback only unless
    /// `allow_unauthenticated_control`.
    pub control_policy: Option<PathBuf>,
    /// Scopes every call needs (all of them).
    pub required_scopes: Vec<String>,
    /// Permissions are `<prefix>.operations.<verb>`.
    pub permission_prefix: String,
    /// The claim that lists a caller's groups (`group:NAME` members).
    pub group_claim: String,
    pub allow_unauthenticated: bool,
    pub allow_unauthenticated_control: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            tokens: None,
            policy: None,
            control_policy: None,
            required_scopes: vec![CLOUD_PLATFORM_SCOPE.to_owned()],
            permission_prefix: "cloudaicompanion".to_owned(),
            group_claim: "groups".to_owned(),
            allow_unauthenticated: false,
            allow_unauthenticated_control: false,
        }
    }
}

#[derive(Clone, Debug)]
pub enum TokenSource {
    /// `authorization: Bearer <JWT>`, verified here.
    Jwt(JwtSettings),
    /// A mesh sidecar verified the token and forwards its payload,
    /// base64url-encoded, in this header (Envoy's `forward_payload_header`).
    ForwardedPayload { header: String },
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub keys: KeySource,
    /// Accepted `iss` values (at least one).
    pub issuers: Vec<String>,
    /// Accepted `aud` values (at least one).
    pub audiences: Vec<String>,
    /// Accepted `alg` values; never an HMAC one.
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// Refuse tokens without `nbf`. On by default, as the origin API's
    /// tokens carry it; some issuers (Google ID tokens) leave it out.
    pub require_nbf: bool,
    /// Verified tokens remembered until they expire.
    pub cache_entries: usize,
    /// Where JWKS fetches are reported (metrics); silent by default.
    pub recorder: crate::observe::Recorder,
}

impl JwtSettings {
    pub fn new(keys: KeySource, issuers: Vec<String>, audiences: Vec<String>) -> Self {
        Self {
            keys,
            issuers,
            audiences,
            algorithms: vec!["RS256".into(), "ES256".into(), "EdDSA".into()],
            leeway: Duration::from_secs(30),
            require_nbf: true,
            recorder: crate::observe::Recorder::default(),
            cache_entries: 10_000,
        }
    }
}

#[derive(Clone, Debug)]
pub enum KeySource {
    JwksFile(PathBuf),
    PemFile(PathBuf),
    JwksUrl {
        url: String,
        /// The least time between two fetches caused by an unknown `kid`.
        refetch_interval: Duration,
        /// How long keys are kept when the answer has no `max-age`.
        default_max_age: Duration,
    },
}
