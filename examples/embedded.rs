//! Embedding longrun in another tonic server.
//!
//! The host service mounts `google.longrunning.Operations` next to its own
//! services and runs its slow work as operations. A client cancels one over
//! gRPC; the work sees its token cancelled, stops, and the client's next
//! GetOperation shows it done with CANCELLED.
//!
//! Run: `cargo run --example embedded`

#![expect(
    clippy::print_stdout,
    reason = "an example program reports to its terminal"
)]

use std::time::Duration;

use longrun::embed::{Longrun, TaskResult};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let longrun = Longrun::open("sqlite::memory:", Default::default()).await?;

    // The host's own server: its services, plus longrun's Operations.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (_health, health_service) = tonic_health::server::health_reporter();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(longrun.operations_service())
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );

    // Slow work, run as an operation: it checks its token between steps.
    let operation = longrun
        .spawn("projects/demo/locations/local", |task| async move {
            for _step in 0..600 {
                tokio::select! {
                    () = task.cancelled() => return TaskResult::Cancelled,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            TaskResult::empty()
        })
        .await?;
    println!("started {}", operation.name);

    // A client elsewhere cancels it, then polls until it is done.
    let mut client = OperationsClient::connect(format!("http://{addr}")).await?;
    client
        .cancel_operation(lro::CancelOperationRequest {
            name: operation.name.to_string(),
        })
        .await?;
    let done = client
        .wait_operation(lro::WaitOperationRequest {
            name: operation.name.to_string(),
            timeout: Some(prost_types::Duration {
                seconds: 10,
                nanos: 0,
            }),
        })
        .await?
        .into_inner();
    match &done.result {
        Some(lro::operation::Result::Error(status)) if status.code == 1 => {
            println!("{} is done: CANCELLED ({})", done.name, status.message);
        }
        other => return Err(format!("expected CANCELLED, got {other:?}").into()),
    }

    server.abort();
    longrun.shutdown().await;
    Ok(())
}
