//! Many waiters held at once, for bench/waiters.sh: `waiters` creates the
//! operations, starts client processes (`waiter-client`, this same binary)
//! that hold WaitOperation calls or Watch streams on them over many HTTP/2
//! connections, waits until the server's `longrun_waiters_open` gauge shows
//! them all, measures the server (RSS, database connections), completes
//! every operation in one burst and reports how long after its operation's
//! completion each waiter was answered.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use longrun::pb::control::{self as ctl, operations_control_client::OperationsControlClient};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{PARENT, Result, connect};

/// Streams one client connection carries: below the server's default
/// `--max-concurrent-streams` (200), so no call queues in the client.
const STREAMS_PER_CONNECTION: usize = 100;
/// Concurrent Completes in the burst, and Creates before it.
const WRITERS: usize = 64;
/// The longest the set-up (clients holding every waiter) may take.
const SETUP_LIMIT: Duration = Duration::from_secs(600);
/// How long after every call was sent the server may take to hold them all.
const GAUGE_LIMIT: Duration = Duration::from_secs(60);
/// The longest the answers may take to arrive after the burst.
const ANSWER_LIMIT: Duration = Duration::from_secs(120);

pub struct Plan {
    pub kind: String,
    pub control: String,
    pub public: String,
    pub metrics: String,
    pub server_pid: u32,
    pub operations: usize,
    pub per_operation: usize,
    pub processes: usize,
    /// The store's URL: PostgreSQL's connections are counted there.
    pub database: String,
}

