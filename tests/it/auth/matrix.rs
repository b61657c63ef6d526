//! Each built-in role x each method x own/other project, over gRPC and
//! REST: allowed exactly when the role holds the permission on the
//! project, and a refusal names the permission and the resource.

use std::collections::HashMap;

use http::Method;
use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::{control as ctl, longrunning as lro};
use lro::operations_client::OperationsClient;
use tonic::Code;

use super::support::*;
use crate::support::cancelled_by_worker;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Method9 {
    Get,
    List,
    Wait,
    Cancel,
    Delete,
    Create,
    Update,
    Complete,
    Watch,
}

const METHODS: [Method9; 9] = [
    Method9::Get,
    Method9::List,
    Method9::Wait,
    Method9::Cancel,
    Method9::Delete,
    Method9::Create,
    Method9::Update,
    Method9::Complete,
    Method9::Watch,
];

impl Method9 {
    fn verb(self) -> &'static str {
        match self {
            Method9::Get => "get",
            Method9::List => "list",
            Method9::Wait => "wait",
            Method9::Cancel => "cancel",
            Method9::Delete => "delete",
            Method9::Create => "create",
            Method9::Update => "update",
            Method9::Complete => "complete",
            Method9::Watch => "watch",
        }
    }
}

fn granted() -> HashMap<&'static str, Vec<Method9>> {
    use Method9::*;
    HashMap::from([
        (VIEWER, vec![Get, List, Wait]),
        (EDITOR, vec![Get, List, Wait, Cancel, Delete]),
        (PRODUCER, vec![Create]),
        (WORKER, vec![Update, Complete, Watch]),
        (STRANGER, vec![]),
    ])
}

/// The outcome of one call: allowed, or denied with (permission, resource).
type Outcome = Result<(), (String, String)>;

async fn over_grpc(
    server: &SecureServer,
    method: Method9,
    parent: &str,
    name: &str,
    auth: &str,
) -> Outcome {
    let mut ops = OperationsClient::new(server.public.clone());
    let mut control = OperationsControlClient::new(server.control.clone());
    let a = &[auth];
    let result = match method {
        Method9::Get => ops
            .get_operation(with_auth(lro::GetOperationRequest { name: name.into() }, a))
            .await
            .map(drop),
        Method9::List => ops
            .list_operations(with_auth(
                lro::ListOperationsRequest {
                    name: parent.into(),
                    ..Default::default()
                },
                a,
            ))
            .await
            .map(drop),
        Method9::Wait => ops
            .wait_operation(with_auth(
                lro::WaitOperationRequest {
                    name: name.into(),
                    timeout: Some(prost_types::Duration::default()),
                },
                a,
            ))
            .await
            .map(drop),
        Method9::Cancel => ops
            .cancel_operation(with_auth(
                lro::CancelOperationRequest { name: name.into() },
                a,
            ))
            .await
            .map(drop),
        Method9::Delete => ops
            .delete_operation(with_auth(
                lro::DeleteOperationRequest { name: name.into() },
                a,
            ))
            .await
            .map(drop),
        Method9::Create => control
            .create_operation(with_auth(
                ctl::CreateOperationRequest {
                    parent: parent.into(),
                    operation_id: "made".into(),
                    ..Default::default()
                },
                a,
            ))
            .await
            .map(drop),
        Method9::Update => control
            .update_operation(with_auth(
                ctl::UpdateOperationRequest {
                    name: name.into(),
                    metadata: None,
                },
                a,
            ))
            .await
            .map(drop),
        Method9::Complete => control
            .complete_operation(with_auth(
                ctl::CompleteOperationRequest {
                    name: name.into(),
                    result: Some(cancelled_by_worker()),
                },
                a,
            ))
            .await
            .map(drop),
        Method9::Watch => control
            .watch_operation(with_auth(
                ctl::WatchOperationRequest { name: name.into() },
                a,
            ))
            .await
            .map(drop),
    };
    match result {
        Ok(()) => Ok(()),
        Err(status) => {
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "{method:?} {name}: {status:?}"
            );
            let info = error_info(&status);
            assert_eq!(info.reason, "IAM_PERMISSION_DENIED");
            Err((
                info.metadata["permission"].clone(),
                info.metadata["resource"].clone(),
            ))
        }
    }
}

