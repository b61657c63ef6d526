//! Access passes: proof that a permission check passed, holding the very
//! name that was checked. The service's store calls take a pass instead of
//! a name (see `service::passes`), so a code path that never asked the
//! policy does not compile; the resource acted on is the one authorized,
//! never a second parse of the request.
//!
//! Passes are made here only: by the checks below for a caller, or by
//! `ServerPass` for work the server does for itself, which no caller asked
//! for (cancel-grace timers, retention, its own keys and health).

use super::caller::{Caller, ListScope};
use super::error::AuthError;
use super::permission::Permission;
use crate::domain::{LocationScope, OperationName, ParentName};

/// One operation that may be read or changed. Nothing outside this module
/// can make one, so the only way to a pass is a check that passed:
///
/// ```compile_fail
/// use longrun::auth::OperationPass;
/// use longrun::domain::OperationName;
/// let name = OperationName::parse("projects/p/locations/l/operations/x").unwrap();
/// let forged = OperationPass { name };
/// ```
#[derive(Debug)]
pub struct OperationPass {
    name: OperationName,
}

impl OperationPass {
    pub fn name(&self) -> &OperationName {
        &self.name
    }
}

/// A parent under which an operation may be created.
#[derive(Debug)]
pub struct ParentPass {
    parent: ParentName,
}

impl ParentPass {
    pub fn parent(&self) -> &ParentName {
        &self.parent
    }

    /// True when `name` lies under this parent: what Create may insert.
    pub fn covers(&self, name: &OperationName) -> bool {
        name.project() == self.parent.project() && name.location() == self.parent.location()
    }
}

/// A List of a parent (`-` for every location), and which locations of it
/// the caller may see.
#[derive(Debug)]
pub struct ListPass {
    parent: ParentName,
    scope: ListScope,
}

impl ListPass {
    pub fn parent(&self) -> &ParentName {
        &self.parent
    }

    /// Whether an operation of this location may be shown.
    pub fn shows(&self, name: &OperationName) -> bool {
        name.project() == self.parent.project()
            && match self.parent.scope() {
                LocationScope::One(location) => name.location() == location,
                LocationScope::All => self.scope.includes(name.location()),
            }
    }

    /// The one location a scan may be narrowed to, if there is one: the
    /// parent's, or the only location the caller may see under `-`.
    pub fn single_location(&self) -> Option<String> {
        match (self.parent.scope(), &self.scope) {
            (LocationScope::One(location), _) => Some(location),
            (LocationScope::All, ListScope::Locations(set)) if set.len() == 1 => {
                set.iter().next().cloned()
            }
            (LocationScope::All, ListScope::Locations(_) | ListScope::Everything) => None,
        }
    }
}

/// The server acting for itself, with no caller behind it. Only background
/// work and the server's own state may use one; every request path asks
/// the policy through the checks below. Made by its one named constructor,
/// so every use is easy to find:
///
/// ```compile_fail
/// let forged = longrun::auth::ServerPass(());
/// ```
#[derive(Debug)]
pub struct ServerPass(());

impl ServerPass {
    pub fn for_server_work() -> Self {
        ServerPass(())
    }

    /// A pass on one operation for the server's own transition of it (a
    /// grace that ran out, an expired operation making room).
    pub fn operation(&self, name: OperationName) -> OperationPass {
        OperationPass { name }
    }
}

/// May `caller` do `permission` on the operation `name`?
pub fn authorize_operation(
    caller: &Caller,
    permission: Permission,
    name: OperationName,
) -> Result<OperationPass, AuthError> {
    if caller.allows(permission, name.project(), name.location()) {
        return Ok(OperationPass { name });
    }
    Err(caller.denied(permission, name.as_str()))
}

/// May `caller` do `permission` (Create) under `parent`?
pub fn authorize_parent(
    caller: &Caller,
    permission: Permission,
    parent: ParentName,
) -> Result<ParentPass, AuthError> {
    if caller.allows(permission, parent.project(), parent.location()) {
        return Ok(ParentPass { parent });
    }
    Err(caller.denied(permission, &parent.to_string()))
}

/// May `caller` list `parent`, and which of its locations?
pub fn authorize_list(caller: &Caller, parent: ParentName) -> Result<ListPass, AuthError> {
    let scope = caller.list_scope(&parent)?;
    Ok(ListPass { parent, scope })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::{Policy, Principal};

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

    const VIEWER_OF_A: &str = "bindings:\n  - role: roles/viewer\n    members: [user:a@example.com]\n    resources: [projects/p/locations/a]\n";

    fn name(text: &str) -> OperationName {
        OperationName::parse(text).expect("name")
    }

    #[test]
    fn operation_pass_holds_the_checked_name_and_only_when_allowed() {
        let c = caller(VIEWER_OF_A);
        let pass = authorize_operation(
            &c,
            Permission::Get,
            name("projects/p/locations/a/operations/x"),
        )
        .expect("viewer may get");
        assert_eq!(pass.name().as_str(), "projects/p/locations/a/operations/x");
        let denied = authorize_operation(
            &c,
            Permission::Cancel,
            name("projects/p/locations/a/operations/x"),
        );
        assert!(denied.is_err(), "a viewer may not cancel");
        let elsewhere = authorize_operation(
            &c,
            Permission::Get,
            name("projects/p/locations/b/operations/x"),
        );
        assert!(elsewhere.is_err());
    }

    #[test]
    fn list_pass_under_dash_shows_only_visible_locations() {
        let c = caller(VIEWER_OF_A);
        let dash = ParentName::parse_for_list("projects/p/locations/-").expect("parent");
        let pass = authorize_list(&c, dash).expect("may list a");
        assert!(pass.shows(&name("projects/p/locations/a/operations/x")));
        assert!(!pass.shows(&name("projects/p/locations/b/operations/x")));
        assert!(!pass.shows(&name("projects/q/locations/a/operations/x")));
        assert_eq!(pass.single_location().as_deref(), Some("a"));
    }

    #[test]
    fn parent_pass_covers_only_its_own_operations() {
        let trusted = Caller::trusted();
        let parent = ParentName::parse("projects/p/locations/a").expect("parent");
        let pass = authorize_parent(&trusted, Permission::Create, parent).expect("trusted");
        assert!(pass.covers(&name("projects/p/locations/a/operations/x")));
        assert!(!pass.covers(&name("projects/p/locations/b/operations/x")));
    }
}
