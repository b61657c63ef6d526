//! OpenTelemetry traces of the real binary, received by an OTLP collector
//! in the test process: the caller's W3C trace context is joined on REST
//! and on gRPC, the REST request and the method behind it are one trace,
//! the use case's and the store's spans hang below, over both OTLP
//! protocols; the last spans are sent when the server stops; and with
//! traces off nothing connects to the collector.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::support::otlp_collector::{Collector, ReceivedSpan, hex};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const SERVICE: &str = "traces.example.com";
/// How long spans may take to arrive: a batch goes out every 50 ms here.
const WITHIN: Duration = Duration::from_secs(20);

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{CALLER_SPAN}-01")
}

/// The real binary on free ports; killed when dropped.
struct Served {
    child: Child,
    public: u16,
    control: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Served {
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let (public, control) = (free_port(), free_port());
        let mut command = Command::new(env!("CARGO_BIN_EXE_longrun"));
        command
            .args(["serve", "--database", "sqlite::memory:"])
            .args(["--listen", &format!("127.0.0.1:{public}")])
            .args(["--control-listen", &format!("127.0.0.1:{control}")])
            .args(args)
            .env("LONGRUN_LOG", "info")
            .env("OTEL_BSP_SCHEDULE_DELAY", "50");
        // What the test's own environment says about OpenTelemetry must
        // not decide the binary's set-up.
        for (name, _) in std::env::vars() {
            if name.starts_with("OTEL_") && name != "OTEL_BSP_SCHEDULE_DELAY" {
                command.env_remove(&name);
            }
        }
        command.env_remove("LONGRUN_SERVICE_NAME");
        let mut child = command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("stderr") {
                if line.contains("longrun serving") {
                    return;
                }
            }
            panic!("the server exited before serving");
        })
        .await
        .expect("serving within 30s");
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            public,
            control,
        }
    }

    async fn channel(port: u16) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
            .expect("connects")
    }

    async fn create(&self) -> String {
        OperationsControlClient::new(Self::channel(self.control).await)
            .create_operation(ctl::CreateOperationRequest {
                parent: "projects/p/locations/l".into(),
                ..Default::default()
            })
            .await
            .expect("create")
            .into_inner()
            .name
    }

    /// `POST /v1/{name}:cancel` with the caller's `traceparent`.
    async fn rest_cancel(&self, name: &str) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request =
            http::Request::post(format!("http://127.0.0.1:{}/v1/{name}:cancel", self.public))
                .header("content-type", "application/json")
                .header("traceparent", traceparent())
                .body(Full::new(Bytes::from_static(b"{}")))
                .expect("request");
        let response = client.request(request).await.expect("answered");
        let status = response.status();
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(status, 200, "{:?}", body.to_bytes());
    }

    /// SIGTERM, and the drain to its end.
    async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(killed.success());
        let exited = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("stops within 30s")
            .expect("exit status");
        assert!(exited.success(), "{exited}");
    }
}

fn in_trace(spans: &[ReceivedSpan]) -> Vec<&ReceivedSpan> {
    spans
        .iter()
        .filter(|span| hex(&span.trace_id) == TRACE_ID)
        .collect()
}

fn has_all(spans: &[ReceivedSpan], names: &[&str]) -> bool {
    let traced = in_trace(spans);
    names
        .iter()
        .all(|name| traced.iter().any(|span| span.name == *name))
}

fn named<'a>(spans: &[&'a ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .copied()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

/// Whether `span` is below `ancestor` in the trace.
fn descends(spans: &[&ReceivedSpan], span: &ReceivedSpan, ancestor: &ReceivedSpan) -> bool {
    let mut parent = span.parent_span_id.clone();
    for _ in 0..spans.len() {
        if parent == ancestor.span_id {
            return true;
        }
        match spans.iter().find(|candidate| candidate.span_id == parent) {
            Some(up) => parent = up.parent_span_id.clone(),
            None => return false,
        }
    }
    false
}

const CANCEL: &str = "google.longrunning.Operations/CancelOperation";
const BELOW: [&str; 3] = ["authorize", "store.write", "store.group_commit"];

