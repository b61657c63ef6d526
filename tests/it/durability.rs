//! Acknowledged writes survive SIGKILL of the server process (SQLite with
//! WAL and synchronous=FULL).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::support::*;

/// Two distinct free ports: both listeners are held until both are known.
fn free_ports() -> (SocketAddr, SocketAddr) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind");
    (a.local_addr().expect("addr"), b.local_addr().expect("addr"))
}

struct Process {
    child: Child,
    public: SocketAddr,
    control: SocketAddr,
}

async fn spawn_server(db: &Path) -> Process {
    let (public, control) = free_ports();
    let child = Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args([
            "serve",
            "--listen",
            &public.to_string(),
            "--control-listen",
            &control.to_string(),
        ])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("LONGRUN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let process = Process {
        child,
        public,
        control,
    };
    // Readiness: the control port answers a health check.
    for _ in 0..200 {
        if let Ok(channel) = Channel::from_shared(format!("http://{control}"))
            .expect("uri")
            .connect()
            .await
        {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            if health
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_ok()
            {
                return process;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[derive(Clone, Debug)]
enum Acked {
    Cancelled(String),
    Completed(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_cancels_and_completes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("durable.db");
    let mut process = spawn_server(&db).await;
    let control = OperationsControlClient::new(channel(process.control).await);
    let ops = OperationsClient::new(channel(process.public).await);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();

    let mut writers = Vec::new();
    for writer in 0..16 {
        let mut control = control.clone();
        let mut ops = ops.clone();
        let acked = Arc::clone(&acked);
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let Ok(op) = control
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        ..Default::default()
                    })
                    .await
                else {
                    return;
                };
                let name = op.into_inner().name;
                let write = if (writer + i) % 2 == 0 {
                    ops.cancel_operation(lro::CancelOperationRequest { name: name.clone() })
                        .await
                        .map(|_| Acked::Cancelled(name))
                } else {
                    control
                        .complete_operation(ctl::CompleteOperationRequest {
                            name: name.clone(),
                            result: Some(empty_response()),
                        })
                        .await
                        .map(|_| Acked::Completed(name))
                };
                match write {
                    Ok(ack) => acked.lock().expect("lock").push(ack),
                    Err(_) => return,
                }
            }
        }));
    }
    // Let writes flow, then kill without warning while they are in flight.
    while acked.lock().expect("lock").len() < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.child.start_kill().expect("SIGKILL");
    process.child.wait().await.expect("reaped");
    for writer in writers {
        let _ = writer.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 300);

    let restarted = spawn_server(&db).await;
    let mut ops = OperationsClient::new(channel(restarted.public).await);
    for ack in &acked {
        let (name, want_cancelled) = match ack {
            Acked::Cancelled(name) => (name, true),
            Acked::Completed(name) => (name, false),
        };
        let got = ops
            .get_operation(lro::GetOperationRequest { name: name.clone() })
            .await
            .unwrap_or_else(|e| panic!("acknowledged {name} lost: {e}"))
            .into_inner();
        assert!(got.done, "{name} lost its terminal state");
        if want_cancelled {
            assert_eq!(error_code(&got), Some(1), "{name}");
        } else {
            assert!(is_response(&got), "{name}");
        }
    }
    println!("{} acknowledged writes survived SIGKILL", acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_open_waits_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut process = spawn_server(&dir.path().join("drain.db")).await;
    let mut control = OperationsControlClient::new(channel(process.control).await);
    let op = control
        .create_operation(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let mut ops = OperationsClient::new(channel(process.public).await);
    let name = op.name.clone();
    let waiter = tokio::spawn(async move {
        ops.wait_operation(lro::WaitOperationRequest {
            name,
            timeout: Some(pb_duration(Duration::from_secs(60))),
        })
        .await
    });
    // Give the Wait time to reach the server before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = process.child.id().expect("running").to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(sent.success());
    let waited = tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .expect("the wait ends with the drain")
        .expect("joins")
        .expect("the wait is answered, not cut off")
        .into_inner();
    assert_eq!(waited.name, op.name);
    assert!(!waited.done);
    let status = tokio::time::timeout(Duration::from_secs(20), process.child.wait())
        .await
        .expect("exits after draining")
        .expect("status");
    assert!(status.success(), "exit status {status:?}");
}
