//! OpenTelemetry traces (`--otlp-endpoint`): the export of spans over OTLP
//! (export.rs), and the tower layers that open each call's span from the
//! caller's W3C trace context (layer.rs). The use cases and stores open
//! their child spans (`authorize`, `store.write`, `store.group_commit`)
//! with `tracing` alone, when their `observe::Recorder` says traces are on;
//! they name nothing of this module.

mod export;
mod layer;

pub use export::{OtlpProtocol, TraceError, TraceExport, TraceSettings};
pub use layer::{HttpTraceLayer, InSpan, RpcTraceLayer, Traced};
