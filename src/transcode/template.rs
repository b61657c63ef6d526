//! Placeholder: the path template grammar lands on its own branch.

/// A parsed `google.api.http` path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
}
