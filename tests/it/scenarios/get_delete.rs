//! GetOperation and DeleteOperation (docs/behaviour.md §2).

use longrun::pb::control as ctl;
use tonic::Code;

use super::Env;
use crate::support::{PARENT, empty_response};

every_transport!(
    get_of_an_unknown_operation_is_not_found_naming_it,
    get_of_a_malformed_name_is_invalid_argument,
    delete_forgets_without_cancelling_and_frees_the_id,
);
// Names with no REST path: empty, one segment, or too many segments. Over
// REST no route matches them (404 ROUTE_NOT_FOUND, docs/behaviour.md §6).
grpc_transports!(get_of_a_name_outside_the_pattern_is_invalid_argument);
// Over REST a reserved character (RFC 3986: `!`, `:`, ...) in a name
// stays escaped, as the name's variable spans several segments
// (docs/behaviour.md §6): the server sees `a%21b`, and its message says so.
grpc_transports!(get_of_a_name_with_a_reserved_character_is_invalid_argument);

async fn get_of_an_unknown_operation_is_not_found_naming_it(env: Env) {
    let s = env.start().await;
    let name = format!("{PARENT}/operations/missing");
    let missing = s.get(&name).await.expect_err("unknown");
    assert_eq!(missing.code, Code::NotFound);
    assert_eq!(missing.message, format!("operation \"{name}\" not found"));
    assert_eq!(missing.reason(), "OPERATION_NOT_FOUND");
    assert_eq!(missing.info.domain, "cloudaicompanion.googleapis.com");
    assert_eq!(missing.metadata("operation"), Some(name.as_str()));
}

async fn get_of_a_malformed_name_is_invalid_argument(env: Env) {
    let s = env.start().await;
    let long = "x".repeat(129);
    for id in ["a b", "caf\u{e9}", "50%", long.as_str()] {
        let name = format!("{PARENT}/operations/{id}");
        let err = s.get(&name).await.expect_err("malformed");
        assert_eq!(err.code, Code::InvalidArgument, "{name}");
        assert_eq!(err.reason(), "INVALID_NAME", "{name}");
        assert_eq!(err.message, invalid_name_message(&name));
    }
}

async fn get_of_a_name_with_a_reserved_character_is_invalid_argument(env: Env) {
    let s = env.start().await;
    for id in ["a!b", "x:cancel"] {
        let name = format!("{PARENT}/operations/{id}");
        let err = s.get(&name).await.expect_err("malformed");
        assert_eq!(err.code, Code::InvalidArgument, "{name}");
        assert_eq!(err.reason(), "INVALID_NAME", "{name}");
        assert_eq!(err.message, invalid_name_message(&name));
    }
}

async fn get_of_a_name_outside_the_pattern_is_invalid_argument(env: Env) {
    let s = env.start().await;
    for bad in ["", "nope", "projects/p/locations/l/operations/a/b"] {
        let err = s.get(bad).await.expect_err("malformed");
        assert_eq!(err.code, Code::InvalidArgument, "{bad}");
        assert_eq!(err.reason(), "INVALID_NAME", "{bad}");
        assert_eq!(err.message, invalid_name_message(bad));
    }
}

pub fn invalid_name_message(name: &str) -> String {
    format!(
        "invalid operation name {name:?}: expected \"projects/{{project}}/locations/{{location}}/operations/{{operation}}\""
    )
}

async fn delete_forgets_without_cancelling_and_frees_the_id(env: Env) {
    let s = env.start().await;
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: "reused".into(),
        ..Default::default()
    };
    let op = s.create_with(request.clone()).await;
    s.client.delete(&op.name).await.expect("delete");
    let gone = s.get(&op.name).await.expect_err("gone");
    assert_eq!(gone.code, Code::NotFound);
    let late = s
        .complete(&op.name, empty_response())
        .await
        .expect_err("deleted");
    assert_eq!(late.code, Code::NotFound);
    assert_eq!(late.message, format!("operation \"{}\" not found", op.name));
    let twice = s.client.delete(&op.name).await.expect_err("twice");
    assert_eq!(twice.code, Code::NotFound);
    assert_eq!(twice.reason(), "OPERATION_NOT_FOUND");
    let again = s.create_with(request).await;
    assert_eq!(again.name, op.name, "the id is free again");
    assert!(!again.done);
}
