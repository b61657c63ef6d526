//! Mutual TLS: a client without a certificate, or with one from another
//! CA, is refused at the handshake; a good certificate's SAN URI (else DNS
//! name) is the `subject:` the policy sees, over gRPC and REST alike.

use super::*;

const GOOD: &str = "spiffe://longrun.test/ns/prod/sa/reader";
const OTHER: &str = "spiffe://longrun.test/ns/prod/sa/stranger";
const DNS_READER: &str = "reader.longrun.test";

fn policy() -> String {
    format!(
        "bindings:\n  - role: roles/viewer\n    members: [\"subject:{GOOD}\", \"subject:{DNS_READER}\"]\n    resources: [projects/test]\n"
    )
}

/// The public plane requires client certificates from `clients` and holds
/// them to `policy()`; the control plane is TLS only (loopback).
async fn mtls_server(certs: &Certs, clients: &Ca) -> RunningServer {
    let mut config = tls_config(certs, Some(clients));
    config.auth.policy = Some(certs.write("policy.yaml", &policy()));
    start(config).await
}

#[tokio::test]
async fn mtls_without_client_certificate_is_refused_at_handshake() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = mtls_server(&certs, &clients).await;
    let err = handshake(
        server.public_addr,
        client_config(&certs.ca.pem, None, &[b"h2"]),
    )
    .await
    .expect_err("no client certificate");
    assert!(err.to_string().contains("CertificateRequired"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_with_certificate_from_another_ca_is_refused_at_handshake() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = mtls_server(&certs, &clients).await;
    let impostor = Ca::new("impostor").client_uri(GOOD);
    let err = handshake(
        server.public_addr,
        client_config(&certs.ca.pem, Some(&impostor), &[b"h2"]),
    )
    .await
    .expect_err("a certificate from another CA");
    assert!(err.to_string().contains("UnknownCA"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_certificate_uri_is_the_policy_principal_over_grpc() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = mtls_server(&certs, &clients).await;
    let op = create(&server, &certs.ca.pem, "mtls-grpc").await;

    let good = clients.client_uri(GOOD);
    let allowed = channel(server.public_addr, &certs.ca.pem, Some(&good))
        .await
        .expect("a good certificate connects");
    let got = get(allowed, &op.name)
        .await
        .expect("the policy allows GOOD");
    assert_eq!(got.name, op.name);

    let other = clients.client_uri(OTHER);
    let denied = channel(server.public_addr, &certs.ca.pem, Some(&other))
        .await
        .expect("any certificate of the CA connects");
    let status = get(denied, &op.name).await.expect_err("OTHER has no role");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_certificate_dns_name_is_the_principal_without_a_uri() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = mtls_server(&certs, &clients).await;
    let op = create(&server, &certs.ca.pem, "mtls-dns").await;
    let reader = clients.client_dns(DNS_READER);
    let allowed = channel(server.public_addr, &certs.ca.pem, Some(&reader))
        .await
        .expect("connects");
    get(allowed, &op.name)
        .await
        .expect("subject:<dns name> is bound");
    let stranger = clients.client_dns("stranger.longrun.test");
    let denied = channel(server.public_addr, &certs.ca.pem, Some(&stranger))
        .await
        .expect("connects");
    let status = get(denied, &op.name).await.expect_err("unbound dns name");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_certificate_uri_is_the_policy_principal_over_rest() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = mtls_server(&certs, &clients).await;
    let op = create(&server, &certs.ca.pem, "mtls-rest").await;
    let url = format!("https://{}/v1/{}", server.public_addr, op.name);

    let good = https_client(&certs.ca.pem, Some(&clients.client_uri(GOOD)));
    let (status, json) = rest_get(&good, url.clone()).await;
    assert_eq!(status, http::StatusCode::OK, "{json}");
    assert_eq!(json["name"], op.name.as_str());

    let other = https_client(&certs.ca.pem, Some(&clients.client_uri(OTHER)));
    let (status, json) = rest_get(&other, url).await;
    assert_eq!(status, http::StatusCode::FORBIDDEN, "{json}");
    assert_eq!(json["error"]["status"], "PERMISSION_DENIED");
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_bearer_token_wins_over_the_certificate_and_a_bad_one_is_refused() {
    use crate::auth::support::{VIEWER, bearer, jwks, settings, token, with_auth};
    use longrun::auth::KeySource;

    let certs = Certs::new();
    let clients = Ca::new("clients");
    let mut config = tls_config(&certs, Some(&clients));
    let jwks_file = certs.write("jwks.json", &jwks());
    config.auth = settings(certs.dir.path(), KeySource::JwksFile(jwks_file));
    // The certificate may read projects/test; the token's user only
    // projects/own (the auth tests' policy). The control plane stays open.
    let policy = format!(
        "{}{}",
        std::fs::read_to_string(config.auth.policy.as_ref().expect("policy")).expect("read"),
        policy().trim_start_matches("bindings:\n")
    );
    config.auth.policy = Some(certs.write("both.yaml", &policy));
    config.auth.control_policy = None;
    let server = start(config).await;
    let op = create(&server, &certs.ca.pem, "both").await;
    let channel = channel(
        server.public_addr,
        &certs.ca.pem,
        Some(&clients.client_uri(GOOD)),
    )
    .await
    .expect("connects");
    let mut ops = OperationsClient::new(channel);
    let request = || lro::GetOperationRequest {
        name: op.name.clone(),
    };

    ops.get_operation(request())
        .await
        .expect("without a token the certificate is the caller");
    let status = ops
        .get_operation(with_auth(request(), &[&bearer(&token(VIEWER))]))
        .await
        .expect_err("the token's user may not read projects/test");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    let status = ops
        .get_operation(with_auth(request(), &["Bearer not-a-token"]))
        .await
        .expect_err("a bad token is not replaced by the certificate");
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    server.shutdown().await;
}