async fn over_rest(
    server: &SecureServer,
    method: Method9,
    parent: &str,
    name: &str,
    auth: &str,
) -> Outcome {
    let (public, control) = (server.server.public_addr, server.server.control_addr);
    let a = &[auth];
    let answer = match method {
        Method9::Get => rest(public, Method::GET, &format!("/v1/{name}"), a, None, false).await,
        Method9::List => {
            rest(
                public,
                Method::GET,
                &format!("/v1/{parent}/operations"),
                a,
                None,
                false,
            )
            .await
        }
        Method9::Wait => {
            rest(
                public,
                Method::POST,
                &format!("/v1/{name}:wait"),
                a,
                Some(r#"{"timeout":"0s"}"#),
                false,
            )
            .await
        }
        Method9::Cancel => {
            rest(
                public,
                Method::POST,
                &format!("/v1/{name}:cancel"),
                a,
                Some("{}"),
                false,
            )
            .await
        }
        Method9::Delete => {
            rest(
                public,
                Method::DELETE,
                &format!("/v1/{name}"),
                a,
                None,
                false,
            )
            .await
        }
        Method9::Create => {
            rest(
                control,
                Method::POST,
                &format!("/v1/{parent}/operations"),
                a,
                Some(r#"{"operationId":"made"}"#),
                false,
            )
            .await
        }
        Method9::Update => {
            rest(
                control,
                Method::PATCH,
                &format!("/v1/{name}"),
                a,
                Some("{}"),
                false,
            )
            .await
        }
        Method9::Complete => {
            rest(
                control,
                Method::POST,
                &format!("/v1/{name}:complete"),
                a,
                Some(r#"{"error":{"code":1,"message":"stopped"}}"#),
                false,
            )
            .await
        }
        Method9::Watch => {
            rest(
                control,
                Method::GET,
                &format!("/v1/{name}:watch"),
                a,
                None,
                true,
            )
            .await
        }
    };
    if answer.status.is_success() {
        return Ok(());
    }
    assert_eq!(
        answer.status.as_u16(),
        403,
        "{method:?} {name}: {}",
        answer.json
    );
    assert_eq!(answer.reason(), "IAM_PERMISSION_DENIED", "{}", answer.json);
    assert_eq!(answer.json["error"]["status"], "PERMISSION_DENIED");
    let metadata = &answer.json["error"]["details"][0]["metadata"];
    Err((
        metadata["permission"].as_str().unwrap_or("").to_owned(),
        metadata["resource"].as_str().unwrap_or("").to_owned(),
    ))
}

#[tokio::test]
async fn every_role_may_do_exactly_its_methods_on_its_own_project() {
    let server = SecureServer::start().await;
    let granted = granted();
    let mut n = 0;
    for (email, allowed) in &granted {
        let auth = bearer(&token(email));
        for method in METHODS {
            for (project, parent) in [("own", OWN), ("other", OTHER)] {
                for transport in ["grpc", "rest"] {
                    n += 1;
                    // A fresh operation per call: cancels and deletes must
                    // not change what the next call sees.
                    let id = format!("op-{n}");
                    let name = server.create(parent, &id).await;
                    let outcome = if transport == "grpc" {
                        over_grpc(&server, method, parent, &name, &auth).await
                    } else {
                        over_rest(&server, method, parent, &name, &auth).await
                    };
                    let expect_allowed = project == "own" && allowed.contains(&method);
                    let what = format!("{email} {method:?} on {project} over {transport}");
                    match outcome {
                        Ok(()) => assert!(expect_allowed, "{what}: allowed but should not be"),
                        Err((permission, resource)) => {
                            assert!(!expect_allowed, "{what}: denied but should be allowed");
                            assert_eq!(
                                permission,
                                format!("cloudaicompanion.operations.{}", method.verb()),
                                "{what}"
                            );
                            let expected_resource = match method {
                                Method9::List | Method9::Create => parent.to_owned(),
                                Method9::Get
                                | Method9::Wait
                                | Method9::Cancel
                                | Method9::Delete
                                | Method9::Update
                                | Method9::Complete
                                | Method9::Watch => name.clone(),
                            };
                            assert_eq!(resource, expected_resource, "{what}");
                        }
                    }
                    if method == Method9::Create && expect_allowed {
                        // Free the id for the next transport.
                        server
                            .server
                            .core()
                            .delete_operation(
                                &longrun::auth::Caller::trusted(),
                                format!("{parent}/operations/made"),
                            )
                            .await
                            .expect("delete made");
                    }
                }
            }
        }
    }
    server.server.shutdown().await;
}
