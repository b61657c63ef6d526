//! The identity behind a verified token, and the policy members it stands
//! for. How members come from claims (documented in the README):
//! - `subject:<sub>` always;
//! - `serviceAccount:<email>` when `email` ends in `.gserviceaccount.com`
//!   (Google's service accounts), `user:<email>` for any other email, and
//!   neither when `email_verified` is present and false;
//! - `group:<name>` for each entry of the configured group claim;
//! - `allAuthenticatedUsers` for everyone with a valid token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::AuthError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
    /// From `exp`; `None` when the claims carry none (sidecar mode).
    pub expires_at: Option<SystemTime>,
    members: Vec<String>,
}

impl Principal {
    /// Reads a verified claim set. A token without a subject names nobody.
    pub fn from_claims(claims: &Map<String, Value>, group_claim: &str) -> Result<Self, AuthError> {
        let subject = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            Some(_) | None => return Err(AuthError::Invalid("no sub claim")),
        };
        let verified = match claims.get("email_verified") {
            Some(Value::Bool(false)) => false,
            Some(Value::String(text)) => !text.eq_ignore_ascii_case("false"),
            Some(_) | None => true,
        };
        let email = match claims.get("email") {
            Some(Value::String(email)) if verified && !email.is_empty() => Some(email.clone()),
            Some(_) | None => None,
        };
        let mut scopes = strings(claims.get("scope"));
        scopes.extend(strings(claims.get("scp")));
        let groups = strings(claims.get(group_claim));
        let expires_at = match claims.get("exp") {
            Some(Value::Number(n)) => n
                .as_u64()
                .map(|secs| UNIX_EPOCH + Duration::from_secs(secs)),
            Some(_) | None => None,
        };
        Ok(Self::new(subject, email, groups, scopes, expires_at))
    }

    pub fn new(
        subject: String,
        email: Option<String>,
        groups: Vec<String>,
        scopes: Vec<String>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        let mut members = vec![
            "allAuthenticatedUsers".to_owned(),
            format!("subject:{subject}"),
        ];
        if let Some(email) = &email {
            let kind = if email.ends_with(".gserviceaccount.com") {
                "serviceAccount"
            } else {
                "user"
            };
            members.push(format!("{kind}:{email}"));
        }
        members.extend(groups.iter().map(|g| format!("group:{g}")));
        Self {
            subject,
            email,
            groups,
            scopes,
            expires_at,
            members,
        }
    }

    /// The policy members this principal is, e.g. `user:a@example.com`.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// True when every scope in `required` was granted.
    pub fn has_scopes(&self, required: &[String]) -> bool {
        required.iter().all(|r| self.scopes.iter().any(|s| s == r))
    }
}

/// A claim that is a space-separated string (`scope`) or an array of
/// strings (`scp`, `groups`); anything else counts as empty.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) | None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        if let Value::Object(map) = value {
            map
        } else {
            Map::new()
        }
    }

    #[test]
    fn principal_from_claims_derives_members_from_email_and_groups() {
        let p = Principal::from_claims(
            &claims(
                json!({"sub": "123", "email": "a@example.com", "groups": ["eng", "ops"],
                "scope": "s1 s2", "exp": 2_000_000_000u64}),
            ),
            "groups",
        )
        .expect("principal");
        assert_eq!(
            p.members(),
            [
                "allAuthenticatedUsers",
                "subject:123",
                "user:a@example.com",
                "group:eng",
                "group:ops"
            ]
        );
        assert!(p.has_scopes(&["s2".into()]));
        assert!(!p.has_scopes(&["s3".into()]));
    }

    #[test]
    fn principal_with_service_account_email_is_a_service_account() {
        let p = Principal::from_claims(
            &claims(
                json!({"sub": "1", "email": "w@proj.iam.gserviceaccount.com",
                "scp": ["a", "b"]}),
            ),
            "groups",
        )
        .expect("principal");
        assert!(
            p.members()
                .contains(&"serviceAccount:w@proj.iam.gserviceaccount.com".into())
        );
        assert!(p.has_scopes(&["a".into(), "b".into()]));
    }

    #[test]
    fn principal_with_unverified_email_gets_no_email_member() {
        let p = Principal::from_claims(
            &claims(json!({"sub": "1", "email": "a@example.com", "email_verified": false})),
            "groups",
        )
        .expect("principal");
        assert_eq!(p.email, None);
        assert!(!p.members().iter().any(|m| m.starts_with("user:")));
    }

    #[test]
    fn principal_without_subject_is_invalid() {
        assert!(Principal::from_claims(&claims(json!({"email": "a@b"})), "groups").is_err());
        assert!(Principal::from_claims(&claims(json!({"sub": 5})), "groups").is_err());
    }
}
