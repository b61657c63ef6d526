//! Placeholder with the final API; the router lands on its own branch.
use super::{Binding, PathBinding, TranscodeError};

pub struct Router {
    bindings: Vec<Binding>,
}

pub enum RouteResult<'a> {
    Matched {
        binding: &'a Binding,
        bindings: Vec<PathBinding>,
    },
    MethodNotAllowed {
        allow: Vec<http::Method>,
    },
    NotFound,
    BadPath(TranscodeError),
}

impl Router {
    pub fn new(bindings: Vec<Binding>) -> Self {
        Self { bindings }
    }

    pub fn route(&self, _method: &http::Method, _path: &str) -> RouteResult<'_> {
        let _ = &self.bindings;
        RouteResult::NotFound
    }
}
