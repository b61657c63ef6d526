//! Keeps the standard fields of operation metadata current: when the
//! metadata's type is in the registry and has `create_time`, `end_time` or
//! `requested_cancellation`, the server writes them; otherwise the
//! producer's bytes pass through untouched. Also makes the metadata of an
//! operation created without any, when the operator named a type for it.
//!
//! Without such a type an operation has no metadata at all: a REST client
//! parses an `Any` strictly and knows only its own API's types, so any
//! type of ours would break the generated clients of every other API.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value};

use crate::domain::filter::FilterSchema;
use crate::domain::{Operation, Payload};
use crate::registry::{TypeRegistry, type_url};

use super::ServiceError;

const TIMESTAMP: &str = "google.protobuf.Timestamp";

pub struct MetadataKeeper {
    registry: TypeRegistry,
    /// Every `a.b.c` field path of every candidate metadata type, for the
    /// filter's "unknown field" check.
    known_paths: HashSet<String>,
    /// The type URL of the metadata made for operations created without
    /// any; `None`: they have none.
    default_type_url: Option<String>,
}

impl MetadataKeeper {
    /// `default_type` must name a message of the registry: a type the
    /// server cannot decode would make metadata it can never stamp.
    pub fn new(registry: TypeRegistry, default_type: Option<&str>) -> Result<Self, ServiceError> {
        let default_type_url = match default_type {
            None => None,
            Some(name) if registry.pool().get_message_by_name(name).is_some() => {
                Some(type_url(name))
            }
            Some(name) => return Err(ServiceError::UnknownMetadataType(name.to_owned())),
        };
        let mut known_paths = HashSet::new();
        for message in registry.candidate_metadata_types() {
            collect_paths(&message, String::new(), 0, &mut known_paths);
        }
        Ok(Self {
            registry,
            known_paths,
            default_type_url,
        })
    }

    pub fn registry(&self) -> &TypeRegistry {
        &self.registry
    }

    /// Metadata for an operation whose producer sent none: an empty message
    /// of the default type, which `stamp` then fills; `None` without one.
    pub fn default_metadata(&self) -> Option<Payload> {
        self.default_type_url.as_ref().map(|type_url| Payload {
            type_url: type_url.clone(),
            value: Vec::new(),
        })
    }

    /// Writes the server-owned fields into `op.metadata`, if its type allows.
    pub fn stamp(&self, op: &mut Operation) {
        let Some(payload) = &op.metadata else {
            return;
        };
        let Some(descriptor) = self.registry.message_for_type_url(&payload.type_url) else {
            return;
        };
        // Bytes that do not decode as their declared type are the producer's
        // business; we keep them as they are rather than guess.
        let Ok(mut message) = DynamicMessage::decode(descriptor.clone(), payload.value.as_slice())
        else {
            return;
        };
        let mut changed = set_timestamp(&mut message, "create_time", Some(op.create_time));
        changed |= set_timestamp(&mut message, "end_time", op.end_time);
        if op.cancel_requested() {
            changed |= set_bool(&mut message, "requested_cancellation");
        }
        if changed {
            op.metadata = Some(Payload {
                type_url: payload.type_url.clone(),
                value: message.encode_to_vec(),
            });
        }
    }
}

impl FilterSchema for MetadataKeeper {
    fn knows_metadata_field(&self, path: &[&str]) -> bool {
        self.known_paths.contains(&path.join("."))
    }
}

fn collect_paths(
    message: &MessageDescriptor,
    prefix: String,
    depth: usize,
    out: &mut HashSet<String>,
) {
    // Recursive types would loop forever; filters never need deep paths.
    if depth > 4 {
        return;
    }
    for field in message.fields() {
        let path = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        if let Kind::Message(inner) = field.kind() {
            let well_known = inner.package_name() == "google.protobuf";
            if !well_known && !field.is_map() {
                collect_paths(&inner, path.clone(), depth + 1, out);
            }
        }
        out.insert(path);
    }
}

fn set_timestamp(message: &mut DynamicMessage, field: &str, time: Option<SystemTime>) -> bool {
    let (Some(time), Some(descriptor)) = (time, message.descriptor().get_field_by_name(field))
    else {
        return false;
    };
    let Kind::Message(timestamp) = descriptor.kind() else {
        return false;
    };
    if timestamp.full_name() != TIMESTAMP || descriptor.is_list() {
        return false;
    }
    let (seconds, nanos) = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => (
            i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            i32::try_from(after.subsec_nanos()).unwrap_or(0),
        ),
        Err(_) => (0, 0),
    };
    let mut value = DynamicMessage::new(timestamp);
    value.set_field_by_name("seconds", Value::I64(seconds));
    value.set_field_by_name("nanos", Value::I32(nanos));
    message.set_field(&descriptor, Value::Message(value));
    true
}

fn set_bool(message: &mut DynamicMessage, field: &str) -> bool {
    let Some(descriptor) = message.descriptor().get_field_by_name(field) else {
        return false;
    };
    if descriptor.kind() != Kind::Bool || descriptor.is_list() {
        return false;
    }
    message.set_field(&descriptor, Value::Bool(true));
    true
}
