//! The client verbs over https: `--ca-file` to trust the server, and
//! `--cert/--key` for a server that requires client certificates.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::*;

async fn run(args: &[&str]) -> (bool, String, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(env!("CARGO_BIN_EXE_longrun"))
            .arg("operations")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the CLI finishes")
    .expect("the CLI runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_gets_an_operation_over_https_with_ca_file() {
    let certs = Certs::new();
    let server = start(tls_config(&certs, None)).await;
    let op = create(&server, &certs.ca.pem, "cli-tls").await;
    let ca = certs.write("ca.pem", &certs.ca.pem);
    let url = format!("https://{}", server.public_addr);
    let ca = ca.display().to_string();
    let (ok, stdout, stderr) = run(&[
        "--server",
        &url,
        "--ca-file",
        &ca,
        "-o",
        "json",
        "get",
        &op.name,
    ])
    .await;
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["name"], op.name.as_str());

    let (ok, _, stderr) = run(&["--server", &url, "get", &op.name]).await;
    assert!(!ok, "the built-in roots do not trust a test CA");
    assert!(stderr.contains(&url), "{stderr}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_shows_its_client_certificate_to_an_mtls_server() {
    let certs = Certs::new();
    let clients = Ca::new("clients");
    let server = start(tls_config(&certs, Some(&clients))).await;
    let op = create(&server, &certs.ca.pem, "cli-mtls").await;
    let (cert, key) = clients
        .client_uri("spiffe://longrun.test/cli")
        .write(certs.dir.path(), "client");
    let ca = certs.write("ca.pem", &certs.ca.pem).display().to_string();
    let url = format!("https://{}", server.public_addr);
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let (ok, stdout, stderr) = run(&[
        "--server",
        &url,
        "--ca-file",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "get",
        &op.name,
    ])
    .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("cli-mtls"), "{stdout}");

    let (ok, _, _) = run(&["--server", &url, "--ca-file", &ca, "get", &op.name]).await;
    assert!(!ok, "no client certificate, no call");
    server.shutdown().await;
}
