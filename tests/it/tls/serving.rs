//! Serving over TLS: gRPC, gRPC-Web and REST on one port, ALPN, and what
//! counts as authentication off loopback.

use super::*;

#[tokio::test]
async fn grpc_over_tls_creates_and_gets_an_operation() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    let created = create(&server, &certs.ca.pem, "over-tls").await;
    let public = channel(server.public_addr, &certs.ca.pem, None)
        .await
        .expect("public connects over TLS");
    let got = get(public, &created.name).await.expect("get over TLS");
    assert_eq!(got.name, format!("{PARENT}/operations/over-tls"));
    server.shutdown().await;
}

#[tokio::test]
async fn tls_port_offers_h2_and_http1_by_alpn() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    for protocol in [&b"h2"[..], b"http/1.1"] {
        let negotiated = handshake(
            server.public_addr,
            client_config(&certs.ca.pem, None, &[protocol]),
        )
        .await
        .expect("handshake");
        assert_eq!(negotiated.as_deref(), Some(protocol));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn rest_over_tls_answers_get() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    let created = create(&server, &certs.ca.pem, "rest-tls").await;
    let client = https_client(&certs.ca.pem, None);
    let (status, json) = rest_get(
        &client,
        format!("https://{}/v1/{}", server.public_addr, created.name),
    )
    .await;
    assert_eq!(status, http::StatusCode::OK, "{json}");
    assert_eq!(json["name"], created.name.as_str());
    server.shutdown().await;
}

#[tokio::test]
async fn grpc_web_over_tls_answers_get() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    let created = create(&server, &certs.ca.pem, "web-tls").await;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(Arc::unwrap_or_clone(client_config(
            &certs.ca.pem,
            None,
            &[],
        )))
        .https_only()
        .enable_http1()
        .build();
    let http = Client::builder(TokioExecutor::new()).build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http);
    let origin = format!("https://{}", server.public_addr)
        .parse()
        .expect("uri");
    let got = OperationsClient::with_origin(service, origin)
        .get_operation(lro::GetOperationRequest {
            name: created.name.clone(),
        })
        .await
        .expect("gRPC-Web over TLS")
        .into_inner();
    assert_eq!(got.name, created.name);
    server.shutdown().await;
}

#[tokio::test]
async fn plain_tls_off_loopback_is_refused_but_mtls_counts_as_authentication() {
    let certs = Certs::new();
    let mut plain = tls_config(&certs, None);
    plain.listen = "0.0.0.0:0".parse().expect("addr");
    let refused = longrun::server::start(plain)
        .await
        .err()
        .expect("TLS alone is no authentication");
    assert!(
        refused
            .to_string()
            .contains("refusing to serve the public API"),
        "{refused}"
    );

    let client_ca = Ca::new("clients");
    let mut mutual = tls_config(&certs, Some(&client_ca));
    mutual.listen = "0.0.0.0:0".parse().expect("addr");
    let server = longrun::server::start(mutual)
        .await
        .expect("mTLS is authentication");
    server.shutdown().await;
}

#[tokio::test]
async fn unreadable_certificate_fails_start_naming_the_file() {
    let certs = Certs::new();
    let mut config = tls_config(&certs, None);
    let missing = certs.dir.path().join("missing.crt");
    config.tls.control = Some(TlsFiles {
        cert: missing.clone(),
        key: certs.key.clone(),
        client_ca: None,
    });
    let err = longrun::server::start(config)
        .await
        .err()
        .expect("a missing certificate stops the start");
    let text = err.to_string();
    assert!(
        text.contains("control TLS") && text.contains(&missing.display().to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn silent_client_does_not_hold_up_other_handshakes() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    // Connected, and never says a word: its handshake waits in its own task.
    let silent = tokio::net::TcpStream::connect(server.public_addr)
        .await
        .expect("tcp");
    let op = create(&server, &certs.ca.pem, "not-blocked").await;
    let public = channel(server.public_addr, &certs.ca.pem, None)
        .await
        .expect("a second client is served meanwhile");
    get(public, &op.name).await.expect("answers");
    // Else the drain waits for its handshake to time out.
    drop(silent);
    server.shutdown().await;
}
