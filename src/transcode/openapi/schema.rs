//! Protobuf types as OpenAPI schemas, following the proto3 JSON mapping (the
//! JSON the gateway reads and writes): lowerCamelCase property names, 64-bit
//! integers as strings, enums by name, well-known types in their JSON forms.
//!
//! Every message reached becomes a component named by its full name and is
//! referred to by `$ref`, so recursive types end in a reference instead of a
//! loop. The well-known types whose JSON form is a scalar (Timestamp,
//! Duration, FieldMask, the wrappers) are written inline instead, so a
//! property or a query parameter shows its type and format where it is used.

use std::collections::BTreeSet;

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

pub(super) const SCHEMA_REF: &str = "#/components/schemas/";

/// proto3 JSON writes a Duration as seconds with up to nine fractional
/// digits and an `s` suffix.
const DURATION_PATTERN: &str = r"^-?[0-9]+(\.[0-9]{1,9})?s$";

/// The components built so far and the messages still to describe.
#[derive(Default)]
pub(super) struct Schemas {
    referenced: BTreeSet<String>,
    pending: Vec<MessageDescriptor>,
    done: Map<String, Value>,
}

impl Schemas {
    /// The schema of a value of `message`: inline for a scalar well-known
    /// type, otherwise a `$ref` to its component (described later).
    pub(super) fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(inline) = inline_well_known(message.full_name()) {
            return inline;
        }
        let name = message.full_name();
        if self.referenced.insert(name.to_owned()) {
            self.pending.push(message.clone());
        }
        json!({ "$ref": format!("{SCHEMA_REF}{name}") })
    }

    /// The schema of a field's JSON value: repeated fields are arrays, maps
    /// objects keyed by the map key's JSON string.
    pub(super) fn field(&mut self, field: &FieldDescriptor) -> Value {
        if let Kind::Message(entry) = field.kind()
            && field.is_map()
        {
            let value = self.kind(entry.map_entry_value_field().kind());
            return json!({ "type": "object", "additionalProperties": value });
        }
        let item = self.kind(field.kind());
        if field.is_list() {
            json!({ "type": "array", "items": item })
        } else {
            item
        }
    }

    /// The properties of `message`, by JSON name, leaving out the fields
    /// named in `without` (proto names).
    pub(super) fn properties(
        &mut self,
        message: &MessageDescriptor,
        without: &[&str],
    ) -> Map<String, Value> {
        let mut properties = Map::new();
        for field in message.fields() {
            if without.contains(&field.name()) {
                continue;
            }
            let mut schema = self.field(&field);
            if let Some(note) = oneof_note(&field) {
                schema = describe(schema, &note);
            }
            properties.insert(field.json_name().to_owned(), schema);
        }
        properties
    }

    /// Describes every message referenced so far, and those they reach.
    pub(super) fn finish(mut self) -> Map<String, Value> {
        while let Some(message) = self.pending.pop() {
            let schema = self.component(&message);
            self.done.insert(message.full_name().to_owned(), schema);
        }
        self.done
    }

    fn kind(&mut self, kind: Kind) -> Value {
        match kind {
            Kind::Double => json!({ "type": "number", "format": "double" }),
            Kind::Float => json!({ "type": "number", "format": "float" }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({ "type": "integer", "format": "int32" })
            }
            Kind::Uint32 | Kind::Fixed32 => json!({ "type": "integer", "format": "uint32" }),
            // proto3 JSON: 64-bit integers are decimal strings, since
            // JavaScript numbers cannot hold them.
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({ "type": "string", "format": "int64" })
            }
            Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64" }),
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Bytes => json!({ "type": "string", "format": "byte" }),
            Kind::Enum(descriptor) => enum_schema(&descriptor),
            Kind::Message(descriptor) => self.message(&descriptor),
        }
    }

    /// The component of one message: a well-known type's JSON form, or an
    /// object with one property per field.
    fn component(&mut self, message: &MessageDescriptor) -> Value {
        let value_ref = || json!({ "$ref": format!("{SCHEMA_REF}google.protobuf.Value") });
        match message.full_name() {
            "google.protobuf.Any" => any_schema(),
            "google.protobuf.Empty" => json!({ "type": "object" }),
            "google.protobuf.Struct" => {
                self.message_by_name(message, "google.protobuf.Value");
                json!({ "type": "object", "additionalProperties": value_ref() })
            }
            "google.protobuf.ListValue" => {
                self.message_by_name(message, "google.protobuf.Value");
                json!({ "type": "array", "items": value_ref() })
            }
            "google.protobuf.Value" => json!({
                "description": "Any JSON value: null, a number, a string, a boolean, an object or an array.",
                "nullable": true,
            }),
            _ => {
                let properties = self.properties(message, &[]);
                json!({ "type": "object", "properties": properties })
            }
        }
    }

    /// Queues `google.protobuf.Value`, which Struct and ListValue hold, from
    /// the pool that holds `from`.
    fn message_by_name(&mut self, from: &MessageDescriptor, name: &str) {
        if let Some(message) = from.parent_pool().get_message_by_name(name) {
            self.message(&message);
        }
    }
}

