//! One table of bad requests: each gets the documented code and ErrorInfo
//! reason, and none of them changes what is stored.

use futures::FutureExt;
use futures::future::BoxFuture;
use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use crate::support::*;

type Call = BoxFuture<'static, Result<(), tonic::Status>>;

/// Everything a client can see: every operation, in list order.
async fn snapshot(server: &TestServer) -> Vec<lro::Operation> {
    server
        .ops
        .clone()
        .list_operations(lro::ListOperationsRequest {
            name: "projects/test/locations/-".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .operations
}

#[tokio::test]
async fn bad_requests_get_their_code_and_reason_and_change_nothing() {
    let server = TestServer::start().await;
    let running = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            operation_id: "running".into(),
            ..Default::default()
        })
        .await;
    let done = server.create().await;
    server
        .complete(&done.name, empty_response())
        .await
        .expect("complete");
    let first_page = server
        .ops
        .clone()
        .list_operations(lro::ListOperationsRequest {
            name: PARENT.into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let token = first_page.next_page_token;
    assert!(!token.is_empty());
    let before = snapshot(&server).await;

    let ops = server.ops.clone();
    let control = server.control.clone();
    let missing = format!("{PARENT}/operations/missing");
    let cases: Vec<(&str, Code, &str, Call)> = vec![
        ("get malformed", Code::InvalidArgument, "INVALID_NAME", {
            let mut c = ops.clone();
            async move {
                c.get_operation(lro::GetOperationRequest {
                    name: "projects/x".into(),
                })
                .await
                .map(drop)
            }
            .boxed()
        }),
        ("get unknown", Code::NotFound, "OPERATION_NOT_FOUND", {
            let (mut c, name) = (ops.clone(), missing.clone());
            async move {
                c.get_operation(lro::GetOperationRequest { name })
                    .await
                    .map(drop)
            }
            .boxed()
        }),
        (
            "list negative page size",
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            {
                let mut c = ops.clone();
                async move {
                    c.list_operations(lro::ListOperationsRequest {
                        name: PARENT.into(),
                        page_size: -5,
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "list tampered token",
            Code::InvalidArgument,
            "INVALID_PAGE_TOKEN",
            {
                let (mut c, token) = (ops.clone(), format!("{token}x"));
                async move {
                    c.list_operations(lro::ListOperationsRequest {
                        name: PARENT.into(),
                        page_token: token,
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "list token of another filter",
            Code::InvalidArgument,
            "INVALID_PAGE_TOKEN",
            {
                let (mut c, token) = (ops.clone(), token.clone());
                async move {
                    c.list_operations(lro::ListOperationsRequest {
                        name: PARENT.into(),
                        filter: "done = true".into(),
                        page_token: token,
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "list bad filter",
            Code::InvalidArgument,
            "INVALID_FILTER",
            {
                let mut c = ops.clone();
                async move {
                    c.list_operations(lro::ListOperationsRequest {
                        name: PARENT.into(),
                        filter: "done = (".into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        ("cancel unknown", Code::NotFound, "OPERATION_NOT_FOUND", {
            let (mut c, name) = (ops.clone(), missing.clone());
            async move {
                c.cancel_operation(lro::CancelOperationRequest { name })
                    .await
                    .map(drop)
            }
            .boxed()
        }),
        ("delete malformed", Code::InvalidArgument, "INVALID_NAME", {
            let mut c = ops.clone();
            async move {
                c.delete_operation(lro::DeleteOperationRequest { name: "a/b".into() })
                    .await
                    .map(drop)
            }
            .boxed()
        }),
        (
            "wait negative timeout",
            Code::InvalidArgument,
            "INVALID_DURATION",
            {
                let (mut c, name) = (ops.clone(), running.name.clone());
                async move {
                    c.wait_operation(lro::WaitOperationRequest {
                        name,
                        timeout: Some(prost_types::Duration {
                            seconds: -1,
                            nanos: 0,
                        }),
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "complete a done operation",
            Code::FailedPrecondition,
            "OPERATION_ALREADY_DONE",
            {
                let (mut c, name) = (control.clone(), done.name.clone());
                async move {
                    c.complete_operation(ctl::CompleteOperationRequest {
                        name,
                        result: Some(cancelled_by_worker()),
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "update a done operation",
            Code::FailedPrecondition,
            "OPERATION_ALREADY_DONE",
            {
                let (mut c, name) = (control.clone(), done.name.clone());
                async move {
                    c.update_operation(ctl::UpdateOperationRequest {
                        name,
                        metadata: None,
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "complete with no result",
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            {
                let (mut c, name) = (control.clone(), running.name.clone());
                async move {
                    c.complete_operation(ctl::CompleteOperationRequest { name, result: None })
                        .await
                        .map(drop)
                }
                .boxed()
            },
        ),
        ("complete unknown", Code::NotFound, "OPERATION_NOT_FOUND", {
            let (mut c, name) = (control.clone(), missing.clone());
            async move {
                c.complete_operation(ctl::CompleteOperationRequest {
                    name,
                    result: Some(empty_response()),
                })
                .await
                .map(drop)
            }
            .boxed()
        }),
        (
            "create taken id",
            Code::AlreadyExists,
            "OPERATION_ALREADY_EXISTS",
            {
                let mut c = control.clone();
                async move {
                    c.create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        operation_id: "running".into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        (
            "create negative grace",
            Code::InvalidArgument,
            "INVALID_DURATION",
            {
                let mut c = control.clone();
                async move {
                    c.create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        cancel_grace: Some(prost_types::Duration {
                            seconds: -3,
                            nanos: 0,
                        }),
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
                .boxed()
            },
        ),
        ("watch unknown", Code::NotFound, "OPERATION_NOT_FOUND", {
            let (mut c, name) = (control.clone(), missing.clone());
            async move {
                c.watch_operation(ctl::WatchOperationRequest { name })
                    .await
                    .map(drop)
            }
            .boxed()
        }),
        (
            "malformed grpc-timeout",
            Code::InvalidArgument,
            "INVALID_GRPC_TIMEOUT",
            {
                let (mut c, name) = (ops.clone(), running.name.clone());
                async move {
                    let mut request = tonic::Request::new(lro::CancelOperationRequest { name });
                    request
                        .metadata_mut()
                        .insert("grpc-timeout", "1x".parse().expect("ascii"));
                    c.cancel_operation(request).await.map(drop)
                }
                .boxed()
            },
        ),
        (
            "oversized update",
            Code::ResourceExhausted,
            "MESSAGE_TOO_LARGE",
            {
                let (c, name) = (control.clone(), running.name.clone());
                async move {
                    c.max_encoding_message_size(usize::MAX)
                        .update_operation(ctl::UpdateOperationRequest {
                            name,
                            metadata: Some(prost_types::Any {
                                type_url: "t/x.Y".into(),
                                value: vec![1; 5 << 20],
                            }),
                        })
                        .await
                        .map(drop)
                }
                .boxed()
            },
        ),
    ];

    for (what, code, expected_reason, call) in cases {
        let status = call.await.expect_err(what);
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert_eq!(reason(&status), expected_reason, "{what}");
        assert_ne!(
            status.code(),
            Code::Internal,
            "{what}: client errors are never INTERNAL"
        );
    }
    assert_eq!(
        snapshot(&server).await,
        before,
        "no bad request changed stored data"
    );
}
