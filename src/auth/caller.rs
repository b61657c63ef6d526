//! A call's identity together with the policy of the plane it came in on,
//! and the one authorization entry point the service layer uses.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use super::{AuthError, Permission, Policy, Principal};
use crate::domain::ParentName;

/// Who is calling, and under which policy. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Caller {
    principal: Option<Arc<Principal>>,
    policy: Arc<Policy>,
}

static TRUSTED: LazyLock<Arc<Policy>> = LazyLock::new(|| Arc::new(Policy::allow_all("longrun")));

impl Caller {
    /// In-process code (embedders, background work, tests) and servers run
    /// without authentication: allowed everything.
    pub fn trusted() -> Self {
        Self {
            principal: None,
            policy: Arc::clone(&TRUSTED),
        }
    }

    pub fn new(principal: Arc<Principal>, policy: Arc<Policy>) -> Self {
        Self {
            principal: Some(principal),
            policy,
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    pub(super) fn allows(&self, permission: Permission, project: &str, location: &str) -> bool {
        match &self.principal {
            Some(p) => self.policy.allows(p, permission, project, location),
            None => self.policy.allows_anywhere(&NOBODY, permission),
        }
    }

    pub(super) fn denied(&self, permission: Permission, resource: &str) -> AuthError {
        AuthError::PermissionDenied {
            permission: permission.name(self.policy.prefix()),
            resource: resource.to_owned(),
        }
    }

    /// Whether the caller holds `permission` on any resource: decides if a
    /// malformed name gets INVALID_ARGUMENT (a caller who could act on
    /// something deserves the detail) or PERMISSION_DENIED (a stranger
    /// learns nothing, not even how names are checked).
    pub fn allowed_anywhere(&self, permission: Permission) -> bool {
        match &self.principal {
            Some(p) => self.policy.allows_anywhere(p, permission),
            None => self.policy.allows_anywhere(&NOBODY, permission),
        }
    }

    /// The PERMISSION_DENIED for a name that did not parse.
    pub fn denied_on_text(&self, permission: Permission, text: &str) -> AuthError {
        self.denied(permission, text)
    }

    /// Which locations of `parent`'s project a List may show.
    pub fn list_scope(&self, parent: &ParentName) -> Result<ListScope, AuthError> {
        let permission = Permission::List;
        if parent.location() != "-" {
            return if self.allows(permission, parent.project(), parent.location()) {
                Ok(ListScope::Everything)
            } else {
                Err(self.denied(permission, &parent.to_string()))
            };
        }
        let Some(principal) = &self.principal else {
            return if self.policy.allows_anywhere(&NOBODY, permission) {
                Ok(ListScope::Everything)
            } else {
                Err(self.denied(permission, &parent.to_string()))
            };
        };
        if self
            .policy
            .allows_project(principal, permission, parent.project())
        {
            return Ok(ListScope::Everything);
        }
        let locations = self
            .policy
            .locations(principal, permission, parent.project());
        if locations.is_empty() {
            Err(self.denied(permission, &parent.to_string()))
        } else {
            Ok(ListScope::Locations(locations))
        }
    }
}

/// Stands in for "no principal" so a trusted caller's checks go through
/// the same policy code (an allow-all policy says yes to anyone).
static NOBODY: LazyLock<Principal> =
    LazyLock::new(|| Principal::new(String::new(), None, Vec::new(), Vec::new(), None));

/// What a List across locations (`-`) may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListScope {
    Everything,
    /// Only operations in these locations of the project.
    Locations(BTreeSet<String>),
}

impl ListScope {
    pub fn includes(&self, location: &str) -> bool {
        match self {
            ListScope::Everything => true,
            ListScope::Locations(set) => set.contains(location),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OperationName;

    fn caller(yaml: &str) -> Caller {
        let policy = Policy::from_yaml(yaml, "svc").expect("policy");
        let principal = Principal::new(
            "s".into(),
            Some("a@example.com".into()),
            Vec::new(),
            Vec::new(),
            None,
        );
        Caller::new(Arc::new(principal), Arc::new(policy))
    }

    #[test]
    fn trusted_caller_may_do_everything() {
        let name = OperationName::parse("projects/p/locations/l/operations/x").expect("name");
        for p in Permission::ALL {
            let pass = crate::auth::authorize_operation(&Caller::trusted(), p, name.clone())
                .expect("trusted");
            assert_eq!(pass.name(), &name);
        }
        let parent = ParentName::parse_for_list("projects/p/locations/-").expect("parent");
        assert_eq!(
            Caller::trusted().list_scope(&parent).expect("scope"),
            ListScope::Everything
        );
    }

    #[test]
    fn authorize_without_binding_names_permission_and_resource() {
        let c = caller("bindings: []\n");
        let name = OperationName::parse("projects/p/locations/l/operations/x").expect("name");
        let err =
            crate::auth::authorize_operation(&c, Permission::Cancel, name).expect_err("denied");
        assert_eq!(
            err,
            AuthError::PermissionDenied {
                permission: "svc.operations.cancel".into(),
                resource: "projects/p/locations/l/operations/x".into()
            }
        );
    }

    #[test]
    fn list_scope_with_dash_is_restricted_to_bound_locations() {
        let c = caller(
            "bindings:\n  - role: roles/viewer\n    members: [user:a@example.com]\n    resources: [projects/p/locations/a]\n",
        );
        let dash = ParentName::parse_for_list("projects/p/locations/-").expect("parent");
        let scope = c.list_scope(&dash).expect("scope");
        assert!(scope.includes("a") && !scope.includes("b"));
        let other = ParentName::parse_for_list("projects/p/locations/b").expect("parent");
        assert!(c.list_scope(&other).is_err());
        let elsewhere = ParentName::parse_for_list("projects/q/locations/-").expect("parent");
        assert!(c.list_scope(&elsewhere).is_err());
    }
}
