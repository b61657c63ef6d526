//! Test fixtures for the JSON mapping: the real descriptor pool plus a test
//! service whose messages have one field of every kind, and `Binding`s built
//! by hand from it.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

use crate::pb::FILE_DESCRIPTOR_SET;
use crate::transcode::template::PathTemplate;
use crate::transcode::{Binding, BodyRule, PathBinding};

const KITCHEN: &str = r#"
syntax = "proto3";
package longrun.test;

import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

service Kitchen {
  rpc Sink(Sink) returns (Sink);
  rpc Drain(Sink) returns (google.protobuf.Empty);
}

enum Color {
  COLOR_UNSPECIFIED = 0;
  RED = 1;
  GREEN = 2;
}

message Inner {
  string id = 1;
  int32 n = 2;
  Inner child = 3;
  repeated Inner kids = 4;
}

message Sink {
  string name = 1;
  int32 count = 2;
  int64 big = 3;
  uint32 small = 4;
  uint64 huge = 5;
  bool flag = 6;
  double ratio = 7;
  float scale = 8;
  bytes blob = 9;
  Color color = 10;
  repeated string tags = 11;
  repeated Color colors = 12;
  Inner inner = 13;
  repeated Inner inners = 14;
  map<string, Inner> by_key = 15;
  google.protobuf.Duration timeout = 16;
  google.protobuf.Timestamp at = 17;
  google.protobuf.Int32Value maybe = 18;
  google.protobuf.FieldMask mask = 19;
  google.protobuf.Any payload = 20;
  google.protobuf.Struct extra = 21;
  optional int32 explicit = 22;
  oneof choice {
    string left = 23;
    Inner right = 24;
  }
  sint64 signed = 25;
  repeated int64 bigs = 26;
  map<string, int32> counts = 27;
  google.protobuf.BoolValue maybe_flag = 28;
}
"#;

struct Kitchen;

impl FileResolver for Kitchen {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == "longrun/test/kitchen.proto" {
            File::from_source(name, KITCHEN)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// longrun's own pool (`FILE_DESCRIPTOR_SET`) with `longrun.test` added.
pub(crate) fn pool() -> DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut pool = DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("our descriptor set");
        let mut resolver = ChainFileResolver::new();
        resolver.add(Kitchen);
        resolver.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        compiler
            .open_file("longrun/test/kitchen.proto")
            .expect("the test proto compiles");
        pool.add_file_descriptor_set(compiler.file_descriptor_set())
            .expect("the test proto fits our pool");
        pool
    })
    .clone()
}

pub(crate) fn message(full_name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is in the test pool"))
}

/// A binding of `method` (`google.longrunning.Operations.GetOperation`).
pub(crate) fn binding(
    method: &str,
    http_method: http::Method,
    body: BodyRule,
    response_body: Option<&str>,
) -> Binding {
    let (service, name) = method.rsplit_once('.').expect("a full method name");
    let method = pool()
        .get_service_by_name(service)
        .and_then(|service| service.methods().find(|m| m.name() == name))
        .unwrap_or_else(|| panic!("{method} is in the test pool"));
    Binding {
        method,
        http_method,
        template: PathTemplate::parse("/test").expect("a valid template"),
        body,
        response_body: response_body.map(str::to_owned),
    }
}

pub(crate) fn bound(field_path: &str, value: &str) -> PathBinding {
    PathBinding {
        field_path: field_path.split('.').map(str::to_owned).collect(),
        value: value.to_owned(),
    }
}

/// `message` as proto3 JSON, parsed, for comparing with golden values.
pub(crate) fn json_of(message: &DynamicMessage) -> serde_json::Value {
    serde_json::to_value(message).expect("serializable")
}
