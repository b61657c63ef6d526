//! List shows only what the caller may list: one location when that is
//! all they are bound to, and with `-` only their locations, across pages
//! whose tokens stay valid.

use std::collections::BTreeSet;

use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tonic::Code;

use super::support::*;

async fn list_all(
    server: &SecureServer,
    parent: &str,
    auth: &str,
    page_size: i32,
) -> Result<Vec<String>, tonic::Status> {
    let mut client = OperationsClient::new(server.public.clone());
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_operations(with_auth(
                lro::ListOperationsRequest {
                    name: parent.into(),
                    page_size,
                    page_token,
                    ..Default::default()
                },
                &[auth],
            ))
            .await?
            .into_inner();
        names.extend(page.operations.into_iter().map(|op| op.name));
        if page.next_page_token.is_empty() {
            return Ok(names);
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn list_with_dash_shows_only_the_locations_the_caller_may_list() {
    let server = SecureServer::start().await;
    let mut visible = BTreeSet::new();
    for location in ["a", "b", "c"] {
        for i in 0..4 {
            let name = server
                .create(
                    &format!("projects/multi/locations/{location}"),
                    &format!("op-{i}"),
                )
                .await;
            if location == "a" {
                visible.insert(name);
            }
        }
    }
    let mut group_claims = claims("member@example.com");
    group_claims.insert("groups".into(), serde_json::json!(["multi-a"]));
    let auth = bearer(&sign(&group_claims, jsonwebtoken::Algorithm::EdDSA));
    for page_size in [1, 3, 50] {
        let names = list_all(&server, "projects/multi/locations/-", &auth, page_size)
            .await
            .expect("lists");
        assert_eq!(
            names.iter().cloned().collect::<BTreeSet<_>>(),
            visible,
            "page size {page_size}"
        );
        assert_eq!(names.len(), visible.len(), "no duplicates across pages");
    }
    let own = list_all(&server, "projects/multi/locations/a", &auth, 2)
        .await
        .expect("lists a");
    assert_eq!(own.len(), 4);
    let denied = list_all(&server, "projects/multi/locations/b", &auth, 2)
        .await
        .expect_err("b is not theirs");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let elsewhere = list_all(&server, "projects/own/locations/-", &auth, 2)
        .await
        .expect_err("not their project");
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
    server.server.shutdown().await;
}

#[tokio::test]
async fn list_with_dash_for_a_project_binding_shows_every_location() {
    let server = SecureServer::start().await;
    for location in ["a", "b"] {
        server
            .create(&format!("projects/own/locations/{location}"), "x")
            .await;
    }
    server.create("projects/other/locations/a", "y").await;
    let names = list_all(
        &server,
        "projects/own/locations/-",
        &bearer(&token(VIEWER)),
        1,
    )
    .await
    .expect("lists");
    assert_eq!(names.len(), 2, "{names:?}");
    server.server.shutdown().await;
}
