//! Tests of the OpenAPI document: every route, parameters from the path and the
//! query, schemas in the proto3 JSON mapping, resolvable `$ref`s, stable order
//! and operation ids.

use prost_reflect::DescriptorPool;
use serde_json::{Value, json};

use super::path::OpenApiPath;
use super::*;
use crate::pb::FILE_DESCRIPTOR_SET;
use crate::transcode::rules::{DEFAULT_RULES, load};
use crate::transcode::template::PathTemplate;

mod user_protos;

const OPERATIONS: &str = "google.longrunning.Operations";
const CONTROL: &str = "longrun.v1.OperationsControl";

fn pool() -> DescriptorPool {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("descriptor set")
}

fn document_for(pool: &DescriptorPool, yaml: Option<&str>, services: &[&str]) -> Value {
    let bindings = load(pool, yaml, services).unwrap_or_else(|e| panic!("{e}"));
    openapi_document(pool, &bindings, "longrun", "0.1.0")
}

fn default_document(services: &[&str]) -> Value {
    document_for(&pool(), Some(DEFAULT_RULES), services)
}

/// The methods of each path, as "path method" lines.
fn routes(document: &Value) -> Vec<String> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("path item");
            item.keys().map(move |method| format!("{path} {method}"))
        })
        .collect()
}

