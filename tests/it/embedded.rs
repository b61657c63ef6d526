//! The flow of examples/embedded.rs: a host server mounts Operations and runs
//! a task whose cancellation arrives as a token.

use std::time::Duration;

use longrun::embed::{Longrun, TaskResult};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::support::error_code;

async fn host(
    longrun: &Longrun,
) -> (
    OperationsClient<tonic::transport::Channel>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = tonic::transport::Server::builder().add_service(longrun.operations_service());
    let server = tokio::spawn(async move {
        let _ = router
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await;
    });
    let client = OperationsClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    (client, server)
}

#[tokio::test]
async fn embedded_task_sees_cancel_as_token_and_ends_cancelled() {
    let longrun = Longrun::open("sqlite::memory:", Default::default())
        .await
        .expect("opens");
    let (mut client, server) = host(&longrun).await;
    let (saw_cancel, saw_cancel_rx) = tokio::sync::oneshot::channel();
    let op = longrun
        .spawn("projects/demo/locations/local", |task| async move {
            task.cancelled().await;
            let _ = saw_cancel.send(());
            TaskResult::Cancelled
        })
        .await
        .expect("spawns");
    client
        .cancel_operation(lro::CancelOperationRequest {
            name: op.name.to_string(),
        })
        .await
        .expect("cancel");
    tokio::time::timeout(Duration::from_secs(5), saw_cancel_rx)
        .await
        .expect("the token fired in time")
        .expect("the task ran");
    let done = client
        .wait_operation(lro::WaitOperationRequest {
            name: op.name.to_string(),
            timeout: Some(prost_types::Duration {
                seconds: 10,
                nanos: 0,
            }),
        })
        .await
        .expect("wait")
        .into_inner();
    assert!(done.done);
    assert_eq!(error_code(&done), Some(1));
    server.abort();
    longrun.shutdown().await;
}

#[tokio::test]
async fn embedded_task_result_completes_the_operation() {
    let longrun = Longrun::open("sqlite::memory:", Default::default())
        .await
        .expect("opens");
    let (mut client, server) = host(&longrun).await;
    let op = longrun
        .spawn("projects/demo/locations/local", |_task| async move {
            TaskResult::response(&prost_types::Duration {
                seconds: 42,
                nanos: 0,
            })
        })
        .await
        .expect("spawns");
    let done = client
        .wait_operation(lro::WaitOperationRequest {
            name: op.name.to_string(),
            timeout: Some(prost_types::Duration {
                seconds: 10,
                nanos: 0,
            }),
        })
        .await
        .expect("wait")
        .into_inner();
    let Some(lro::operation::Result::Response(any)) = done.result else {
        panic!("expected a response: {done:?}");
    };
    assert_eq!(any.type_url, "type.googleapis.com/google.protobuf.Duration");
    server.abort();
    longrun.shutdown().await;
}
