//! A replica (the real binary) is SIGKILLed under load: every write it
//! acknowledged is on the database, and the other replica serves it.

use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use longrun::pb::control::operations_control_client::OperationsControlClient;
use longrun::pb::longrunning::operations_client::OperationsClient;
use longrun::pb::{control as ctl, longrunning as lro};
use longrun::service::ServiceSettings;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::replica;
use crate::support::postgres::PgSchema;
use crate::support::*;

/// `longrun serve` on `database`, ready (health answers on the control port).
async fn spawn_replica(database: &str) -> (Child, SocketAddr, SocketAddr) {
    let (public, control) = {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = TcpListener::bind("127.0.0.1:0").expect("bind");
        (a.local_addr().expect("addr"), b.local_addr().expect("addr"))
    };
    let child = Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args(["serve", "--listen", &public.to_string()])
        .args(["--control-listen", &control.to_string()])
        .args(["--database", database])
        .env("LONGRUN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(channel) = tonic::transport::Channel::from_shared(format!("http://{control}"))
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
                return (child, public, control);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the replica did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Clone, Debug)]
enum Acked {
    Created(String),
    Cancelled(String),
    Completed(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_killed_under_load_loses_no_acknowledged_write() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let survivor = replica(&schema, "survivor", ServiceSettings::default()).await;
    let (mut child, public, control) = spawn_replica(&schema.url("doomed")).await;
    let control = OperationsControlClient::new(channel(control).await);
    let ops = OperationsClient::new(channel(public).await);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();

    let mut writers = Vec::new();
    for writer in 0..16 {
        let (mut control, mut ops, acked) = (control.clone(), ops.clone(), Arc::clone(&acked));
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
                acked
                    .lock()
                    .expect("lock")
                    .push(Acked::Created(name.clone()));
                let write = match (writer + i) % 3 {
                    0 => ops
                        .cancel_operation(lro::CancelOperationRequest { name: name.clone() })
                        .await
                        .map(|_| Acked::Cancelled(name)),
                    1 => control
                        .complete_operation(ctl::CompleteOperationRequest {
                            name: name.clone(),
                            result: Some(empty_response()),
                        })
                        .await
                        .map(|_| Acked::Completed(name)),
                    // Some stay running, to be found running.
                    _ => continue,
                };
                match write {
                    Ok(ack) => acked.lock().expect("lock").push(ack),
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().expect("lock").len() < 600 {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    for writer in writers {
        let _ = writer.await;
    }
    let acked = acked.lock().expect("lock").clone();

    for ack in &acked {
        let (name, check): (&String, fn(&lro::Operation) -> bool) = match ack {
            Acked::Created(name) => (name, |_| true),
            Acked::Cancelled(name) => (name, |op| op.done && error_code(op) == Some(1)),
            Acked::Completed(name) => (name, |op| op.done && is_response(op)),
        };
        let got = survivor
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {name} lost: {e}"));
        assert!(check(&got), "{name}: {ack:?} lost, found {got:?}");
    }
    println!(
        "{} acknowledged writes survived SIGKILL of a replica",
        acked.len()
    );
    survivor.stop().await;
}
