//! Protobuf <-> proto3 JSON for the REST client, through prost-reflect and
//! the descriptors the server itself uses, and Google's error envelope back
//! into a `Failure`, checking its HTTP status against google/rpc/code.proto.

use std::sync::OnceLock;

use http::StatusCode;
use longrun::pb::rpc;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::{Map, Value};

use crate::scenarios::client::{Failure, failure};

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        longrun::registry::TypeRegistry::builtin()
            .expect("longrun's descriptors")
            .pool()
            .clone()
    })
}

fn descriptor(full_name: &str) -> prost_reflect::MessageDescriptor {
    pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is not among longrun's descriptors"))
}

/// `message` (of type `full_name`) as a JSON object.
pub fn to_json(message: &impl Message, full_name: &str) -> Map<String, Value> {
    let dynamic = DynamicMessage::decode(descriptor(full_name), message.encode_to_vec().as_slice())
        .expect("the message decodes as its own type");
    match serde_json::to_value(&dynamic) {
        Ok(Value::Object(object)) => object,
        other => panic!("{full_name} has no JSON form here: {other:?}"),
    }
}

/// A JSON answer as the message `M` (of type `full_name`); unknown fields
/// are refused, so the server cannot send what the proto does not have.
pub fn from_json<M: Message + Default>(json: &Value, full_name: &str) -> M {
    let mut json = json.clone();
    empty_any_with_value(&mut json);
    let dynamic = DynamicMessage::deserialize(descriptor(full_name), &json)
        .unwrap_or_else(|e| panic!("not a {full_name}: {e}: {json}"));
    M::decode(dynamic.encode_to_vec().as_slice()).expect("re-encoded message decodes")
}

/// The server writes an `Any` holding `Empty` as its `@type` alone, as
/// protobuf's own printers do (docs/behaviour.md §6); prost-reflect reads
/// only the form with `"value": {}`, which the server accepts too.
fn empty_any_with_value(json: &mut Value) {
    match json {
        Value::Object(object) => {
            let is_empty_any = object.len() == 1
                && object.get("@type").and_then(Value::as_str)
                    == Some("type.googleapis.com/google.protobuf.Empty");
            if is_empty_any {
                object.insert("value".into(), Value::Object(Map::new()));
            }
            object.values_mut().for_each(empty_any_with_value);
        }
        Value::Array(items) => items.iter_mut().for_each(empty_any_with_value),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

/// The HTTP status of each gRPC code (google/rpc/code.proto), written out
/// here rather than taken from the server, so the two are checked.
pub fn http_status(code: tonic::Code) -> u16 {
    use tonic::Code::*;
    match code {
        Ok => 200,
        Cancelled => 499,
        Unknown | Internal | DataLoss => 500,
        InvalidArgument | FailedPrecondition | OutOfRange => 400,
        DeadlineExceeded => 504,
        NotFound => 404,
        AlreadyExists | Aborted => 409,
        PermissionDenied => 403,
        ResourceExhausted => 429,
        Unimplemented => 501,
        Unavailable => 503,
        Unauthenticated => 401,
    }
}

/// Google's envelope, `{"error": {code, message, status, details}}`, as a
/// `Failure`. `status` is the HTTP status of the answer; `None` for an
/// error that ends a stream whose status was already 200.
pub fn envelope(status: Option<StatusCode>, json: &Value, request_id: Option<String>) -> Failure {
    let error = &json["error"];
    let name = error["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no status name: {json}"));
    let number = rpc::Code::from_str_name(name)
        .unwrap_or_else(|| panic!("{name:?} is not a google.rpc.Code"));
    let code = tonic::Code::from(number as i32);
    let http = error["code"]
        .as_u64()
        .expect("an HTTP status in error.code");
    assert_eq!(
        http,
        u64::from(http_status(code)),
        "{name} travels as HTTP {}: {json}",
        http_status(code)
    );
    if let Some(status) = status {
        assert_eq!(u64::from(status.as_u16()), http, "error.code is the status");
    }
    let info = error["details"].as_array().and_then(|details| {
        details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
            .map(|d| {
                let mut d = d.clone();
                if let Value::Object(fields) = &mut d {
                    fields.remove("@type");
                }
                from_json::<rpc::ErrorInfo>(&d, "google.rpc.ErrorInfo")
            })
    });
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    failure(code, message, info, request_id)
}
