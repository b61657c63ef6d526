//! Renders an RPC's response as the HTTP body: the proto3 JSON mapping through
//! prost-reflect (lowerCamelCase, defaults omitted, int64 as strings, Any as
//! `{"@type": ...}` resolved from the message's own descriptor pool).
//!
//! An `Any` whose type the pool does not know is refused with the type's name
//! and how to register it (docs/behaviour.md §6: never invent JSON). Its code is
//! UNIMPLEMENTED (501): the request was fine and the RPC succeeded, so
//! INVALID_ARGUMENT or FAILED_PRECONDITION (400) would blame the client, who
//! cannot fix it; nothing is broken either, so not INTERNAL (500, which
//! invites retries and bug reports): this server is simply not set up to
//! show that type as JSON, the same call over gRPC works, and the operator
//! enables it with `--descriptor-set`.

pub(crate) mod tree;

use prost_reflect::{DynamicMessage, MapKey, ReflectMessage as _, SerializeOptions, Value};
use tonic::Code;

use self::tree::{Json, Limits};
use super::{Binding, TranscodeError};

const ANY: &str = "google.protobuf.Any";
const EMPTY: &str = "google.protobuf.Empty";

/// How the response JSON is written, from the `$alt` and `prettyPrint`
/// system parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RenderOptions {
    /// `$alt=json;enum-encoding=int`: enums as numbers, not names.
    pub enum_as_number: bool,
    /// `prettyPrint=true`: indented. Compact by default (Google defaults to
    /// indented; compact is smaller and what every client parses anyway).
    pub pretty: bool,
}

/// The HTTP body for `message`, the response of `binding`'s method: the whole
/// message, or its `response_body` field.
pub fn render_response(
    binding: &Binding,
    message: &DynamicMessage,
    options: &RenderOptions,
) -> Result<Vec<u8>, TranscodeError> {
    let output = binding.method.output();
    if message.descriptor() != output {
        return Err(internal(format!(
            "{} returned a {}, not its declared {}",
            binding.method.full_name(),
            message.descriptor().full_name(),
            output.full_name()
        )));
    }
    let Some(name) = &binding.response_body else {
        return render_message(message, options);
    };
    let field = output.get_field_by_name(name).ok_or_else(|| {
        internal(format!(
            "the HTTP rule of {} names response_body {name:?}, which {} does not have",
            binding.method.full_name(),
            output.full_name()
        ))
    })?;
    if !field.is_list()
        && !field.is_map()
        && let Value::Message(inner) = message.get_field(&field).as_ref()
    {
        return render_message(inner, options);
    }
    // A list, map or scalar: rendered as the one field of a copy (so the
    // other fields cannot fail it) and taken out, or its default when the
    // mapping omitted it.
    let mut alone = DynamicMessage::new(output.clone());
    if message.has_field(&field) {
        alone.set_field(&field, message.get_field(&field).into_owned());
    }
    let value = match render_tree(&alone, options)?.get(field.json_name()) {
        Some(value) => value.clone(),
        None => {
            let defaults = serialize(
                &DynamicMessage::new(output.clone()),
                &serialize_options(options).skip_default_fields(false),
            )?;
            defaults
                .get(field.json_name())
                .cloned()
                .unwrap_or(Json::Null)
        }
    };
    Ok(value.to_bytes(options.pretty))
}

/// The proto3 JSON text of any message whose Any payloads its pool knows.
pub(crate) fn render_message(
    message: &DynamicMessage,
    options: &RenderOptions,
) -> Result<Vec<u8>, TranscodeError> {
    // Printed first and checked after, because the walk that finds out why a
    // message cannot be printed costs as much as printing it: it only runs
    // when printing failed, to say which Any is the problem.
    let out = match print(message, options) {
        Ok(out) => out,
        Err(err) => {
            survey(message, "")?;
            return Err(not_renderable(message, &err));
        }
    };
    // An `Any(Empty)` prints its type URL, so output without that name
    // holds none and is final; otherwise the tree takes its `"value": {}`
    // out (a string that merely contains the name only costs the detour).
    if !contains(&out, EMPTY_TYPE_SUFFIX) {
        return Ok(out);
    }
    Ok(tree_of(message, options)?.to_bytes(options.pretty))
}

/// How the type URL of an `Any(Empty)` ends in printed JSON (with or
/// without a host before it).
const EMPTY_TYPE_SUFFIX: &[u8] = b"google.protobuf.Empty\"";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn print(message: &DynamicMessage, options: &RenderOptions) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let written = if options.pretty {
        message.serialize_with_options(
            &mut serde_json::Serializer::pretty(&mut out),
            &serialize_options(options),
        )
    } else {
        message.serialize_with_options(
            &mut serde_json::Serializer::new(&mut out),
            &serialize_options(options),
        )
    };
    written?;
    Ok(out)
}

/// The proto3 JSON of `message` as a tree, for embedding (error details).
///
/// `Any(Empty)` is written `{"@type": ".../google.protobuf.Empty"}`, as
/// Google's APIs and the Java and C++ JSON printers do; prost-reflect counts
/// Empty among the well-known types and adds `"value": {}`, which the tree
/// takes out again.
pub(crate) fn render_tree(
    message: &DynamicMessage,
    options: &RenderOptions,
) -> Result<Json, TranscodeError> {
    survey(message, "")?;
    tree_of(message, options)
}

