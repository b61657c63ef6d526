//! An OpenAPI 3.0.3 document for the REST routes: one operation per
//! binding, schemas from the descriptor pool in the proto3 JSON mapping, so
//! REST users have a contract to read and to generate clients from. Pure:
//! descriptors and bindings in, a `serde_json::Value` out.
//!
//! Paths follow the convention of Google's generators (grpc-gateway's
//! protoc-gen-openapiv2): a variable is one path parameter named by its
//! field path, whatever segments it spans, with the segments as the
//! parameter's `pattern`; `x-google-path-template` on the operation keeps
//! the template itself. `/v1/{name=projects/*/operations/*}:cancel` becomes
//! `/v1/{name}:cancel`, `{book.name=shelves/*/books/*}` a parameter
//! `book.name`.
//!
//! Different templates can collapse to one path (`/v1/{name=projects/*}`
//! and `/v1/{name=folders/*}` both give `/v1/{name}`). As grpc-gateway does,
//! the later template's first parameter gets a suffix (`/v1/{name_1}`), the
//! next `_2`, and so on, in the order the bindings are given. So one path
//! item holds one template, whatever its methods: a Get and a Delete of the
//! same template share a path, and no operation hides another. The
//! parameter's description and the operation's `x-google-path-template`
//! name the field and the template.
//!
//! Not described: methods OpenAPI has no slot for (a `custom` HTTP method
//! such as `SEARCH`), and the framing of streaming responses (the schema is
//! one message of the stream; the description says so). Field comments are
//! not in the descriptor set, so there is no prose beyond what names and
//! types say.
//!
//! Must not import domain, service or store.

mod path;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use self::path::{OpenApiPath, PathVariable};
use self::schema::{SCHEMA_REF, Schemas, any_schema, describe};
use super::{Binding, BodyRule};

const ERROR_RESPONSE_REF: &str = "#/components/responses/Error";

/// The OpenAPI document of `bindings` (in the order given, which decides
/// who keeps the plain parameter name when paths collide), with schemas
/// from `pool`.
pub fn openapi_document(
    pool: &DescriptorPool,
    bindings: &[Binding],
    title: &str,
    version: &str,
) -> Value {
    let mut schemas = Schemas::default();
    let mut paths: BTreeMap<String, PathItem> = BTreeMap::new();
    let mut operation_ids = HashSet::new();
    for binding in bindings {
        let Some(method) = path_item_method(&binding.http_method) else {
            continue;
        };
        let template = binding.template.to_string();
        let Some(path) = place(
            OpenApiPath::new(&binding.template),
            &template,
            method,
            &paths,
        ) else {
            // The same template and method again: the router would never
            // reach this binding either.
            continue;
        };
        let id = operation_id(binding, &mut operation_ids);
        let operation = operation(&mut schemas, binding, &path, id);
        paths
            .entry(path.key())
            .or_insert_with(|| PathItem {
                template,
                operations: Map::new(),
            })
            .operations
            .insert(method.to_owned(), operation);
    }
    let paths: Map<String, Value> = paths
        .into_iter()
        .map(|(key, item)| (key, Value::Object(item.operations)))
        .collect();
    let mut components = schemas.finish();
    // The error envelope's details are Any, whether or not a message is.
    components
        .entry("google.protobuf.Any")
        .or_insert_with(any_schema);
    json!({
        "openapi": "3.0.3",
        "info": { "title": title, "version": version },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": { "Error": error_response(pool) },
        },
    })
}

/// The key of the method in an OpenAPI path item; `None` for a method
/// OpenAPI cannot describe.
fn path_item_method(method: &http::Method) -> Option<&'static str> {
    Some(match *method {
        http::Method::GET => "get",
        http::Method::PUT => "put",
        http::Method::POST => "post",
        http::Method::DELETE => "delete",
        http::Method::PATCH => "patch",
        http::Method::HEAD => "head",
        http::Method::OPTIONS => "options",
        http::Method::TRACE => "trace",
        _ => return None,
    })
}

/// The operations of one OpenAPI path, all from one template.
struct PathItem {
    template: String,
    operations: Map<String, Value>,
}

/// `path`, or when another template has its key, the same path with its
/// first parameter renamed `<name>_1`, `<name>_2`, ...; `None` when its own
/// template already has an operation for `method`.
fn place(
    path: OpenApiPath,
    template: &str,
    method: &str,
    paths: &BTreeMap<String, PathItem>,
) -> Option<OpenApiPath> {
    let base = path
        .variables
        .first()
        .map(|variable| variable.parameter.clone());
    let mut candidate = path;
    for suffix in 1.. {
        match paths.get(&candidate.key()) {
            None => return Some(candidate),
            Some(item) if item.template == template => {
                return (!item.operations.contains_key(method)).then_some(candidate);
            }
            // A template without variables is its own key: only the same
            // template can hold it, so this arm always has a variable.
            Some(_) => {
                let base = base.as_ref()?;
                candidate.variables[0].parameter = format!("{base}_{suffix}");
            }
        }
    }
    None
}

