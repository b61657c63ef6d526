//! Documents for a user's service: the shapes longrun's own protos lack
//! (nested path variables, a body field, response_body, streaming,
//! recursion, maps, enums, 64-bit integers, well-known types).

use prost_reflect::DescriptorPool;
use serde_json::json;

use super::{assert_refs_resolve, component, document_for, parameter, parameter_names};

const LIBRARY: &str = "shop.v1.Library";

/// Compiled the way `--descriptor-set` files are made (options kept),
/// against longrun's google/api protos.
fn user_pool() -> DescriptorPool {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("shop.proto"),
        r#"syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
enum Genre { GENRE_UNSPECIFIED = 0; FICTION = 1; }
message Book {
  string name = 1;
  int64 pages = 2;
  uint64 isbn = 3;
  bytes cover = 4;
  Genre genre = 5;
  map<string, int32> ratings = 6;
  Book sequel = 7;
  repeated Book related = 8;
  google.protobuf.Timestamp published = 9;
  google.protobuf.Struct extra = 10;
  google.protobuf.Int64Value copies = 11;
  repeated string tags = 12;
  optional string subtitle = 13;
  fixed64 checksum = 14;
  double price = 15;
  google.protobuf.Value anything = 16;
}
message GetBookRequest { Book book = 1; google.protobuf.FieldMask read_mask = 2; }
message UpdateBookRequest { Book book = 1; google.protobuf.FieldMask update_mask = 2; }
message NameRequest { string name = 1; }
service Library {
  rpc GetBook(GetBookRequest) returns (Book) {
    option (google.api.http) = { get: "/v1/{book.name=shelves/*/books/*}" };
  }
  rpc UpdateBook(UpdateBookRequest) returns (Book) {
    option (google.api.http) = { patch: "/v1/{book.name=shelves/*/books/*}" body: "book" };
  }
  rpc DeleteBook(NameRequest) returns (google.protobuf.Empty) {
    option (google.api.http) = { delete: "/v1/{name=shelves/*/books/*}" };
  }
  rpc GetTitle(GetBookRequest) returns (Book) {
    option (google.api.http) = {
      get: "/v1/{book.name=shelves/*/books/*}:title" response_body: "name"
    };
  }
  rpc Watch(NameRequest) returns (stream Book) {
    option (google.api.http) = { get: "/v1/{name=shelves/*}:watch" };
  }
}
"#,
    )
    .expect("write proto");
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/proto");
    let mut compiler =
        protox::Compiler::new([dir.path(), std::path::Path::new(proto_dir)]).expect("compiler");
    compiler.include_imports(true);
    compiler.open_file("shop.proto").expect("compile");
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).expect("pool")
}

#[test]
fn nested_path_variable_is_one_dotted_parameter_and_left_out_of_the_query() {
    let document = document_for(&user_pool(), None, &[LIBRARY]);
    let get = &document["paths"]["/v1/{book.name}"]["get"];
    assert_eq!(
        get["x-google-path-template"],
        "/v1/{book.name=shelves/*/books/*}"
    );
    assert_eq!(
        parameter(get, "book.name")["schema"]["pattern"],
        "^shelves/[^/]+/books/[^/]+$"
    );
    assert_eq!(
        parameter_names(get),
        [
            "path book.name",
            "query book.pages",
            "query book.isbn",
            "query book.cover",
            "query book.genre",
            "query book.published",
            "query book.copies",
            "query book.tags",
            "query book.subtitle",
            "query book.checksum",
            "query book.price",
            "query readMask",
        ]
    );
    assert_eq!(
        parameter(get, "book.pages")["schema"],
        json!({ "type": "string", "format": "int64" })
    );
    assert_eq!(
        parameter(get, "book.genre")["schema"],
        json!({ "type": "string", "enum": ["GENRE_UNSPECIFIED", "FICTION"] })
    );
    assert_eq!(
        parameter(get, "book.tags")["schema"],
        json!({ "type": "array", "items": { "type": "string" } })
    );
    assert_eq!(
        parameter(get, "book.published")["schema"],
        json!({ "type": "string", "format": "date-time" })
    );
    assert_eq!(parameter(get, "readMask")["schema"]["type"], "string");
}

#[test]
fn body_field_is_the_request_body_and_response_body_the_response() {
    let document = document_for(&user_pool(), None, &[LIBRARY]);
    let update = &document["paths"]["/v1/{book.name}"]["patch"];
    assert_eq!(
        update["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/shop.v1.Book"
    );
    assert_eq!(
        parameter_names(update),
        ["path book.name", "query updateMask"]
    );
    let title = &document["paths"]["/v1/{book.name}:title"]["get"];
    assert_eq!(
        title["responses"]["200"]["content"]["application/json"]["schema"],
        json!({ "type": "string" })
    );
}

#[test]
fn message_fields_map_to_their_json_forms() {
    let document = document_for(&user_pool(), None, &[LIBRARY]);
    let book = &component(&document, "shop.v1.Book")["properties"];
    let expected = json!({
        "pages": { "type": "string", "format": "int64" },
        "isbn": { "type": "string", "format": "uint64" },
        "checksum": { "type": "string", "format": "uint64" },
        "cover": { "type": "string", "format": "byte" },
        "price": { "type": "number", "format": "double" },
        "ratings": {
            "type": "object",
            "additionalProperties": { "type": "integer", "format": "int32" },
        },
        "sequel": { "$ref": "#/components/schemas/shop.v1.Book" },
        "related": {
            "type": "array",
            "items": { "$ref": "#/components/schemas/shop.v1.Book" },
        },
        "copies": { "type": "string", "format": "int64" },
        "extra": { "$ref": "#/components/schemas/google.protobuf.Struct" },
        "anything": { "$ref": "#/components/schemas/google.protobuf.Value" },
        // A proto3 `optional` is a synthetic oneof: no oneof note.
        "subtitle": { "type": "string" },
    });
    for (name, schema) in expected.as_object().unwrap() {
        assert_eq!(&book[name], schema, "{name}");
    }
    assert_eq!(
        component(&document, "google.protobuf.Struct")["additionalProperties"]["$ref"],
        "#/components/schemas/google.protobuf.Value"
    );
    assert_eq!(
        component(&document, "google.protobuf.Value")["nullable"],
        true
    );
    assert!(
        document["components"]["schemas"]
            .get("google.protobuf.Timestamp")
            .is_none(),
        "scalar well-known types are inline"
    );
}

#[test]
fn every_ref_resolves_for_a_user_service() {
    assert_refs_resolve(&document_for(&user_pool(), None, &[LIBRARY]));
}
