//! The policy file: bindings of members to roles on resources, and custom
//! roles. Compiled once per load into a map from member to grants, so a
//! check is a few hash lookups and bit tests. Reloaded on SIGHUP through
//! `PolicyHandle`, which swaps an `Arc` so calls in flight keep the policy
//! they started with and a bad file never replaces a good one.
//!
//! ```yaml
//! roles:                       # optional custom roles
//!   - name: roles/canceller
//!     permissions: [cloudaicompanion.operations.get, cloudaicompanion.operations.cancel]
//! bindings:
//!   - role: roles/viewer
//!     members: [user:alice@example.com, group:eng]
//!     resources: [projects/p1, projects/p2/locations/us-east1]   # or "*"
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Deserialize;

use super::permission::builtin_role;
use super::{Permission, PermissionSet, Principal};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    roles: Vec<RoleFile>,
    #[serde(default)]
    bindings: Vec<BindingFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    name: String,
    permissions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingFile {
    role: String,
    members: Vec<String>,
    resources: Vec<String>,
}

/// Where a binding applies.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    Everything,
    Project(String),
    Location(String, String),
}

impl Scope {
    fn parse(text: &str) -> Option<Self> {
        if text == "*" {
            return Some(Scope::Everything);
        }
        let segment_ok = |s: &str| !s.is_empty() && s != "*" && s != "-" && !s.contains(':');
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["projects", p] if segment_ok(p) => Some(Scope::Project((*p).to_owned())),
            ["projects", p, "locations", l] if segment_ok(p) && segment_ok(l) => {
                Some(Scope::Location((*p).to_owned(), (*l).to_owned()))
            }
            _ => None,
        }
    }

    fn covers(&self, project: &str, location: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Project(p) => p == project,
            Scope::Location(p, l) => p == project && l == location,
        }
    }

    /// Covers every location of `project` (what listing with `-` needs).
    fn covers_project(&self, project: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Project(p) => p == project,
            Scope::Location(..) => false,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    scope: Scope,
    permissions: PermissionSet,
}

/// A compiled policy.
#[derive(Debug)]
pub struct Policy {
    prefix: String,
    allow_all: bool,
    by_member: HashMap<String, Vec<Entry>>,
}

impl Policy {
    /// Lets everyone do everything: trusted in-process callers, and servers
    /// run without authentication.
    pub fn allow_all(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            allow_all: true,
            by_member: HashMap::new(),
        }
    }

    /// Lets nobody do anything.
    pub fn deny_all(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            allow_all: false,
            by_member: HashMap::new(),
        }
    }

    pub fn load(path: &Path, prefix: &str) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(&text, prefix).map_err(|message| PolicyError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    pub fn from_yaml(text: &str, prefix: &str) -> Result<Self, String> {
        let file: PolicyFile = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        let mut roles = HashMap::new();
        for role in file.roles {
            if builtin_role(&role.name).is_some() {
                return Err(format!(
                    "role {:?} is built in; pick another name",
                    role.name
                ));
            }
            let mut set = PermissionSet::empty();
            for name in &role.permissions {
                let permission = Permission::parse(name, prefix).ok_or_else(|| {
                    format!(
                        "role {:?}: unknown permission {name:?} (expected {prefix}.operations.<verb>)",
                        role.name
                    )
                })?;
                set = set.with(permission);
            }
            roles.insert(role.name, set);
        }
        let mut by_member: HashMap<String, Vec<Entry>> = HashMap::new();
        for binding in file.bindings {
            let permissions = builtin_role(&binding.role)
                .or_else(|| roles.get(&binding.role).copied())
                .ok_or_else(|| format!("unknown role {:?}", binding.role))?;
            for member in &binding.members {
                check_member(member)?;
            }
            for resource in &binding.resources {
                let scope = Scope::parse(resource).ok_or_else(|| {
                    format!(
                        "resource {resource:?}: expected \"*\", \"projects/P\" or \"projects/P/locations/L\""
                    )
                })?;
                for member in &binding.members {
                    by_member.entry(member.clone()).or_default().push(Entry {
                        scope: scope.clone(),
                        permissions,
                    });
                }
            }
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            allow_all: false,
            by_member,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn entries<'a>(&'a self, principal: &'a Principal) -> impl Iterator<Item = &'a Entry> + 'a {
        principal
            .members()
            .iter()
            .filter_map(|m| self.by_member.get(m))
            .flatten()
    }

    /// May `principal` do `permission` on an operation in `project`/`location`?
    pub fn allows(
        &self,
        principal: &Principal,
        permission: Permission,
        project: &str,
        location: &str,
    ) -> bool {
        self.allow_all
            || self
                .entries(principal)
                .any(|e| e.permissions.contains(permission) && e.scope.covers(project, location))
    }

    /// Every location of `project` (what `-` needs)?
    pub fn allows_project(
        &self,
        principal: &Principal,
        permission: Permission,
        project: &str,
    ) -> bool {
        self.allow_all
            || self
                .entries(principal)
                .any(|e| e.permissions.contains(permission) && e.scope.covers_project(project))
    }

    /// The single locations of `project` where `principal` has `permission`.
    pub fn locations(
        &self,
        principal: &Principal,
        permission: Permission,
        project: &str,
    ) -> BTreeSet<String> {
        self.entries(principal)
            .filter(|e| e.permissions.contains(permission))
            .filter_map(|e| match &e.scope {
                Scope::Location(p, l) if p == project => Some(l.clone()),
                Scope::Location(..) | Scope::Project(_) | Scope::Everything => None,
            })
            .collect()
    }

    /// Has `principal` got `permission` on anything at all?
    pub fn allows_anywhere(&self, principal: &Principal, permission: Permission) -> bool {
        self.allow_all
            || self
                .entries(principal)
                .any(|e| e.permissions.contains(permission))
    }
}

fn check_member(member: &str) -> Result<(), String> {
    const KINDS: [&str; 4] = ["user:", "serviceAccount:", "group:", "subject:"];
    let ok = member == "allAuthenticatedUsers"
        || KINDS
            .iter()
            .any(|k| member.strip_prefix(k).is_some_and(|rest| !rest.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "member {member:?}: expected user:EMAIL, serviceAccount:EMAIL, group:NAME, subject:SUB or allAuthenticatedUsers"
        ))
    }
}

