//! What the list filter sees of one operation: the built-in fields and,
//! through the type registry, the fields of its metadata message.

use std::cell::OnceCell;
use std::time::{Duration, UNIX_EPOCH};

use prost_reflect::{DynamicMessage, ReflectMessage, Value};

use crate::domain::filter::{FieldValue, FilterTarget};
use crate::domain::{Operation, Outcome};
use crate::registry::TypeRegistry;

pub struct OperationFields<'a> {
    op: &'a Operation,
    registry: &'a TypeRegistry,
    metadata: OnceCell<Option<DynamicMessage>>,
}

impl<'a> OperationFields<'a> {
    pub fn new(op: &'a Operation, registry: &'a TypeRegistry) -> Self {
        Self {
            op,
            registry,
            metadata: OnceCell::new(),
        }
    }

    fn metadata(&self) -> Option<&DynamicMessage> {
        self.metadata
            .get_or_init(|| {
                let payload = self.op.metadata.as_ref()?;
                let descriptor = self.registry.message_for_type_url(&payload.type_url)?;
                DynamicMessage::decode(descriptor, payload.value.as_slice()).ok()
            })
            .as_ref()
    }
}

impl FilterTarget for OperationFields<'_> {
    fn field(&self, path: &[&str]) -> Option<FieldValue> {
        match path {
            ["done"] => Some(FieldValue::Bool(self.op.is_done())),
            ["name"] => Some(FieldValue::String(self.op.name.as_str().to_owned())),
            ["error", "code"] => match &self.op.outcome {
                Some(Outcome::Error(status)) => Some(FieldValue::Int(i64::from(status.code))),
                Some(Outcome::Response(_)) | None => None,
            },
            ["metadata", rest @ ..] if !rest.is_empty() => message_field(self.metadata()?, rest),
            _ => None,
        }
    }
}

fn message_field(message: &DynamicMessage, path: &[&str]) -> Option<FieldValue> {
    let (first, rest) = path.split_first()?;
    let descriptor = message.descriptor().get_field_by_name(first)?;
    // Unset singular message fields are absent, not a default instance.
    if descriptor.supports_presence() && !message.has_field(&descriptor) {
        return None;
    }
    let value = message.get_field(&descriptor);
    if rest.is_empty() {
        return to_field_value(&value, &descriptor);
    }
    if let Value::Message(inner) = value.as_ref() {
        message_field(inner, rest)
    } else {
        None
    }
}

fn to_field_value(value: &Value, field: &prost_reflect::FieldDescriptor) -> Option<FieldValue> {
    Some(match value {
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::I32(n) => FieldValue::Int(i64::from(*n)),
        Value::I64(n) => FieldValue::Int(*n),
        Value::U32(n) => FieldValue::UInt(u64::from(*n)),
        Value::U64(n) => FieldValue::UInt(*n),
        Value::F32(n) => FieldValue::Float(f64::from(*n)),
        Value::F64(n) => FieldValue::Float(*n),
        Value::String(s) => FieldValue::String(s.clone()),
        Value::EnumNumber(number) => {
            let name = if let prost_reflect::Kind::Enum(e) = field.kind() {
                e.get_value(*number)
                    .map(|v| v.name().to_owned())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            FieldValue::Enum {
                name,
                number: *number,
            }
        }
        Value::List(items) => FieldValue::List(
            items
                .iter()
                .filter_map(|v| to_field_value(v, field))
                .collect(),
        ),
        Value::Message(message) => well_known(message)?,
        Value::Bytes(_) | Value::Map(_) => return None,
    })
}

fn well_known(message: &DynamicMessage) -> Option<FieldValue> {
    let seconds = message.get_field_by_name("seconds")?.as_i64()?;
    let nanos = message.get_field_by_name("nanos")?.as_i32()?;
    match message.descriptor().full_name() {
        "google.protobuf.Timestamp" => {
            let nanos = u32::try_from(nanos).ok()?;
            let offset = Duration::new(seconds.unsigned_abs(), 0);
            let base = if seconds >= 0 {
                UNIX_EPOCH.checked_add(offset)?
            } else {
                UNIX_EPOCH.checked_sub(offset)?
            };
            Some(FieldValue::Timestamp(
                base.checked_add(Duration::from_nanos(u64::from(nanos)))?,
            ))
        }
        "google.protobuf.Duration" => {
            let seconds = u64::try_from(seconds).ok()?;
            let nanos = u32::try_from(nanos).ok()?;
            Some(FieldValue::Duration(Duration::new(seconds, nanos)))
        }
        _ => None,
    }
}
