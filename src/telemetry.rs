//! What the server tells operators about itself while it runs: Prometheus
//! metrics (`metrics`), fed by the tower layer it puts on each port and by
//! the `observe::Recorder` that the use cases and stores report through.
//! No other module of the crate names anything in here but `server`.

pub mod metrics;