fn tree_of(message: &DynamicMessage, options: &RenderOptions) -> Result<Json, TranscodeError> {
    let mut tree = serialize(message, &serialize_options(options))?;
    drop_empty_any_values(&mut tree);
    Ok(tree)
}

fn serialize_options(options: &RenderOptions) -> SerializeOptions {
    SerializeOptions::new().use_enum_numbers(options.enum_as_number)
}

fn serialize(message: &DynamicMessage, options: &SerializeOptions) -> Result<Json, TranscodeError> {
    let mut out = Vec::new();
    message
        .serialize_with_options(&mut serde_json::Serializer::new(&mut out), options)
        .map_err(|err| not_renderable(message, &err))?;
    let text = String::from_utf8(out).map_err(|err| not_renderable(message, &err))?;
    // Our own output: only serde_json's recursion limit applies.
    tree::parse(&text, Limits { max_depth: 128 })
        .map_err(|err| not_renderable(message, &format!("{err:?}")))
}

fn drop_empty_any_values(json: &mut Json) {
    match json {
        Json::Object(entries) => {
            let is_empty_any = matches!(
                entries.first(),
                Some((key, Json::String(url))) if key == "@type" && type_name(url) == EMPTY
            );
            if is_empty_any {
                entries.retain(|(key, value)| !(key == "value" && value.is_empty_object()));
            }
            entries
                .iter_mut()
                .for_each(|(_, value)| drop_empty_any_values(value));
        }
        Json::Array(items) => items.iter_mut().for_each(drop_empty_any_values),
        Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_) => {}
    }
}

pub(crate) use crate::registry::type_name;

/// What a walk over the message found before it is serialized.
#[derive(Default)]
struct Survey {
    empty_any: bool,
}

/// Checks every `Any` inside `message` (at any depth, inside other Anys too)
/// resolves in the message's pool, so the refusal can name the type and
/// where it sits rather than relay a serializer error.
fn survey(message: &DynamicMessage, path: &str) -> Result<Survey, TranscodeError> {
    let mut found = Survey::default();
    if message.descriptor().full_name() == ANY {
        let any: prost_types::Any = message
            .transcode_to()
            .map_err(|err| not_renderable(message, &err))?;
        let name = type_name(&any.type_url);
        let where_ = if path.is_empty() {
            "the response"
        } else {
            path
        };
        if any.type_url.is_empty() {
            return Err(internal(format!(
                "cannot render {where_} as JSON: it is an Any without a type URL"
            )));
        }
        let Some(descriptor) = message.descriptor().parent_pool().get_message_by_name(name) else {
            return Err(unregistered(where_, name));
        };
        let inner = DynamicMessage::decode(descriptor, any.value.as_slice()).map_err(|err| {
            internal(format!(
                "cannot render {where_} as JSON: its {name} payload does not decode: {err}"
            ))
        })?;
        found.empty_any = name == EMPTY;
        let nested = survey(&inner, path)?;
        found.empty_any |= nested.empty_any;
        return Ok(found);
    }
    for (field, value) in message.fields() {
        let here = if path.is_empty() {
            field.json_name().to_owned()
        } else {
            format!("{path}.{}", field.json_name())
        };
        found.empty_any |= survey_value(value, &here)?;
    }
    Ok(found)
}

fn survey_value(value: &Value, path: &str) -> Result<bool, TranscodeError> {
    match value {
        Value::Message(message) => Ok(survey(message, path)?.empty_any),
        Value::List(items) => items.iter().enumerate().try_fold(false, |acc, (i, item)| {
            Ok(acc | survey_value(item, &format!("{path}[{i}]"))?)
        }),
        Value::Map(entries) => entries.iter().try_fold(false, |acc, (key, item)| {
            Ok(acc | survey_value(item, &format!("{path}.{}", map_key_text(key)))?)
        }),
        Value::Bool(_)
        | Value::I32(_)
        | Value::I64(_)
        | Value::U32(_)
        | Value::U64(_)
        | Value::F32(_)
        | Value::F64(_)
        | Value::String(_)
        | Value::Bytes(_)
        | Value::EnumNumber(_) => Ok(false),
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(v) => v.to_string(),
        MapKey::I32(v) => v.to_string(),
        MapKey::I64(v) => v.to_string(),
        MapKey::U32(v) => v.to_string(),
        MapKey::U64(v) => v.to_string(),
        MapKey::String(v) => v.clone(),
    }
}

fn unregistered(path: &str, name: &str) -> TranscodeError {
    TranscodeError::new(
        Code::Unimplemented,
        "UNREGISTERED_TYPE",
        format!(
            "cannot show {path} as JSON: it holds a {name}, a type this server does not know; \
             restart the server with --descriptor-set FILE, where FILE is a descriptor set \
             (protoc --include_imports --descriptor_set_out=FILE) that contains {name}; \
             gRPC clients are not affected"
        ),
    )
}

fn not_renderable(message: &DynamicMessage, err: &dyn std::fmt::Display) -> TranscodeError {
    internal(format!(
        "cannot render a {} as JSON: {err}",
        message.descriptor().full_name()
    ))
}

fn internal(message: String) -> TranscodeError {
    TranscodeError::new(Code::Internal, "RESPONSE_NOT_RENDERABLE", message)
}

#[cfg(test)]
mod tests;
