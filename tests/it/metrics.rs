//! Prometheus metrics (`--metrics-listen`): known traffic over every
//! transport, then a scrape, and exact counts of what it must show.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::rest::Rest;
use crate::support::*;
use longrun::pb::longrunning as lro;
use longrun::service::ServiceSettings;

async fn metrics_server(settings: ServiceSettings) -> TestServer {
    let config = longrun::server::ServerConfig {
        metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
        ..config("sqlite::memory:".into(), settings)
    };
    TestServer::with_config(config, None).await
}

/// One scrape: the status, the content type and the text.
async fn scrape_with(server: &TestServer, accept: Option<&str>) -> (StatusCode, String, String) {
    let addr = server.server.metrics_addr.expect("metrics are on");
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(format!("http://{addr}/metrics"));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = client
        .request(request.body(Empty::new()).expect("request"))
        .await
        .expect("metrics answer");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8(body.to_vec()).expect("utf-8");
    (status, content_type, text)
}

/// One sample: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// The samples of one scrape.
struct Scrape(Vec<Sample>);

impl Scrape {
    async fn of(server: &TestServer) -> Self {
        let (status, _, text) = scrape_with(server, None).await;
        assert_eq!(status, StatusCode::OK);
        Self(text.lines().filter_map(parse_sample).collect())
    }

    /// The value of the one sample of `name` whose labels include `labels`;
    /// 0 when there is none (a series appears on first use).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<f64> = self
            .0
            .iter()
            .filter(|(n, have, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
            })
            .map(|(_, _, value)| *value)
            .collect();
        assert!(
            matching.len() <= 1,
            "{name} {labels:?} matches several series"
        );
        matching.first().copied().unwrap_or(0.0)
    }
}

/// `name{a="x",b="y"} 1` (no escapes: our label values have none).
fn parse_sample(line: &str) -> Option<Sample> {
    if line.starts_with('#') || line.is_empty() {
        return None;
    }
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.strip_suffix('}')?),
        None => (series, ""),
    };
    let labels = labels
        .split(',')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_owned(), value.trim_matches('"').to_owned()))
        })
        .collect();
    Some((name.to_owned(), labels, value))
}

const OPS: &str = "google.longrunning.Operations";
const CONTROL: &str = "longrun.v1.OperationsControl";

fn calls<'a>(method: &'a str, transport: &'a str, code: &'a str) -> Vec<(&'a str, &'a str)> {
    let service = match method {
        "CreateOperation" | "UpdateOperation" | "CompleteOperation" | "WatchOperation" => CONTROL,
        _ => OPS,
    };
    vec![
        ("service", service),
        ("method", method),
        ("transport", transport),
        ("code", code),
    ]
}

