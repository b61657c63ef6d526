//! `Binding`: one HTTP route onto one RPC, as the rules resolve it against the
//! descriptor pool (method, path template, which fields the body and the path
//! fill, which field the response body shows).

use std::sync::Arc;

use prost_reflect::MethodDescriptor;

use super::template::PathTemplate;

/// One HTTP route onto one RPC: what `google.api.http` (or a service-config
/// rule) says for a method, resolved against the descriptor pool.
#[derive(Clone, Debug)]
pub struct Binding {
    pub method: MethodDescriptor,
    pub http_method: http::Method,
    pub template: PathTemplate,
    pub body: BodyRule,
    /// The response field that becomes the HTTP body; `None` for the whole
    /// response message.
    pub response_body: Option<String>,
}

/// Which request fields the HTTP body fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyRule {
    /// No body; every field not bound by the path comes from the query.
    None,
    /// `body: "*"`: every field the path does not bind; no query fields.
    All,
    /// `body: "field"`: that field; other fields from the query.
    Field(String),
}

/// A request field bound from the path: the field path (`["name"]`,
/// `["book", "shelf"]`) and the decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathBinding {
    /// Shared with the template: every request binds the same paths.
    pub field_path: Arc<[String]>,
    pub value: String,
}
