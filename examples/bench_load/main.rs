//! Load generator for bench/run.sh (not a test):
//!
//! - `get-body FILE NAME`: writes a gRPC-framed GetOperationRequest for h2load.
//! - `descriptor-set FILE`: writes the descriptor set that registers the
//!   realistic fixture's response type (pass it to `serve --descriptor-set`).
//! - `fixture small|realistic CONTROL PUBLIC DIR`: makes the operation the
//!   read benchmarks fetch, prints its name and writes what longrun answers
//!   for it into DIR (see `fixture.rs`).
//! - `create CONTROL PARENT`: creates one operation, prints its name.
//! - `writes CONTROL PUBLIC CLIENTS SECONDS`: acknowledged Cancel + Complete
//!   writes per second at CLIENTS concurrent clients, with p50/p99.
//! - `creates CONTROL CLIENTS SECONDS`: acknowledged Creates, each with its
//!   own request_id, per second at CLIENTS concurrent clients, with p50/p99.
//! - `create-complete CONTROLS CLIENTS SECONDS`: each client creates an
//!   operation and completes it, in a loop; prints acknowledged writes per
//!   second (a Create and a Complete count one each). CONTROLS is a
//!   comma-separated list of control addresses (replicas); clients are
//!   spread over them, and each Complete goes to another replica than its
//!   Create when there are several.
//! - `watch-latency CONTROL PUBLIC SAMPLES`: time from sending Cancel to the
//!   worker's Watch event that carries it; prints p50/p90/p99. With the
//!   control address of one replica and the public address of another, it
//!   measures a cancel crossing replicas.
//! - `rest-overhead PUBLIC NAME SAMPLES`: one call at a time, GetOperation
//!   over gRPC and over REST (HTTP/1.1); prints both p50s and the difference.
//! - `waiters wait|watch CONTROL PUBLIC METRICS PID OPERATIONS PER_OPERATION
//!   PROCESSES DATABASE_URL`: holds OPERATIONS x PER_OPERATION Waits (or
//!   Watches) from PROCESSES client processes, then completes the operations
//!   in one burst; prints the server's RSS, its database connections and
//!   how soon each waiter was answered (see `waiters.rs`).
//! - `until-serving`, `grace-setup`, `grace-wait`, `grace-lateness`: cold
//!   start and grace timers across a restart (see `grace.rs`).
//! - `connections h2|h1 PUBLIC COUNT NAME`: holds COUNT idle connections
//!   (see `connections.rs`).
//! - `rss PID`: prints a process's VmRSS and VmHWM in MiB.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use longrun::pb::control::{self as ctl, operations_control_client::OperationsControlClient};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use prost::Message;
use tonic::transport::Channel;

mod connections;
mod fixture;
mod grace;
mod waiters;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PARENT: &str = "projects/bench/locations/l";

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().ok_or("missing argument");
    match args.first().map(String::as_str) {
        Some("get-body") => get_body(std::path::Path::new(&arg(1)?), &arg(2)?),
        Some("descriptor-set") => fixture::descriptor_set(&arg(1)?),
        Some("fixture") => fixture::fixture(&arg(1)?, &arg(2)?, &arg(3)?, &arg(4)?).await,
        Some("create") => {
            let mut control = OperationsControlClient::new(connect(&arg(1)?).await?);
            let op = control
                .create_operation(ctl::CreateOperationRequest {
                    parent: arg(2)?,
                    ..Default::default()
                })
                .await?;
            println!("{}", op.into_inner().name);
            Ok(())
        }
        Some("writes") => writes(&arg(1)?, &arg(2)?, arg(3)?.parse()?, arg(4)?.parse()?).await,
        Some("creates") => creates(&arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?).await,
        Some("create-complete") => {
            create_complete(&arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?).await
        }
        Some("watch-latency") => watch_latency(&arg(1)?, &arg(2)?, arg(3)?.parse()?).await,
        Some("rest-overhead") => rest_overhead(&arg(1)?, &arg(2)?, arg(3)?.parse()?).await,
        Some("waiters") => {
            waiters::run(waiters::Plan {
                kind: arg(1)?,
                control: arg(2)?,
                public: arg(3)?,
                metrics: arg(4)?,
                server_pid: arg(5)?.parse()?,
                operations: arg(6)?.parse()?,
                per_operation: arg(7)?.parse()?,
                processes: arg(8)?.parse()?,
                database: arg(9)?,
            })
            .await
        }
        Some("waiter-client") => {
            let path = std::path::PathBuf::from(arg(3)?);
            waiters::client(&arg(1)?, &arg(2)?, &path, arg(4)?.parse()?, arg(5)?.parse()?).await
        }
        Some("until-serving") => grace::until_serving(&arg(1)?, &arg(2)?, arg(3)?.parse()?).await,
        Some("grace-setup") => {
            grace::setup(&arg(1)?, &arg(2)?, arg(3)?.parse()?, arg(4)?.parse()?).await
        }
        Some("grace-wait") => grace::wait_all(&arg(1)?, arg(2)?.parse()?).await,
        Some("grace-lateness") => grace::lateness(&arg(1)?, arg(2)?.parse()?).await,
        Some("connections") => {
            connections::hold(&arg(1)?, &arg(2)?, arg(3)?.parse()?, &arg(4)?).await
        }
        Some("rss") => {
            let (rss, hwm) = waiters::memory(arg(1)?.parse()?)?;
            println!("rss_mib={:.1} hwm_mib={:.1}", rss as f64 / 1024.0, hwm as f64 / 1024.0);
            Ok(())
        }
        _ => {
            Err("usage: bench_load get-body|descriptor-set|fixture|create|writes|creates|create-complete|watch-latency|rest-overhead|waiters|until-serving|grace-setup|grace-wait|grace-lateness|connections|rss ...".into())
        }
    }
}

