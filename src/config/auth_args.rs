//! The authentication flags of `longrun serve` (docs/security.md).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::duration;
use crate::auth::{AuthSettings, CLOUD_PLATFORM_SCOPE, JwtSettings, KeySource, TokenSource};

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Authentication")]
pub struct AuthArgs {
    /// Verify bearer JWTs with the keys of this JWKS file (read at start).
    #[arg(long, env = "LONGRUN_JWKS_FILE", conflicts_with_all = ["jwks_url", "jwt_pem_file", "forward_payload_header"])]
    pub jwks_file: Option<PathBuf>,

    /// Verify bearer JWTs with keys fetched from this JWKS URL (kept as its
    /// Cache-Control max-age says, fetched again on an unknown kid).
    #[arg(long, env = "LONGRUN_JWKS_URL", conflicts_with_all = ["jwt_pem_file", "forward_payload_header"])]
    pub jwks_url: Option<String>,

    /// Verify bearer JWTs that carry no kid with this PEM public key (RSA,
    /// EC P-256 or Ed25519).
    #[arg(
        long,
        env = "LONGRUN_JWT_PEM_FILE",
        conflicts_with = "forward_payload_header"
    )]
    pub jwt_pem_file: Option<PathBuf>,

    /// Accepted token issuers (`iss`); JWT verification needs at least one
    /// (repeatable).
    #[arg(long = "jwt-issuer", env = "LONGRUN_JWT_ISSUER", value_delimiter = ',')]
    pub jwt_issuers: Vec<String>,

    /// Accepted token audiences (`aud`); JWT verification needs at least
    /// one (repeatable).
    #[arg(
        long = "jwt-audience",
        env = "LONGRUN_JWT_AUDIENCE",
        value_delimiter = ','
    )]
    pub jwt_audiences: Vec<String>,

    /// Accepted signing algorithms; asymmetric ones only (RS*, PS*, ES*,
    /// EdDSA).
    #[arg(
        long = "jwt-algorithms",
        env = "LONGRUN_JWT_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256,ES256,EdDSA"
    )]
    pub jwt_algorithms: Vec<String>,

    /// Clock skew allowed on exp and nbf.
    #[arg(long, env = "LONGRUN_JWT_LEEWAY", default_value = "30s", value_parser = duration)]
    pub jwt_leeway: Duration,

    /// Refuse tokens without an nbf claim; `--jwt-require-nbf=false` for
    /// issuers that leave it out.
    #[arg(
        long,
        env = "LONGRUN_JWT_REQUIRE_NBF",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub jwt_require_nbf: bool,

    /// --jwks-url: least time between two fetches caused by unknown kids.
    #[arg(long, env = "LONGRUN_JWKS_REFETCH_INTERVAL", default_value = "30s", value_parser = duration)]
    pub jwks_refetch_interval: Duration,

    /// --jwks-url: how long fetched keys are kept when the response has no
    /// Cache-Control max-age.
    #[arg(long, env = "LONGRUN_JWKS_DEFAULT_MAX_AGE", default_value = "5m", value_parser = duration)]
    pub jwks_default_max_age: Duration,

    /// Sidecar mode: read the caller from this header, which a mesh proxy
    /// that already verified the token fills with its base64url payload.
    /// Only safe when nothing but the proxy can reach the port.
    #[arg(long, env = "LONGRUN_FORWARD_PAYLOAD_HEADER")]
    pub forward_payload_header: Option<String>,

    /// OAuth scopes a token must grant, all of them, in `scope` or `scp`
    /// (repeatable; an empty value requires none).
    #[arg(
        long = "required-scope",
        env = "LONGRUN_REQUIRED_SCOPES",
        value_delimiter = ',',
        default_value = CLOUD_PLATFORM_SCOPE
    )]
    pub required_scopes: Vec<String>,

    /// Policy file for the public API (members -> roles on resources);
    /// needed with a token source. SIGHUP reloads it.
    #[arg(long, env = "LONGRUN_POLICY")]
    pub policy: Option<PathBuf>,

    /// Policy file for the control API; SIGHUP reloads it. Without it the
    /// control API takes no tokens and is open: on a loopback address, or
    /// anywhere with --allow-unauthenticated-control.
    #[arg(long, env = "LONGRUN_CONTROL_POLICY")]
    pub control_policy: Option<PathBuf>,

    /// Permissions are `<prefix>.operations.<verb>` [default: the first
    /// label of --service-name, e.g. cloudaicompanion].
    #[arg(long, env = "LONGRUN_PERMISSION_PREFIX")]
    pub permission_prefix: Option<String>,

    /// The token claim listing the caller's groups (`group:NAME` members).
    #[arg(long, env = "LONGRUN_GROUP_CLAIM", default_value = "groups")]
    pub group_claim: String,

    /// Allow the public API to run without authentication on a non-loopback
    /// address (refused otherwise).
    #[arg(long, env = "LONGRUN_ALLOW_UNAUTHENTICATED")]
    pub allow_unauthenticated: bool,

    /// Allow the control API to run without authentication on a
    /// non-loopback address (refused otherwise).
    #[arg(long, env = "LONGRUN_ALLOW_UNAUTHENTICATED_CONTROL")]
    pub allow_unauthenticated_control: bool,
}

impl AuthArgs {
    pub fn into_settings(self, service_name: &str) -> AuthSettings {
        let keys = if let Some(path) = self.jwks_file {
            Some(KeySource::JwksFile(path))
        } else if let Some(path) = self.jwt_pem_file {
            Some(KeySource::PemFile(path))
        } else {
            self.jwks_url.map(|url| KeySource::JwksUrl {
                url,
                refetch_interval: self.jwks_refetch_interval,
                default_max_age: self.jwks_default_max_age,
            })
        };
        let tokens = match (keys, self.forward_payload_header) {
            (Some(keys), _) => Some(TokenSource::Jwt(JwtSettings {
                algorithms: self.jwt_algorithms,
                leeway: self.jwt_leeway,
                require_nbf: self.jwt_require_nbf,
                ..JwtSettings::new(keys, self.jwt_issuers, self.jwt_audiences)
            })),
            (None, Some(header)) => Some(TokenSource::ForwardedPayload { header }),
            (None, None) => None,
        };
        let permission_prefix = self.permission_prefix.unwrap_or_else(|| {
            service_name
                .split('.')
                .next()
                .unwrap_or(service_name)
                .to_owned()
        });
        AuthSettings {
            tokens,
            policy: self.policy,
            control_policy: self.control_policy,
            required_scopes: self
                .required_scopes
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            permission_prefix,
            group_claim: self.group_claim,
            allow_unauthenticated: self.allow_unauthenticated,
            allow_unauthenticated_control: self.allow_unauthenticated_control,
        }
    }
}
