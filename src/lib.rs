//! longrun: a server for `google.longrunning.Operations`, with a control API
//! for producers and workers and durable storage.
//!
//! Modules and what each may depend on (enforced by review, kept small so it
//! stays true):
//!
//! | module | owns | must not import |
//! |---|---|---|
//! | `domain` | states, transitions, names, filters, `ErrorKind` | tokio, tonic, prost, http, sqlx |
//! | `store` | persistence, migrations, backends | tonic, http, auth, service |
//! | `service` | use cases, authorization calls, wakeups, timers | tonic, http, sqlx, concrete stores |
//! | `auth` | tokens, principals, scopes, policy, access passes (`authorize_*`) | tonic, sqlx, store, service |
//! | `grpc` | generated-trait impls, pb <-> domain, the one Code table | store, transcode |
//! | `transcode` | REST routing, JSON mapping, the Code -> HTTP table | domain, service, store |
//! | `registry` | the message types known at run time (descriptor pool) | tonic, sqlx |
//! | `server` | wiring, listeners, limits, lifecycle | — |
//! | `embed` | the library face for other tonic servers | — |
//! | `console` | the web console's embedded files and their HTTP answers | domain, service, store, grpc, transcode, auth |
//! | `cli`, `config` | command line, flags -> typed settings | — |

pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod embed;
pub mod grpc;
pub mod pb;
pub mod registry;
pub mod server;
pub mod service;
pub mod store;
pub mod transcode;
