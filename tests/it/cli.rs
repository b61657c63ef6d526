//! The README's walk-through, run with the real binary's client verbs
//! against a server: create, watch as a worker, cancel, acknowledge, and see
//! the operation done with CANCELLED.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::*;

struct Cli {
    server: String,
    control: String,
}

impl Cli {
    fn new(server: &TestServer) -> Self {
        Self {
            server: format!("http://{}", server.server.public_addr),
            control: format!("http://{}", server.server.control_addr),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_longrun"));
        command
            .args([
                "operations",
                "--server",
                &self.server,
                "--control",
                &self.control,
            ])
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs a verb; returns (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let output = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("the CLI finishes")
            .expect("the CLI runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["-o", "json"];
        with_json.extend_from_slice(args);
        let (ok, stdout, stderr) = self.run(&with_json).await;
        assert!(ok, "{args:?} failed: {stderr}");
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_ends_with_the_operation_cancelled() {
    let server = TestServer::start().await;
    let cli = Cli::new(&server);
    let name = format!("{PARENT}/operations/nightly-build");

    let created = cli
        .json(&[
            "create",
            PARENT,
            "--id",
            "nightly-build",
            "--cancel-grace",
            "5m",
            "--verb",
            "build",
        ])
        .await;
    assert_eq!(created["name"], Value::String(name.clone()));

    let mut watcher = cli
        .command(&["-o", "json", "watch", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("watch starts");
    let mut events = BufReader::new(watcher.stdout.take().expect("stdout")).lines();
    let mut next_event = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), events.next_line())
            .await
            .expect("an event in time")
            .expect("readable")
            .expect("a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    let first = next_event().await;
    assert_eq!(first["operation"]["name"], Value::String(name.clone()));

    let (ok, _, stderr) = cli.run(&["cancel", &name]).await;
    assert!(ok, "cancel failed: {stderr}");
    let told = next_event().await;
    assert_eq!(told["cancelRequested"], Value::Bool(true), "{told}");
    let still_running = cli.json(&["get", &name]).await;
    assert_ne!(
        still_running["done"],
        Value::Bool(true),
        "the worker has its grace"
    );

    let (ok, _, stderr) = cli.run(&["complete", &name, "--cancelled"]).await;
    assert!(ok, "complete failed: {stderr}");
    let last = next_event().await;
    assert_eq!(last["operation"]["done"], Value::Bool(true));
    let status = tokio::time::timeout(Duration::from_secs(10), watcher.wait())
        .await
        .expect("watch ends after done")
        .expect("exit status");
    assert!(status.success());

    let done = cli.json(&["get", &name]).await;
    assert_eq!(done["done"], Value::Bool(true));
    assert_eq!(done["error"]["code"], Value::from(1));
    assert_eq!(done["metadata"]["requestedCancellation"], Value::Bool(true));
    assert_eq!(
        done["metadata"]["@type"],
        "type.googleapis.com/longrun.v1.OperationMetadata"
    );

    let listed = cli
        .json(&[
            "list",
            "projects/test/locations/-",
            "--filter",
            "error.code = 1",
        ])
        .await;
    let names: Vec<&Value> = listed["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| &op["name"])
        .collect();
    assert_eq!(names, vec![&Value::String(name.clone())]);

    let (ok, table, _) = cli.run(&["wait", &name]).await;
    assert!(ok);
    assert!(table.contains("CANCELLED"), "{table}");
}

#[tokio::test]
async fn cli_errors_name_the_code_and_reason_and_exit_non_zero() {
    let server = TestServer::start().await;
    let cli = Cli::new(&server);
    let (ok, _, stderr) = cli
        .run(&["get", &format!("{PARENT}/operations/missing")])
        .await;
    assert!(!ok);
    assert!(
        stderr.contains("NOT_FOUND") && stderr.contains("OPERATION_NOT_FOUND"),
        "{stderr}"
    );
    let unreachable = Command::new(env!("CARGO_BIN_EXE_longrun"))
        .args([
            "operations",
            "--server",
            "http://127.0.0.1:1",
            "get",
            "projects/p/locations/l/operations/x",
        ])
        .output()
        .await
        .expect("runs");
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("127.0.0.1:1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_verb_says_serving_on_both_ports_and_fails_for_an_unknown_service() {
    let server = TestServer::start().await;
    let cli = Cli::new(&server);
    for args in [&["health"][..], &["health", "--control-port"][..]] {
        let (ok, stdout, stderr) = cli.run(args).await;
        assert!(ok, "{args:?}: {stderr}");
        assert_eq!(stdout.trim(), "SERVING");
    }
    let (ok, _, stderr) = cli.run(&["health", "--service", "no.such.Service"]).await;
    assert!(!ok, "an unknown service is not healthy");
    assert!(stderr.contains("NOT_FOUND"), "{stderr}");
}