/// The parameters of an operation as "in name" lines, in document order.
fn parameter_names(operation: &Value) -> Vec<String> {
    operation["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p["in"].as_str().unwrap(),
                        p["name"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .and_then(|parameters| parameters.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no parameter {name} in {operation:#}"))
}

/// The `$ref` of a schema, looking through the `allOf` that carries a
/// description.
fn ref_of(schema: &Value) -> &str {
    schema["$ref"]
        .as_str()
        .or_else(|| schema["allOf"][0]["$ref"].as_str())
        .unwrap_or_else(|| panic!("not a reference: {schema}"))
}

fn component<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    assert!(schema.is_object(), "no component {name}");
    schema
}

/// Every `$ref` in the document, wherever it is.
fn all_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(target)) = object.get("$ref") {
                out.push(target.clone());
            }
            object.values().for_each(|v| all_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| all_refs(v, out)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn assert_refs_resolve(document: &Value) {
    let mut refs = Vec::new();
    all_refs(document, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external reference {target}"));
        assert!(pointer.starts_with("/components/"), "{target}");
        assert!(
            document.pointer(pointer).is_some_and(Value::is_object),
            "{target} does not resolve"
        );
    }
}

#[test]
fn document_for_operations_has_every_default_route() {
    let document = default_document(&[OPERATIONS]);
    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(
        document["info"],
        json!({ "title": "longrun", "version": "0.1.0" })
    );
    assert_eq!(
        routes(&document),
        [
            "/v1/{name} delete",
            "/v1/{name} get",
            "/v1/{name}/operations get",
            "/v1/{name}:cancel post",
            "/v1/{name}:wait post",
        ]
    );
    let get = &document["paths"]["/v1/{name}"]["get"];
    assert_eq!(get["operationId"], "Operations_GetOperation");
    assert_eq!(get["summary"], "Get operation");
    assert_eq!(get["tags"], json!(["Operations"]));
    assert_eq!(
        get["x-google-path-template"],
        "/v1/{name=projects/*/locations/*/operations/*}"
    );
    assert!(get.get("requestBody").is_none());
    assert_eq!(
        ref_of(&get["responses"]["200"]["content"]["application/json"]["schema"]),
        "#/components/schemas/google.longrunning.Operation"
    );
    assert_eq!(
        get["responses"]["default"]["$ref"],
        "#/components/responses/Error"
    );
    let delete = &document["paths"]["/v1/{name}"]["delete"];
    assert_eq!(
        ref_of(&delete["responses"]["200"]["content"]["application/json"]["schema"]),
        "#/components/schemas/google.protobuf.Empty"
    );
    assert_eq!(
        component(&document, "google.protobuf.Empty"),
        &json!({ "type": "object" })
    );
}

#[test]
fn list_operations_takes_name_from_the_path_and_the_rest_from_the_query() {
    let document = default_document(&[OPERATIONS]);
    let list = &document["paths"]["/v1/{name}/operations"]["get"];
    assert_eq!(list["operationId"], "Operations_ListOperations");
    assert_eq!(
        parameter_names(list),
        [
            "path name",
            "query filter",
            "query pageSize",
            "query pageToken",
            "query returnPartialSuccess",
        ]
    );
    let name = parameter(list, "name");
    assert_eq!(name["required"], true);
    assert_eq!(
        name["schema"],
        json!({ "type": "string", "pattern": "^projects/[^/]+/locations/[^/]+$" })
    );
    let description = name["description"].as_str().unwrap();
    assert!(
        description.contains("projects/*/locations/*"),
        "{description}"
    );
    assert_eq!(
        parameter(list, "pageSize")["schema"],
        json!({ "type": "integer", "format": "int32" })
    );
    assert_eq!(
        parameter(list, "returnPartialSuccess")["schema"],
        json!({ "type": "boolean" })
    );
    assert_eq!(
        parameter(list, "pageToken")["schema"],
        json!({ "type": "string" })
    );
    let response = component(&document, "google.longrunning.ListOperationsResponse");
    assert_eq!(
        response["properties"]["operations"]["items"]["$ref"],
        "#/components/schemas/google.longrunning.Operation"
    );
    assert_eq!(
        response["properties"]["nextPageToken"],
        json!({ "type": "string" })
    );
}

#[test]
fn operation_schema_follows_the_proto3_json_mapping() {
    let document = default_document(&[OPERATIONS]);
    let operation = component(&document, "google.longrunning.Operation");
    assert_eq!(operation["type"], "object");
    let properties = operation["properties"].as_object().unwrap();
    let names: Vec<&String> = properties.keys().collect();
    assert_eq!(names, ["done", "error", "metadata", "name", "response"]);
    assert_eq!(properties["name"], json!({ "type": "string" }));
    assert_eq!(properties["done"], json!({ "type": "boolean" }));
    assert_eq!(
        properties["metadata"]["$ref"],
        "#/components/schemas/google.protobuf.Any"
    );
    assert_eq!(
        ref_of(&properties["error"]),
        "#/components/schemas/google.rpc.Status"
    );
    assert_eq!(
        ref_of(&properties["response"]),
        "#/components/schemas/google.protobuf.Any"
    );
    // `error` and `response` are the oneof `result`.
    let note = properties["error"]["description"].as_str().unwrap();
    assert!(
        note.contains("result") && note.contains("`response`"),
        "{note}"
    );
    let any = component(&document, "google.protobuf.Any");
    assert_eq!(any["properties"]["@type"], json!({ "type": "string" }));
    assert_eq!(any["additionalProperties"], true);
    let status = component(&document, "google.rpc.Status");
    assert_eq!(
        status["properties"]["code"],
        json!({ "type": "integer", "format": "int32" })
    );
    assert_eq!(
        status["properties"]["details"]["items"]["$ref"],
        "#/components/schemas/google.protobuf.Any"
    );
}

#[test]
fn wait_body_has_the_timeout_as_a_duration_string_and_no_name() {
    let document = default_document(&[OPERATIONS]);
    let wait = &document["paths"]["/v1/{name}:wait"]["post"];
    assert_eq!(wait["operationId"], "Operations_WaitOperation");
    // `body: "*"`: no query parameters, only the path.
    assert_eq!(parameter_names(wait), ["path name"]);
    let body = &wait["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["type"], "object");
    let properties = body["properties"].as_object().unwrap();
    assert_eq!(properties.keys().collect::<Vec<_>>(), ["timeout"]);
    assert_eq!(properties["timeout"]["type"], "string");
    assert_eq!(
        properties["timeout"]["pattern"],
        r"^-?[0-9]+(\.[0-9]{1,9})?s$"
    );
    let cancel = &document["paths"]["/v1/{name}:cancel"]["post"];
    let body = &cancel["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["properties"], json!({}));
}

#[test]
fn error_response_is_google_error_envelope() {
    let document = default_document(&[OPERATIONS]);
    let schema =
        &document["components"]["responses"]["Error"]["content"]["application/json"]["schema"];
    let error = &schema["properties"]["error"]["properties"];
    assert_eq!(error["code"]["type"], "integer");
    assert_eq!(error["message"]["type"], "string");
    assert_eq!(error["status"]["type"], "string");
    let codes = error["status"]["enum"].as_array().expect("code names");
    assert!(codes.contains(&json!("NOT_FOUND")), "{codes:?}");
    assert_eq!(error["details"]["type"], "array");
    assert_eq!(
        error["details"]["items"]["$ref"],
        "#/components/schemas/google.protobuf.Any"
    );
}

#[test]
fn every_ref_resolves_to_a_component() {
    assert_refs_resolve(&default_document(&[OPERATIONS]));
    assert_refs_resolve(&default_document(&[CONTROL]));
    assert_refs_resolve(&default_document(&[OPERATIONS, CONTROL]));
}

/// Whether every object's keys are in sorted order, at every depth.
fn keys_sorted(value: &Value) -> bool {
    match value {
        Value::Object(object) => object.keys().is_sorted() && object.values().all(keys_sorted),
        Value::Array(items) => items.iter().all(keys_sorted),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
    }
}

#[test]
fn document_is_deterministic_and_sorted() {
    let first = serde_json::to_string_pretty(&default_document(&[OPERATIONS, CONTROL])).unwrap();
    let second = serde_json::to_string_pretty(&default_document(&[OPERATIONS, CONTROL])).unwrap();
    assert_eq!(first, second);
    let parsed: Value = serde_json::from_str(&first).expect("valid JSON");
    assert!(keys_sorted(&parsed));
}

#[test]
fn control_service_creates_under_the_parent() {
    let document = default_document(&[CONTROL]);
    let create = &document["paths"]["/v1/{parent}/operations"]["post"];
    assert_eq!(create["operationId"], "OperationsControl_CreateOperation");
    assert_eq!(create["tags"], json!(["OperationsControl"]));
    assert_eq!(parameter_names(create), ["path parent"]);
    let body = &create["requestBody"]["content"]["application/json"]["schema"];
    let properties = body["properties"].as_object().unwrap();
    assert_eq!(
        properties.keys().collect::<Vec<_>>(),
        ["cancelGrace", "metadata", "operationId", "requestId"]
    );
    let watch = &document["paths"]["/v1/{name}:watch"]["get"];
    let ok = &watch["responses"]["200"];
    assert!(
        ok["description"].as_str().unwrap().contains("stream"),
        "{ok}"
    );
    assert_eq!(
        ref_of(&ok["content"]["application/json"]["schema"]),
        "#/components/schemas/longrun.v1.OperationEvent"
    );
    assert!(document["paths"]["/v1/{name}"]["patch"].is_object());
    assert!(document["paths"]["/v1/{name}:complete"]["post"].is_object());
}

#[test]
fn two_templates_at_one_path_number_the_second_parameter() {
    // The proto's own routes: `/v1/{name=operations}` (List) and
    // `/v1/{name=operations/**}` (Get) are both `GET /v1/{name}`.
    let document = document_for(&pool(), None, &[OPERATIONS]);
    // Each template keeps its own path: Delete joins Get at `{name_1}`
    // rather than sharing `/v1/{name}` with a List of other URLs.
    assert_eq!(
        routes(&document),
        [
            "/v1/{name_1} delete",
            "/v1/{name_1} get",
            "/v1/{name} get",
            "/v1/{name}:cancel post",
        ]
    );
    let list = &document["paths"]["/v1/{name}"]["get"];
    assert_eq!(list["operationId"], "Operations_ListOperations");
    assert_eq!(parameter(list, "name")["schema"]["pattern"], "^operations$");
    let get = &document["paths"]["/v1/{name_1}"]["get"];
    assert_eq!(get["operationId"], "Operations_GetOperation");
    assert_eq!(get["x-google-path-template"], "/v1/{name=operations/**}");
    let name = parameter(get, "name_1");
    assert_eq!(name["schema"]["pattern"], "^operations(?:/.*)?$");
    assert!(
        name["description"]
            .as_str()
            .unwrap()
            .contains("Field `name`"),
        "{name}"
    );
}

#[test]
fn additional_bindings_of_one_method_get_numbered_operation_ids() {
    let yaml = r"
http:
  rules:
  - selector: google.longrunning.Operations.GetOperation
    get: '/v1/{name=projects/*/operations/*}'
    additional_bindings:
    - get: '/v1/{name=folders/*/operations/*}'
    - get: '/v2/{name=projects/*/operations/*}'
";
    let bindings = load(&pool(), Some(yaml), &[OPERATIONS]).unwrap_or_else(|e| panic!("{e}"));
    let bindings: Vec<Binding> = bindings
        .into_iter()
        .filter(|b| b.method.name() == "GetOperation")
        .collect();
    let document = openapi_document(&pool(), &bindings, "t", "1");
    assert_eq!(
        routes(&document),
        ["/v1/{name_1} get", "/v1/{name} get", "/v2/{name} get"]
    );
    let ids: Vec<&Value> = ["/v1/{name}", "/v1/{name_1}", "/v2/{name}"]
        .iter()
        .map(|path| &document["paths"][path]["get"]["operationId"])
        .collect();
    assert_eq!(
        ids,
        [
            "Operations_GetOperation",
            "Operations_GetOperation2",
            "Operations_GetOperation3"
        ]
    );
    assert_eq!(
        parameter(&document["paths"]["/v1/{name_1}"]["get"], "name_1")["schema"]["pattern"],
        "^folders/[^/]+/operations/[^/]+$"
    );
}

#[test]
fn custom_http_method_is_left_out() {
    let yaml = r"
http:
  rules:
  - selector: google.longrunning.Operations.GetOperation
    custom: { kind: SEARCH, path: '/v1/{name=projects/*/operations/*}' }
    additional_bindings:
    - get: '/v1/{name=projects/*/operations/*}'
";
    let bindings: Vec<Binding> = load(&pool(), Some(yaml), &[OPERATIONS])
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|b| b.method.name() == "GetOperation")
        .collect();
    assert_eq!(bindings.len(), 2);
    let document = openapi_document(&pool(), &bindings, "t", "1");
    assert_eq!(routes(&document), ["/v1/{name} get"]);
    // The custom binding has no operation, so it takes no id either.
    assert_eq!(
        document["paths"]["/v1/{name}"]["get"]["operationId"],
        "Operations_GetOperation"
    );
}

#[test]
fn openapi_path_splits_the_canonical_template() {
    let path = |text: &str| OpenApiPath::new(&PathTemplate::parse(text).expect(text));
    let cancel = path("/v1/{name=projects/*/operations/*}:cancel");
    assert_eq!(cancel.key(), "/v1/{name}:cancel");
    assert_eq!(
        cancel.variables[0].pattern().as_deref(),
        Some("^projects/[^/]+/operations/[^/]+$")
    );
    let two = path("/v1/{parent=shelves/*}/books/{book.id}");
    assert_eq!(two.key(), "/v1/{parent}/books/{book.id}");
    assert_eq!(two.variables[1].field_path, ["book", "id"]);
    assert_eq!(two.variables[1].pattern(), None);
    assert_eq!(
        path("/{name=**}").variables[0].pattern().as_deref(),
        Some("^.*$")
    );
    // Literals compare decoded, as a client passes the value.
    assert_eq!(
        path("/v1/{name=a%2Eb/*}").variables[0].pattern().as_deref(),
        Some(r"^a\.b/[^/]+$")
    );
    assert_eq!(path("/v1/things:list").key(), "/v1/things:list");
}

#[test]
fn summary_splits_camel_case_and_keeps_acronyms() {
    assert_eq!(summary("GetOperation"), "Get operation");
    assert_eq!(summary("ListOperations"), "List operations");
    assert_eq!(summary("GetHTTPRule"), "Get HTTP rule");
    assert_eq!(summary("Watch"), "Watch");
}
