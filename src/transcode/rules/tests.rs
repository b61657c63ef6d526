//! Tests of loading HTTP rules: proto annotations, the default and YAML
//! overrides, additional bindings, and refusals that name the selector and the
//! problem.

use http::Method;
use prost_reflect::DescriptorPool;

use super::*;
use crate::pb::FILE_DESCRIPTOR_SET;
use crate::transcode::router::{RouteResult, Router};

const OPERATIONS: &str = "google.longrunning.Operations";
const CONTROL: &str = "longrun.v1.OperationsControl";

fn pool() -> DescriptorPool {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("descriptor set")
}

/// Each binding as "Rpc METHOD template body".
fn summary(bindings: &[Binding]) -> Vec<String> {
    bindings
        .iter()
        .map(|b| {
            let body = match &b.body {
                BodyRule::None => String::new(),
                BodyRule::All => " body=*".to_owned(),
                BodyRule::Field(field) => format!(" body={field}"),
            };
            let response = b
                .response_body
                .as_ref()
                .map(|field| format!(" response_body={field}"))
                .unwrap_or_default();
            format!(
                "{} {} {}{body}{response}",
                b.method.name(),
                b.http_method,
                b.template
            )
        })
        .collect()
}

fn load_ok(yaml: Option<&str>, services: &[&str]) -> Vec<Binding> {
    load(&pool(), yaml, services).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn load_annotations_only_gives_the_proto_routes() {
    let bindings = load_ok(None, &[OPERATIONS]);
    assert_eq!(
        summary(&bindings),
        [
            "ListOperations GET /v1/{name=operations}",
            "GetOperation GET /v1/{name=operations/**}",
            "DeleteOperation DELETE /v1/{name=operations/**}",
            "CancelOperation POST /v1/{name=operations/**}:cancel body=*",
        ]
    );
    // An empty service config, or one without `http:`, overrides nothing.
    for yaml in ["", "# nothing\n", "type: google.api.Service\nname: x\n"] {
        assert_eq!(
            summary(&load_ok(Some(yaml), &[OPERATIONS])).len(),
            4,
            "{yaml:?}"
        );
    }
}

#[test]
fn load_default_rules_override_every_operations_route() {
    let bindings = load_ok(Some(DEFAULT_RULES), &[OPERATIONS]);
    assert_eq!(
        summary(&bindings),
        [
            "ListOperations GET /v1/{name=projects/*/locations/*}/operations",
            "GetOperation GET /v1/{name=projects/*/locations/*/operations/*}",
            "DeleteOperation DELETE /v1/{name=projects/*/locations/*/operations/*}",
            "CancelOperation POST /v1/{name=projects/*/locations/*/operations/*}:cancel body=*",
            "WaitOperation POST /v1/{name=projects/*/locations/*/operations/*}:wait body=*",
        ]
    );
    let router = Router::new(bindings);
    let RouteResult::Matched {
        binding, bindings, ..
    } = router.route(&Method::GET, "/v1/projects/p/locations/l/operations/o")
    else {
        panic!("GetOperation does not match");
    };
    assert_eq!(
        binding.method.full_name(),
        "google.longrunning.Operations.GetOperation"
    );
    assert_eq!(bindings[0].value, "projects/p/locations/l/operations/o");
    // The annotation's route is gone: a rule replaces all of a selector's bindings.
    assert!(matches!(
        router.route(&Method::GET, "/v1/operations/x"),
        RouteResult::NotFound
    ));
}

#[test]
fn load_default_rules_for_the_control_listener_add_the_control_routes() {
    let bindings = load_ok(Some(DEFAULT_RULES), &[CONTROL, OPERATIONS]);
    let summary = summary(&bindings);
    assert_eq!(summary.len(), 9);
    assert_eq!(
        summary[..4],
        [
            "CreateOperation POST /v1/{parent=projects/*/locations/*}/operations body=*",
            "UpdateOperation PATCH /v1/{name=projects/*/locations/*/operations/*} body=*",
            "CompleteOperation POST /v1/{name=projects/*/locations/*/operations/*}:complete body=*",
            "WatchOperation GET /v1/{name=projects/*/locations/*/operations/*}:watch",
        ]
    );
    // The public listener never routes to the control API.
    let public = load_ok(Some(DEFAULT_RULES), &[OPERATIONS]);
    assert!(
        public
            .iter()
            .all(|b| b.method.parent_service().full_name() == OPERATIONS)
    );
}

#[test]
fn load_yaml_supports_additional_bindings_custom_body_field_and_response_body() {
    let yaml = r"
http:
  rules:
  - selector: google.longrunning.Operations.GetOperation
    get: /v1/old/{name}
  - selector: google.longrunning.Operations.GetOperation
    get: '/v1/{name=operations/**}'
    response_body: name
    additional_bindings:
    - custom: {kind: HEAD, path: '/v1/{name=operations/**}'}
    - get: '/v2/{name=**}'
  - selector: longrun.v1.OperationsControl.CreateOperation
    post: '/v1/{parent=projects/*/locations/*}/operations'
    body: metadata
  - selector: longrun.v1.OperationsControl.CompleteOperation
    post: '/v1/errors/{error.message}:complete'
    body: '*'
";
    let bindings = load_ok(Some(yaml), &[OPERATIONS, CONTROL]);
    assert_eq!(
        summary(&bindings),
        [
            "ListOperations GET /v1/{name=operations}",
            "GetOperation GET /v1/{name=operations/**} response_body=name",
            "GetOperation HEAD /v1/{name=operations/**}",
            "GetOperation GET /v2/{name=**}",
            "DeleteOperation DELETE /v1/{name=operations/**}",
            "CancelOperation POST /v1/{name=operations/**}:cancel body=*",
            "CreateOperation POST /v1/{parent=projects/*/locations/*}/operations body=metadata",
            "CompleteOperation POST /v1/errors/{error.message}:complete body=*",
        ]
    );
}

/// The problem of a rule error, or a description of another error.
fn rule_problem(yaml: &str, services: &[&str]) -> Result<(String, Origin, RuleProblem), String> {
    match load(&pool(), Some(yaml), services) {
        Err(RulesError::Rule {
            selector,
            origin,
            problem,
        }) => Ok((selector, origin, problem)),
        Err(other) => Err(other.to_string()),
        Ok(bindings) => Err(format!("loaded: {:?}", summary(&bindings))),
    }
}

fn rule(selector: &str, body: &str) -> String {
    format!("http:\n  rules:\n  - selector: {selector}\n{body}")
}

#[test]
fn load_invalid_rules_name_the_selector_and_the_problem() {
    let get = "google.longrunning.Operations.GetOperation";
    let list = "google.longrunning.Operations.ListOperations";
    // Not served by the listener under test, checked all the same.
    let create = "longrun.v1.OperationsControl.CreateOperation";
    let nope = "google.longrunning.Operations.Nope";
    let nested = "    get: /v1/{name}\n    additional_bindings:\n    - get: /v2/{name}\n      additional_bindings:\n      - get: /v3/{name}\n";
    let cases = [
        (
            nope,
            "    get: /v1/x\n",
            "no such method in the descriptor pool",
        ),
        ("nope", "    get: /v1/x\n", "no such method"),
        (
            "longrun.v1.OperationsControl.Nope",
            "    get: /v1/x\n",
            "no such method",
        ),
        (
            get,
            "    get: v1/{name}\n",
            "invalid path template \"v1/{name}\": expected '/' at position 0",
        ),
        (
            get,
            "    get: /v1/{name=**}/x\n",
            "'**' must be the last segment at position 10",
        ),
        (get, "    body: '*'\n", "no HTTP pattern"),
        (
            get,
            "    get: /v1/{name}\n    post: /v1/{name}\n",
            "several HTTP patterns (get, post)",
        ),
        (
            get,
            "    get: /v1/{name}\n    body: nope\n",
            "body \"nope\": no such field in google.longrunning.GetOperationRequest",
        ),
        (
            list,
            "    post: /v1/{name}\n    body: filter\n",
            "body \"filter\": not a message field",
        ),
        (
            create,
            "    post: /v1/{parent}\n    body: nope\n",
            "body \"nope\": no such field in longrun.v1.CreateOperationRequest",
        ),
        (
            get,
            "    get: /v1/{nope}\n",
            "path variable \"nope\": no field \"nope\" in google.longrunning.GetOperationRequest",
        ),
        (
            get,
            "    get: /v1/{name.x}\n",
            "path variable \"name.x\": \"name\" is not a message",
        ),
        (
            create,
            "    post: /v1/{metadata}\n",
            "\"metadata\" is a message (google.protobuf.Any)",
        ),
        (
            create,
            "    post: /v1/{metadata.nope}\n",
            "no field \"nope\" in google.protobuf.Any",
        ),
        (
            get,
            "    get: /v1/{name}\n    response_body: nope\n",
            "response_body \"nope\": no such field in google.longrunning.Operation",
        ),
        (
            get,
            "    custom: {kind: '*', path: '/v1/{name}'}\n",
            "custom method \"*\" (any method) is not supported",
        ),
        (
            get,
            "    custom: {kind: 'NOT A METHOD', path: '/v1/{name}'}\n",
            "not an HTTP method token",
        ),
        (
            get,
            nested,
            "additional_bindings cannot have additional_bindings",
        ),
        (
            get,
            "    get: /v1/{name}\n    additional_bindings:\n    - selector: x\n      get: /v2/{name}\n",
            "cannot have a selector (\"x\")",
        ),
        (
            get,
            "    get: /v1/{name}\n    additional_bindings:\n    - get: /v2/{nope}\n",
            "path variable \"nope\"",
        ),
    ];
    for (selector, body, message) in cases {
        let yaml = rule(selector, body);
        let (got, origin, problem) =
            rule_problem(&yaml, &[OPERATIONS]).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(
            (got.as_str(), origin),
            (selector, Origin::ServiceConfig),
            "{yaml}"
        );
        assert!(problem.to_string().contains(message), "{yaml}: {problem}");
    }
    let yaml = "http:\n  rules:\n  - get: /v1/x\n";
    assert_eq!(
        rule_problem(yaml, &[OPERATIONS]),
        Ok((
            String::new(),
            Origin::ServiceConfig,
            RuleProblem::MissingSelector
        ))
    );
    // The first bad rule of a file is reported, whichever selector it has.
    let yaml = format!(
        "{}  - selector: {list}\n    get: /v1/{{other}}\n",
        rule(get, "    get: /v1/{name}\n")
    );
    assert!(
        matches!(rule_problem(&yaml, &[OPERATIONS]), Ok((s, _, RuleProblem::PathVariable { .. })) if s == list)
    );
}

#[test]
fn load_two_routes_with_one_shape_conflict() {
    let get = "google.longrunning.Operations.GetOperation";
    let delete = "google.longrunning.Operations.DeleteOperation";
    let yaml = format!(
        "{}  - selector: {delete}\n    get: /v1/operations/{{name}}\n",
        rule(get, "    get: /v1/{name=operations/*}\n")
    );
    let (selector, _, problem) = rule_problem(&yaml, &[OPERATIONS]).expect("a conflict");
    assert_eq!(selector, delete);
    assert_eq!(
        problem,
        RuleProblem::Conflict {
            route: "GET /v1/operations/{name}".to_owned(),
            other: get.to_owned()
        }
    );
    let message = load(&pool(), Some(&yaml), &[OPERATIONS])
        .expect_err("conflict")
        .to_string();
    assert_eq!(
        message,
        "http rule for \"google.longrunning.Operations.DeleteOperation\" (service config): \
         GET /v1/operations/{name} is also bound to google.longrunning.Operations.GetOperation"
    );
}

#[test]
fn load_invalid_files_and_services_are_refused() {
    let cases = [
        ("http: [", "invalid service config YAML"),
        (
            "http:\n  rules:\n  - selector: x\n    gett: /v1\n",
            "unknown field `gett`",
        ),
        ("http:\n  rulez: []\n", "unknown field `rulez`"),
        (
            "http:\n  fully_decode_reserved_expansion: true\n",
            "fully_decode_reserved_expansion: true is not supported",
        ),
    ];
    for (yaml, message) in cases {
        let error = load(&pool(), Some(yaml), &[OPERATIONS])
            .expect_err(yaml)
            .to_string();
        assert!(error.contains(message), "{yaml}: {error}");
    }
    let error = load(&pool(), None, &["google.longrunning.Nope"]).expect_err("unknown service");
    assert!(matches!(error, RulesError::UnknownService(name) if name == "google.longrunning.Nope"));
}

#[test]
fn load_pool_without_the_http_extension_uses_the_yaml_only() {
    use prost_types::{
        DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
        MethodDescriptorProto, ServiceDescriptorProto, field_descriptor_proto::Type,
    };
    let file = FileDescriptorProto {
        name: Some("t.proto".to_owned()),
        package: Some("t".to_owned()),
        syntax: Some("proto3".to_owned()),
        message_type: vec![DescriptorProto {
            name: Some("Req".to_owned()),
            field: vec![FieldDescriptorProto {
                name: Some("name".to_owned()),
                json_name: Some("name".to_owned()),
                number: Some(1),
                r#type: Some(Type::String.into()),
                ..FieldDescriptorProto::default()
            }],
            ..DescriptorProto::default()
        }],
        service: vec![ServiceDescriptorProto {
            name: Some("S".to_owned()),
            method: vec![MethodDescriptorProto {
                name: Some("Get".to_owned()),
                input_type: Some(".t.Req".to_owned()),
                output_type: Some(".t.Req".to_owned()),
                ..MethodDescriptorProto::default()
            }],
            ..ServiceDescriptorProto::default()
        }],
        ..FileDescriptorProto::default()
    };
    let pool = DescriptorPool::from_file_descriptor_set(FileDescriptorSet { file: vec![file] })
        .expect("pool");
    assert!(pool.get_extension_by_name("google.api.http").is_none());
    assert!(load_in(&pool, None, &["t.S"]).is_empty());
    let yaml = rule("t.S.Get", "    get: '/v1/{name=things/*}'\n");
    assert_eq!(
        summary(&load_in(&pool, Some(&yaml), &["t.S"])),
        ["Get GET /v1/{name=things/*}"]
    );
}

fn load_in(pool: &DescriptorPool, yaml: Option<&str>, services: &[&str]) -> Vec<Binding> {
    load(pool, yaml, services).unwrap_or_else(|e| panic!("{e}"))
}

/// A user's annotated protos, compiled the way `--descriptor-set` files are
/// made (options kept), against longrun's google/api protos.
fn user_pool() -> DescriptorPool {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("user.proto"),
        r#"syntax = "proto3";
package user.v1;
import "google/api/annotations.proto";
message Req { string name = 1; Inner inner = 2; repeated string tags = 3; }
message Inner { string id = 1; }
service Good {
  rpc Get(Req) returns (Req) {
    option (google.api.http) = {
      get: "/v1/{inner.id}"
      additional_bindings { post: "/v1/things" body: "inner" response_body: "name" }
    };
  }
}
service Bad {
  rpc Get(Req) returns (Req) { option (google.api.http) = { get: "/v1/{tags}" }; }
}
"#,
    )
    .expect("write proto");
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/proto");
    let mut compiler =
        protox::Compiler::new([dir.path(), std::path::Path::new(proto_dir)]).expect("compiler");
    compiler.include_imports(true);
    compiler.open_file("user.proto").expect("compile");
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).expect("pool")
}

#[test]
fn load_user_annotations_with_additional_bindings_and_nested_variables() {
    let pool = user_pool();
    assert_eq!(
        summary(&load_in(&pool, None, &["user.v1.Good"])),
        [
            "Get GET /v1/{inner.id}",
            "Get POST /v1/things body=inner response_body=name",
        ]
    );
}

#[test]
fn load_invalid_annotation_fails_only_when_served() {
    let pool = user_pool();
    let error = load(&pool, None, &["user.v1.Bad"]).expect_err("repeated path variable");
    let RulesError::Rule {
        selector,
        origin,
        problem,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (selector.as_str(), *origin),
        ("user.v1.Bad.Get", Origin::Annotation)
    );
    assert!(
        matches!(problem, RuleProblem::PathVariable { field, .. } if field == "tags"),
        "{problem}"
    );
    assert!(
        error.to_string().contains("google.api.http annotation"),
        "{error}"
    );
    // A YAML rule replaces the broken annotation.
    let yaml = rule("user.v1.Bad.Get", "    get: /v1/{name}\n");
    assert_eq!(
        summary(&load_in(&pool, Some(&yaml), &["user.v1.Bad"])),
        ["Get GET /v1/{name}"]
    );
}
