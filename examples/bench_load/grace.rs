//! Cold start and grace timers across a restart, for bench/coldstart.sh:
//!
//! - `until-serving PUBLIC NAME START_NANOS`: polls GetOperation(NAME) until
//!   it answers; prints the time since START_NANOS (Unix nanoseconds, taken
//!   when the server was started).
//! - `grace-setup CONTROL PUBLIC COUNT GRACE`: COUNT operations, started by
//!   a worker's update, then cancelled with a grace of GRACE seconds, so
//!   each has a timer pending; prints when the last cancel was acknowledged.
//! - `grace-wait PUBLIC LIMIT`: lists `done = false` in the grace location
//!   until nothing is left running, for at most LIMIT seconds.
//! - `grace-lateness DATABASE_URL COUNT`: reads every operation from the
//!   store itself (the server stopped) and compares when it ended with its
//!   grace deadline: p50, p99, max lateness, and any that ended early or
//!   not at all.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use longrun::domain::{CancelState, OperationName};
use longrun::pb::control::{self as ctl, operations_control_client::OperationsControlClient};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use longrun::store::{OperationStore, PgSettings, PgStore, SqliteStore};
use prost::Message;

use super::{Result, connect};

const PARENT: &str = "projects/bench/locations/grace";
/// Calls in flight while setting up.
const CONCURRENCY: usize = 64;

fn name(i: usize) -> String {
    format!("{PARENT}/operations/g-{i:06}")
}

pub async fn until_serving(public: &str, name: &str, start_nanos: u128) -> Result<()> {
    let limit = Instant::now() + Duration::from_secs(120);
    let mut tries = 0u64;
    loop {
        tries += 1;
        let answered = async {
            let mut client = OperationsClient::new(connect(public).await?);
            client
                .get_operation(lro::GetOperationRequest { name: name.into() })
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }
        .await;
        if answered.is_ok() {
            break;
        }
        if Instant::now() > limit {
            return Err(format!("not serving after {tries} tries: {answered:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let since = unix_nanos().saturating_sub(start_nanos);
    println!("serving_ms={:.1} tries={tries}", since as f64 / 1e6);
    Ok(())
}

pub async fn setup(control: &str, public: &str, count: usize, grace: u64) -> Result<()> {
    let mut controls = Vec::new();
    let mut publics = Vec::new();
    for _ in 0..CONCURRENCY / 8 {
        controls.push(OperationsControlClient::new(connect(control).await?));
        publics.push(OperationsClient::new(connect(public).await?));
    }
    let metadata = prost_types::Any {
        type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
        value: ctl::OperationMetadata {
            verb: "bench".into(),
            ..Default::default()
        }
        .encode_to_vec(),
    };
    let started = Instant::now();
    let results = futures::stream::iter(0..count)
        .map(|i| {
            let mut control = controls[i % controls.len()].clone();
            let mut public = publics[i % publics.len()].clone();
            let metadata = metadata.clone();
            async move {
                control
                    .create_operation(ctl::CreateOperationRequest {
                        parent: PARENT.into(),
                        operation_id: format!("g-{i:06}"),
                        cancel_grace: Some(prost_types::Duration {
                            seconds: i64::try_from(grace).unwrap_or(i64::MAX),
                            nanos: 0,
                        }),
                        ..Default::default()
                    })
                    .await?;
                // A worker's update: the operation is started, so a cancel
                // waits for its grace instead of ending it at once.
                control
                    .update_operation(ctl::UpdateOperationRequest {
                        name: name(i),
                        metadata: Some(metadata),
                    })
                    .await?;
                public
                    .cancel_operation(lro::CancelOperationRequest { name: name(i) })
                    .await?;
                Ok::<_, tonic::Status>(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(status)) = results.iter().find(|r| r.is_err()) {
        return Err(format!("{failed} of {count} failed, e.g. {status}").into());
    }
    println!(
        "cancelled={count} grace_s={grace} setup_s={:.1} last_cancel_unix_ms={}",
        started.elapsed().as_secs_f64(),
        unix_nanos() / 1_000_000
    );
    Ok(())
}

pub async fn wait_all(public: &str, limit_seconds: u64) -> Result<()> {
    let mut client = OperationsClient::new(connect(public).await?);
    let limit = Instant::now() + Duration::from_secs(limit_seconds);
    loop {
        let page = client
            .list_operations(lro::ListOperationsRequest {
                name: PARENT.into(),
                filter: "done = false".into(),
                page_size: 1,
                ..Default::default()
            })
            .await?
            .into_inner();
        if page.operations.is_empty() {
            println!("running=0");
            return Ok(());
        }
        if Instant::now() > limit {
            return Err(format!("operations still running after {limit_seconds}s").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn lateness(url: &str, count: usize) -> Result<()> {
    if url.starts_with("postgres") {
        let (store, _feed) = PgStore::open(url, &PgSettings::default()).await?;
        report(&store, count).await
    } else {
        report(&SqliteStore::open(url).await?, count).await
    }
}

async fn report<S: OperationStore>(store: &S, count: usize) -> Result<()> {
    let mut late = Vec::with_capacity(count);
    let (mut early, mut unfired) = (0usize, 0usize);
    for i in 0..count {
        let op = store
            .get(&OperationName::parse(&name(i))?)
            .await?
            .ok_or("an operation is missing")?;
        let (CancelState::Requested { deadline, .. }, Some(ended)) = (op.cancel, op.end_time)
        else {
            unfired += 1;
            continue;
        };
        match ended.duration_since(deadline) {
            Ok(after) => late.push(after),
            Err(_) => early += 1,
        }
    }
    store.close().await;
    let fired = late.len();
    late.sort_unstable();
    let at = |q: f64| {
        late.get(((fired.max(1) - 1) as f64 * q) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "timers={count} fired_on_or_after_deadline={fired} early={early} unfired={unfired} \
         late_p50_ms={:.1} late_p99_ms={:.1} late_max_ms={:.1}",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