/// `Service_Method`; a method's further bindings (or a service of the same
/// name in another package) get `Service_Method2`, `3`, ... as
/// grpc-gateway numbers additional bindings.
fn operation_id(binding: &Binding, used: &mut HashSet<String>) -> String {
    let method = &binding.method;
    let base = format!("{}_{}", method.parent_service().name(), method.name());
    let mut id = base.clone();
    let mut number = 1;
    while !used.insert(id.clone()) {
        number += 1;
        id = format!("{base}{number}");
    }
    id
}

fn operation(schemas: &mut Schemas, binding: &Binding, path: &OpenApiPath, id: String) -> Value {
    let method = &binding.method;
    let input = method.input();
    let mut parameters: Vec<Value> = path
        .variables
        .iter()
        .map(|variable| path_parameter(schemas, &input, variable))
        .collect();
    // `body: "*"` leaves nothing to the query (docs/behaviour.md §6).
    if binding.body != BodyRule::All {
        let mut skip: Vec<String> = path.variables.iter().map(PathVariable::dotted).collect();
        if let BodyRule::Field(field) = &binding.body {
            skip.push(field.clone());
        }
        let mut query = QueryParameters {
            schemas,
            skip,
            visiting: vec![input.full_name().to_owned()],
            out: Vec::new(),
        };
        query.walk(&input, "", "");
        parameters.extend(query.out);
    }
    let mut operation = Map::new();
    operation.insert("operationId".to_owned(), Value::from(id));
    operation.insert("summary".to_owned(), Value::from(summary(method.name())));
    operation.insert("tags".to_owned(), json!([method.parent_service().name()]));
    operation.insert(
        "x-google-path-template".to_owned(),
        Value::from(binding.template.to_string()),
    );
    if !parameters.is_empty() {
        operation.insert("parameters".to_owned(), Value::Array(parameters));
    }
    if let Some(body) = request_body(schemas, binding, path) {
        operation.insert("requestBody".to_owned(), body);
    }
    operation.insert(
        "responses".to_owned(),
        json!({
            "200": ok_response(schemas, binding),
            "default": { "$ref": ERROR_RESPONSE_REF },
        }),
    );
    Value::Object(operation)
}

fn path_parameter(
    schemas: &mut Schemas,
    input: &MessageDescriptor,
    variable: &PathVariable,
) -> Value {
    let field = find_field(input, &variable.field_path);
    let mut schema = field
        .as_ref()
        .map_or_else(|| json!({ "type": "string" }), |field| schemas.field(field));
    let is_string = field.is_some_and(|field| matches!(field.kind(), Kind::String));
    if let (true, Some(pattern), Value::Object(object)) =
        (is_string, variable.pattern(), &mut schema)
    {
        object.insert("pattern".to_owned(), Value::from(pattern));
    }
    let dotted = variable.dotted();
    let description = match &variable.segments {
        // Generated clients percent-encode path parameters; the router
        // keeps `%2F` inside a multi-segment variable as data, so an
        // escaped slash would not match the template.
        Some(segments) if segments.contains('/') || segments.contains("**") => format!(
            "Field `{dotted}`, matching `{segments}`. Its `/` separate path segments: \
             send them as `/`, not `%2F`."
        ),
        Some(segments) => format!("Field `{dotted}`, matching `{segments}`."),
        None => format!("Field `{dotted}`."),
    };
    json!({
        "name": variable.parameter,
        "in": "path",
        "required": true,
        "description": description,
        "schema": schema,
    })
}

/// The field at the end of a chain of field names.
fn find_field(message: &MessageDescriptor, field_path: &[String]) -> Option<FieldDescriptor> {
    let (last, parents) = field_path.split_last()?;
    let mut message = message.clone();
    for name in parents {
        let kind = message.get_field_by_name(name)?.kind();
        message = kind.as_message()?.clone();
    }
    message.get_field_by_name(last)
}

/// The query parameters of a request: every field a query string can
/// spell (scalars, enums, repeated ones, scalar well-known types), nested
/// fields as `a.b`, named by their JSON names. Maps, repeated messages and
/// Any/Struct/Value/ListValue/Empty have no query form and are left out; a
/// message already on the path from the request is not entered again.
struct QueryParameters<'a> {
    schemas: &'a mut Schemas,
    /// Dotted proto field paths bound elsewhere (path, body field).
    skip: Vec<String>,
    visiting: Vec<String>,
    out: Vec<Value>,
}

