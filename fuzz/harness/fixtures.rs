//! What several targets share: the type registry (longrun's own types plus
//! one registered message, `fuzz.v1.Job`, as `--descriptor-set` adds it),
//! the REST routes of both listeners from the default rules, and one sample
//! URL per route to pick a binding by.

use std::sync::OnceLock;

use longrun::registry::TypeRegistry;
use longrun::server::{CONTROL_SERVICE, PUBLIC_SERVICE};
use longrun::transcode::router::{RouteResult, Router};
use longrun::transcode::rules::{self, DEFAULT_RULES};
use longrun::transcode::{Binding, PathBinding};
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// One URL per default route (method, path), public routes first.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/projects/p/locations/l/operations"),
    ("GET", "/v1/projects/p/locations/l/operations/op-1"),
    ("DELETE", "/v1/projects/p/locations/l/operations/op-1"),
    ("POST", "/v1/projects/p/locations/l/operations/op-1:cancel"),
    ("POST", "/v1/projects/p/locations/l/operations/op-1:wait"),
    ("POST", "/v1/projects/p/locations/l/operations"),
    ("PATCH", "/v1/projects/p/locations/l/operations/op-1"),
    (
        "POST",
        "/v1/projects/p/locations/l/operations/op-1:complete",
    ),
    ("GET", "/v1/projects/p/locations/l/operations/op-1:watch"),
];

pub fn registry() -> &'static TypeRegistry {
    static REGISTRY: OnceLock<TypeRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = TypeRegistry::builtin().expect("longrun's own descriptors decode");
        registry
            .add_descriptor_set(&job_descriptor_set())
            .expect("fuzz.v1.Job fits the pool");
        registry
    })
}

/// The control listener's router: the control routes and the public ones.
pub fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let bindings = rules::load(
            registry().pool(),
            Some(DEFAULT_RULES),
            &[CONTROL_SERVICE, PUBLIC_SERVICE],
        )
        .expect("the default rules load");
        Router::new(bindings)
    })
}

/// The binding of `ROUTES[selector % len]` and its path variables.
pub fn sample_route(selector: u8) -> (&'static Binding, Vec<PathBinding>) {
    let (method, path) = ROUTES[usize::from(selector) % ROUTES.len()];
    let method = http::Method::from_bytes(method.as_bytes()).expect("a method");
    match router().route(&method, path) {
        RouteResult::Matched {
            binding, bindings, ..
        } => (binding, bindings),
        other @ (RouteResult::MethodNotAllowed { .. }
        | RouteResult::NotFound
        | RouteResult::BadPath(_)) => panic!("{method} {path} is a default route: {other:?}"),
    }
}

/// `fuzz.v1.Job`: a field of most kinds, an `Any` and itself, so an `Any`
/// in a body can hold a registered user type that nests further.
fn job_descriptor_set() -> Vec<u8> {
    let field = |name: &str, number: i32, kind: Type, label: Label, type_name: Option<&str>| {
        FieldDescriptorProto {
            name: Some(name.to_owned()),
            number: Some(number),
            label: Some(label as i32),
            r#type: Some(kind as i32),
            type_name: type_name.map(str::to_owned),
            json_name: None,
            ..FieldDescriptorProto::default()
        }
    };
    let one = Label::Optional;
    let file = FileDescriptorProto {
        name: Some("fuzz/v1/job.proto".to_owned()),
        package: Some("fuzz.v1".to_owned()),
        dependency: vec![
            "google/protobuf/any.proto".to_owned(),
            "google/protobuf/timestamp.proto".to_owned(),
        ],
        syntax: Some("proto3".to_owned()),
        message_type: vec![DescriptorProto {
            name: Some("Job".to_owned()),
            field: vec![
                field("title", 1, Type::String, one, None),
                field("size", 2, Type::Int64, one, None),
                field("tags", 3, Type::String, Label::Repeated, None),
                field("inner", 4, Type::Message, one, Some(".google.protobuf.Any")),
                field(
                    "due",
                    5,
                    Type::Message,
                    one,
                    Some(".google.protobuf.Timestamp"),
                ),
                field("child", 6, Type::Message, one, Some(".fuzz.v1.Job")),
                field("ratio", 7, Type::Double, one, None),
                field("blob", 8, Type::Bytes, one, None),
                field("done", 9, Type::Bool, one, None),
                field("count", 10, Type::Uint32, one, None),
            ],
            ..DescriptorProto::default()
        }],
        ..FileDescriptorProto::default()
    };
    FileDescriptorSet { file: vec![file] }.encode_to_vec()
}
