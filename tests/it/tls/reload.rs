//! Certificate reload (what SIGHUP does): new handshakes get the new
//! certificate while open connections keep working; a bad file keeps the
//! old one; certificates close to expiry are warned about.

use super::*;
use crate::support::logs::CapturedLogs;

#[tokio::test]
async fn reload_swaps_the_certificate_without_dropping_open_connections() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    let op = create(&server, &certs.ca.pem, "reload").await;
    let open = channel(server.public_addr, &certs.ca.pem, None)
        .await
        .expect("connects with the first certificate");
    get(open.clone(), &op.name).await.expect("answers");

    let next_ca = Ca::new("next CA");
    next_ca.server(LONG).write(certs.dir.path(), "server");
    assert_eq!(server.policy_reloader().reload(), 0, "both planes reload");

    let fresh = channel(server.public_addr, &next_ca.pem, None)
        .await
        .expect("a new connection is served the new certificate");
    get(fresh, &op.name).await.expect("answers");
    assert!(
        channel(server.public_addr, &certs.ca.pem, None)
            .await
            .is_err(),
        "a new connection no longer sees the old certificate"
    );
    // The open channel trusts only the old CA: had its connection been
    // dropped, tonic's reconnect would fail on the new certificate.
    get(open, &op.name)
        .await
        .expect("the open connection still answers");
    server.shutdown().await;
}

#[tokio::test]
async fn reload_with_a_bad_key_keeps_the_old_certificate() {
    let (logs, _guard) = CapturedLogs::start();
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    // A certificate from a new CA with the old key: they do not fit.
    let next = Ca::new("next CA").server(LONG);
    std::fs::write(&certs.cert, &next.cert).expect("write");
    assert_eq!(
        server.policy_reloader().reload(),
        2,
        "neither plane reloads"
    );
    std::fs::write(&certs.key, "not a key").expect("write");
    assert_eq!(server.policy_reloader().reload(), 2);

    let still = channel(server.public_addr, &certs.ca.pem, None)
        .await
        .expect("the old certificate is still served");
    let op = create(&server, &certs.ca.pem, "kept").await;
    get(still, &op.name).await.expect("answers");
    let text = logs.text();
    assert!(text.contains("TLS certificate not reloaded"), "{text}");
    assert!(text.contains("does not fit"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn certificate_expiring_within_a_week_is_warned_at_start_and_on_reload() {
    let (logs, _guard) = CapturedLogs::start();
    let certs = Certs::valid_for(time::Duration::days(2));
    let mut config = tls_config(&certs, None);
    config.tls.control = None;
    let server = start(config).await;
    let warnings = || logs.text().matches("expires within 7 days").count();
    assert_eq!(warnings(), 1, "{}", logs.text());
    assert_eq!(server.policy_reloader().reload(), 0);
    assert_eq!(warnings(), 2, "{}", logs.text());
    server.shutdown().await;

    let (quiet, _guard) = CapturedLogs::start();
    let fresh = Certs::new();
    let server = start(tls_config(&fresh, None)).await;
    assert!(!quiet.text().contains("expires within"), "{}", quiet.text());
    server.shutdown().await;
}
