//! HTTP rules: the `google.api.http` annotations of a descriptor pool,
//! overridden per selector by a service-config YAML (as Google's own service
//! configs do), validated against the pool and resolved into [`Binding`]s.
//!
//! - A YAML rule replaces every binding of its selector (annotation and
//!   `additional_bindings` alike); within the YAML, the last rule for a
//!   selector wins ("last one wins", google/api/http.proto).
//! - A method with neither an annotation nor a rule gets no route.
//! - Every YAML rule is checked in full (selector, pattern, template, body,
//!   path variables, response_body), even one for a service the caller does
//!   not serve: both listeners read the same file, a typo fails at startup
//!   instead of leaving a route out. Annotations are checked for the served
//!   services only; a user's pool may annotate services longrun never serves.
//! - Two bindings with the same HTTP method and the same template shape
//!   (variable names aside) are refused: one of them could never be reached.

mod yaml;

use std::collections::HashMap;

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor, MethodDescriptor, Value};

use super::template::{PathTemplate, TemplateError};
use super::{Binding, BodyRule};
use crate::pb::api::{HttpRule, http_rule::Pattern};

/// The routes longrun serves by default (the origin API's routes and ours).
pub const DEFAULT_RULES: &str = include_str!("../../config/http_rules.yaml");

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("http rules: invalid service config YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("http rules: {0} is not supported")]
    Unsupported(&'static str),
    #[error("http rules: no service {0:?} in the descriptor pool")]
    UnknownService(String),
    #[error("http rule for {selector:?} ({origin}): {problem}")]
    Rule {
        selector: String,
        origin: Origin,
        problem: RuleProblem,
    },
}

/// Where a rule came from, so an error points at the file to fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Annotation,
    ServiceConfig,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Annotation => "google.api.http annotation",
            Self::ServiceConfig => "service config",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("the rule has no selector")]
    MissingSelector,
    #[error("no such method in the descriptor pool")]
    UnknownMethod,
    #[error("no HTTP pattern: one of get, put, post, delete, patch or custom is needed")]
    NoPattern,
    #[error("several HTTP patterns ({0}): a rule has exactly one")]
    SeveralPatterns(String),
    #[error("custom method {0:?} is not an HTTP method token")]
    BadCustomMethod(String),
    #[error("custom method \"*\" (any method) is not supported")]
    AnyMethod,
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("additional_bindings cannot have additional_bindings")]
    NestedAdditionalBindings,
    #[error("an additional binding cannot have a selector ({0:?})")]
    AdditionalSelector(String),
    #[error("body {field:?}: {why}")]
    Body { field: String, why: String },
    #[error("path variable {field:?}: {why}")]
    PathVariable { field: String, why: String },
    #[error("response_body {field:?}: {why}")]
    ResponseBody { field: String, why: String },
    #[error("{route} is also bound to {other}")]
    Conflict { route: String, other: String },
    #[error("the google.api.http annotation does not decode: {0}")]
    Annotation(String),
}

/// The bindings of every method of `services` (full names, in that order),
/// from the pool's annotations overridden by `service_config_yaml`.
pub fn load(
    pool: &DescriptorPool,
    service_config_yaml: Option<&str>,
    services: &[&str],
) -> Result<Vec<Binding>, RulesError> {
    let mut overrides: HashMap<String, HttpRule> = HashMap::new();
    for rule in yaml::parse(service_config_yaml.unwrap_or_default())? {
        let error = |problem| RulesError::Rule {
            selector: rule.selector.clone(),
            origin: Origin::ServiceConfig,
            problem,
        };
        if rule.selector.is_empty() {
            return Err(error(RuleProblem::MissingSelector));
        }
        let method =
            find_method(pool, &rule.selector).ok_or_else(|| error(RuleProblem::UnknownMethod))?;
        // Checked even when `services` leaves the method out: both listeners
        // read one file, and both should refuse it if it is wrong.
        resolve(&method, &rule).map_err(error)?;
        overrides.insert(rule.selector.clone(), rule);
    }
    let extension = pool.get_extension_by_name("google.api.http");
    let mut bindings = Vec::new();
    for service_name in services {
        let service = pool
            .get_service_by_name(service_name)
            .ok_or_else(|| RulesError::UnknownService((*service_name).to_owned()))?;
        for method in service.methods() {
            let selector = method.full_name().to_owned();
            let error = |origin, problem| RulesError::Rule {
                selector: selector.clone(),
                origin,
                problem,
            };
            let (rule, origin) = match overrides.remove(&selector) {
                Some(rule) => (rule, Origin::ServiceConfig),
                None => match annotation(&method, extension.as_ref()) {
                    Some(Ok(rule)) => (rule, Origin::Annotation),
                    Some(Err(problem)) => return Err(error(Origin::Annotation, problem)),
                    None => continue,
                },
            };
            let method_bindings =
                resolve(&method, &rule).map_err(|problem| error(origin, problem))?;
            for binding in method_bindings {
                check_conflict(&bindings, &binding).map_err(|problem| error(origin, problem))?;
                bindings.push(binding);
            }
        }
    }
    Ok(bindings)
}

/// `pkg.Service.Method` in the pool.
fn find_method(pool: &DescriptorPool, selector: &str) -> Option<MethodDescriptor> {
    let (service, method) = selector.rsplit_once('.')?;
    pool.get_service_by_name(service)?
        .methods()
        .find(|candidate| candidate.name() == method)
}