/// The method's span, the use case's and the store's below it, all of
/// the service.
fn assert_method_tree(traced: &[&ReceivedSpan], transport: &str) -> Vec<u8> {
    let rpc = named(traced, CANCEL);
    assert_eq!(rpc.attribute("rpc.system").as_deref(), Some("grpc"));
    assert_eq!(
        rpc.attribute("rpc.service").as_deref(),
        Some("google.longrunning.Operations")
    );
    assert_eq!(
        rpc.attribute("rpc.method").as_deref(),
        Some("CancelOperation")
    );
    assert_eq!(
        rpc.attribute("longrun.transport").as_deref(),
        Some(transport)
    );
    for name in BELOW {
        assert!(
            descends(traced, named(traced, name), rpc),
            "{name} is not below the method's span"
        );
    }
    let write = named(traced, "store.write");
    assert_eq!(write.attribute("db.system.name").as_deref(), Some("sqlite"));
    assert_eq!(
        write.attribute("db.operation.name").as_deref(),
        Some("swap")
    );
    // The commit that wrote it is its child.
    let group = named(traced, "store.group_commit");
    assert!(
        traced
            .iter()
            .any(|span| span.name == "store.write" && span.span_id == group.parent_span_id),
        "the group commit's parent is no store.write"
    );
    assert_eq!(
        named(traced, "authorize")
            .attribute("longrun.granted")
            .as_deref(),
        Some("true")
    );
    rpc.span_id.clone()
}

#[tokio::test]
async fn rest_cancel_over_otlp_http_is_one_trace_below_the_callers_span() {
    let collector = Collector::http().await;
    let endpoint = collector.endpoint();
    let served = Served::start(
        &["--otlp-endpoint", &endpoint, "--service-name", SERVICE],
        &[],
    )
    .await;
    let name = served.create().await;
    served.rest_cancel(&name).await;
    let mut wanted = vec!["POST", CANCEL];
    wanted.extend(BELOW);
    let spans = collector
        .spans_when(WITHIN, |spans| has_all(spans, &wanted))
        .await;
    let traced = in_trace(&spans);
    let http = named(&traced, "POST");
    assert_eq!(hex(&http.parent_span_id), CALLER_SPAN);
    assert_eq!(http.kind, 2, "the REST request's span is a server span");
    assert_eq!(
        http.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    let rpc = named(&traced, CANCEL);
    assert_eq!(
        rpc.parent_span_id, http.span_id,
        "the method's span is the request's child"
    );
    assert_method_tree(&traced, "rest");
    for span in &traced {
        assert_eq!(span.service_name.as_deref(), Some(SERVICE), "{}", span.name);
    }
    served.stop().await;
}

#[tokio::test]
async fn grpc_cancel_over_otlp_grpc_set_by_the_environment_keeps_the_callers_trace() {
    let collector = Collector::grpc().await;
    let endpoint = collector.endpoint();
    // No flags: OpenTelemetry's own variables, as its SDKs read them.
    let served = Served::start(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "from-otel-env"),
        ],
    )
    .await;
    let name = served.create().await;
    let mut request = tonic::Request::new(lro::CancelOperationRequest { name });
    request
        .metadata_mut()
        .insert("traceparent", traceparent().parse().expect("ascii"));
    OperationsClient::new(Served::channel(served.public).await)
        .cancel_operation(request)
        .await
        .expect("cancelled");
    let mut wanted = vec![CANCEL];
    wanted.extend(BELOW);
    let spans = collector
        .spans_when(WITHIN, |spans| has_all(spans, &wanted))
        .await;
    let traced = in_trace(&spans);
    let rpc = named(&traced, CANCEL);
    assert_eq!(hex(&rpc.parent_span_id), CALLER_SPAN);
    assert_eq!(rpc.kind, 2, "a gRPC method's span is a server span");
    assert_method_tree(&traced, "grpc");
    // --service-name was not given: OTEL_SERVICE_NAME names the service.
    for span in &traced {
        assert_eq!(
            span.service_name.as_deref(),
            Some("from-otel-env"),
            "{}",
            span.name
        );
    }
    served.stop().await;
}

#[tokio::test]
async fn stopping_the_server_sends_the_spans_still_batched() {
    let collector = Collector::http().await;
    let endpoint = collector.endpoint();
    // A batch would wait ten minutes; only the shutdown can send it.
    let served = Served::start(
        &["--otlp-endpoint", &endpoint],
        &[("OTEL_BSP_SCHEDULE_DELAY", "600000")],
    )
    .await;
    let name = served.create().await;
    served.rest_cancel(&name).await;
    served.stop().await;
    let spans = collector.spans();
    assert!(has_all(&spans, &["POST", CANCEL]), "{spans:#?}");
}

#[tokio::test]
async fn with_traces_off_no_exporter_connects() {
    let collector = Collector::http().await;
    let endpoint = collector.endpoint();
    // The endpoint is there, but the SDK is disabled, as the spec allows.
    let served = Served::start(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SDK_DISABLED", "true"),
        ],
    )
    .await;
    let name = served.create().await;
    served.rest_cancel(&name).await;
    // The exit is after any flush: nothing can connect later.
    served.stop().await;
    assert_eq!(collector.connections(), 0);
    assert!(collector.spans().is_empty());
}