impl QueryParameters<'_> {
    fn walk(&mut self, message: &MessageDescriptor, json_prefix: &str, proto_prefix: &str) {
        for field in message.fields() {
            let proto_path = format!("{proto_prefix}{}", field.name());
            let json_path = format!("{json_prefix}{}", field.json_name());
            if self.skip.contains(&proto_path) || field.is_map() {
                continue;
            }
            if let Kind::Message(inner) = field.kind()
                && !schema::is_scalar_message(&inner)
            {
                let name = inner.full_name().to_owned();
                if field.is_list()
                    || schema::is_opaque_message(&inner)
                    || self.visiting.contains(&name)
                {
                    continue;
                }
                self.visiting.push(name);
                self.walk(&inner, &format!("{json_path}."), &format!("{proto_path}."));
                self.visiting.pop();
                continue;
            }
            let mut parameter = json!({
                "name": json_path,
                "in": "query",
                "schema": self.schemas.field(&field),
            });
            if let Some(note) = schema::oneof_note(&field) {
                parameter["description"] = Value::from(note);
            }
            self.out.push(parameter);
        }
    }
}

fn request_body(schemas: &mut Schemas, binding: &Binding, path: &OpenApiPath) -> Option<Value> {
    let input = binding.method.input();
    let mut schema = match &binding.body {
        BodyRule::None => return None,
        BodyRule::Field(name) => schemas.field(&input.get_field_by_name(name)?),
        BodyRule::All if path.variables.is_empty() => schemas.message(&input),
        // The path binds some fields; the body carries the others.
        BodyRule::All => {
            let top_level: Vec<&str> = path
                .variables
                .iter()
                .filter_map(|variable| match variable.field_path.as_slice() {
                    [field] => Some(field.as_str()),
                    _ => None,
                })
                .collect();
            let bound: Vec<String> = path
                .variables
                .iter()
                .map(|variable| format!("`{}`", variable.dotted()))
                .collect();
            let properties = schemas.properties(&input, &top_level);
            json!({
                "type": "object",
                "properties": properties,
                "description": format!(
                    "The fields of `{}` but those the path binds ({}).",
                    input.full_name(),
                    bound.join(", ")
                ),
            })
        }
    };
    if binding.method.is_client_streaming() {
        schema = describe(
            schema,
            "Client-streaming RPC: this is one message of the stream.",
        );
    }
    Some(json!({ "content": { "application/json": { "schema": schema } } }))
}

fn ok_response(schemas: &mut Schemas, binding: &Binding) -> Value {
    let output = binding.method.output();
    let field = binding
        .response_body
        .as_deref()
        .and_then(|name| output.get_field_by_name(name));
    let schema = match field {
        Some(field) => schemas.field(&field),
        None => schemas.message(&output),
    };
    let description = if binding.method.is_server_streaming() {
        "OK. Server-streaming RPC: the schema is one message of the stream."
    } else {
        "OK"
    };
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema } },
    })
}

/// Google's JSON error envelope (docs/behaviour.md §6): `code` is the HTTP status,
/// `status` the name of the `google.rpc.Code`.
fn error_response(pool: &DescriptorPool) -> Value {
    let mut status = json!({ "type": "string", "description": "The google.rpc.Code name." });
    if let Some(code) = pool.get_enum_by_name("google.rpc.Code") {
        let names: Vec<String> = code.values().map(|value| value.name().to_owned()).collect();
        status["enum"] = json!(names);
    }
    json!({
        "description": "Error",
        "content": { "application/json": { "schema": {
            "type": "object",
            "properties": { "error": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "integer",
                        "format": "int32",
                        "description": "The HTTP status code.",
                    },
                    "message": { "type": "string" },
                    "status": status,
                    "details": {
                        "type": "array",
                        "items": { "$ref": format!("{SCHEMA_REF}google.protobuf.Any") },
                    },
                },
            } },
        } } },
    })
}

/// `GetOperation` -> "Get operation", `GetHTTPRule` -> "Get HTTP rule".
fn summary(method: &str) -> String {
    let chars: Vec<char> = method.chars().collect();
    let mut words: Vec<String> = Vec::new();
    for (index, c) in chars.iter().enumerate() {
        let starts_word = index > 0
            && c.is_ascii_uppercase()
            && (!chars[index - 1].is_ascii_uppercase()
                || chars.get(index + 1).is_some_and(char::is_ascii_lowercase));
        if index == 0 || starts_word {
            words.push(String::new());
        }
        if let Some(word) = words.last_mut() {
            word.push(*c);
        }
    }
    words
        .iter()
        .enumerate()
        .map(|(index, word)| {
            let acronym = word.len() > 1 && word.chars().all(|c| !c.is_ascii_lowercase());
            if index == 0 || acronym {
                word.clone()
            } else {
                word.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
