//! ListOperations (docs/behaviour.md §2): order, page sizes, tokens, filters.

use std::collections::HashSet;
use std::time::Duration;

use futures::{StreamExt, stream};
use longrun::pb::{control as ctl, longrunning as lro};
use tonic::Code;

use super::{Env, Scene, advance};
use crate::support::*;

every_transport!(
    pagination_over_1000_operations_returns_each_exactly_once,
    list_order_is_newest_first_and_stable,
    list_scopes_by_location_and_accepts_dash,
    list_page_size_rules,
    tampered_or_foreign_page_tokens_are_invalid_argument,
    bad_filter_or_parent_is_invalid_argument,
    filter_on_metadata_fields_and_error_code,
);
// `.../operations` as the parent is a gRPC convenience: over REST that
// suffix is already the route's own (docs/behaviour.md §2).
grpc_transports!(list_accepts_the_collection_as_parent);
// Parents with no REST path (404 ROUTE_NOT_FOUND over REST).
grpc_transports!(list_under_a_parent_outside_the_pattern_is_invalid_argument);

async fn list(
    s: &Scene,
    request: lro::ListOperationsRequest,
) -> super::client::Reply<lro::ListOperationsResponse> {
    s.client.list(request).await
}

/// Follows page tokens to the end; returns every name in order.
async fn list_all(s: &Scene, parent: &str, filter: &str, page_size: i32) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            s,
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

async fn create_many(s: &Scene, parent: &str, count: usize) -> Vec<lro::Operation> {
    stream::iter(0..count)
        .map(|_| {
            s.create_with(ctl::CreateOperationRequest {
                parent: parent.into(),
                ..Default::default()
            })
        })
        .buffer_unordered(32)
        .collect()
        .await
}

