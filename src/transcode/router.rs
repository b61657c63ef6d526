//! Routing: which binding serves an HTTP method and a raw path, and what to
//! answer when none does (400 for a malformed path, 405 with `Allow` when
//! only other methods match, 404 otherwise).
//!
//! Rules, in the order they apply:
//! - The path is checked first ([`check_path`](super::template::check_path)): an empty or dot segment, a
//!   malformed escape or invalid UTF-8 is `BadPath`, never a match.
//! - A registered verb is always a verb (docs/behaviour.md §6). The router knows every
//!   verb its bindings declare; when the last segment of a path ends in
//!   `:<one of them>`, only templates with that verb are candidates, so
//!   `GET .../x:cancel` cannot become a Get of `x:cancel`. Any other text
//!   after a colon is data, and only verb-less templates are candidates.
//! - Among the matching bindings of the request's method the most specific
//!   template wins ([`Specificity`](super::template::Specificity): more literal segments, then no `**`,
//!   then more segments before `**`, then literal-before-wildcard from the
//!   left); an exact tie goes to the binding given first.
//! - No binding of the method matches but some of another method do: 405,
//!   `Allow` lists those methods. `HEAD` is not implied by `GET`, nor
//!   `OPTIONS` answered.
//!
//! A linear scan over a list sorted by specificity: a service has a handful
//! of routes, and the first match of the request's method is the answer.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use http::Method;

use super::template::{SplitPath, checked_segments};
use super::{Binding, PathBinding, TranscodeError};

#[derive(Clone, Debug)]
pub struct Router {
    /// Most specific first; equal ones in the order given.
    bindings: Vec<Binding>,
    verbs: BTreeSet<String>,
}

#[derive(Debug)]
pub enum RouteResult<'a> {
    Matched {
        /// The binding's position in [`Router::bindings`].
        index: usize,
        binding: &'a Binding,
        bindings: Vec<PathBinding>,
    },
    /// The path matches bindings of other methods only; `allow` lists them,
    /// sorted and without duplicates.
    MethodNotAllowed {
        allow: Vec<Method>,
    },
    NotFound,
    /// The path is malformed (`INVALID_PATH`, 400).
    BadPath(TranscodeError),
}

impl Router {
    pub fn new(mut bindings: Vec<Binding>) -> Self {
        // A stable sort keeps the given order among equals.
        bindings.sort_by_cached_key(|binding| Reverse(binding.template.specificity()));
        let verbs = bindings
            .iter()
            .filter_map(|binding| binding.template.verb().map(str::to_owned))
            .collect();
        Self { bindings, verbs }
    }

    /// `path` is the raw request path: percent-encoded, without the query.
    pub fn route(&self, method: &Method, path: &str) -> RouteResult<'_> {
        let segments = match checked_segments(path) {
            Ok(segments) => segments,
            Err(error) => return RouteResult::BadPath(error),
        };
        let Some(split) = SplitPath::from_checked(path, segments, |verb| self.verbs.contains(verb))
        else {
            return RouteResult::NotFound;
        };
        let mut allow: Vec<Method> = Vec::new();
        for (index, binding) in self.bindings.iter().enumerate() {
            let Some(bindings) = binding.template.matches_split(&split) else {
                continue;
            };
            if binding.http_method == *method {
                return RouteResult::Matched {
                    index,
                    binding,
                    bindings,
                };
            }
            if !allow.contains(&binding.http_method) {
                allow.push(binding.http_method.clone());
            }
        }
        if allow.is_empty() {
            RouteResult::NotFound
        } else {
            allow.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            RouteResult::MethodNotAllowed { allow }
        }
    }

    /// Every binding, most specific first (for listings such as OpenAPI).
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }
}

#[cfg(test)]
mod tests;
