//! The JSON request body: refused before any field is read when it is not
//! UTF-8, not one JSON value, nested deeper than [`MAX_DEPTH`] or has a key
//! twice in one object; then walked against the descriptors, so an unknown
//! field or `@type` is reported with its path; then decoded by prost-reflect
//! (proto3 JSON mapping, unknown fields denied, Any types from the message's
//! own pool).

use std::borrow::Cow;
use std::collections::HashMap;

use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor,
    ReflectMessage as _,
};
use tonic::Code;

use crate::transcode::TranscodeError;
use crate::transcode::response::tree::{self, Json, Limits, ParseError};
use crate::transcode::response::type_name;

/// Deepest nesting of arrays and objects a body may have.
pub const MAX_DEPTH: usize = 64;

const ANY: &str = "google.protobuf.Any";
const EMPTY: &str = "google.protobuf.Empty";

/// A whole message from a JSON body.
pub(crate) fn parse_message(
    descriptor: &MessageDescriptor,
    body: &[u8],
) -> Result<DynamicMessage, TranscodeError> {
    let (text, mut json) = read(body)?;
    let mut rewritten = false;
    check_message(descriptor, &mut json, "", &mut rewritten)?;
    let text = if rewritten {
        Cow::Owned(rewrite(&json))
    } else {
        Cow::Borrowed(text)
    };
    decode(descriptor, &text)
}

/// The body as the value of one field (`body: "field"`).
pub(crate) fn parse_into_field(
    message: &mut DynamicMessage,
    field: &FieldDescriptor,
    body: &[u8],
) -> Result<(), TranscodeError> {
    let (text, mut json) = read(body)?;
    let mut rewritten = false;
    check_field(field, &mut json, field.name(), &mut rewritten)?;
    let text = if rewritten {
        Cow::Owned(rewrite(&json))
    } else {
        Cow::Borrowed(text)
    };
    if let (Kind::Message(descriptor), false, false) =
        (field.kind(), field.is_list(), field.is_map())
    {
        let value = decode(&descriptor, &text)?;
        message.set_field(field, prost_reflect::Value::Message(value));
        return Ok(());
    }
    // A list, map or scalar: decoded as the one field of a wrapping object.
    let wrapped = format!("{{{}:{text}}}", serde_json::Value::from(field.json_name()));
    let mut holder = decode(&message.descriptor(), &wrapped)?;
    if let Some(value) = holder.take_field(field) {
        message.set_field(field, value);
    }
    Ok(())
}

/// Checks the text before anything is decoded.
fn read(body: &[u8]) -> Result<(&str, Json), TranscodeError> {
    let text = std::str::from_utf8(body).map_err(|err| {
        TranscodeError::new(
            Code::InvalidArgument,
            "MALFORMED_JSON",
            format!(
                "the request body is not UTF-8 (invalid byte at offset {})",
                err.valid_up_to()
            ),
        )
    })?;
    let limits = Limits {
        max_depth: MAX_DEPTH,
    };
    let json = tree::parse(text, limits).map_err(|err| match err {
        ParseError::Syntax(message) => TranscodeError::new(
            Code::InvalidArgument,
            "MALFORMED_JSON",
            format!("the request body is not JSON: {message}"),
        ),
        ParseError::TooDeep { limit, position } => TranscodeError::new(
            Code::InvalidArgument,
            "JSON_TOO_DEEP",
            format!("the request body nests deeper than {limit} levels at {position}"),
        ),
        ParseError::DuplicateKey { key, position } => TranscodeError::bad_field(
            "DUPLICATE_FIELD",
            key.clone(),
            format!("the request body has the key {key:?} twice in one object, at {position}"),
        ),
    })?;
    Ok((text, json))
}

fn rewrite(json: &Json) -> String {
    String::from_utf8(json.to_bytes(false)).unwrap_or_default()
}

fn decode(descriptor: &MessageDescriptor, text: &str) -> Result<DynamicMessage, TranscodeError> {
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    DynamicMessage::deserialize_with_options(descriptor.clone(), &mut deserializer, &options)
        .and_then(|message| deserializer.end().map(|()| message))
        .map_err(|err| rejected(&err))
}

/// prost-reflect's refusals, for what the walk does not see (values of the
/// wrong type or out of range, and any gap in the walk).
fn rejected(err: &serde_json::Error) -> TranscodeError {
    let message = err.to_string();
    let quoted = message.split('\'').nth(1).unwrap_or_default().to_owned();
    if message.starts_with("unrecognized field name") {
        TranscodeError::bad_field(
            "UNKNOWN_FIELD",
            quoted,
            format!("the request body has an unknown field: {message}"),
        )
    } else if message.starts_with("message '") && message.contains("not found") {
        TranscodeError::new(
            Code::InvalidArgument,
            "UNKNOWN_TYPE",
            unknown_type_text(&quoted),
        )
    } else {
        TranscodeError::new(
            Code::InvalidArgument,
            "INVALID_FIELD_VALUE",
            format!("invalid request body: {message}"),
        )
    }
}

