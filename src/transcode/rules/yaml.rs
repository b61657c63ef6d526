//! The `http:` section of a service-config YAML (Google's `google.api.Service`
//! format), read into the same `pb::api::HttpRule` the annotations give, so
//! one validation path serves both. Keys are snake_case as in Google's
//! configs; the proto JSON lowerCamelCase spellings are accepted too. Other
//! top-level keys (`type`, `name`, `documentation`, ...) are ignored; unknown
//! keys inside a rule are refused, so a typo is not a silently lost setting.

use serde::Deserialize;

use super::{Origin, RuleProblem, RulesError};
use crate::pb::api::{CustomHttpPattern, HttpRule, http_rule::Pattern};

#[derive(Debug, Default, Deserialize)]
struct ServiceConfig {
    #[serde(default)]
    http: Option<HttpSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    #[serde(default)]
    rules: Vec<RuleYaml>,
    #[serde(default, alias = "fullyDecodeReservedExpansion")]
    fully_decode_reserved_expansion: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleYaml {
    #[serde(default)]
    selector: String,
    get: Option<String>,
    put: Option<String>,
    post: Option<String>,
    delete: Option<String>,
    patch: Option<String>,
    custom: Option<CustomYaml>,
    #[serde(default)]
    body: String,
    #[serde(default, alias = "responseBody")]
    response_body: String,
    #[serde(default, alias = "additionalBindings")]
    additional_bindings: Vec<RuleYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomYaml {
    kind: String,
    path: String,
}

/// The rules of a service config, in file order. An empty document, or one
/// without `http:`, has none.
pub(super) fn parse(text: &str) -> Result<Vec<HttpRule>, RulesError> {
    let config: ServiceConfig = if text.trim().is_empty() {
        ServiceConfig::default()
    } else {
        serde_yaml_ng::from_str::<Option<ServiceConfig>>(text)?.unwrap_or_default()
    };
    let http = config.http.unwrap_or_default();
    if http.fully_decode_reserved_expansion {
        return Err(RulesError::Unsupported(
            "fully_decode_reserved_expansion: true",
        ));
    }
    http.rules
        .into_iter()
        .map(|rule| {
            let selector = rule.selector.clone();
            into_http_rule(rule).map_err(|problem| RulesError::Rule {
                selector,
                origin: Origin::ServiceConfig,
                problem,
            })
        })
        .collect()
}

fn into_http_rule(rule: RuleYaml) -> Result<HttpRule, RuleProblem> {
    let mut patterns: Vec<(&str, Pattern)> = Vec::new();
    let simple = [
        ("get", rule.get.map(Pattern::Get)),
        ("put", rule.put.map(Pattern::Put)),
        ("post", rule.post.map(Pattern::Post)),
        ("delete", rule.delete.map(Pattern::Delete)),
        ("patch", rule.patch.map(Pattern::Patch)),
        (
            "custom",
            rule.custom.map(|custom| {
                Pattern::Custom(CustomHttpPattern {
                    kind: custom.kind,
                    path: custom.path,
                })
            }),
        ),
    ];
    for (key, pattern) in simple {
        if let Some(pattern) = pattern {
            patterns.push((key, pattern));
        }
    }
    if patterns.len() > 1 {
        let keys: Vec<&str> = patterns.iter().map(|(key, _)| *key).collect();
        return Err(RuleProblem::SeveralPatterns(keys.join(", ")));
    }
    Ok(HttpRule {
        selector: rule.selector,
        pattern: patterns.pop().map(|(_, pattern)| pattern),
        body: rule.body,
        response_body: rule.response_body,
        additional_bindings: rule
            .additional_bindings
            .into_iter()
            .map(into_http_rule)
            .collect::<Result<_, _>>()?,
    })
}
