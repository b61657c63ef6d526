//! One field value from text, as query parameters and path variables carry
//! it: numbers in decimal, bools in any case, enums by name or number, bytes
//! in base64 and the well-known types that have a string form (Timestamp,
//! Duration, FieldMask and the wrappers).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, Value};

/// The value of a field of `kind` written as `text`, or why it is not one.
pub(crate) fn parse_text(kind: &Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Double => parse_f64(text).map(Value::F64),
        Kind::Float => parse_f32(text).map(Value::F32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => integer(text, "int32").map(Value::I32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => integer(text, "int64").map(Value::I64),
        Kind::Uint32 | Kind::Fixed32 => integer(text, "uint32").map(Value::U32),
        Kind::Uint64 | Kind::Fixed64 => integer(text, "uint64").map(Value::U64),
        Kind::Bool => parse_bool(text).map(Value::Bool),
        Kind::String => Ok(Value::String(text.to_owned())),
        Kind::Bytes => parse_bytes(text).map(|bytes| Value::Bytes(bytes.into())),
        Kind::Enum(descriptor) => match descriptor.get_value_by_name(text) {
            Some(value) => Ok(Value::EnumNumber(value.number())),
            // Proto3 enums are open: any number is a value, as in JSON.
            None => text.parse().map(Value::EnumNumber).map_err(|_| {
                format!(
                    "{text:?} is not a value of {} (a name or a number)",
                    descriptor.full_name()
                )
            }),
        },
        Kind::Message(descriptor) => parse_message(descriptor, text).map(Value::Message),
    }
}

/// `true`/`false` in any case (`True`, `FALSE`).
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("{text:?} is not a bool (true or false)"))
    }
}

fn integer<T: std::str::FromStr>(text: &str, type_name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a valid {type_name}"))
}

fn parse_f64(text: &str) -> Result<f64, String> {
    // The JSON mapping's spellings; Rust also takes "inf" and friends.
    match text {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{text:?} is not a number")),
    }
}

fn parse_f32(text: &str) -> Result<f32, String> {
    let wide = parse_f64(text)?;
    if wide.is_finite() && wide.abs() > f64::from(f32::MAX) {
        return Err(format!("{text:?} is out of range for a float"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "range checked above; rounding to the nearest float is the point"
    )]
    Ok(wide as f32)
}

fn parse_bytes(text: &str) -> Result<Vec<u8>, String> {
    // The JSON mapping accepts standard or URL-safe base64, padded or not.
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| format!("{text:?} is not base64"))
}

/// The message types that have a text form.
enum TextForm {
    /// Timestamp, Duration, FieldMask: their JSON string.
    JsonString,
    /// The wrappers: their `value` field's text.
    Wrapper,
}

fn text_form(descriptor: &MessageDescriptor) -> Option<TextForm> {
    match descriptor.full_name() {
        "google.protobuf.Timestamp" | "google.protobuf.Duration" | "google.protobuf.FieldMask" => {
            Some(TextForm::JsonString)
        }
        "google.protobuf.DoubleValue"
        | "google.protobuf.FloatValue"
        | "google.protobuf.Int64Value"
        | "google.protobuf.UInt64Value"
        | "google.protobuf.Int32Value"
        | "google.protobuf.UInt32Value"
        | "google.protobuf.BoolValue"
        | "google.protobuf.StringValue"
        | "google.protobuf.BytesValue" => Some(TextForm::Wrapper),
        _ => None,
    }
}

fn parse_message(descriptor: &MessageDescriptor, text: &str) -> Result<DynamicMessage, String> {
    let name = descriptor.full_name();
    match text_form(descriptor) {
        Some(TextForm::JsonString) => DynamicMessage::deserialize(
            descriptor.clone(),
            serde_json::Value::String(text.to_owned()),
        )
        .map_err(|err| format!("{text:?} is not a {name}: {err}")),
        Some(TextForm::Wrapper) => {
            let field = descriptor
                .get_field_by_name("value")
                .ok_or_else(|| format!("{name} has no value field"))?;
            let mut wrapper = DynamicMessage::new(descriptor.clone());
            wrapper.set_field(&field, parse_text(&field.kind(), text)?);
            Ok(wrapper)
        }
        None => Err(format!("a {name} cannot be written as text")),
    }
}

/// Whether a field of `kind` can take its value from text at all.
pub(crate) fn is_text_kind(kind: &Kind) -> bool {
    match kind {
        Kind::Message(descriptor) => text_form(descriptor).is_some(),
        Kind::Double
        | Kind::Float
        | Kind::Int32
        | Kind::Int64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Fixed32
        | Kind::Fixed64
        | Kind::Sfixed32
        | Kind::Sfixed64
        | Kind::Bool
        | Kind::String
        | Kind::Bytes
        | Kind::Enum(_) => true,
    }
}
