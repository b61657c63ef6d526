//! Store failures reach clients in our own words, naming the resource and
//! never the database, over gRPC and REST alike; what the database said goes
//! to the log, on a line with the request id the client was given. The
//! failures are real: a unique key the database enforces (an extra index
//! made by the test), a store shut down under the server, and a PostgreSQL
//! that stops answering.
//!
//! Current-thread runtimes: the server's tasks run on the test's thread,
//! where `CapturedLogs` hears them.

use std::time::Duration;

use http::{Method, StatusCode};
use longrun::pb::{control as ctl, longrunning as lro, rpc};
use longrun::service::ServiceSettings;
use prost::Message;
use sqlx::Executor;
use tonic::Code;

use crate::replicas::replica_config;
use crate::rest::{Answer, Rest};
use crate::support::logs::CapturedLogs;
use crate::support::postgres::PgSchema;
use crate::support::proxy::Proxy;
use crate::support::*;

/// Words of databases and drivers that must never reach a client.
const DATABASE_WORDS: &[&str] = &[
    "sqlx",
    "sqlite",
    "postgres",
    "database",
    "pool",
    "constraint",
    "unique",
    "index",
    "sql",
    "duplicate",
    "connection",
    "forced_unique_key",
    "the store",
];

/// Only one operation may be done: the second completion breaks a unique
/// key that the database itself enforces.
const FORCED_UNIQUE_KEY: &str =
    "CREATE UNIQUE INDEX forced_unique_key ON operations (done) WHERE done";

fn assert_our_words(message: &str, resource: &str) {
    assert!(
        message.contains(&format!("{resource:?}")),
        "the message names {resource}: {message:?}"
    );
    let lowered = message.to_lowercase();
    for word in DATABASE_WORDS {
        assert!(
            !lowered.contains(word),
            "{word:?} reached the client: {message:?}"
        );
    }
}

/// The request id a gRPC error carries in its `RequestInfo`.
fn request_id_of(status: &tonic::Status) -> String {
    let details = rpc::Status::decode(status.details()).expect("details");
    let info = details
        .details
        .iter()
        .find(|any| any.type_url == "type.googleapis.com/google.rpc.RequestInfo")
        .unwrap_or_else(|| panic!("a RequestInfo detail in {status:?}"));
    rpc::RequestInfo::decode(info.value.as_slice())
        .expect("decodes")
        .request_id
}

/// Checks a gRPC failure: code, our words, and the log line of its request.
fn check_grpc(status: &tonic::Status, code: Code, resource: &str, logs: &CapturedLogs, said: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_our_words(status.message(), resource);
    let line = logs.line_with(&request_id_of(status));
    assert!(
        line.contains(said),
        "the log has what the store said ({said}): {line}"
    );
}

/// Checks a REST failure: HTTP status, our words in the envelope, and the
/// log line of the request id in `X-Request-Id`.
fn check_rest(answer: &Answer, http: StatusCode, resource: &str, logs: &CapturedLogs, said: &str) {
    assert_eq!(answer.status, http, "{}", answer.json);
    let message = answer.json["error"]["message"].as_str().expect("a message");
    assert_our_words(message, resource);
    let request_id = answer.headers["x-request-id"].to_str().expect("ascii");
    let line = logs.line_with(request_id);
    assert!(
        line.contains(said),
        "the log has what the store said ({said}): {line}"
    );
}

fn named(id: &str) -> ctl::CreateOperationRequest {
    ctl::CreateOperationRequest {
        parent: PARENT.into(),
        operation_id: id.into(),
        ..Default::default()
    }
}

