//! Where spans go: the OpenTelemetry tracer provider with its OTLP exporter
//! (gRPC or HTTP/protobuf) behind the SDK's batch processor, and the
//! `tracing` layer that hands it the server's spans. Shut down after the
//! server drains, so the spans of the last calls are sent too.

use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    Protocol, SpanExporter, WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tonic::transport::ClientTlsConfig;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

/// How spans travel to the collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (`opentelemetry.proto.collector.trace.v1.TraceService`).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`POST /v1/traces`), the spec's default.
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The value `OTEL_EXPORTER_OTLP_PROTOCOL` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Where and how to export, resolved from the flags and the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSettings {
    /// The whole URL spans are sent to: for HTTP, with its `/v1/traces`.
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    /// The `service.name` resource attribute.
    pub service_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot export traces to {endpoint}: {source}")]
    Exporter {
        endpoint: String,
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    #[error("traces are exported from the tokio runtime, and none is running")]
    NoRuntime,
}

/// The running export: spans are batched and sent until `shutdown`.
pub struct TraceExport {
    provider: SdkTracerProvider,
}

/// How long one HTTP export may take before it is given up: OTLP's default
/// (the exporter's own timeout follows `OTEL_EXPORTER_OTLP_TIMEOUT`).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

impl TraceExport {
    /// Builds the exporter; nothing connects until the first batch. Call it
    /// inside the tokio runtime: the exports run on it.
    pub fn start(settings: &TraceSettings) -> Result<Self, TraceError> {
        let failed = |source| TraceError::Exporter {
            endpoint: settings.endpoint.clone(),
            source,
        };
        let exporter = match settings.protocol {
            OtlpProtocol::Grpc => {
                let builder = SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(&settings.endpoint);
                // tonic's TLS trusts no root unless told which.
                if settings.endpoint.starts_with("https://") {
                    builder
                        .with_tls_config(ClientTlsConfig::new().with_webpki_roots())
                        .build()
                } else {
                    builder.build()
                }
            }
            OtlpProtocol::HttpProtobuf => SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(&settings.endpoint)
                .with_http_client(OnRuntime::new()?)
                .build(),
        }
        .map_err(failed)?;
        let resource = Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        // The batch processor's schedule and queue follow OTEL_BSP_*, the
        // sampler OTEL_TRACES_SAMPLER (by default the caller's sampled flag
        // decides, and a call without one is sampled).
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Self { provider })
    }

    /// The `tracing` layer that turns the server's spans (and the events
    /// inside them) into OpenTelemetry spans for this export. Only
    /// longrun's own spans: the crates below it open none worth sending.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self.provider.tracer("longrun");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_threads(false)
            .with_filter(Targets::new().with_target("longrun", LevelFilter::DEBUG))
    }

    /// Sends what is still batched, then stops. The SDK's shutdown blocks
    /// until the exporter is done, which needs the runtime's other threads,
    /// so it runs on a blocking thread.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "the last spans were not exported"),
            Err(err) => tracing::warn!(error = %err, "the trace export did not shut down"),
        }
    }
}

/// An HTTP client for the exporter that runs each request on the tokio
/// runtime it was made in. The SDK's batch processor exports from a thread
/// of its own, outside any runtime, where hyper's client (it spawns its
/// connections, and times out with tokio's timer) cannot run.
#[derive(Debug)]
struct OnRuntime {
    runtime: tokio::runtime::Handle,
    client: HyperClient<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    >,
}

impl OnRuntime {
    fn new() -> Result<Self, TraceError> {
        // https:// for a collector behind TLS (with the web's roots), or
        // plain http:// on a trusted network.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            runtime: tokio::runtime::Handle::try_current().map_err(|_| TraceError::NoRuntime)?,
            client: HyperClient::new(connector, EXPORT_TIMEOUT, None),
        })
    }
}

#[async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self
            .runtime
            .spawn(async move { client.send_bytes(request).await });
        sent.await?
    }
}
