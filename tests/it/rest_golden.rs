//! Whole REST bodies compared with reviewed golden files under
//! `tests/fixtures/rest/`, as parsed JSON: one table row per rule of docs/behaviour.md §6
//! whose output is a body (success shapes, Any handling, every error
//! envelope). Times and page tokens differ per run and are replaced by
//! `<timestamp>` and `<page-token>` before comparing; names are fixed by
//! client-chosen ids.
//!
//! After a deliberate change of output, `LONGRUN_BLESS=1 cargo test
//! rest_golden` rewrites the files; review the diff before committing.

use std::path::PathBuf;

use http::{Method, StatusCode};
use serde_json::Value;

use crate::rest::{Answer, Rest};
use crate::support::*;
use longrun::pb::{control as ctl, rpc};

/// One REST call and the golden file its answer must equal.
struct Case {
    fixture: &'static str,
    method: Method,
    path: String,
    body: Option<&'static str>,
    content_type: Option<&'static str>,
    status: StatusCode,
}

fn case(fixture: &'static str, method: Method, path: String, status: StatusCode) -> Case {
    Case {
        fixture,
        method,
        path,
        body: None,
        content_type: None,
        status,
    }
}

impl Case {
    fn with_body(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self.content_type = Some("application/json");
        self
    }

    fn with_typed_body(mut self, content_type: &'static str, body: &'static str) -> Self {
        self.content_type = Some(content_type);
        self.body = Some(body);
        self
    }
}

fn op(id: &str) -> String {
    format!("{PARENT}/operations/{id}")
}

/// Operations in every state the table reads, under fixed names.
async fn seed(server: &TestServer) {
    let create = async |id: &str| {
        server
            .create_with(ctl::CreateOperationRequest {
                parent: PARENT.into(),
                operation_id: id.into(),
                ..Default::default()
            })
            .await
    };
    create("running").await;
    create("cancelled").await;
    server.cancel(&op("cancelled")).await.expect("cancels");
    create("succeeded").await;
    server
        .complete(&op("succeeded"), empty_response())
        .await
        .expect("completes");
    create("failed").await;
    let failure = ctl::complete_operation_request::Result::Error(rpc::Status {
        code: 9,
        message: "the disk was full".into(),
        details: Vec::new(),
    });
    server
        .complete(&op("failed"), failure)
        .await
        .expect("completes");
    create("unregistered").await;
    let unknown = ctl::complete_operation_request::Result::Response(prost_types::Any {
        type_url: "type.googleapis.com/example.v1.Unknown".into(),
        value: vec![8, 1],
    });
    server
        .complete(&op("unregistered"), unknown)
        .await
        .expect("completes");
    create("to-delete").await;
}

