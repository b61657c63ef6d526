//! Query parameters: request fields by dotted path (`a.b=1`, lowerCamelCase
//! or proto names, repeated fields by repetition) and Google's system
//! parameters (`$alt`, `prettyPrint`, ...), which set how the response is
//! written and never name a field. Bounded in size and count: the query is
//! outside input.

use std::collections::HashSet;

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage as _,
};
use tonic::Code;

use super::value::{is_text_kind, parse_bool, parse_text};
use crate::transcode::response::RenderOptions;
use crate::transcode::{BodyRule, PathBinding, TranscodeError};

/// Longest query string accepted, in bytes, before decoding.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// Most parameters accepted in one query.
pub const MAX_QUERY_PARAMS: usize = 100;

/// Google's system parameters: accepted on every method, never a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Alt,
    PrettyPrint,
    /// Accepted and without effect here: `$fields` (partial responses are
    /// not implemented, the whole response is a superset), `key`,
    /// `quotaUser`, `$.xgafv`, `$apiVersion`, `$callback`.
    Ignored,
    /// Refused: a credential in a URL ends up in logs and browser history.
    AccessToken,
}

/// Google reserves these names on every API: a request field called `key`
/// or `fields` cannot be set from the query, as on Google's own front ends.
fn system_parameter(name: &str) -> Option<System> {
    match name {
        "$alt" | "alt" => Some(System::Alt),
        "prettyPrint" => Some(System::PrettyPrint),
        "$fields" | "fields" | "key" | "quotaUser" | "$.xgafv" | "$apiVersion" | "$callback" => {
            Some(System::Ignored)
        }
        "access_token" => Some(System::AccessToken),
        _ => None,
    }
}

/// Sets the fields the query names on `message` and reads the system
/// parameters into the options for the response.
pub(crate) fn apply_query(
    message: &mut DynamicMessage,
    query: Option<&str>,
    body: &BodyRule,
    path: &[PathBinding],
) -> Result<RenderOptions, TranscodeError> {
    let mut options = RenderOptions::default();
    let mut seen = HashSet::new();
    for (name, value) in decode_query(query.unwrap_or_default())? {
        match system_parameter(&name) {
            Some(System::Alt) => options.enum_as_number = parse_alt(&name, &value)?,
            Some(System::PrettyPrint) if value.is_empty() => {}
            Some(System::PrettyPrint) => {
                options.pretty = parse_bool(&value).map_err(|err| invalid(&name, &err))?;
            }
            Some(System::Ignored) => {}
            Some(System::AccessToken) => {
                return Err(TranscodeError::bad_field(
                    "ACCESS_TOKEN_IN_URL",
                    name,
                    "access tokens are not accepted in the URL; \
                     send them in the Authorization header",
                ));
            }
            None => set_field(message, &name, &value, body, path, &mut seen)?,
        }
    }
    Ok(options)
}

/// `$alt`: `json` (the default) or `json;enum-encoding=int`.
fn parse_alt(name: &str, value: &str) -> Result<bool, TranscodeError> {
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    if !(media.is_empty() || media.eq_ignore_ascii_case("json")) {
        return Err(invalid(name, &format!("{value:?}: only json is served")));
    }
    let mut enum_as_number = false;
    for part in parts {
        let (key, setting) = part.split_once('=').unwrap_or((part, ""));
        if !key.trim().eq_ignore_ascii_case("enum-encoding") {
            return Err(invalid(name, &format!("{value:?}: unknown option {key:?}")));
        }
        let setting = setting.trim();
        enum_as_number = if setting.eq_ignore_ascii_case("int") {
            true
        } else if setting.eq_ignore_ascii_case("string") {
            false
        } else {
            return Err(invalid(
                name,
                &format!("{value:?}: enum-encoding is int or string"),
            ));
        };
    }
    Ok(enum_as_number)
}

