//! Safe defaults: no authentication only on loopback; tokens need a
//! policy; and sidecar mode reads the caller from the forwarded payload.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use longrun::auth::{AuthSettings, TokenSource};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use longrun::server::ServerConfig;
use longrun::service::ServiceSettings;
use tonic::Code;

use super::support::*;

async fn start_error(adjust: impl FnOnce(&mut ServerConfig)) -> String {
    let mut config = crate::support::config("sqlite::memory:".into(), ServiceSettings::default());
    adjust(&mut config);
    match longrun::server::start(config).await {
        Ok(_) => panic!("the server started"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn open_public_plane_on_a_non_loopback_address_is_refused() {
    let err = start_error(|c| c.listen = "0.0.0.0:0".parse().expect("addr")).await;
    assert!(err.contains("--allow-unauthenticated"), "{err}");
    let err = start_error(|c| c.control_listen = "0.0.0.0:0".parse().expect("addr")).await;
    assert!(err.contains("--allow-unauthenticated-control"), "{err}");
}

#[tokio::test]
async fn tokens_without_policy_and_policy_without_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("jwks.json"), jwks()).expect("jwks");
    let with_tokens = settings(
        dir.path(),
        longrun::auth::KeySource::JwksFile(dir.path().join("jwks.json")),
    );
    let no_policy = AuthSettings {
        policy: None,
        ..with_tokens.clone()
    };
    let err = start_error(|c| c.auth = no_policy).await;
    assert!(err.contains("--policy"), "{err}");
    let no_tokens = AuthSettings {
        tokens: None,
        ..with_tokens
    };
    let err = start_error(|c| c.auth = no_tokens).await;
    assert!(err.contains("token source"), "{err}");
}

#[tokio::test]
async fn sidecar_mode_reads_the_caller_from_the_forwarded_payload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut auth = settings(
        dir.path(),
        longrun::auth::KeySource::JwksFile(dir.path().join("unused")),
    );
    auth.tokens = Some(TokenSource::ForwardedPayload {
        header: "x-jwt-payload".into(),
    });
    let server = SecureServer::with_auth(dir, auth).await;
    let name = server.create(OWN, "x").await;
    let get = |payload: Option<String>| {
        let (channel, name) = (server.public.clone(), name.clone());
        async move {
            let mut request = tonic::Request::new(lro::GetOperationRequest { name });
            if let Some(payload) = payload {
                request
                    .metadata_mut()
                    .insert("x-jwt-payload", payload.parse().expect("ascii"));
            }
            OperationsClient::new(channel)
                .get_operation(request)
                .await
                .map(drop)
        }
    };
    let payload =
        |email: &str| URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims(email)).to_string());
    get(Some(payload(VIEWER)))
        .await
        .expect("the viewer may get");
    assert_eq!(
        get(Some(payload(STRANGER)))
            .await
            .expect_err("stranger")
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        get(None).await.expect_err("no payload").code(),
        Code::Unauthenticated
    );
    server.server.shutdown().await;
}
