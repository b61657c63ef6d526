//! The SQLite store's inserts alone, no network and no server, for
//! bench/writes.sh (not a test; it was an ignored test once):
//!
//! - `inserts DIR TOTAL WRITERS...`: for each count of concurrent writers,
//!   a fresh database file in DIR (synchronous=FULL, as the server runs)
//!   and TOTAL inserts shared among them; prints inserts per second and the
//!   commits they took, so what group commit shares is visible.

#![expect(
    clippy::print_stdout,
    reason = "an example program reports to its terminal"
)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use longrun::domain::{CancelState, Operation, OperationName};
use longrun::store::{OperationStore, SqliteStore};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("inserts") if args.len() > 3 => {
            let total: usize = args[2].parse()?;
            for writers in &args[3..] {
                inserts(&args[1], total, writers.parse()?).await?;
            }
            Ok(())
        }
        _ => Err("usage: bench_store inserts DIR TOTAL WRITERS...".into()),
    }
}

async fn inserts(dir: &str, total: usize, writers: usize) -> Result<()> {
    let path = format!("{dir}/inserts-{writers}.db");
    let store = Arc::new(SqliteStore::open(&format!("sqlite://{path}")).await?);
    let per_writer = total / writers.max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..per_writer {
                    store.insert(&operation(&format!("w{w}-{i}"))?).await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let stats = store.write_stats();
    println!(
        "writers={writers} inserts={} seconds={:.2} per_second={:.0} commits={} inserts_per_commit={:.1}",
        stats.writes,
        elapsed.as_secs_f64(),
        stats.writes as f64 / elapsed.as_secs_f64(),
        stats.commits,
        stats.writes as f64 / stats.commits.max(1) as f64
    );
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    Ok(())
}

fn operation(id: &str) -> Result<Operation> {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Ok(Operation {
        name: OperationName::parse(&format!("projects/p/locations/l/operations/{id}"))?,
        metadata: None,
        outcome: None,
        create_time: now,
        update_time: now,
        end_time: None,
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: false,
        request_id: None,
        expire_time: None,
        version: 1,
    })
}