/// The policy of one plane, swapped whole on reload.
pub struct PolicyHandle {
    path: Option<PathBuf>,
    prefix: String,
    current: ArcSwap<Policy>,
}

impl PolicyHandle {
    /// Loads `path` now; a bad file is an error at start.
    pub fn from_file(path: PathBuf, prefix: &str) -> Result<Self, PolicyError> {
        let policy = Policy::load(&path, prefix)?;
        Ok(Self {
            path: Some(path),
            prefix: prefix.to_owned(),
            current: ArcSwap::from_pointee(policy),
        })
    }

    /// A policy that is not read from a file and never changes.
    pub fn fixed(policy: Policy) -> Self {
        Self {
            path: None,
            prefix: policy.prefix.clone(),
            current: ArcSwap::from_pointee(policy),
        }
    }

    /// The policy now; calls keep the one they got for their whole life.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }

    /// Reads the file again. On failure the old policy stays in force and
    /// the error is returned (and logged by the caller).
    pub fn reload(&self) -> Result<(), PolicyError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let policy = Policy::load(path, &self.prefix)?;
        self.current.store(Arc::new(policy));
        tracing::info!(path = %path.display(), "policy reloaded");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "cloudaicompanion";

    fn alice() -> Principal {
        Principal::new(
            "alice-sub".into(),
            Some("alice@example.com".into()),
            vec!["eng".into()],
            Vec::new(),
            None,
        )
    }

    #[test]
    fn policy_binding_on_project_covers_its_locations_only() {
        let policy = Policy::from_yaml(
            "bindings:\n  - role: roles/viewer\n    members: [user:alice@example.com]\n    resources: [projects/p]\n",
            PREFIX,
        )
        .expect("valid");
        assert!(policy.allows(&alice(), Permission::Get, "p", "l"));
        assert!(!policy.allows(&alice(), Permission::Cancel, "p", "l"));
        assert!(!policy.allows(&alice(), Permission::Get, "q", "l"));
        assert!(policy.allows_project(&alice(), Permission::List, "p"));
    }

    #[test]
    fn policy_location_binding_lists_its_locations_for_dash() {
        let policy = Policy::from_yaml(
            "bindings:\n  - role: roles/editor\n    members: [group:eng]\n    resources: [projects/p/locations/a, projects/p/locations/b]\n",
            PREFIX,
        )
        .expect("valid");
        assert!(policy.allows(&alice(), Permission::Cancel, "p", "a"));
        assert!(!policy.allows(&alice(), Permission::Cancel, "p", "c"));
        assert!(!policy.allows_project(&alice(), Permission::List, "p"));
        let locations: Vec<_> = policy
            .locations(&alice(), Permission::List, "p")
            .into_iter()
            .collect();
        assert_eq!(locations, ["a", "b"]);
        assert!(policy.allows_anywhere(&alice(), Permission::Delete));
        assert!(!policy.allows_anywhere(&alice(), Permission::Create));
    }

    #[test]
    fn policy_custom_role_grants_exactly_its_permissions() {
        let policy = Policy::from_yaml(
            "roles:\n  - name: roles/canceller\n    permissions: [cloudaicompanion.operations.cancel]\nbindings:\n  - role: roles/canceller\n    members: [subject:alice-sub]\n    resources: ['*']\n",
            PREFIX,
        )
        .expect("valid");
        assert!(policy.allows(&alice(), Permission::Cancel, "any", "where"));
        assert!(!policy.allows(&alice(), Permission::Get, "any", "where"));
    }

    #[test]
    fn policy_with_mistakes_is_rejected_with_a_message() {
        for (bad, needle) in [
            (
                "bindings:\n  - role: roles/nope\n    members: [user:a]\n    resources: ['*']\n",
                "unknown role",
            ),
            (
                "bindings:\n  - role: roles/viewer\n    members: [alice]\n    resources: ['*']\n",
                "member",
            ),
            (
                "bindings:\n  - role: roles/viewer\n    members: [user:a]\n    resources: [projects/p/x]\n",
                "resource",
            ),
            (
                "roles:\n  - name: roles/r\n    permissions: [other.operations.get]\n",
                "unknown permission",
            ),
            (
                "roles:\n  - name: roles/viewer\n    permissions: []\n",
                "built in",
            ),
            ("bindigs: []\n", "unknown field"),
        ] {
            let err = Policy::from_yaml(bad, PREFIX).expect_err(bad);
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn policy_handle_reload_keeps_old_policy_on_bad_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("policy.yaml");
        std::fs::write(
            &path,
            "bindings:\n  - role: roles/viewer\n    members: [group:eng]\n    resources: ['*']\n",
        )
        .expect("write");
        let handle = PolicyHandle::from_file(path.clone(), PREFIX).expect("loads");
        assert!(handle.current().allows(&alice(), Permission::Get, "p", "l"));
        std::fs::write(&path, "bindings: [").expect("write");
        assert!(handle.reload().is_err());
        assert!(handle.current().allows(&alice(), Permission::Get, "p", "l"));
        std::fs::write(&path, "bindings: []\n").expect("write");
        handle.reload().expect("reloads");
        assert!(!handle.current().allows(&alice(), Permission::Get, "p", "l"));
    }
}