/// Completes `first`, then `over_grpc` and `over_rest`, which the forced
/// key refuses, checking what each client hears.
async fn second_completion_breaks_the_forced_key(
    server: &TestServer,
    logs: &CapturedLogs,
    said: &str,
) {
    for id in ["first", "over-grpc", "over-rest"] {
        server.create_with(named(id)).await;
    }
    let first = format!("{PARENT}/operations/first");
    server
        .complete(&first, empty_response())
        .await
        .expect("the first may finish");

    let over_grpc = format!("{PARENT}/operations/over-grpc");
    let err = server
        .complete(&over_grpc, empty_response())
        .await
        .expect_err("the key refuses a second done operation");
    check_grpc(&err, Code::Aborted, &over_grpc, logs, said);

    let over_rest = format!("{PARENT}/operations/over-rest");
    let control = Rest::new(server.server.control_addr);
    let answer = control
        .post(
            &format!("/v1/{over_rest}:complete"),
            Some(r#"{"response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}"#),
        )
        .await;
    check_rest(&answer, StatusCode::CONFLICT, &over_rest, logs, said);
    let still = server.get(&over_rest).await.expect("nothing was lost");
    assert!(!still.done, "the refused write changed nothing");
}

#[tokio::test]
async fn unique_key_conflict_on_sqlite_is_told_in_our_words_and_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("forced.db");
    let server = TestServer::on_file(&path, ServiceSettings::default()).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("a second connection to the file");
    pool.execute(FORCED_UNIQUE_KEY).await.expect("index made");
    pool.close().await;

    let (logs, _capture) = CapturedLogs::start();
    second_completion_breaks_the_forced_key(&server, &logs, "UNIQUE constraint failed").await;
}

#[tokio::test]
async fn unique_key_conflict_on_postgres_is_told_in_our_words_and_logged() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let server = TestServer::with_config(
        replica_config(schema.url("forced"), ServiceSettings::default()),
        None,
    )
    .await;
    let mut admin = schema.admin().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "SET search_path TO {}; {FORCED_UNIQUE_KEY}",
            schema.name
        )))
        .await
        .expect("index made");

    let (logs, _capture) = CapturedLogs::start();
    second_completion_breaks_the_forced_key(&server, &logs, "forced_unique_key").await;
    server.stop().await;
}

#[tokio::test]
async fn store_shut_down_under_the_server_is_told_in_our_words_and_logged() {
    let server = TestServer::start().await;
    server.server.core().close_store().await;
    let (logs, _capture) = CapturedLogs::start();
    let said = "the store is shut down";

    let err = server
        .ops
        .clone()
        .list_operations(lro::ListOperationsRequest {
            name: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect_err("no store");
    check_grpc(&err, Code::Unavailable, PARENT, &logs, said);
    let err = server
        .control
        .clone()
        .create_operation(named("after-close"))
        .await
        .expect_err("no store");
    let name = format!("{PARENT}/operations/after-close");
    check_grpc(&err, Code::Unavailable, &name, &logs, said);

    let public = Rest::new(server.server.public_addr);
    let answer = public.get(&format!("/v1/{PARENT}/operations")).await;
    check_rest(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        PARENT,
        &logs,
        said,
    );
    let control = Rest::new(server.server.control_addr);
    let answer = control
        .send(
            Method::POST,
            &format!("/v1/{PARENT}/operations"),
            Some(r#"{"operationId": "after-close-rest"}"#),
            Some("application/json"),
        )
        .await;
    let name = format!("{PARENT}/operations/after-close-rest");
    check_rest(&answer, StatusCode::SERVICE_UNAVAILABLE, &name, &logs, said);
}

#[tokio::test]
async fn stopped_postgres_is_told_in_our_words_and_logged() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let proxy = Proxy::start(schema.server_addr()).await;
    let mut config = replica_config(
        schema.url_via(proxy.addr, "stopped"),
        ServiceSettings::default(),
    );
    config.postgres.acquire_timeout = Duration::from_secs(1);
    config.postgres.statement_timeout = Duration::from_secs(2);
    config.cache_entries = 0;
    let server = TestServer::with_config(config, None).await;
    let op = server.create().await;
    proxy.cut();
    let (logs, _capture) = CapturedLogs::start();
    // What sqlx says of a pool that cannot connect; it names neither the
    // resource nor anything a client can act on.
    let said = "the database is unavailable";

    let err = server.get(&op.name).await.expect_err("no database");
    check_grpc(&err, Code::Unavailable, &op.name, &logs, said);
    let answer = Rest::new(server.server.public_addr)
        .get(&format!("/v1/{}", op.name))
        .await;
    check_rest(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        &op.name,
        &logs,
        said,
    );
    proxy.restore();
    server.stop().await;
}