fn set_field(
    message: &mut DynamicMessage,
    name: &str,
    value: &str,
    body: &BodyRule,
    path: &[PathBinding],
    seen: &mut HashSet<Vec<u32>>,
) -> Result<(), TranscodeError> {
    let fields = resolve(&message.descriptor(), name)?;
    let (leaf, parents) = fields
        .split_last()
        .ok_or_else(|| unknown(name, &message.descriptor()))?;
    let names: Vec<&str> = fields.iter().map(FieldDescriptor::name).collect();
    let not_allowed = |why: &str| {
        TranscodeError::bad_field(
            "QUERY_PARAMETER_NOT_ALLOWED",
            name,
            format!("query parameter {name:?} is not allowed: {why}"),
        )
    };
    match body {
        BodyRule::All => {
            return Err(not_allowed(
                "this method takes every field from the JSON body",
            ));
        }
        BodyRule::Field(field) if names.first() == Some(&field.as_str()) => {
            return Err(not_allowed("that field comes from the JSON body"));
        }
        BodyRule::Field(_) | BodyRule::None => {}
    }
    let bound = path.iter().any(|binding| {
        binding
            .field_path
            .iter()
            .zip(&names)
            .all(|(bound, named)| bound == named)
    });
    if bound {
        return Err(not_allowed("that field comes from the URL path"));
    }
    if leaf.is_map() || !is_text_kind(&leaf.kind()) {
        return Err(invalid(
            name,
            "this field cannot be set from a query parameter",
        ));
    }
    let numbers: Vec<u32> = fields.iter().map(FieldDescriptor::number).collect();
    if !leaf.is_list() && !seen.insert(numbers) {
        return Err(invalid(
            name,
            "given twice, for a field that holds one value",
        ));
    }
    // An empty value means unset, like a missing parameter.
    if value.is_empty() {
        return Ok(());
    }
    let parsed = parse_text(&leaf.kind(), value).map_err(|err| invalid(name, &err))?;
    let target = descend(message, parents, name)?;
    check_oneof(target, leaf, name)?;
    if leaf.is_list() {
        if let Some(items) = target.get_field_mut(leaf).as_list_mut() {
            items.push(parsed);
        }
    } else if leaf.supports_presence() || !parsed.is_default_for_field(leaf) {
        // Zero in a field without presence is the same as unset (pageSize=0);
        // a proto3 `optional` field keeps an explicit zero, which is what it
        // exists for.
        target.set_field(leaf, parsed);
    }
    Ok(())
}

/// The fields along a dotted name; every one before the last must be a
/// singular message.
fn resolve(
    descriptor: &MessageDescriptor,
    name: &str,
) -> Result<Vec<FieldDescriptor>, TranscodeError> {
    let mut fields: Vec<FieldDescriptor> = Vec::new();
    let mut current = descriptor.clone();
    for segment in name.split('.') {
        if let Some(parent) = fields.last() {
            let Kind::Message(next) = parent.kind() else {
                return Err(unknown(name, descriptor));
            };
            if parent.is_list() || parent.is_map() {
                return Err(invalid(
                    name,
                    "fields inside a repeated field cannot be set",
                ));
            }
            current = next;
        }
        let field = current
            .get_field_by_json_name(segment)
            .or_else(|| current.get_field_by_name(segment))
            .ok_or_else(|| unknown(name, descriptor))?;
        fields.push(field);
    }
    Ok(fields)
}

fn descend<'m>(
    message: &'m mut DynamicMessage,
    parents: &[FieldDescriptor],
    name: &str,
) -> Result<&'m mut DynamicMessage, TranscodeError> {
    let mut current = message;
    for field in parents {
        check_oneof(current, field, name)?;
        current = current
            .get_field_mut(field)
            .as_message_mut()
            .ok_or_else(|| unknown(name, field.parent_message()))?;
    }
    Ok(current)
}

/// Two members of one oneof is ambiguous: refused rather than the last
/// silently winning.
fn check_oneof(
    message: &DynamicMessage,
    field: &FieldDescriptor,
    name: &str,
) -> Result<(), TranscodeError> {
    let Some(oneof) = field.containing_oneof() else {
        return Ok(());
    };
    match oneof
        .fields()
        .find(|other| other.number() != field.number() && message.has_field(other))
    {
        Some(other) => Err(invalid(
            name,
            &format!(
                "{} is already set, and only one of {} may be",
                other.name(),
                oneof.name()
            ),
        )),
        None => Ok(()),
    }
}

/// `name=value` pairs, percent-decoded with `+` as a space.
fn decode_query(query: &str) -> Result<Vec<(String, String)>, TranscodeError> {
    let too_large =
        |what: String| TranscodeError::new(Code::InvalidArgument, "QUERY_TOO_LARGE", what);
    if query.len() > MAX_QUERY_BYTES {
        return Err(too_large(format!(
            "the query string has {} bytes; at most {MAX_QUERY_BYTES} are accepted",
            query.len()
        )));
    }
    let mut pairs = Vec::new();
    for piece in query.split('&').filter(|piece| !piece.is_empty()) {
        if pairs.len() == MAX_QUERY_PARAMS {
            return Err(too_large(format!(
                "the query string has more than {MAX_QUERY_PARAMS} parameters"
            )));
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(text: &str) -> Result<String, TranscodeError> {
    let malformed = |why: &str| {
        TranscodeError::new(
            Code::InvalidArgument,
            "MALFORMED_QUERY",
            format!("the query string is malformed: {text:?} {why}"),
        )
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|pair| pair.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| malformed("has a % not followed by two hex digits"))?;
                out.push(hex);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed("is not UTF-8 once decoded"))
}

fn unknown(name: &str, descriptor: &MessageDescriptor) -> TranscodeError {
    TranscodeError::bad_field(
        "UNKNOWN_QUERY_PARAMETER",
        name,
        format!(
            "unknown query parameter {name:?}: {} has no such field",
            descriptor.full_name()
        ),
    )
}

fn invalid(name: &str, why: &str) -> TranscodeError {
    TranscodeError::bad_field(
        "INVALID_QUERY_PARAMETER",
        name,
        format!("query parameter {name:?}: {why}"),
    )
}