#[tokio::test]
async fn calls_are_counted_by_method_transport_and_code() {
    let server = metrics_server(ServiceSettings::default()).await;
    let op = server.create().await;
    let before = Scrape::of(&server).await;
    for _ in 0..3 {
        server.get(&op.name).await.expect("get");
    }
    let rest = Rest::new(server.server.public_addr);
    for _ in 0..2 {
        let answer = rest
            .send(Method::GET, &format!("/v1/{}", op.name), None, None)
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    web_client(server.server.public_addr)
        .get_operation(lro::GetOperationRequest {
            name: op.name.clone(),
        })
        .await
        .expect("grpc-web get");
    let missing = server.get(&format!("{PARENT}/operations/nope")).await;
    assert_eq!(missing.expect_err("missing").code(), tonic::Code::NotFound);
    let after = Scrape::of(&server).await;

    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    let requests = "longrun_rpc_requests_total";
    assert_eq!(delta(requests, &calls("GetOperation", "grpc", "OK")), 3.0);
    assert_eq!(delta(requests, &calls("GetOperation", "rest", "OK")), 2.0);
    assert_eq!(
        delta(requests, &calls("GetOperation", "grpc-web", "OK")),
        1.0
    );
    assert_eq!(
        delta(requests, &calls("GetOperation", "grpc", "NOT_FOUND")),
        1.0
    );
    // Every call also lands in its method's duration histogram.
    let count = "longrun_rpc_duration_seconds_count";
    let method = |transport| {
        vec![
            ("service", OPS),
            ("method", "GetOperation"),
            ("transport", transport),
        ]
    };
    assert_eq!(delta(count, &method("grpc")), 4.0);
    assert_eq!(delta(count, &method("rest")), 2.0);
    assert_eq!(delta(count, &method("grpc-web")), 1.0);
    // The create before the first scrape, on the control port.
    assert_eq!(
        after.value(requests, &calls("CreateOperation", "grpc", "OK")),
        1.0
    );
    server.stop().await;
}

#[tokio::test]
async fn operations_are_counted_from_create_to_each_kind_of_end() {
    let server = metrics_server(ServiceSettings::default()).await;
    let before = Scrape::of(&server).await;
    // Created and completed with a response.
    let done = server.create().await;
    server
        .complete(&done.name, empty_response())
        .await
        .expect("complete");
    // Cancelled at once: nobody started it.
    let idle = server.create().await;
    server.cancel(&idle.name).await.expect("cancel");
    // Cancelled while a worker watches: delivered, then acknowledged.
    let worked = server.create().await;
    let mut watch = server.watch(&worked.name).await;
    assert!(!next_event(&mut watch).await.cancel_requested);
    server.cancel(&worked.name).await.expect("cancel");
    assert!(next_event(&mut watch).await.cancel_requested);
    server
        .complete(&worked.name, cancelled_by_worker())
        .await
        .expect("acknowledge");
    assert!(
        next_event(&mut watch)
            .await
            .operation
            .expect("operation")
            .done
    );
    // The stream ends after the done state; its call is counted then.
    assert!(watch.message().await.expect("clean end").is_none());
    let after = Scrape::of(&server).await;

    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert_eq!(delta("longrun_operations_created_total", &[]), 3.0);
    let ended = |outcome| {
        delta(
            "longrun_operations_completed_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(ended("response"), 1.0);
    assert_eq!(ended("cancelled_at_once"), 1.0);
    assert_eq!(ended("cancelled_by_worker"), 1.0);
    assert_eq!(ended("cancelled_by_grace"), 0.0);
    assert_eq!(ended("error"), 0.0);
    assert_eq!(delta("longrun_cancel_delivery_seconds_count", &[]), 1.0);
    assert_eq!(
        delta(
            "longrun_rpc_requests_total",
            &calls("WatchOperation", "grpc", "OK")
        ),
        1.0
    );
    // The Watch is closed again.
    assert_eq!(
        after.value("longrun_waiters_open", &[("kind", "watch")]),
        0.0
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wait_over_max_waiters_is_refused_and_counted() {
    let server = metrics_server(ServiceSettings {
        max_waiters: 1,
        ..ServiceSettings::default()
    })
    .await;
    let op = server.create().await;
    let mut watch = server.watch(&op.name).await;
    next_event(&mut watch).await;
    let refused = server
        .wait(&op.name, Some(std::time::Duration::from_secs(5)))
        .await
        .expect_err("no place left");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    let scrape = Scrape::of(&server).await;
    assert_eq!(
        scrape.value("longrun_waiters_refused_total", &[("kind", "wait")]),
        1.0
    );
    assert_eq!(
        scrape.value("longrun_waiters_open", &[("kind", "watch")]),
        1.0
    );
    assert_eq!(
        scrape.value(
            "longrun_rpc_requests_total",
            &calls("WaitOperation", "grpc", "RESOURCE_EXHAUSTED")
        ),
        1.0
    );
    drop(watch);
    server.stop().await;
}

/// The first scrape after the writes every server makes by itself at start
/// (`startup`: SQLite's page-token key, then the first retention purge,
/// which the background task runs as soon as it starts).
async fn after_startup_writes(server: &TestServer, startup: f64) -> Scrape {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let scrape = Scrape::of(server).await;
        let writes = scrape.value("longrun_store_write_duration_seconds_count", &[]);
        assert!(
            writes <= startup,
            "more writes at start than expected: {writes}"
        );
        if writes == startup {
            return scrape;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the startup writes never happened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn store_writes_and_group_commits_are_timed_and_sized() {
    let server = metrics_server(ServiceSettings::default()).await;
    let before = after_startup_writes(&server, 2.0).await;
    server.create().await;
    let after = Scrape::of(&server).await;
    let delta = |name: &str| after.value(name, &[]) - before.value(name, &[]);
    // One insert, alone in its group.
    assert_eq!(delta("longrun_store_write_duration_seconds_count"), 1.0);
    assert_eq!(delta("longrun_store_commit_group_size_count"), 1.0);
    assert_eq!(delta("longrun_store_commit_group_size_sum"), 1.0);
    server.stop().await;
}

#[tokio::test]
async fn exposition_says_which_build_and_speaks_openmetrics_when_asked() {
    let server = metrics_server(ServiceSettings::default()).await;
    let scrape = Scrape::of(&server).await;
    assert_eq!(
        scrape.value(
            "longrun_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    let (_, content_type, text) = scrape_with(&server, None).await;
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(!text.contains("# EOF"));
    let (status, content_type, text) = scrape_with(
        &server,
        Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    // SQLite has no pool to report.
    assert!(!text.contains("longrun_pg_pool"), "{text}");
    let addr = server.server.metrics_addr.expect("metrics are on");
    server.stop().await;
    // The listener stops with the server.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let server = TestServer::start().await;
    assert_eq!(server.server.metrics_addr, None);
    server.stop().await;
}

#[tokio::test]
async fn a_cancel_whose_grace_runs_out_is_counted_as_cancelled_by_grace() {
    let server = metrics_server(ServiceSettings::default()).await;
    let op = server
        .create_with(longrun::pb::control::CreateOperationRequest {
            parent: PARENT.into(),
            cancel_grace: Some(pb_duration(std::time::Duration::from_millis(20))),
            ..Default::default()
        })
        .await;
    let mut watch = server.watch(&op.name).await;
    next_event(&mut watch).await;
    server.cancel(&op.name).await.expect("cancel");
    assert!(next_event(&mut watch).await.cancel_requested);
    // The worker never answers: the grace timer ends it.
    let last = next_event(&mut watch).await.operation.expect("operation");
    assert!(last.done);
    let scrape = Scrape::of(&server).await;
    let ended = |outcome| {
        scrape.value(
            "longrun_operations_completed_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(ended("cancelled_by_grace"), 1.0);
    assert_eq!(ended("cancelled_by_worker"), 0.0);
    assert_eq!(
        scrape.value("longrun_cancel_delivery_seconds_count", &[]),
        1.0
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_and_listener_reconnects_are_reported() {
    let Some(schema) = crate::support::postgres::PgSchema::create().await else {
        return;
    };
    let config = longrun::server::ServerConfig {
        metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
        ..crate::replicas::replica_config(schema.url("metrics"), ServiceSettings::default())
    };
    let server = TestServer::with_config(config, None).await;
    // PostgreSQL's page-token key is no write of an operation: only the purge.
    let before = after_startup_writes(&server, 1.0).await;
    server.create().await;
    let scrape = Scrape::of(&server).await;
    let size = scrape.value("longrun_pg_pool_connections", &[]);
    assert!(size >= 1.0, "the pool has a connection after a write");
    assert!(scrape.value("longrun_pg_pool_idle", &[]) <= size);
    assert_eq!(scrape.value("longrun_pg_pool_waiting", &[]), 0.0);
    let writes = "longrun_store_write_duration_seconds_count";
    assert_eq!(scrape.value(writes, &[]) - before.value(writes, &[]), 1.0);
    assert_eq!(
        scrape.value("longrun_pg_listener_reconnects_total", &[]),
        0.0
    );

    let mut admin = schema.admin().await;
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(schema.listener_name("metrics"))
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert_eq!(terminated, vec![true]);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let reconnects = Scrape::of(&server)
            .await
            .value("longrun_pg_listener_reconnects_total", &[]);
        if reconnects == 1.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener never reconnected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.stop().await;
}
