//! Every scenario of the public and the control API, written once against
//! `client::Client` and run over each transport: gRPC, REST/JSON on
//! HTTP/1.1 and on h2c, and gRPC-Web. One test per scenario and transport,
//! `<scenario>::over_<transport>`, so a failure names both; every one
//! expects the same codes, messages, `ErrorInfo` and bodies back.
//!
//! A few requests have no form on some transport (a name that is no REST
//! path, an `Any` of a type JSON cannot show): those scenarios run over the
//! transports that can send them, and say why where they are defined.
//!
//! Time: each scenario runs on tokio's paused clock, held still (time.rs).

mod client;
mod scene;
mod time;
mod transport;

use std::time::Duration;

pub use client::{CallOptions, Deadline};
pub use scene::{Env, Scene, advance, next_event};
pub use time::ClockHold;
pub use transport::Transport;

/// Paused time a scenario may take. It only passes once the hold's
/// watchdog lets the clock run, i.e. when a scenario is stuck.
const SCENARIO_BOUND: Duration = Duration::from_secs(3600);

/// Runs one scenario over `transport`, on a held clock.
pub async fn run<F, Fut>(transport: Transport, scenario: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let _hold = time::ClockHold::new();
    tokio::time::timeout(SCENARIO_BOUND, scenario(Env::new(transport)))
        .await
        .expect("the scenario finishes");
}

/// `mod <scenario> { fn over_<transport>() }` for the transports named.
macro_rules! over {
    ($scenario:ident: $($test:ident => $transport:ident),+) => {
        mod $scenario {
            $(
                #[tokio::test(start_paused = true)]
                async fn $test() {
                    let transport = $crate::scenarios::Transport::$transport;
                    $crate::scenarios::run(transport, super::$scenario).await;
                }
            )+
        }
    };
}

/// Each scenario over all four transports.
macro_rules! every_transport {
    ($($scenario:ident),+ $(,)?) => {$(
        over!($scenario:
            over_grpc => Grpc,
            over_rest_h1 => RestH1,
            over_rest_h2c => RestH2c,
            over_grpc_web => GrpcWeb);
    )+};
}

/// Each scenario over gRPC and gRPC-Web only: its request has no REST form.
macro_rules! grpc_transports {
    ($($scenario:ident),+ $(,)?) => {$(
        over!($scenario: over_grpc => Grpc, over_grpc_web => GrpcWeb);
    )+};
}

mod bad_input;
mod cancel;
mod create;
mod edge;
mod get_delete;
mod list;
mod update_complete;
mod wait;
mod watch;