async fn pagination_over_1000_operations_returns_each_exactly_once(env: Env) {
    let s = env.start().await;
    let created = create_many(&s, PARENT, 1000).await;
    // Half of them done, for the filtered pass.
    let done: HashSet<String> = stream::iter(created.iter().step_by(2))
        .map(|op| async {
            s.complete(&op.name, empty_response())
                .await
                .expect("complete")
                .name
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let all = list_all(&s, PARENT, "", 37).await;
    assert_eq!(all.len(), 1000);
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 1000, "no duplicates");
    let expected: HashSet<&String> = created.iter().map(|op| &op.name).collect();
    assert_eq!(unique, expected);

    let filtered = list_all(&s, PARENT, "done = true", 37).await;
    let filtered_set: HashSet<String> = filtered.iter().cloned().collect();
    assert_eq!(filtered.len(), done.len(), "no duplicates with a filter");
    assert_eq!(filtered_set, done);

    let running = list_all(&s, PARENT, "NOT done = true", 100).await;
    assert_eq!(running.len(), 500);
}

async fn list_order_is_newest_first_and_stable(env: Env) {
    let s = env.start().await;
    let mut names = Vec::new();
    for _ in 0..5 {
        names.push(s.create().await.name);
        // The clock is held: without this they would share a create_time.
        advance(Duration::from_millis(1)).await;
    }
    names.reverse();
    let listed = list_all(&s, PARENT, "", 2).await;
    assert_eq!(listed, names);
    assert_eq!(
        list_all(&s, PARENT, "", 50).await,
        listed,
        "same order again"
    );
}

async fn list_scopes_by_location_and_accepts_dash(env: Env) {
    let s = env.start().await;
    create_many(&s, "projects/test/locations/a", 3).await;
    create_many(&s, "projects/test/locations/b", 2).await;
    create_many(&s, "projects/other/locations/a", 4).await;
    let a = list_all(&s, "projects/test/locations/a", "", 10).await;
    assert_eq!(a.len(), 3);
    let every = list_all(&s, "projects/test/locations/-", "", 10).await;
    assert_eq!(every.len(), 5);
}

async fn list_accepts_the_collection_as_parent(env: Env) {
    let s = env.start().await;
    create_many(&s, "projects/test/locations/b", 2).await;
    let b = list_all(&s, "projects/test/locations/b/operations", "", 10).await;
    assert_eq!(b.len(), 2);
}

async fn list_under_a_parent_outside_the_pattern_is_invalid_argument(env: Env) {
    let s = env.start().await;
    for parent in ["projects/p", "projects/p/locations/l/jobs"] {
        let err = list(
            &s,
            lro::ListOperationsRequest {
                name: parent.into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
        assert_eq!(err.code, Code::InvalidArgument, "{parent}");
        assert_eq!(err.reason(), "INVALID_NAME", "{parent}");
    }
}

async fn list_page_size_rules(env: Env) {
    let s = env.start().await;
    create_many(&s, PARENT, 60).await;
    let request = |page_size| lro::ListOperationsRequest {
        name: PARENT.into(),
        page_size,
        ..Default::default()
    };
    let default = list(&s, request(0)).await.expect("default size");
    assert_eq!(default.operations.len(), 50);
    assert!(!default.next_page_token.is_empty());
    let huge = list(&s, request(5000)).await.expect("cut to the maximum");
    assert_eq!(huge.operations.len(), 60);
    assert!(huge.next_page_token.is_empty(), "empty only at the end");
    let negative = list(&s, request(-1)).await.expect_err("negative");
    assert_eq!(negative.code, Code::InvalidArgument);
    assert_eq!(negative.reason(), "INVALID_ARGUMENT");
    assert_eq!(negative.metadata("field"), Some("page_size"));
    assert_eq!(
        negative.message,
        "invalid page_size: must not be negative, got -1"
    );
}

async fn tampered_or_foreign_page_tokens_are_invalid_argument(env: Env) {
    let s = env.start().await;
    create_many(&s, PARENT, 5).await;
    let first = list(
        &s,
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
    let tampered = String::from_utf8(tampered).expect("ascii");
    let cases = [
        (PARENT, "", tampered.as_str()),
        (PARENT, "done = true", token.as_str()),
        ("projects/test/locations/other", "", token.as_str()),
        (PARENT, "", "garbage!"),
    ];
    for (parent, filter, page_token) in cases {
        let err = list(
            &s,
            lro::ListOperationsRequest {
                name: parent.into(),
                filter: filter.into(),
                page_size: 2,
                page_token: page_token.into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
        assert_eq!(
            err.code,
            Code::InvalidArgument,
            "{parent} {filter} {page_token}"
        );
        assert_eq!(err.reason(), "INVALID_PAGE_TOKEN");
        assert_eq!(err.metadata("field"), Some("page_token"));
    }
}

async fn bad_filter_or_parent_is_invalid_argument(env: Env) {
    let s = env.start().await;
    for (parent, filter, expected_reason) in [
        (PARENT, "nosuchfield = 1", "INVALID_FILTER"),
        (PARENT, "done = ", "INVALID_FILTER"),
        ("projects/p/locations/a b", "", "INVALID_NAME"),
    ] {
        let err = list(
            &s,
            lro::ListOperationsRequest {
                name: parent.into(),
                filter: filter.into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
        assert_eq!(err.code, Code::InvalidArgument, "{parent} {filter}");
        assert_eq!(err.reason(), expected_reason);
    }
    let err = list(
        &s,
        lro::ListOperationsRequest {
            name: PARENT.into(),
            filter: "done = (".into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("refused");
    assert_eq!(err.metadata("position"), Some("7"), "{}", err.message);
    assert!(
        err.message.starts_with("invalid filter at position 7: "),
        "{}",
        err.message
    );
}

async fn filter_on_metadata_fields_and_error_code(env: Env) {
    // `plain` gets the default type's metadata, stamped by the server.
    let s = env.start_with_default_metadata().await;
    let tagged = s
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(longrun_metadata(&ctl::OperationMetadata {
                verb: "create".into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .await;
    let plain = s.create().await;
    s.cancel(&plain.name).await.expect("cancel");
    assert_eq!(
        list_all(&s, PARENT, "metadata.verb = \"create\"", 10).await,
        vec![tagged.name.clone()]
    );
    assert_eq!(
        list_all(&s, PARENT, "error.code = 1", 10).await,
        vec![plain.name.clone()]
    );
    let since = list_all(
        &s,
        PARENT,
        "metadata.create_time > \"2020-01-01T00:00:00Z\"",
        10,
    )
    .await;
    assert_eq!(since.len(), 2);
}
