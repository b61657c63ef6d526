//! What the server tells operators about itself while it runs: Prometheus
//! metrics (`metrics`), fed by the tower layer it puts on each port and by
//! the `observe::Recorder` that the use cases and stores report through;
//! and OpenTelemetry traces (`traces`), whose layers open each call's span
//! and whose export sends the spans to a collector over OTLP.
//! No other module of the crate names anything in here but `server` and
//! `cli`.

pub mod metrics;
pub mod traces;
