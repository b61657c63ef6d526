//! Permissions (`<service>.operations.<verb>`) and the built-in roles.

use std::fmt;

/// One verb on operations. The wire name is `<prefix>.operations.<verb>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    Get,
    List,
    Wait,
    Cancel,
    Delete,
    Create,
    Update,
    Complete,
    Watch,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::Get,
        Permission::List,
        Permission::Wait,
        Permission::Cancel,
        Permission::Delete,
        Permission::Create,
        Permission::Update,
        Permission::Complete,
        Permission::Watch,
    ];

    pub fn verb(self) -> &'static str {
        match self {
            Permission::Get => "get",
            Permission::List => "list",
            Permission::Wait => "wait",
            Permission::Cancel => "cancel",
            Permission::Delete => "delete",
            Permission::Create => "create",
            Permission::Update => "update",
            Permission::Complete => "complete",
            Permission::Watch => "watch",
        }
    }

    fn from_verb(verb: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.verb() == verb)
    }

    /// `cloudaicompanion.operations.cancel` for prefix `cloudaicompanion`.
    pub fn name(self, prefix: &str) -> String {
        format!("{prefix}.operations.{}", self.verb())
    }

    /// The permission a full name stands for, under `prefix`.
    pub fn parse(name: &str, prefix: &str) -> Option<Self> {
        let verb = name.strip_prefix(prefix)?.strip_prefix(".operations.")?;
        Self::from_verb(verb)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of permissions, as a bit mask: checking one is a single `and`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn of(permissions: &[Permission]) -> Self {
        permissions
            .iter()
            .fold(Self::empty(), |set, p| set.with(*p))
    }

    pub fn all() -> Self {
        Self::of(&Permission::ALL)
    }

    #[must_use]
    pub fn with(self, permission: Permission) -> Self {
        Self(self.0 | permission.bit())
    }

    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(Permission::ALL.iter().filter(|p| self.contains(**p)))
            .finish()
    }
}

/// The roles every policy knows. Viewer and editor mirror Google's basic
/// roles for the public API; producer and worker are for the control API.
pub fn builtin_role(name: &str) -> Option<PermissionSet> {
    use Permission::*;
    let viewer = [Get, List, Wait];
    Some(match name {
        "roles/viewer" => PermissionSet::of(&viewer),
        "roles/editor" => PermissionSet::of(&viewer).union(PermissionSet::of(&[Cancel, Delete])),
        "roles/owner" => PermissionSet::all(),
        "roles/longrun.producer" => PermissionSet::of(&[Create]),
        "roles/longrun.worker" => PermissionSet::of(&[Update, Complete, Watch]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_under_their_prefix() {
        for p in Permission::ALL {
            let name = p.name("cloudaicompanion");
            assert_eq!(Permission::parse(&name, "cloudaicompanion"), Some(p));
            assert_eq!(Permission::parse(&name, "other"), None);
        }
        assert_eq!(
            Permission::Cancel.name("cloudaicompanion"),
            "cloudaicompanion.operations.cancel"
        );
    }

    #[test]
    fn builtin_editor_adds_cancel_and_delete_to_viewer() {
        let viewer = builtin_role("roles/viewer").expect("viewer");
        let editor = builtin_role("roles/editor").expect("editor");
        assert!(viewer.contains(Permission::Wait) && !viewer.contains(Permission::Cancel));
        assert!(editor.contains(Permission::Cancel) && editor.contains(Permission::Delete));
        assert!(!editor.contains(Permission::Create));
        let worker = builtin_role("roles/longrun.worker").expect("worker");
        assert!(worker.contains(Permission::Watch) && !worker.contains(Permission::Get));
        assert!(builtin_role("roles/unknown").is_none());
    }
}
