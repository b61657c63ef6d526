//! Policy reload: in-process under load (no call fails while the policy is
//! swapped again and again), and with the real binary on SIGHUP, where a
//! bad file keeps the old policy.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::{control as ctl, longrunning as lro};
use lro::operations_client::OperationsClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::Code;

use super::support::*;

const EDITOR_TOO: &str = r"
  - role: roles/editor
    members: [user:editor@example.com]
    resources: ['*']
";

#[tokio::test]
async fn policy_reload_under_load_loses_no_call() {
    let server = Arc::new(SecureServer::start().await);
    let name = server.create(OWN, "hot").await;
    let auth = bearer(&token(VIEWER));
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (server, name, auth, stop, ok, failed) = (
            Arc::clone(&server),
            name.clone(),
            auth.clone(),
            Arc::clone(&stop),
            Arc::clone(&ok),
            Arc::clone(&failed),
        );
        clients.push(tokio::spawn(async move {
            let mut client = OperationsClient::new(server.public.clone());
            while !stop.load(Ordering::SeqCst) {
                match client
                    .get_operation(with_auth(
                        lro::GetOperationRequest { name: name.clone() },
                        &[&auth],
                    ))
                    .await
                {
                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                    Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        }));
    }
    let path = server.dir.path().join("policy.yaml");
    let reloader = server.server.policy_reloader();
    for round in 0..50 {
        // Every version grants the viewer what the load needs.
        let text = if round % 2 == 0 {
            format!("{POLICY}{EDITOR_TOO}")
        } else {
            POLICY.to_owned()
        };
        std::fs::write(&path, text).expect("write policy");
        assert_eq!(reloader.reload(), 0, "round {round}");
        tokio::task::yield_now().await;
    }
    // Let the load run past the last swap, bounded.
    let target = ok.load(Ordering::SeqCst) + 50;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while ok.load(Ordering::SeqCst) < target && tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    assert_eq!(failed.load(Ordering::SeqCst), 0);
    assert!(
        ok.load(Ordering::SeqCst) >= target,
        "the load made progress"
    );

    // A bad file keeps the policy in force; a good one takes effect.
    std::fs::write(&path, "bindings: [").expect("write");
    assert_eq!(reloader.reload(), 2, "both planes read this file");
    OperationsClient::new(server.public.clone())
        .get_operation(with_auth(
            lro::GetOperationRequest { name: name.clone() },
            &[&auth],
        ))
        .await
        .expect("old policy still in force");
    std::fs::write(&path, "bindings: []\n").expect("write");
    assert_eq!(reloader.reload(), 0);
    let status = OperationsClient::new(server.public.clone())
        .get_operation(with_auth(lro::GetOperationRequest { name }, &[&auth]))
        .await
        .expect_err("viewer removed");
    assert_eq!(status.code(), Code::PermissionDenied);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits (bounded) for a log line containing `needle`.
async fn wait_for_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    needle: &str,
) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr") {
            if line.contains(needle) {
                return;
            }
        }
        panic!("the server exited before logging {needle:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle:?} in the log within 30s"));
}

#[tokio::test]
async fn sighup_reloads_the_policy_of_the_real_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jwks_path = dir.path().join("jwks.json");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&jwks_path, jwks()).expect("jwks");
    std::fs::write(&policy, POLICY).expect("policy");
    let (public, control) = (free_port(), free_port());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(["serve", "--database", "sqlite::memory:"])
        .args(["--listen", &format!("127.0.0.1:{public}")])
        .args(["--control-listen", &format!("127.0.0.1:{control}")])
        .args(["--jwks-file", jwks_path.to_str().expect("utf-8")])
        .args(["--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE])
        .args(["--policy", policy.to_str().expect("utf-8")])
        .env("LONGRUN_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    wait_for_line(&mut lines, "longrun serving").await;
    let channel = |port: u16| async move {
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
            .expect("connects")
    };
    // The control plane has no policy: open, on loopback.
    let name = OperationsControlClient::new(channel(control).await)
        .create_operation(ctl::CreateOperationRequest {
            parent: OWN.into(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .name;
    let mut ops = OperationsClient::new(channel(public).await);
    let cancel =
        |auth: String, name: String| lro::CancelOperationRequest { name: name.clone() }.with(auth);
    let viewer = bearer(&token(VIEWER));
    let stranger = bearer(&token(STRANGER));
    let status = ops
        .cancel_operation(cancel(stranger.clone(), name.clone()))
        .await
        .expect_err("not yet");
    assert_eq!(status.code(), Code::PermissionDenied);

    let pid = child.id().expect("running").to_string();
    let hangup = || async {
        let status = tokio::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success());
    };
    std::fs::write(
        &policy,
        format!("{POLICY}  - role: roles/editor\n    members: [user:{STRANGER}]\n    resources: [projects/own]\n"),
    )
    .expect("write");
    hangup().await;
    wait_for_line(&mut lines, "policy reloaded").await;
    ops.cancel_operation(cancel(stranger.clone(), name.clone()))
        .await
        .expect("granted after SIGHUP");

    std::fs::write(&policy, "bindings: [").expect("write");
    hangup().await;
    wait_for_line(&mut lines, "policy not reloaded").await;
    ops.get_operation(with_auth(
        lro::GetOperationRequest { name: name.clone() },
        &[&viewer],
    ))
    .await
    .expect("the old policy stays in force");
    ops.cancel_operation(cancel(stranger, name))
        .await
        .expect("still granted");
    child.start_kill().expect("kill");
    let _ = child.wait().await;
}

trait WithAuth: Sized {
    fn with(self, authorization: String) -> tonic::Request<Self>;
}

impl<T> WithAuth for T {
    fn with(self, authorization: String) -> tonic::Request<Self> {
        with_auth(self, &[&authorization])
    }
}
