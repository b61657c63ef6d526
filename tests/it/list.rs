//! ListOperations (docs/behaviour.md §2): order, page sizes, tokens, filters.

use std::collections::HashSet;

use futures::{StreamExt, stream};
use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use crate::support::*;

async fn list(
    server: &TestServer,
    request: lro::ListOperationsRequest,
) -> Result<lro::ListOperationsResponse, tonic::Status> {
    server
        .ops
        .clone()
        .list_operations(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Follows page tokens to the end; returns every name in order.
async fn list_all(server: &TestServer, parent: &str, filter: &str, page_size: i32) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            server,
            lro::ListOperationsRequest {
                name: parent.into(),
                filter: filter.into(),
                page_size,
                page_token: token,
                ..Default::default()
            },
        )
        .await
        .expect("page");
        assert!(page.operations.len() <= page_size as usize);
        names.extend(page.operations.into_iter().map(|op| op.name));
        if page.next_page_token.is_empty() {
            return names;
        }
        token = page.next_page_token;
    }
}

async fn create_many(server: &TestServer, parent: &str, count: usize) -> Vec<lro::Operation> {
    stream::iter(0..count)
        .map(|_| {
            server.create_with(ctl::CreateOperationRequest {
                parent: parent.into(),
                ..Default::default()
            })
        })
        .buffer_unordered(32)
        .collect()
        .await
}

#[tokio::test]
async fn pagination_over_1000_operations_returns_each_exactly_once() {
    let server = TestServer::start().await;
    let created = create_many(&server, PARENT, 1000).await;
    // Half of them done, for the filtered pass.
    let done: HashSet<String> = stream::iter(created.iter().step_by(2))
        .map(|op| async {
            server
                .complete(&op.name, empty_response())
                .await
                .expect("complete")
                .name
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let all = list_all(&server, PARENT, "", 37).await;
    assert_eq!(all.len(), 1000);
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 1000, "no duplicates");
    let expected: HashSet<&String> = created.iter().map(|op| &op.name).collect();
    assert_eq!(unique, expected);

    let filtered = list_all(&server, PARENT, "done = true", 37).await;
    let filtered_set: HashSet<String> = filtered.iter().cloned().collect();
    assert_eq!(filtered.len(), done.len(), "no duplicates with a filter");
    assert_eq!(filtered_set, done);

    let running = list_all(&server, PARENT, "NOT done = true", 100).await;
    assert_eq!(running.len(), 500);
}

#[tokio::test]
async fn list_order_is_newest_first_and_stable() {
    let server = TestServer::start().await;
    let mut names = Vec::new();
    for _ in 0..5 {
        names.push(server.create().await.name);
    }
    names.reverse();
    let listed = list_all(&server, PARENT, "", 2).await;
    assert_eq!(listed, names);
    assert_eq!(
        list_all(&server, PARENT, "", 50).await,
        listed,
        "same order again"
    );
}

#[tokio::test]
async fn list_scopes_by_location_and_accepts_dash_and_collection_suffix() {
    let server = TestServer::start().await;
    create_many(&server, "projects/test/locations/a", 3).await;
    create_many(&server, "projects/test/locations/b", 2).await;
    create_many(&server, "projects/other/locations/a", 4).await;
    assert_eq!(
        list_all(&server, "projects/test/locations/a", "", 10)
            .await
            .len(),
        3
    );
    assert_eq!(
        list_all(&server, "projects/test/locations/-", "", 10)
            .await
            .len(),
        5
    );
    assert_eq!(
        list_all(&server, "projects/test/locations/b/operations", "", 10)
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn list_page_size_rules() {
    let server = TestServer::start().await;
    create_many(&server, PARENT, 60).await;
    let default = list(
        &server,
        lro::ListOperationsRequest {
            name: PARENT.into(),
            ..Default::default()
        },
    )
    .await
    .expect("default size");
    assert_eq!(default.operations.len(), 50);
    assert!(!default.next_page_token.is_empty());
    let huge = list(
        &server,
        lro::ListOperationsRequest {
            name: PARENT.into(),
            page_size: 5000,
            ..Default::default()
        },
    )
    .await
    .expect("cut to the maximum");
    assert_eq!(huge.operations.len(), 60);
    assert!(huge.next_page_token.is_empty(), "empty only at the end");
    let negative = list(
        &server,
        lro::ListOperationsRequest {
            name: PARENT.into(),
            page_size: -1,
            ..Default::default()
        },
    )
    .await
    .expect_err("negative");
    assert_eq!(negative.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn tampered_or_foreign_page_tokens_are_invalid_argument() {
    let server = TestServer::start().await;
    create_many(&server, PARENT, 5).await;
    let first = list(
        &server,
        lro::ListOperationsRequest {
            name: PARENT.into(),
            page_size: 2,
            ..Default::default()
        },
    )
    .await
    .expect("first page");
    let token = first.next_page_token;
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let cases = [
        (
            PARENT.to_owned(),
            String::new(),
            String::from_utf8(tampered).expect("ascii"),
        ),
        (PARENT.to_owned(), "done = true".to_owned(), token.clone()),
        (
            "projects/test/locations/other".to_owned(),
            String::new(),
            token.clone(),
        ),
        (PARENT.to_owned(), String::new(), "garbage!".to_owned()),
    ];
    for (parent, filter, page_token) in cases {
        let err = list(
            &server,
            lro::ListOperationsRequest {
                name: parent,
                filter,
                page_size: 2,
                page_token,
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(reason(&err), "INVALID_PAGE_TOKEN");
    }
}

#[tokio::test]
async fn bad_filter_or_parent_is_invalid_argument() {
    let server = TestServer::start().await;
    for (parent, filter, expected_reason) in [
        (PARENT, "nosuchfield = 1", "INVALID_FILTER"),
        (PARENT, "done = ", "INVALID_FILTER"),
        ("projects/p", "", "INVALID_NAME"),
        ("projects/p/locations/l/jobs", "", "INVALID_NAME"),
    ] {
        let err = list(
            &server,
            lro::ListOperationsRequest {
                name: parent.into(),
                filter: filter.into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{parent} {filter}");
        assert_eq!(reason(&err), expected_reason);
    }
}

#[tokio::test]
async fn filter_on_metadata_fields_and_error_code() {
    // `plain` gets the default type's metadata, stamped by the server.
    let server = TestServer::with_default_metadata().await;
    let tagged = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(prost_types::Any {
                type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
                value: prost::Message::encode_to_vec(&ctl::OperationMetadata {
                    verb: "create".into(),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        })
        .await;
    let plain = server.create().await;
    server.cancel(&plain.name).await.expect("cancel");
    assert_eq!(
        list_all(&server, PARENT, "metadata.verb = \"create\"", 10).await,
        vec![tagged.name.clone()]
    );
    assert_eq!(
        list_all(&server, PARENT, "error.code = 1", 10).await,
        vec![plain.name.clone()]
    );
    assert_eq!(
        list_all(
            &server,
            PARENT,
            "metadata.create_time > \"2020-01-01T00:00:00Z\"",
            10
        )
        .await
        .len(),
        2
    );
}
