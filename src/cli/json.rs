//! The proto3 JSON mapping of longrun's messages for `-o json`: prost-reflect
//! over the type registry, so `Any` prints as `{"@type": ...}` with its
//! fields. A type the registry does not know is an error naming it, never
//! made-up JSON (docs/behaviour.md §6).

use anyhow::{Context as _, anyhow, bail};
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage as _, Value};

use super::output::type_name;
use crate::registry::TypeRegistry;
use crate::transcode::response::{RenderOptions, render_message};

const ANY_TYPE: &str = "google.protobuf.Any";

/// The proto3 JSON mapping of `message`, read as the registry's `full_name`,
/// pretty or on one line. Serialized straight from the dynamic message so the
/// keys keep the proto's field order. An `Any` anywhere inside whose type the
/// registry does not know is an error naming the type: printing its bytes
/// would be inventing JSON.
pub fn json_text<M: Message>(
    registry: &TypeRegistry,
    full_name: &str,
    message: &M,
    pretty: bool,
) -> anyhow::Result<String> {
    let descriptor = registry
        .pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow!("type {full_name} is missing from the type registry"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .with_context(|| format!("cannot decode the {full_name}"))?;
    if let Some(unknown) = unregistered_any(registry, &dynamic, "") {
        bail!("{unknown}");
    }
    // The printer REST answers with, so `-o json` and a REST body of the
    // same operation are the same JSON (`Any(Empty)` included).
    let options = RenderOptions {
        pretty,
        ..RenderOptions::default()
    };
    let text = render_message(&dynamic, &options)
        .map_err(|err| anyhow!("cannot print as JSON: {}", err.message))?;
    String::from_utf8(text).context("cannot print as JSON")
}

/// Where an unprintable `Any` sits and what it holds.
#[derive(Debug, PartialEq, Eq)]
struct UnregisteredAny {
    path: String,
    type_url: String,
}

impl std::fmt::Display for UnregisteredAny {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.type_url.is_empty() {
            return write!(
                f,
                "cannot print as JSON: {} is an Any without a type URL; use -o table",
                self.path
            );
        }
        write!(
            f,
            "cannot print as JSON: {} holds type {:?}, which is not registered; \
             pass a descriptor set that contains it with --descriptor-set FILE, or use -o table",
            self.path,
            type_name(&self.type_url),
        )
    }
}

fn unregistered_any(
    registry: &TypeRegistry,
    message: &DynamicMessage,
    path: &str,
) -> Option<UnregisteredAny> {
    if message.descriptor().full_name() == ANY_TYPE {
        let type_url = message
            .get_field_by_name("type_url")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let Some(descriptor) = registry.message_for_type_url(&type_url) else {
            return Some(UnregisteredAny {
                path: path.to_owned(),
                type_url,
            });
        };
        let value = message.get_field_by_name("value")?;
        // Bytes that do not decode are reported by the serializer itself.
        let inner = DynamicMessage::decode(descriptor, value.as_bytes()?.clone()).ok()?;
        return unregistered_any(registry, &inner, path);
    }
    message.fields().find_map(|(field, value)| {
        let here = if path.is_empty() {
            field.json_name().to_owned()
        } else {
            format!("{path}.{}", field.json_name())
        };
        unregistered_in_value(registry, value, &here)
    })
}

fn unregistered_in_value(
    registry: &TypeRegistry,
    value: &Value,
    path: &str,
) -> Option<UnregisteredAny> {
    match value {
        Value::Message(message) => unregistered_any(registry, message, path),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| unregistered_in_value(registry, item, &format!("{path}[{i}]"))),
        Value::Map(entries) => entries
            .values()
            .find_map(|item| unregistered_in_value(registry, item, path)),
        Value::Bool(_)
        | Value::I32(_)
        | Value::I64(_)
        | Value::U32(_)
        | Value::U64(_)
        | Value::F32(_)
        | Value::F64(_)
        | Value::String(_)
        | Value::Bytes(_)
        | Value::EnumNumber(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::output::OutputFormat;
    use crate::cli::output::tests::{builtin, cancelled, printer, succeeded};
    use crate::pb;
    use crate::pb::longrunning::operation::Result as OperationResult;
    use serde_json::json;

    #[test]
    fn json_of_operation_uses_proto3_mapping_with_typed_metadata() {
        let registry = builtin();
        let text = printer(&registry, OutputFormat::Json)
            .operation(&cancelled())
            .expect("printable");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            value,
            json!({
                "name": "projects/p/locations/l/operations/c",
                "metadata": {
                    "@type": "type.googleapis.com/longrun.v1.OperationMetadata",
                    "createTime": "2026-01-02T03:04:05.123Z",
                    "requestedCancellation": true
                },
                "done": true,
                "error": {"code": 1, "message": "cancelled by worker"}
            })
        );
    }

    #[test]
    fn json_keys_follow_the_proto_field_order() {
        let registry = builtin();
        let text = json_text(
            &registry,
            "google.longrunning.Operation",
            &cancelled(),
            false,
        )
        .expect("printable");
        let position = |key: &str| text.find(&format!("\"{key}\"")).expect(key);
        assert!(position("name") < position("metadata"), "{text}");
        assert!(position("metadata") < position("done"), "{text}");
        assert!(position("done") < position("error"), "{text}");
    }

    #[test]
    fn json_of_empty_response_is_its_type_alone_as_over_rest() {
        let registry = builtin();
        let text = json_text(
            &registry,
            "google.longrunning.Operation",
            &succeeded(),
            false,
        )
        .expect("printable");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            value,
            json!({
                "name": "projects/p/locations/l/operations/ok",
                "done": true,
                "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}
            })
        );
    }

    #[test]
    fn json_of_unregistered_response_type_names_the_type() {
        let registry = builtin();
        let mut op = succeeded();
        op.result = Some(OperationResult::Response(prost_types::Any {
            type_url: "type.googleapis.com/acme.v1.Widget".into(),
            value: vec![8, 1],
        }));
        let err = printer(&registry, OutputFormat::Json)
            .operation(&op)
            .expect_err("not printable");
        let message = err.to_string();
        assert!(
            message.contains(r#"response holds type "acme.v1.Widget""#),
            "{message}"
        );
        assert!(message.contains("--descriptor-set"), "{message}");
    }

    #[test]
    fn json_finds_unregistered_types_nested_in_error_details() {
        let registry = builtin();
        let mut op = cancelled();
        op.result = Some(OperationResult::Error(pb::rpc::Status {
            code: 3,
            message: "bad".into(),
            details: vec![
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.ErrorInfo".into(),
                    value: Vec::new(),
                },
                prost_types::Any {
                    type_url: "type.googleapis.com/acme.v1.Detail".into(),
                    value: Vec::new(),
                },
            ],
        }));
        let unknown = json_text(&registry, "google.longrunning.Operation", &op, true)
            .expect_err("not printable")
            .to_string();
        assert!(
            unknown.contains(r#"error.details[1] holds type "acme.v1.Detail""#),
            "{unknown}"
        );
    }
}
