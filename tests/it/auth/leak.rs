//! AIP-211: without the permission, an operation that exists and one that
//! does not get the same PERMISSION_DENIED, byte for byte apart from the
//! name; and neither call touches the store. gRPC-Web meets the same checks.

use http::Method;
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tonic::Code;

use super::support::*;

#[tokio::test]
async fn denied_caller_cannot_tell_existing_from_missing_operations() {
    let server = SecureServer::start().await;
    let existing = server.create(OTHER, "secret").await;
    let missing = format!("{OTHER}/operations/never-made");
    let auth = bearer(&token(EDITOR));
    let before = server.store_calls();
    let mut answers = Vec::new();
    for name in [&existing, &missing] {
        let status = OperationsClient::new(server.public.clone())
            .cancel_operation(with_auth(
                lro::CancelOperationRequest { name: name.clone() },
                &[&auth],
            ))
            .await
            .expect_err("denied");
        assert_eq!(status.code(), Code::PermissionDenied);
        let rest_answer = rest(
            server.server.public_addr,
            Method::POST,
            &format!("/v1/{name}:cancel"),
            &[&auth],
            Some("{}"),
            false,
        )
        .await;
        assert_eq!(rest_answer.status.as_u16(), 403);
        answers.push((
            status.message().replace(name.as_str(), "NAME"),
            error_info(&status).reason,
            rest_answer.json.to_string().replace(name.as_str(), "NAME"),
        ));
    }
    assert_eq!(answers[0], answers[1], "existing and missing look the same");
    assert_eq!(
        server.store_calls(),
        before,
        "denied calls never reach the store"
    );
    server.server.shutdown().await;
}

#[tokio::test]
async fn malformed_name_is_invalid_for_a_member_and_denied_for_a_stranger() {
    let server = SecureServer::start().await;
    let before = server.store_calls();
    let get = |email: &'static str| {
        let channel = server.public.clone();
        async move {
            OperationsClient::new(channel)
                .get_operation(with_auth(
                    lro::GetOperationRequest {
                        name: "projects/x".into(),
                    },
                    &[&bearer(&token(email))],
                ))
                .await
                .expect_err("refused")
        }
    };
    assert_eq!(get(VIEWER).await.code(), Code::InvalidArgument);
    let stranger = get(STRANGER).await;
    assert_eq!(stranger.code(), Code::PermissionDenied);
    assert_eq!(error_info(&stranger).reason, "IAM_PERMISSION_DENIED");
    assert_eq!(server.store_calls(), before);
    server.server.shutdown().await;
}

#[tokio::test]
async fn grpc_web_passes_the_same_checks() {
    let server = SecureServer::start().await;
    let name = server.create(OWN, "x").await;
    let mut web = crate::support::web_client(server.server.public_addr);
    let get = |auth: &[&str]| with_auth(lro::GetOperationRequest { name: name.clone() }, auth);
    let missing = web.get_operation(get(&[])).await.expect_err("no token");
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(error_info(&missing).reason, "CREDENTIALS_MISSING");
    let stranger = bearer(&token(STRANGER));
    let denied = web
        .get_operation(get(&[&stranger]))
        .await
        .expect_err("no binding");
    assert_eq!(error_info(&denied).reason, "IAM_PERMISSION_DENIED");
    let viewer = bearer(&token(VIEWER));
    web.get_operation(get(&[&viewer]))
        .await
        .expect("the viewer may get");
    server.server.shutdown().await;
}

/// What, authorization headers, method, path, body.
type RestCase<'a> = (&'a str, &'a [&'a str], Method, &'a str, Option<&'a str>);

/// Check order over REST as over gRPC: a caller without credentials, or
/// with a bad token, is told so before anything about the request itself
/// (its query, its body), and nothing reaches the store.
#[tokio::test]
async fn rest_caller_without_credentials_is_refused_before_the_request_is_parsed() {
    let server = SecureServer::start().await;
    let cancel = format!("/v1/{OWN}/operations/x:cancel");
    let list_with_unknown_query = format!("/v1/{OWN}/operations?colour=blue");
    let before = server.store_calls();
    let garbage = bearer("not.a.token");
    let cases: [RestCase<'_>; 4] = [
        (
            "no token, bad body",
            &[],
            Method::POST,
            &cancel,
            Some("{nope"),
        ),
        (
            "no token, unknown field",
            &[],
            Method::POST,
            &cancel,
            Some(r#"{"colour": 1}"#),
        ),
        (
            "no token, unknown query",
            &[],
            Method::GET,
            &list_with_unknown_query,
            None,
        ),
        (
            "bad token, bad body",
            &[&garbage],
            Method::POST,
            &cancel,
            Some("{nope"),
        ),
    ];
    for (what, authorization, method, path, body) in cases {
        let answer = rest(
            server.server.public_addr,
            method,
            path,
            authorization,
            body,
            false,
        )
        .await;
        assert_eq!(answer.status.as_u16(), 401, "{what}: {}", answer.json);
        assert!(
            answer.challenge().starts_with("Bearer"),
            "{what}: {:?}",
            answer.headers
        );
    }
    // Past the check, the same request is a 400 about the request.
    let member = bearer(&token(EDITOR));
    let answer = rest(
        server.server.public_addr,
        Method::POST,
        &cancel,
        &[&member],
        Some("{nope"),
        false,
    )
    .await;
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.json);
    assert_eq!(server.store_calls(), before, "no refusal touched the store");
}
