//! Builds an RPC's request message from an HTTP request, per its binding:
//! the JSON body (all of it, one field, or none), the query parameters and
//! the variables the path template bound. Everything here is outside input:
//! every refusal is a client error (400, or 415 for the media type), except a
//! binding that names a field the request does not have, which is a bug in
//! the rules (INTERNAL).

mod body;
mod path_only;
mod query;
mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use prost_reflect::{DynamicMessage, Kind, ReflectMessage as _, Value};
use tonic::Code;

pub use self::body::MAX_DEPTH;
#[cfg(test)]
pub(crate) use self::body::parse_message as parse_json;
pub use self::path_only::PathOnlyPlan;
pub use self::query::{MAX_QUERY_BYTES, MAX_QUERY_PARAMS};
use super::response::RenderOptions;
use super::{Binding, BodyRule, PathBinding, TranscodeError};

/// The request message for `binding`'s method, and how to write its
/// response (from the system parameters).
pub fn build_request(
    binding: &Binding,
    path: &[PathBinding],
    query: Option<&str>,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(DynamicMessage, RenderOptions), TranscodeError> {
    let input = binding.method.input();
    // An empty or all-blank body is `{}`: what bodiless POSTs send.
    let blank = body
        .iter()
        .all(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    let mut message = DynamicMessage::new(input.clone());
    match &binding.body {
        BodyRule::None if blank => {}
        BodyRule::None => {
            return Err(TranscodeError::new(
                Code::InvalidArgument,
                "BODY_NOT_ALLOWED",
                format!("a {} request to this URL has no body", binding.http_method),
            ));
        }
        BodyRule::All if blank => {}
        BodyRule::All => {
            check_content_type(content_type)?;
            message = body::parse_message(&input, body)?;
        }
        BodyRule::Field(name) => {
            let field = input.get_field_by_name(name).ok_or_else(|| {
                bad_rule(binding, &format!("its body field {name:?} does not exist"))
            })?;
            if !blank {
                check_content_type(content_type)?;
                body::parse_into_field(&mut message, &field, body)?;
            }
        }
    }
    let options = query::apply_query(&mut message, query, &binding.body, path)?;
    for bound in path {
        bind_path(binding, &mut message, bound)?;
    }
    Ok((message, options))
}

/// None or `application/json` with any parameters, in any case. Checked only
/// when there is a body to read: a media type says nothing about no bytes.
fn check_content_type(content_type: Option<&str>) -> Result<(), TranscodeError> {
    let media = content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if media.is_empty() || media.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(TranscodeError::new(
        Code::InvalidArgument,
        "UNSUPPORTED_CONTENT_TYPE",
        format!("content type {media:?} is not supported; send application/json"),
    )
    .with_http_status(http::StatusCode::UNSUPPORTED_MEDIA_TYPE))
}

/// Sets one path variable. A body that set the same field to another value
/// is refused: which one the caller meant is a guess (Cancel's `{"name"}`).
fn bind_path(
    binding: &Binding,
    message: &mut DynamicMessage,
    bound: &PathBinding,
) -> Result<(), TranscodeError> {
    // Only errors name the field; the happy path builds no text.
    let dotted = || bound.field_path.join(".");
    let (leaf_name, parents) = bound
        .field_path
        .split_last()
        .ok_or_else(|| bad_rule(binding, "a path variable binds no field"))?;
    let mut current = message;
    for name in parents {
        let field = current
            .descriptor()
            .get_field_by_name(name)
            .filter(|field| {
                matches!(field.kind(), Kind::Message(_)) && !field.is_list() && !field.is_map()
            })
            .ok_or_else(|| bad_rule(binding, &format!("{} is not a path to a field", dotted())))?;
        current = current
            .get_field_mut(&field)
            .as_message_mut()
            .ok_or_else(|| bad_rule(binding, &format!("{} is not a path to a field", dotted())))?;
    }
    let leaf = current
        .descriptor()
        .get_field_by_name(leaf_name)
        .filter(|field| value::is_text_kind(&field.kind()) && !field.is_list() && !field.is_map())
        .ok_or_else(|| {
            bad_rule(
                binding,
                &format!("{} is not a single-value field", dotted()),
            )
        })?;
    let value = value::parse_text(&leaf.kind(), &bound.value).map_err(|err| {
        TranscodeError::bad_field(
            "INVALID_PATH_PARAMETER",
            dotted(),
            format!("the URL path sets {}: {err}", dotted()),
        )
    })?;
    if current.has_field(&leaf) && *current.get_field(&leaf) != value {
        return Err(TranscodeError::bad_field(
            "FIELD_MISMATCH",
            dotted(),
            format!(
                "the request body sets {} to {}, but the URL path says {}",
                dotted(),
                shown(&current.get_field(&leaf)),
                shown(&value)
            ),
        ));
    }
    current.set_field(&leaf, value);
    Ok(())
}

fn shown(value: &Value) -> String {
    if let Value::String(text) = value {
        format!("{text:?}")
    } else {
        format!("{value:?}")
    }
}

fn bad_rule(binding: &Binding, why: &str) -> TranscodeError {
    TranscodeError::new(
        Code::Internal,
        "INVALID_HTTP_RULE",
        format!(
            "the HTTP rule of {} does not fit {}: {why}",
            binding.method.full_name(),
            binding.method.input().full_name()
        ),
    )
}