async fn connect(addr: &str) -> Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// Writes `text` to stdout at once (a line another process waits for).
fn say(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Returns once stdin is at its end: the parent process closed it.
async fn until_stdin_closes() -> Result<()> {
    tokio::task::spawn_blocking(|| {
        use std::io::Read;
        let mut sink = Vec::new();
        std::io::stdin().read_to_end(&mut sink)
    })
    .await??;
    Ok(())
}

/// The body of a plain HTTP GET (the metrics page).
async fn http_get(url: &str) -> Result<String> {
    use http_body_util::{BodyExt, Empty};
    let http: hyper_util::client::legacy::Client<_, Empty<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = http.get(url.parse()?).await?;
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec())?)
}

fn get_body(path: &std::path::Path, name: &str) -> Result<()> {
    let message = lro::GetOperationRequest { name: name.into() }.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(message.len())?.to_be_bytes());
    framed.extend_from_slice(&message);
    std::fs::write(path, framed)?;
    Ok(())
}

async fn writes(control_addr: &str, public_addr: &str, clients: usize, seconds: u64) -> Result<()> {
    // Several connections, as 64 independent clients would have.
    let connections = clients.div_ceil(8);
    let mut controls = Vec::new();
    let mut publics = Vec::new();
    for _ in 0..connections {
        controls.push(OperationsControlClient::new(connect(control_addr).await?));
        publics.push(OperationsClient::new(connect(public_addr).await?));
    }
    // Untimed: every client creates the operations it will end.
    let per_client = usize::try_from(
        std::env::var("OPS_PER_CLIENT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500u64),
    )?;
    let mut pools = Vec::new();
    for client in 0..clients {
        let mut control = controls[client % connections].clone();
        pools.push(tokio::spawn(async move {
            let mut names = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let op = control
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        ..Default::default()
                    })
                    .await?;
                names.push(op.into_inner().name);
            }
            Ok::<_, tonic::Status>(names)
        }));
    }
    let mut names_per_client = Vec::new();
    for pool in pools {
        names_per_client.push(pool.await??);
    }

    // Timed: each client ends its operations, alternating Cancel (the
    // operation is unstarted, so it is done at once) and Complete.
    let acked = Arc::new(AtomicU64::new(0));
    let ran_out = Arc::new(AtomicU64::new(0));
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (client, names) in names_per_client.into_iter().enumerate() {
        let mut control = controls[client % connections].clone();
        let mut public = publics[client % connections].clone();
        let acked = Arc::clone(&acked);
        let ran_out = Arc::clone(&ran_out);
        tasks.push(tokio::spawn(async move {
            let mut writes = 0u64;
            let mut took = Vec::new();
            let mut names = names.into_iter();
            let mut round = 0u64;
            while Instant::now() < stop_at {
                let Some(name) = names.next() else {
                    ran_out.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                let sent = Instant::now();
                let result = if round.is_multiple_of(2) {
                    public
                        .cancel_operation(lro::CancelOperationRequest { name })
                        .await
                        .map(|_| ())
                } else {
                    control
                        .complete_operation(ctl::CompleteOperationRequest {
                            name,
                            result: Some(ctl::complete_operation_request::Result::Response(
                                prost_types::Any {
                                    type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                                    value: Vec::new(),
                                },
                            )),
                        })
                        .await
                        .map(|_| ())
                };
                if result.is_ok() {
                    writes += 1;
                    took.push(sent.elapsed());
                }
                round += 1;
            }
            acked.fetch_add(writes, Ordering::Relaxed);
            took
        }));
    }
    let started = Instant::now();
    let mut took = Vec::new();
    for task in tasks {
        took.extend(task.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = acked.load(Ordering::Relaxed);
    let (p50, p99) = percentiles(took);
    println!(
        "clients={clients} seconds={elapsed:.1} acknowledged_cancel_or_complete={total} per_second={:.0} p50={p50:.2?} p99={p99:.2?} clients_out_of_operations={}",
        total as f64 / elapsed,
        ran_out.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Each client creates operations, each with a new request_id (so the
/// server checks it is not taken), until the time is up.
async fn creates(control_addr: &str, clients: usize, seconds: u64) -> Result<()> {
    let connections = clients.div_ceil(8);
    let mut controls = Vec::new();
    for _ in 0..connections {
        controls.push(OperationsControlClient::new(connect(control_addr).await?));
    }
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let mut control = controls[client % connections].clone();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut failed = 0u64;
            while Instant::now() < stop_at {
                let sent = Instant::now();
                let created = control
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        request_id: format!("{:032x}", rand::random::<u128>()),
                        ..Default::default()
                    })
                    .await;
                match created {
                    Ok(_) => took.push(sent.elapsed()),
                    Err(_) => failed += 1,
                }
            }
            (took, failed)
        }));
    }
    let started = Instant::now();
    let (mut took, mut failed) = (Vec::new(), 0);
    for task in tasks {
        let (times, failures) = task.await?;
        took.extend(times);
        failed += failures;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = took.len();
    let (p50, p99) = percentiles(took);
    println!(
        "clients={clients} seconds={elapsed:.1} acknowledged_creates={total} per_second={:.0} p50={p50:.2?} p99={p99:.2?} failed={failed}",
        total as f64 / elapsed
    );
    Ok(())
}

