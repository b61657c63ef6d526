//! One table of bad requests: each gets the documented code, reason and
//! message, none is INTERNAL, and none changes what is stored.

use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use super::client::Reply;
use super::{CallOptions, Deadline, Env, Scene};
use crate::support::*;

every_transport!(bad_requests_get_their_code_and_reason_and_change_nothing);
// An `Any` whose type the server does not know cannot be written as JSON,
// and REST bodies have their own size answer (413, docs/behaviour.md §6).
grpc_transports!(oversized_messages_are_resource_exhausted_and_change_nothing);

/// Everything a client can see: every operation, in list order.
async fn snapshot(s: &Scene) -> Vec<lro::Operation> {
    s.client
        .list(lro::ListOperationsRequest {
            name: "projects/test/locations/-".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .operations
}

fn nothing<T>(reply: Reply<T>) -> Reply<()> {
    reply.map(drop)
}

async fn bad_requests_get_their_code_and_reason_and_change_nothing(env: Env) {
    let s = env.start().await;
    let running = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            operation_id: "running".into(),
            ..Default::default()
        })
        .await;
    let done = s.create().await;
    s.complete(&done.name, empty_response())
        .await
        .expect("complete");
    let first_page = s
        .client
        .list(lro::ListOperationsRequest {
            name: PARENT.into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list");
    let token = first_page.next_page_token;
    assert!(!token.is_empty());
    let before = snapshot(&s).await;

    let c = &s.client;
    let missing = format!("{PARENT}/operations/missing");
    let malformed = format!("{PARENT}/operations/a b");
    let list = |filter: &str, page_size, page_token: &str| lro::ListOperationsRequest {
        name: PARENT.into(),
        filter: filter.into(),
        page_size,
        page_token: page_token.into(),
        ..Default::default()
    };
    let negative = Some(prost_types::Duration {
        seconds: -1,
        nanos: 0,
    });
    let bad_timeout = c.with(CallOptions {
        deadline: Some(Deadline::Malformed("1x")),
        ..CallOptions::default()
    });
    let not_found = format!("operation \"{missing}\" not found");
    let done_already = format!("operation \"{}\" is already done", done.name);
    let cases: Vec<(&str, Code, &str, String, Reply<()>)> = vec![
        (
            "get malformed",
            Code::InvalidArgument,
            "INVALID_NAME",
            super::get_delete::invalid_name_message(&malformed),
            nothing(c.get(&malformed).await),
        ),
        (
            "get unknown",
            Code::NotFound,
            "OPERATION_NOT_FOUND",
            not_found.clone(),
            nothing(c.get(&missing).await),
        ),
        (
            "list negative page size",
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "invalid page_size: must not be negative, got -5".into(),
            nothing(c.list(list("", -5, "")).await),
        ),
        (
            "list tampered token",
            Code::InvalidArgument,
            "INVALID_PAGE_TOKEN",
            String::new(),
            nothing(c.list(list("", 0, &format!("{token}x"))).await),
        ),
        (
            "list token of another filter",
            Code::InvalidArgument,
            "INVALID_PAGE_TOKEN",
            String::new(),
            nothing(c.list(list("done = true", 0, &token)).await),
        ),
        (
            "list bad filter",
            Code::InvalidArgument,
            "INVALID_FILTER",
            String::new(),
            nothing(c.list(list("done = (", 0, "")).await),
        ),
        (
            "cancel unknown",
            Code::NotFound,
            "OPERATION_NOT_FOUND",
            not_found.clone(),
            c.cancel(&missing).await,
        ),
        (
            "delete malformed",
            Code::InvalidArgument,
            "INVALID_NAME",
            super::get_delete::invalid_name_message(&malformed),
            c.delete(&malformed).await,
        ),
        (
            "wait negative timeout",
            Code::InvalidArgument,
            "INVALID_DURATION",
            "invalid timeout: must not be negative".into(),
            nothing(
                c.wait(lro::WaitOperationRequest {
                    name: running.name.clone(),
                    timeout: negative,
                })
                .await,
            ),
        ),
        (
            "complete a done operation",
            Code::FailedPrecondition,
            "OPERATION_ALREADY_DONE",
            done_already.clone(),
            nothing(s.complete(&done.name, cancelled_by_worker()).await),
        ),
        (
            "update a done operation",
            Code::FailedPrecondition,
            "OPERATION_ALREADY_DONE",
            done_already.clone(),
            nothing(s.update(&done.name, None).await),
        ),
        (
            "complete with no result",
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            String::new(),
            nothing(
                c.complete(ctl::CompleteOperationRequest {
                    name: running.name.clone(),
                    result: None,
                })
                .await,
            ),
        ),
        (
            "complete unknown",
            Code::NotFound,
            "OPERATION_NOT_FOUND",
            not_found.clone(),
            nothing(s.complete(&missing, empty_response()).await),
        ),
        (
            "create taken id",
            Code::AlreadyExists,
            "OPERATION_ALREADY_EXISTS",
            format!("operation \"{}\" already exists", running.name),
            nothing(
                c.create(ctl::CreateOperationRequest {
                    parent: PARENT.into(),
                    operation_id: "running".into(),
                    ..Default::default()
                })
                .await,
            ),
        ),
        (
            "create negative grace",
            Code::InvalidArgument,
            "INVALID_DURATION",
            "invalid cancel_grace: must not be negative".into(),
            nothing(
                c.create(ctl::CreateOperationRequest {
                    parent: PARENT.into(),
                    cancel_grace: negative,
                    ..Default::default()
                })
                .await,
            ),
        ),
        (
            "watch unknown",
            Code::NotFound,
            "OPERATION_NOT_FOUND",
            not_found.clone(),
            nothing(c.watch(&missing).await),
        ),
        (
            "malformed deadline",
            Code::InvalidArgument,
            "INVALID_GRPC_TIMEOUT",
            "malformed grpc-timeout header".into(),
            bad_timeout.cancel(&running.name).await,
        ),
    ];

    for (what, code, expected_reason, message, reply) in cases {
        let Err(failure) = reply else {
            panic!("{what}: accepted");
        };
        assert_eq!(failure.code, code, "{what}: {failure:?}");
        assert_eq!(failure.reason(), expected_reason, "{what}");
        if !message.is_empty() {
            assert_eq!(failure.message, message, "{what}");
        }
        assert_ne!(
            failure.code,
            Code::Internal,
            "{what}: client errors are never INTERNAL"
        );
    }
    assert_eq!(
        snapshot(&s).await,
        before,
        "no bad request changed stored data"
    );
}

async fn oversized_messages_are_resource_exhausted_and_change_nothing(env: Env) {
    let s = env.start().await;
    let running = s.create().await;
    let huge = || {
        Some(prost_types::Any {
            type_url: "type.googleapis.com/x.Y".into(),
            value: vec![1; 5 << 20],
        })
    };
    let created = s
        .client
        .create(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            operation_id: "huge".into(),
            metadata: huge(),
            ..Default::default()
        })
        .await
        .expect_err("too large");
    let updated = s
        .update(&running.name, huge())
        .await
        .expect_err("too large");
    for err in [created, updated] {
        assert_eq!(err.code, Code::ResourceExhausted, "{err:?}");
        assert_eq!(err.reason(), "MESSAGE_TOO_LARGE");
    }
    let lookup = s
        .get(&format!("{PARENT}/operations/huge"))
        .await
        .expect_err("not stored");
    assert_eq!(lookup.code, Code::NotFound);
    assert_eq!(s.get(&running.name).await.expect("get"), running);
}
