//! Why a caller was turned away. Messages are for the caller, so the ones
//! about a bad token say nothing about what was wrong with it (no oracle
//! for forging); the reason that matters to an operator goes to the log.

use crate::domain::ErrorKind;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the request has no credentials: send an OAuth 2 access token as \"authorization: Bearer <token>\""
    )]
    Missing,
    /// The `&'static str` is for the log only; it never reaches the caller.
    #[error("the request has invalid authentication credentials")]
    Invalid(&'static str),
    #[error("the access token has expired")]
    Expired,
    #[error("the access token does not have the scopes this API needs: {required}")]
    ScopeInsufficient {
        /// The scopes, space separated (RFC 6750 `scope`).
        required: String,
    },
    #[error("permission \"{permission}\" denied on resource \"{resource}\" (or it may not exist)")]
    PermissionDenied {
        permission: String,
        resource: String,
    },
    #[error("the token signing keys are unavailable; retry later")]
    KeysUnavailable,
}

impl AuthError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AuthError::Missing | AuthError::Invalid(_) | AuthError::Expired => {
                ErrorKind::Unauthenticated
            }
            AuthError::ScopeInsufficient { .. } | AuthError::PermissionDenied { .. } => {
                ErrorKind::PermissionDenied
            }
            AuthError::KeysUnavailable => ErrorKind::Unavailable,
        }
    }

    /// The `ErrorInfo.reason`, as Google's front ends spell them.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "CREDENTIALS_MISSING",
            AuthError::Invalid(_) => "ACCESS_TOKEN_INVALID",
            AuthError::Expired => "ACCESS_TOKEN_EXPIRED",
            AuthError::ScopeInsufficient { .. } => "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            AuthError::PermissionDenied { .. } => "IAM_PERMISSION_DENIED",
            AuthError::KeysUnavailable => "TOKEN_KEYS_UNAVAILABLE",
        }
    }

    /// `ErrorInfo.metadata`. `scope` is what a REST client needs for the
    /// `WWW-Authenticate` challenge; permission and resource are what a
    /// caller needs to ask for access. Nothing about a bad token.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            AuthError::ScopeInsufficient { required } => vec![("scope", required.clone())],
            AuthError::PermissionDenied {
                permission,
                resource,
            } => vec![
                ("permission", permission.clone()),
                ("resource", resource.clone()),
            ],
            AuthError::Missing
            | AuthError::Invalid(_)
            | AuthError::Expired
            | AuthError::KeysUnavailable => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_token_message_hides_the_cause() {
        let err = AuthError::Invalid("signature mismatch for kid k1");
        assert!(!err.to_string().contains("signature"));
        assert!(!err.to_string().contains("k1"));
        assert!(err.metadata().is_empty());
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }

    #[test]
    fn permission_denied_names_permission_and_resource() {
        let err = AuthError::PermissionDenied {
            permission: "cloudaicompanion.operations.cancel".into(),
            resource: "projects/p/locations/l/operations/x".into(),
        };
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(err.reason(), "IAM_PERMISSION_DENIED");
        assert_eq!(err.metadata().len(), 2);
    }
}