/// The method's `google.api.http` option, if the pool knows the extension
/// and the method sets it.
fn annotation(
    method: &MethodDescriptor,
    extension: Option<&prost_reflect::ExtensionDescriptor>,
) -> Option<Result<HttpRule, RuleProblem>> {
    let extension = extension?;
    let options = method.options();
    if !options.has_extension(extension) {
        return None;
    }
    let value = options.get_extension(extension);
    Some(if let Value::Message(message) = value.as_ref() {
        message
            .transcode_to::<HttpRule>()
            .map_err(|e| RuleProblem::Annotation(e.to_string()))
    } else {
        Err(RuleProblem::Annotation(format!("not a message: {value:?}")))
    })
}

/// The rule and its additional bindings, validated, in that order.
fn resolve(method: &MethodDescriptor, rule: &HttpRule) -> Result<Vec<Binding>, RuleProblem> {
    let mut bindings = vec![binding(method, rule)?];
    for additional in &rule.additional_bindings {
        if !additional.selector.is_empty() {
            return Err(RuleProblem::AdditionalSelector(additional.selector.clone()));
        }
        if !additional.additional_bindings.is_empty() {
            return Err(RuleProblem::NestedAdditionalBindings);
        }
        bindings.push(binding(method, additional)?);
    }
    Ok(bindings)
}

fn binding(method: &MethodDescriptor, rule: &HttpRule) -> Result<Binding, RuleProblem> {
    let (http_method, path) = match rule.pattern.as_ref().ok_or(RuleProblem::NoPattern)? {
        Pattern::Get(path) => (http::Method::GET, path),
        Pattern::Put(path) => (http::Method::PUT, path),
        Pattern::Post(path) => (http::Method::POST, path),
        Pattern::Delete(path) => (http::Method::DELETE, path),
        Pattern::Patch(path) => (http::Method::PATCH, path),
        Pattern::Custom(custom) => (custom_method(&custom.kind)?, &custom.path),
    };
    let template = PathTemplate::parse(path)?;
    let input = method.input();
    for field_path in template.variables() {
        check_path_variable(&input, &field_path).map_err(|why| RuleProblem::PathVariable {
            field: field_path.join("."),
            why,
        })?;
    }
    let body = match rule.body.as_str() {
        "" => BodyRule::None,
        "*" => BodyRule::All,
        field => {
            check_body_field(&input, field).map_err(|why| RuleProblem::Body {
                field: field.to_owned(),
                why,
            })?;
            BodyRule::Field(field.to_owned())
        }
    };
    let response_body = match rule.response_body.as_str() {
        "" => None,
        field => {
            let output = method.output();
            if output.get_field_by_name(field).is_none() {
                return Err(RuleProblem::ResponseBody {
                    field: field.to_owned(),
                    why: format!("no such field in {}", output.full_name()),
                });
            }
            Some(field.to_owned())
        }
    };
    Ok(Binding {
        method: method.clone(),
        http_method,
        template,
        body,
        response_body,
    })
}

fn custom_method(kind: &str) -> Result<http::Method, RuleProblem> {
    if kind == "*" {
        return Err(RuleProblem::AnyMethod);
    }
    if kind.is_empty() {
        return Err(RuleProblem::BadCustomMethod(kind.to_owned()));
    }
    http::Method::from_bytes(kind.as_bytes())
        .map_err(|_| RuleProblem::BadCustomMethod(kind.to_owned()))
}

/// A path variable names a chain of singular message fields ending at a
/// singular non-message field (a string or another scalar, or an enum):
/// what one path segment can spell.
fn check_path_variable(message: &MessageDescriptor, path: &[String]) -> Result<(), String> {
    let mut message = message.clone();
    for (index, name) in path.iter().enumerate() {
        let field = message
            .get_field_by_name(name)
            .ok_or_else(|| format!("no field {name:?} in {}", message.full_name()))?;
        if field.is_list() || field.is_map() {
            return Err(format!("{name:?} is repeated; a path binds a single value"));
        }
        let last = index + 1 == path.len();
        match (field.kind(), last) {
            (Kind::Message(inner), false) => message = inner,
            (Kind::Message(inner), true) => {
                return Err(format!(
                    "{name:?} is a message ({}); a path binds a string or a scalar",
                    inner.full_name()
                ));
            }
            (_, false) => return Err(format!("{name:?} is not a message, so it has no fields")),
            (_, true) => {}
        }
    }
    Ok(())
}

/// `body: "field"` names a top-level singular message field of the request
/// (http.proto: "must be present at the top-level of the request").
fn check_body_field(message: &MessageDescriptor, name: &str) -> Result<(), String> {
    let field = message
        .get_field_by_name(name)
        .ok_or_else(|| format!("no such field in {}", message.full_name()))?;
    if field.is_list() || field.is_map() {
        return Err("a repeated field cannot be the body".to_owned());
    }
    if matches!(field.kind(), Kind::Message(_)) {
        Ok(())
    } else {
        Err("not a message field; the body is a JSON object".to_owned())
    }
}

fn check_conflict(existing: &[Binding], new: &Binding) -> Result<(), RuleProblem> {
    let shape = new.template.shape();
    let clash = existing
        .iter()
        .find(|b| b.http_method == new.http_method && b.template.shape() == shape);
    match clash {
        Some(other) => Err(RuleProblem::Conflict {
            route: format!("{} {}", new.http_method, new.template),
            other: other.method.full_name().to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