fn percentiles(mut took: Vec<Duration>) -> (Duration, Duration) {
    if took.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    took.sort_unstable();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

async fn create_complete(controls: &str, clients: usize, seconds: u64) -> Result<()> {
    // Eight clients share a connection, as in `writes`.
    let addrs: Vec<&str> = controls.split(',').collect();
    let mut connections = Vec::new();
    for i in 0..clients.div_ceil(8).max(addrs.len()) {
        let addr = addrs[i % addrs.len()];
        connections.push((
            i % addrs.len(),
            OperationsControlClient::new(connect(addr).await?),
        ));
    }
    let acked = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (replica, mut creator) = connections[client % connections.len()].clone();
        // The same client's Completes go to the next replica over.
        let mut completer = connections
            .iter()
            .find(|(other, _)| *other == (replica + 1) % addrs.len())
            .map_or_else(|| creator.clone(), |(_, c)| c.clone());
        let (acked, failed) = (Arc::clone(&acked), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop_at {
                let created = creator
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        ..Default::default()
                    })
                    .await;
                let Ok(op) = created else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                acked.fetch_add(1, Ordering::Relaxed);
                let completed = completer
                    .complete_operation(ctl::CompleteOperationRequest {
                        name: op.into_inner().name,
                        result: Some(ctl::complete_operation_request::Result::Response(
                            prost_types::Any {
                                type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                                value: Vec::new(),
                            },
                        )),
                    })
                    .await;
                match completed {
                    Ok(_) => acked.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let started = Instant::now();
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = acked.load(Ordering::Relaxed);
    println!(
        "replicas={} clients={clients} seconds={elapsed:.1} acknowledged_create_or_complete={total} per_second={:.0} failed={}",
        addrs.len(),
        total as f64 / elapsed,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

async fn watch_latency(control_addr: &str, public_addr: &str, samples: usize) -> Result<()> {
    let mut control = OperationsControlClient::new(connect(control_addr).await?);
    let mut public = OperationsClient::new(connect(public_addr).await?);
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let op = control
            .create_operation(ctl::CreateOperationRequest {
                parent: PARENT.into(),
                cancel_grace: Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await?
            .into_inner();
        let mut watch = control
            .watch_operation(ctl::WatchOperationRequest {
                name: op.name.clone(),
            })
            .await?
            .into_inner();
        watch.message().await?.ok_or("watch ended early")?;
        let sent = Instant::now();
        public
            .cancel_operation(lro::CancelOperationRequest {
                name: op.name.clone(),
            })
            .await?;
        loop {
            let event = watch
                .message()
                .await?
                .ok_or("watch ended before the cancel")?;
            if event.cancel_requested {
                latencies.push(sent.elapsed());
                break;
            }
        }
    }
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "samples={samples} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.90).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
    Ok(())
}

async fn rest_overhead(public_addr: &str, name: &str, samples: usize) -> Result<()> {
    use http_body_util::{BodyExt, Full};
    let mut grpc = OperationsClient::new(connect(public_addr).await?);
    let http: hyper_util::client::legacy::Client<_, Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let uri: hyper::Uri = format!("http://{public_addr}/v1/{name}").parse()?;
    let mut grpc_times = Vec::with_capacity(samples);
    let mut rest_times = Vec::with_capacity(samples);
    // Interleaved, so both see the same machine noise.
    for _ in 0..samples {
        let started = Instant::now();
        grpc.get_operation(lro::GetOperationRequest { name: name.into() })
            .await?;
        grpc_times.push(started.elapsed());
        let started = Instant::now();
        let response = http.get(uri.clone()).await?;
        let status = response.status();
        response.into_body().collect().await?;
        if !status.is_success() {
            return Err(format!("REST GET answered {status}").into());
        }
        rest_times.push(started.elapsed());
    }
    grpc_times.sort();
    rest_times.sort();
    let p50 = |times: &[Duration]| times[times.len() / 2].as_secs_f64() * 1e6;
    println!(
        "samples={samples} grpc_p50_us={:.1} rest_p50_us={:.1} transcoder_adds_us={:.1}",
        p50(&grpc_times),
        p50(&rest_times),
        p50(&rest_times) - p50(&grpc_times)
    );
    Ok(())
}