pub async fn run(plan: Plan) -> Result<()> {
    let total = plan.operations * plan.per_operation;
    if plan.kind != "wait" && plan.kind != "watch" {
        return Err("kind is wait or watch".into());
    }
    let mut controls = Vec::new();
    for _ in 0..WRITERS.div_ceil(8) {
        controls.push(OperationsControlClient::new(connect(&plan.control).await?));
    }
    let names = create_all(&controls, plan.operations).await?;
    let dir = std::env::temp_dir().join(format!("longrun-waiters-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let names_file = dir.join("names");
    std::fs::write(&names_file, names.join("\n"))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = memory(plan.server_pid)?;

    let setup = Instant::now();
    let mut children = Vec::new();
    for index in 0..plan.processes {
        let first = index * total / plan.processes;
        let end = (index + 1) * total / plan.processes;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("waiter-client")
            .arg(&plan.kind)
            .arg(if plan.kind == "wait" {
                &plan.public
            } else {
                &plan.control
            })
            .arg(&names_file)
            .arg(first.to_string())
            .arg(end.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        children.push((child, BufReader::new(stdout).lines()));
    }
    // Every child says when its calls are sent (a Watch: when its first
    // event came); the server's gauge says when it holds them all.
    for (_, lines) in &mut children {
        let line = tokio::time::timeout(SETUP_LIMIT, lines.next_line())
            .await?
            .map_err(|e| format!("client: {e}"))?;
        if line.as_deref() != Some("held") {
            return Err(format!("client said {line:?}").into());
        }
    }
    let open = until_gauge(
        &plan.metrics,
        &plan.kind,
        total,
        Instant::now() + GAUGE_LIMIT,
    )
    .await?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let holding = memory(plan.server_pid)?;
    let db_connections = database_connections(plan.server_pid, &plan.database)?;

    // The burst: every operation completed, WRITERS at a time.
    let burst_start = unix_nanos();
    let completed = complete_all(&controls, &names).await?;
    let burst_end = unix_nanos();
    for (child, _) in &mut children {
        // Closing stdin tells the child the burst is over.
        drop(child.stdin.take());
    }
    let by_name: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let (mut after_own, mut after_end) = (Vec::with_capacity(total), Vec::new());
    let mut failed = 0u64;
    for (mut child, mut lines) in children {
        let read = async {
            while let Some(line) = lines.next_line().await? {
                let mut fields = line.split(' ');
                let (Some(name), Some(at)) = (fields.next(), fields.next()) else {
                    continue;
                };
                let Ok(at) = at.parse::<u128>() else {
                    failed += 1;
                    continue;
                };
                let Some(&op) = by_name.get(name) else {
                    failed += 1;
                    continue;
                };
                after_own.push(at.saturating_sub(completed[op]));
                after_end.push(at.saturating_sub(burst_end));
            }
            Ok::<_, std::io::Error>(())
        };
        tokio::time::timeout(ANSWER_LIMIT, read).await??;
        child.wait().await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = memory(plan.server_pid)?;
    let answered = after_own.len();
    let (p50, p99, max) = spread(after_own);
    let (_, _, max_end) = spread(after_end);
    let mib = |kb: u64| kb as f64 / 1024.0;
    println!(
        "kind={} waiters={total} operations={} processes={} connections={} gauge={open} setup_s={setup_seconds:.1} \
         rss_before_mib={:.1} rss_holding_mib={:.1} rss_after_mib={:.1} hwm_mib={:.1} per_waiter_kib={:.2} \
         db_connections={db_connections} burst_ms={:.1} answered={answered} failed={failed} \
         p50_ms={p50:.1} p99_ms={p99:.1} max_ms={max:.1} max_after_burst_end_ms={max_end:.1}",
        plan.kind,
        plan.operations,
        plan.processes,
        total.div_ceil(STREAMS_PER_CONNECTION),
        mib(before.0),
        mib(holding.0),
        mib(after.0),
        mib(after.1),
        holding.0.saturating_sub(before.0) as f64 / total.max(1) as f64,
        (burst_end - burst_start) as f64 / 1e6,
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// One client process: holds waiters `first..end` (waiter `i` is on
/// operation `i % operations`), says `held`, and prints `NAME UNIX_NANOS`
/// for each answer that says the operation is done (`NAME failed` for any
/// other end), then exits once stdin is closed and every waiter answered.
pub async fn client(
    kind: &str,
    addr: &str,
    names_file: &Path,
    first: usize,
    end: usize,
) -> Result<()> {
    let text = std::fs::read_to_string(names_file)?;
    let names: Vec<String> = text.lines().map(str::to_owned).collect();
    if names.is_empty() {
        return Err("no operations".into());
    }
    let mut channels = Vec::new();
    for _ in 0..(end - first).div_ceil(STREAMS_PER_CONNECTION) {
        channels.push(connect(addr).await?);
    }
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (held_tx, mut held) = tokio::sync::mpsc::unbounded_channel::<()>();
    for (slot, waiter) in (first..end).enumerate() {
        let name = names[waiter % names.len()].clone();
        let channel = channels[slot / STREAMS_PER_CONNECTION].clone();
        let (answers, held_tx) = (answers.clone(), held_tx.clone());
        let watch = kind == "watch";
        tokio::spawn(async move {
            let done = if watch {
                hold_watch(channel, &name, held_tx).await
            } else {
                let _ = held_tx.send(());
                hold_wait(channel, &name).await
            };
            let line = match done {
                Ok(true) => format!("{name} {}", unix_nanos()),
                Ok(false) | Err(_) => format!("{name} failed"),
            };
            let _ = answers.send(line);
        });
    }
    drop((answers, held_tx));
    for _ in first..end {
        held.recv()
            .await
            .ok_or("a waiter ended before it was held")?;
    }
    super::say("held\n")?;
    let mut lines = Vec::with_capacity(end - first);
    while let Some(line) = answered.recv().await {
        lines.push(line);
    }
    // Printed after the last answer, so writing cannot delay one.
    super::until_stdin_closes().await?;
    let mut out = lines.join("\n");
    out.push('\n');
    super::say(&out)?;
    Ok(())
}

async fn hold_wait(channel: tonic::transport::Channel, name: &str) -> Result<bool> {
    let op = OperationsClient::new(channel)
        .wait_operation(lro::WaitOperationRequest {
            name: name.into(),
            timeout: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
        })
        .await?
        .into_inner();
    Ok(op.done)
}

async fn hold_watch(
    channel: tonic::transport::Channel,
    name: &str,
    held: tokio::sync::mpsc::UnboundedSender<()>,
) -> Result<bool> {
    let opened = OperationsControlClient::new(channel)
        .watch_operation(ctl::WatchOperationRequest { name: name.into() })
        .await;
    // Held or refused, the set-up goes on; a refusal is counted as failed.
    let _ = held.send(());
    let mut stream = opened?.into_inner();
    while let Some(event) = stream.next().await {
        if event?.operation.is_some_and(|op| op.done) {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn create_all(
    controls: &[OperationsControlClient<tonic::transport::Channel>],
    operations: usize,
) -> Result<Vec<String>> {
    let created = futures::stream::iter(0..operations)
        .map(|i| {
            let mut control = controls[i % controls.len()].clone();
            async move {
                control
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        ..Default::default()
                    })
                    .await
                    .map(|op| op.into_inner().name)
            }
        })
        .buffered(WRITERS)
        .collect::<Vec<_>>()
        .await;
    Ok(created.into_iter().collect::<std::result::Result<_, _>>()?)
}

/// Completes every operation; returns when each one's Complete was
/// acknowledged, in Unix nanoseconds, in the order of `names`.
async fn complete_all(
    controls: &[OperationsControlClient<tonic::transport::Channel>],
    names: &[String],
) -> Result<Vec<u128>> {
    let done = futures::stream::iter(names.iter().enumerate())
        .map(|(i, name)| {
            let mut control = controls[i % controls.len()].clone();
            async move {
                control
                    .complete_operation(ctl::CompleteOperationRequest {
                        name: name.clone(),
                        result: Some(ctl::complete_operation_request::Result::Response(
                            prost_types::Any {
                                type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                                value: Vec::new(),
                            },
                        )),
                    })
                    .await
                    .map(|_| unix_nanos())
            }
        })
        .buffered(WRITERS)
        .collect::<Vec<_>>()
        .await;
    Ok(done.into_iter().collect::<std::result::Result<_, _>>()?)
}

/// Polls `longrun_waiters_open{kind}` until it reaches `want`.
async fn until_gauge(metrics: &str, kind: &str, want: usize, limit: Instant) -> Result<usize> {
    loop {
        let text = super::http_get(&format!("http://{metrics}/metrics")).await?;
        let open = gauge(&text, kind);
        if open >= want {
            return Ok(open);
        }
        if Instant::now() > limit {
            return Err(format!("the server holds {open} of {want} waiters").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn gauge(text: &str, kind: &str) -> usize {
    let label = format!("kind=\"{kind}\"");
    text.lines()
        .filter(|l| l.starts_with("longrun_waiters_open{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as usize)
        .sum()
}

/// (VmRSS, VmHWM) of a process, in KiB.
pub fn memory(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// The database connections the server holds: on SQLite the descriptors
/// it has open on the database file (one per connection), on PostgreSQL
/// the sessions on its database, less the one counting them.
fn database_connections(pid: u32, database: &str) -> Result<usize> {
    if database.starts_with("postgres") {
        let out = std::process::Command::new("psql")
            .args([
                database,
                "-tAc",
                "select count(*) - 1 from pg_stat_activity where datname = current_database()",
            ])
            .output()?;
        return Ok(String::from_utf8(out.stdout)?.trim().parse()?);
    }
    let file = database.trim_start_matches("sqlite://");
    let file = std::fs::canonicalize(file.split('?').next().unwrap_or(file))?;
    let mut count = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        if std::fs::read_link(entry?.path()).is_ok_and(|target| target == file) {
            count += 1;
        }
    }
    Ok(count)
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// p50, p99 and max of nanosecond counts, in milliseconds.
fn spread(mut nanos: Vec<u128>) -> (f64, f64, f64) {
    if nanos.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q) as usize] as f64 / 1e6;
    (at(0.5), at(0.99), at(1.0))
}
