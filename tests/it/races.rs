//! First writer wins: Cancel and Complete racing on the same operations.

use futures::{StreamExt, stream};
use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_complete_race_on_1000_operations_each_done_exactly_one_way() {
    let server = TestServer::start().await;
    let ops: Vec<lro::Operation> = stream::iter(0..1000)
        .map(|_| {
            server.create_with(ctl::CreateOperationRequest {
                parent: PARENT.into(),
                cancel_grace: Some(pb_duration(std::time::Duration::ZERO)),
                ..Default::default()
            })
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let outcomes: Vec<(String, bool)> = stream::iter(ops.iter())
        .map(|op| async {
            let (cancel, complete) = tokio::join!(
                server.cancel(&op.name),
                server.complete(&op.name, empty_response())
            );
            cancel.expect("cancel always succeeds");
            let completed = match complete {
                Ok(_) => true,
                Err(err) if err.code() == Code::FailedPrecondition => false,
                Err(err) => panic!("unexpected complete error: {err}"),
            };
            (op.name.clone(), completed)
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let mut listed = std::collections::HashMap::new();
    let mut token = String::new();
    loop {
        let page = server
            .ops
            .clone()
            .list_operations(lro::ListOperationsRequest {
                name: PARENT.into(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        listed.extend(page.operations.into_iter().map(|op| (op.name.clone(), op)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(listed.len(), 1000);

    let mut cancelled = 0;
    for (name, completed) in outcomes {
        let got = server.get(&name).await.expect("get");
        assert!(got.done);
        assert_eq!(
            completed,
            is_response(&got),
            "{name}: the acknowledged writer won"
        );
        if !completed {
            assert_eq!(error_code(&got), Some(1));
            cancelled += 1;
        }
        assert_eq!(listed.get(&name), Some(&got), "List agrees with Get");
        let mut watch = server.watch(&name).await;
        let event = next_event(&mut watch).await;
        assert_eq!(
            event.operation.as_ref(),
            Some(&got),
            "Watch agrees with Get"
        );
    }
    // Both sides must win sometimes, or the test raced nothing.
    println!("cancel won {cancelled} of 1000 races");
}