/// The schema of `google.protobuf.Any` in JSON: the type URL in `@type`, the
/// message's own fields beside it (or its JSON form in `value` for a
/// well-known type). Also used by the error envelope's `details`.
pub(super) fn any_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "@type": { "type": "string" } },
        "required": ["@type"],
        "additionalProperties": true,
    })
}

/// The JSON form of the well-known types that are scalars in JSON.
fn inline_well_known(full_name: &str) -> Option<Value> {
    let schema = match full_name {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => {
            json!({ "type": "string", "format": "google-duration", "pattern": DURATION_PATTERN })
        }
        "google.protobuf.FieldMask" => json!({ "type": "string", "format": "google-fieldmask" }),
        "google.protobuf.DoubleValue" => json!({ "type": "number", "format": "double" }),
        "google.protobuf.FloatValue" => json!({ "type": "number", "format": "float" }),
        "google.protobuf.Int64Value" => json!({ "type": "string", "format": "int64" }),
        "google.protobuf.UInt64Value" => json!({ "type": "string", "format": "uint64" }),
        "google.protobuf.Int32Value" => json!({ "type": "integer", "format": "int32" }),
        "google.protobuf.UInt32Value" => json!({ "type": "integer", "format": "uint32" }),
        "google.protobuf.BoolValue" => json!({ "type": "boolean" }),
        "google.protobuf.StringValue" => json!({ "type": "string" }),
        "google.protobuf.BytesValue" => json!({ "type": "string", "format": "byte" }),
        _ => return None,
    };
    Some(schema)
}

/// Whether a field of this message type can be a query parameter: a
/// well-known type that is a scalar in JSON can; Any, Struct, Value,
/// ListValue and Empty cannot; other messages only through their fields.
pub(super) fn is_scalar_message(message: &MessageDescriptor) -> bool {
    inline_well_known(message.full_name()).is_some()
}

pub(super) fn is_opaque_message(message: &MessageDescriptor) -> bool {
    matches!(
        message.full_name(),
        "google.protobuf.Any"
            | "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.Empty"
    )
}

fn enum_schema(descriptor: &EnumDescriptor) -> Value {
    // NullValue is JSON `null`, not the name of its only value.
    if descriptor.full_name() == "google.protobuf.NullValue" {
        return json!({ "nullable": true, "enum": [null] });
    }
    let names: Vec<String> = descriptor
        .values()
        .map(|value| value.name().to_owned())
        .collect();
    json!({ "type": "string", "enum": names })
}

/// Which other fields exclude this one, said in the description since
/// OpenAPI 3.0 has no way to say "at most one of these properties" without
/// splitting the schema.
pub(super) fn oneof_note(field: &FieldDescriptor) -> Option<String> {
    let oneof = field
        .containing_oneof()
        .filter(|oneof| !oneof.is_synthetic())?;
    let members: Vec<String> = oneof
        .fields()
        .map(|member| format!("`{}`", member.json_name()))
        .collect();
    Some(format!(
        "Part of oneof `{}`: at most one of {} is set.",
        oneof.name(),
        members.join(", ")
    ))
}

/// Adds a description to a schema. Siblings of `$ref` are ignored in
/// OpenAPI 3.0, so a reference is wrapped in `allOf` first.
pub(super) fn describe(schema: Value, description: &str) -> Value {
    if let Value::Object(mut object) = schema {
        if object.contains_key("$ref") {
            return json!({ "allOf": [object], "description": description });
        }
        object.insert("description".to_owned(), Value::from(description));
        Value::Object(object)
    } else {
        json!({ "allOf": [schema], "description": description })
    }
}
