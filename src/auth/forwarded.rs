//! Sidecar mode: a mesh proxy (e.g. Envoy's jwt_authn with
//! `forward_payload_header`) verified the token and forwards its payload,
//! base64url-encoded, in a header. We only decode it. Anyone who can reach
//! the port without going through the proxy can forge that header, so this
//! mode is for a listener bound to loopback or a mesh-only network
//! (README: "Behind a mesh sidecar").

use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::verify::MAX_TOKEN_BYTES;
use super::{AuthError, Principal};

pub struct ForwardedPayload {
    header: http::HeaderName,
    group_claim: String,
}

impl ForwardedPayload {
    pub fn new(header: &str, group_claim: &str) -> Result<Self, String> {
        let header = http::HeaderName::try_from(header)
            .map_err(|_| format!("{header:?} is not a header name"))?;
        Ok(Self {
            header,
            group_claim: group_claim.to_owned(),
        })
    }

    pub fn principal(&self, headers: &http::HeaderMap) -> Result<Arc<Principal>, AuthError> {
        let mut values = headers.get_all(&self.header).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(if headers.contains_key(&self.header) {
                AuthError::Invalid("more than one forwarded payload")
            } else {
                AuthError::Missing
            });
        };
        let bytes = value.as_bytes();
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("forwarded payload too long"));
        }
        let json = URL_SAFE_NO_PAD
            .decode(bytes)
            .or_else(|_| URL_SAFE.decode(bytes))
            .map_err(|_| AuthError::Invalid("forwarded payload is not base64url"))?;
        let claims: Map<String, Value> = serde_json::from_slice(&json)
            .map_err(|_| AuthError::Invalid("forwarded payload is not a JSON object"))?;
        let principal = Principal::from_claims(&claims, &self.group_claim)?;
        // The proxy checked exp too; checking again is free and covers a
        // proxy that caches payloads.
        if principal
            .expires_at
            .is_some_and(|exp| exp <= SystemTime::now())
        {
            return Err(AuthError::Expired);
        }
        Ok(Arc::new(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        map.append("x-jwt-payload", value.parse().expect("value"));
        map
    }

    #[test]
    fn forwarded_payload_decodes_identity_and_scopes() {
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"sub":"s","email":"a@example.com","scope":"x y"}"#);
        let fp = ForwardedPayload::new("x-jwt-payload", "groups").expect("header");
        let p = fp.principal(&headers(&payload)).expect("principal");
        assert_eq!(p.subject, "s");
        assert!(p.has_scopes(&["y".into()]));
    }

    #[test]
    fn forwarded_payload_missing_twice_or_garbage_is_refused() {
        let fp = ForwardedPayload::new("x-jwt-payload", "groups").expect("header");
        assert_eq!(
            fp.principal(&http::HeaderMap::new()),
            Err(AuthError::Missing)
        );
        assert!(matches!(
            fp.principal(&headers("!!")),
            Err(AuthError::Invalid(_))
        ));
        let mut two = headers("e30");
        two.append("x-jwt-payload", "e30".parse().expect("value"));
        assert!(matches!(fp.principal(&two), Err(AuthError::Invalid(_))));
        let expired = URL_SAFE_NO_PAD.encode(br#"{"sub":"s","exp":1000}"#);
        assert_eq!(fp.principal(&headers(&expired)), Err(AuthError::Expired));
    }
}
