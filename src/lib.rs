//! longrun: a server for `google.longrunning.Operations`, with a control API
//! for producers and workers and durable storage.
//!
//! Modules, what each owns, and what its code may name. The table is checked:
//! `tests/it/architecture.rs` reads every file of the crate and fails when a
//! module names another module or an outside crate that its row forbids, or
//! when this copy differs from the one it holds (`architecture/rules.rs`).
//! A module may always use itself and std; a forbidden crate forbids its
//! family too (`http` also `http-body`, `tonic` also `tonic-web`). Test code
//! is not held to the table.
//!
//! | module | owns | may use of the crate | must not use |
//! |---|---|---|---|
//! | `domain` | states, transitions, names, filters, `ErrorKind` | nothing | any crate but std, `thiserror`, `serde`, `base64` |
//! | `store` | persistence, migrations, backends | `domain`, `observe` | `tonic`, `http`, `hyper`, `prometheus_client`, `opentelemetry`, `tracing_opentelemetry` |
//! | `service` | use cases, authorization calls, wakeups, timers | `domain`, `store`, `auth`, `registry`, `observe`, but not `store::sqlite`, `store::postgres`, `store::SqliteStore`, `store::PgStore`, `store::PgSettings`, `store::CachedStore` | `tonic`, `http`, `hyper`, `sqlx`, `prometheus_client`, `opentelemetry`, `tracing_opentelemetry` |
//! | `auth` | tokens, principals, scopes, policy, access passes (`authorize_*`) | `domain`, `observe` | `tonic`, `sqlx` |
//! | `grpc` | generated-trait impls, pb <-> domain, the one Code table | `domain`, `service`, `auth`, `pb` | `sqlx` |
//! | `transcode` | REST routing, JSON mapping, the Code -> HTTP table | `pb`, `registry` | `sqlx` |
//! | `registry` | the message types known at run time (descriptor pool) | `pb` | `tonic`, `sqlx` |
//! | `observe` | the events layers report, and the `Recorder` handle they report through | nothing | any crate but std |
//! | `telemetry` | metrics: their families, the per-call layer, the `/metrics` listener; traces: the per-call span layers, the OTLP export | `observe` | `sqlx` |
//! | `pb` | the generated protobuf and gRPC code (in OUT_DIR) | nothing | — |
//! | `server` | wiring, listeners, limits, lifecycle | any module | — |
//! | `embed` | the library face for other tonic servers | any module | — |
//! | `console` | the web console's embedded files and their HTTP answers | nothing | — |
//! | `cli`, `config` | command line, flags -> typed settings | any module | — |

pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod embed;
pub mod grpc;
pub mod observe;
pub mod pb;
pub mod registry;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod transcode;