fn cases() -> Vec<Case> {
    let v1 = |id: &str| format!("/v1/{}", op(id));
    let list = format!("/v1/{PARENT}/operations");
    vec![
        case("get_running", Method::GET, v1("running"), StatusCode::OK),
        case(
            "get_cancelled",
            Method::GET,
            v1("cancelled"),
            StatusCode::OK,
        ),
        case(
            "get_succeeded",
            Method::GET,
            v1("succeeded"),
            StatusCode::OK,
        ),
        case("get_failed", Method::GET, v1("failed"), StatusCode::OK),
        case(
            "get_unregistered_any",
            Method::GET,
            v1("unregistered"),
            StatusCode::NOT_IMPLEMENTED,
        ),
        case(
            "list_filtered_first_page",
            Method::GET,
            format!("{list}?filter=error.code%20%3D%209%20OR%20error.code%20%3D%201&pageSize=1"),
            StatusCode::OK,
        ),
        case(
            "list_running_snake_case_query",
            Method::GET,
            format!("{list}?filter=done%3Dfalse&page_size=5"),
            StatusCode::OK,
        ),
        case(
            "cancel_done",
            Method::POST,
            format!("{}:cancel", v1("succeeded")),
            StatusCode::OK,
        ),
        case(
            "wait_done",
            Method::POST,
            format!("{}:wait", v1("failed")),
            StatusCode::OK,
        )
        .with_body(r#"{"timeout": "5s"}"#),
        case("delete", Method::DELETE, v1("to-delete"), StatusCode::OK),
        case(
            "error_not_found",
            Method::GET,
            v1("missing"),
            StatusCode::NOT_FOUND,
        ),
        case(
            "error_no_route",
            Method::GET,
            "/v2/nothing/here".into(),
            StatusCode::NOT_FOUND,
        ),
        case(
            "error_wrong_method",
            Method::GET,
            format!("{}:cancel", v1("running")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        case(
            "error_wrong_content_type",
            Method::POST,
            format!("{}:cancel", v1("running")),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .with_typed_body("text/plain", "name=x"),
        case(
            "error_unknown_body_field",
            Method::POST,
            format!("{}:cancel", v1("running")),
            StatusCode::BAD_REQUEST,
        )
        .with_body(r#"{"colour": "blue"}"#),
        case(
            "error_body_name_differs",
            Method::POST,
            format!("{}:cancel", v1("running")),
            StatusCode::BAD_REQUEST,
        )
        .with_body(r#"{"name": "projects/x/locations/y/operations/z"}"#),
        case(
            "error_unknown_query_parameter",
            Method::GET,
            format!("{list}?colour=blue"),
            StatusCode::BAD_REQUEST,
        ),
        case(
            "error_bad_filter",
            Method::GET,
            format!("{list}?filter=done%20%3D"),
            StatusCode::BAD_REQUEST,
        ),
        case(
            "error_malformed_name",
            Method::GET,
            format!("/v1/{PARENT}/operations/a%20b"),
            StatusCode::BAD_REQUEST,
        ),
        case(
            "error_negative_wait",
            Method::POST,
            format!("{}:wait", v1("running")),
            StatusCode::BAD_REQUEST,
        )
        .with_body(r#"{"timeout": "-1s"}"#),
    ]
}

#[tokio::test]
async fn rest_bodies_equal_their_golden_files() {
    // With a default metadata type, so the bodies show how an Any with
    // server-kept times renders; the no-metadata body is pinned in rest.rs.
    let server = TestServer::with_default_metadata().await;
    seed(&server).await;
    let rest = Rest::new(server.server.public_addr);
    let bless = std::env::var_os("LONGRUN_BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in cases() {
        let answer = rest
            .send(
                case.method.clone(),
                &case.path,
                case.body,
                case.content_type,
            )
            .await;
        assert_eq!(
            answer.status, case.status,
            "{}: {} {}: {}",
            case.fixture, case.method, case.path, answer.json
        );
        let actual = normalized(&answer);
        let file = fixture_path(case.fixture);
        if bless {
            let text = serde_json::to_string_pretty(&actual).expect("prints") + "\n";
            std::fs::write(&file, text).expect("writes the fixture");
            continue;
        }
        let golden: Value = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).expect("fixtures are JSON"),
            Err(err) => panic!(
                "{}: {err}; run with LONGRUN_BLESS=1 to write it",
                file.display()
            ),
        };
        if golden != actual {
            mismatches.push(format!(
                "{}:\n  golden: {golden}\n  actual: {actual}",
                case.fixture
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn wrong_method_names_the_allowed_one_in_allow() {
    let server = TestServer::start().await;
    seed(&server).await;
    let rest = Rest::new(server.server.public_addr);
    let answer = rest.get(&format!("/v1/{}:cancel", op("running"))).await;
    assert_eq!(answer.headers["allow"], "POST");
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rest")
        .join(format!("{name}.json"))
}

/// The answer with what differs per run replaced: timestamps and page
/// tokens.
fn normalized(answer: &Answer) -> Value {
    let mut json = answer.json.clone();
    normalize(&mut json, None);
    json
}

fn normalize(value: &mut Value, key: Option<&str>) {
    match value {
        Value::String(text) if key == Some("nextPageToken") && !text.is_empty() => {
            *text = "<page-token>".into();
        }
        Value::String(text) if is_timestamp(text) => *text = "<timestamp>".into(),
        Value::Object(entries) => entries
            .iter_mut()
            .for_each(|(key, value)| normalize(value, Some(key))),
        Value::Array(items) => items.iter_mut().for_each(|item| normalize(item, None)),
        Value::String(_) | Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// RFC 3339 in UTC as the proto3 JSON mapping prints it.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[10] == b'T'
        && text.ends_with('Z')
        && bytes[..4].iter().all(u8::is_ascii_digit)
}