/// Whether prost-reflect reads `name` through its own JSON form, so its
/// fields are not JSON keys (and, inside an Any, it sits under `"value"`).
fn is_special(name: &str) -> bool {
    matches!(
        name,
        "google.protobuf.Any"
            | "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.Struct"
            | "google.protobuf.FloatValue"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.Int32Value"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
            | "google.protobuf.FieldMask"
            | "google.protobuf.ListValue"
            | "google.protobuf.Value"
            | "google.protobuf.Empty"
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check_message(
    descriptor: &MessageDescriptor,
    json: &mut Json,
    path: &str,
    rewritten: &mut bool,
) -> Result<(), TranscodeError> {
    if descriptor.full_name() == ANY {
        return check_any(descriptor, json, path, rewritten);
    }
    match json {
        Json::Object(entries) if !is_special(descriptor.full_name()) => {
            check_entries(descriptor, entries, path, false, rewritten)
        }
        // Special forms and wrong types are prost-reflect's to judge.
        Json::Object(_)
        | Json::Null
        | Json::Bool(_)
        | Json::Number(_)
        | Json::String(_)
        | Json::Array(_) => Ok(()),
    }
}

/// The keys of an object that holds a `descriptor` (`in_any`: the payload
/// of an Any, beside its `@type`).
fn check_entries(
    descriptor: &MessageDescriptor,
    entries: &mut [(String, Json)],
    path: &str,
    in_any: bool,
    rewritten: &mut bool,
) -> Result<(), TranscodeError> {
    let mut seen: HashMap<u32, String> = HashMap::new();
    for (key, value) in entries.iter_mut() {
        if in_any && key == "@type" {
            continue;
        }
        let here = join(path, key);
        let Some(field) = descriptor
            .get_field_by_json_name(key)
            .or_else(|| descriptor.get_field_by_name(key))
        else {
            if descriptor.get_extension_by_json_name(key).is_some() {
                continue;
            }
            return Err(TranscodeError::bad_field(
                "UNKNOWN_FIELD",
                here.clone(),
                format!(
                    "the request body has an unknown field {here:?}: {} has no field {key:?}",
                    descriptor.full_name()
                ),
            ));
        };
        // `pageSize` and `page_size` are one field: both in one object is
        // the same ambiguity as a duplicate key.
        if let Some(first) = seen.insert(field.number(), key.clone()) {
            return Err(TranscodeError::bad_field(
                "DUPLICATE_FIELD",
                here,
                format!(
                    "the request body sets {} twice, as {first:?} and {key:?}",
                    join(path, field.name())
                ),
            ));
        }
        check_field(&field, value, &here, rewritten)?;
    }
    Ok(())
}

fn check_field(
    field: &FieldDescriptor,
    json: &mut Json,
    path: &str,
    rewritten: &mut bool,
) -> Result<(), TranscodeError> {
    let Kind::Message(descriptor) = field.kind() else {
        return Ok(());
    };
    if field.is_map() {
        let (Json::Object(entries), Kind::Message(value_type)) =
            (json, descriptor.map_entry_value_field().kind())
        else {
            return Ok(());
        };
        for (key, value) in entries.iter_mut() {
            check_message(&value_type, value, &join(path, key), rewritten)?;
        }
        return Ok(());
    }
    if field.is_list() {
        if let Json::Array(items) = json {
            for (i, item) in items.iter_mut().enumerate() {
                check_message(&descriptor, item, &format!("{path}[{i}]"), rewritten)?;
            }
        }
        return Ok(());
    }
    check_message(&descriptor, json, path, rewritten)
}

/// An `Any`: its `@type` must be in the pool; its fields are the named
/// type's, or `"value"` for the special forms.
fn check_any(
    any: &MessageDescriptor,
    json: &mut Json,
    path: &str,
    rewritten: &mut bool,
) -> Result<(), TranscodeError> {
    let Json::Object(entries) = json else {
        return Ok(());
    };
    let Some(url) = entries.iter().find_map(|(key, value)| {
        if let Json::String(url) = value
            && key == "@type"
        {
            Some(url.clone())
        } else {
            None
        }
    }) else {
        return Ok(());
    };
    let at = join(path, "@type");
    if !url.contains('/') {
        return Err(TranscodeError::bad_field(
            "INVALID_FIELD_VALUE",
            at,
            format!("{url:?} is not a type URL (type.googleapis.com/package.Message)"),
        ));
    }
    let name = type_name(&url);
    let Some(descriptor) = any.parent_pool().get_message_by_name(name) else {
        return Err(TranscodeError::bad_field(
            "UNKNOWN_TYPE",
            at,
            unknown_type_text(name),
        ));
    };
    if !is_special(name) {
        return check_entries(&descriptor, entries, path, true, rewritten);
    }
    // A special form has only `@type` and `value`.
    if let Some((key, _)) = entries
        .iter()
        .find(|(key, _)| key != "@type" && key != "value")
    {
        let here = join(path, key);
        return Err(TranscodeError::bad_field(
            "UNKNOWN_FIELD",
            here.clone(),
            format!(
                "the request body has an unknown field {here:?}: an Any holding a {name} \
                 has only \"@type\" and \"value\""
            ),
        ));
    }
    let value = entries.iter_mut().find(|(key, _)| key == "value");
    match (name, value) {
        (ANY, Some((_, inner))) => check_any(any, inner, &join(path, "value"), rewritten),
        // Google's printers write Any(Empty) as just its @type; prost-reflect
        // wants `"value": {}`, so the body is rewritten to say it.
        (EMPTY, None) => {
            entries.push(("value".to_owned(), Json::Object(Vec::new())));
            *rewritten = true;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn unknown_type_text(name: &str) -> String {
    format!(
        "the request body names @type {name}, a type this server does not know; \
         the server must be started with --descriptor-set FILE, where FILE is a descriptor \
         set that contains {name}"
    )
}
