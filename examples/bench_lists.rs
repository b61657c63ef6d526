//! Lists at scale, for bench/lists.sh (not a test):
//!
//! - `load DATABASE_URL TOTAL`: fills one project (`projects/bench`) across
//!   ten locations up to TOTAL operations through the store's bulk path
//!   (`OperationStore::import`), of which 100 are running and the rest done,
//!   each with a realistic metadata and response; run it again with a larger
//!   TOTAL to grow the same database. Prints how long the load took.
//! - `query PUBLIC SAMPLES TOTAL`: ListOperations over gRPC against a server on
//!   that database, SAMPLES times each: the first page of 100 in one
//!   location and across all, the same with `done = false`, a page reached
//!   by a token halfway down one location's list (TOTAL says where), and a filter on a metadata field (which
//!   scans). Prints one line per query: p50, p99, and what the page held.
//! - `warm PUBLIC TOTAL`: GetOperation on each of the first TOTAL operations
//!   once, 64 at a time, so a server's cache holds them (bench/memory.sh).

#![expect(
    clippy::print_stdout,
    reason = "an example program reports to its terminal"
)]

use std::time::{Duration, Instant, SystemTime};

use longrun::domain::{CancelState, Operation, OperationName, Outcome, Payload};
use longrun::pb::control as ctl;
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use longrun::store::{OperationStore, PgSettings, PgStore, SqliteStore};
use prost::Message;
use tonic::transport::Channel;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PROJECT: &str = "bench";
const LOCATIONS: u64 = 10;
const RUNNING: u64 = 100;
const CHUNK: usize = 10_000;
const METADATA_TYPE: &str = "type.googleapis.com/longrun.v1.OperationMetadata";
const RESPONSE_TYPE: &str = "type.googleapis.com/google.protobuf.Duration";

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().ok_or("missing argument");
    match args.first().map(String::as_str) {
        Some("load") => load(&arg(1)?, arg(2)?.parse()?).await,
        Some("query") => query(&arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?).await,
        Some("warm") => warm(&arg(1)?, arg(2)?.parse()?).await,
        _ => Err(
            "usage: bench_lists load DATABASE_URL TOTAL | query PUBLIC SAMPLES TOTAL | warm PUBLIC TOTAL"
                .into(),
        ),
    }
}

async fn load(url: &str, total: u64) -> Result<()> {
    let started = Instant::now();
    let (before, inserted) = if url.starts_with("postgres") {
        let (store, _feed) = PgStore::open(url, &PgSettings::default()).await?;
        fill(&store, total).await?
    } else {
        fill(&SqliteStore::open(url).await?, total).await?
    };
    println!(
        "loaded {inserted} operations ({before} there before, {total} now) in {:.1?}",
        started.elapsed()
    );
    Ok(())
}

/// Adds operations up to `total`: the ones already there are the first of
/// the same sequence, so the count tells where to go on.
async fn fill<S: OperationStore>(store: &S, total: u64) -> Result<(u64, u64)> {
    let before = count(store).await?;
    let mut inserted = 0;
    let mut next = before;
    while next < total {
        let end = (next + CHUNK as u64).min(total);
        let ops: Vec<_> = (next..end).map(operation).collect::<Result<_>>()?;
        inserted += store.import(&ops).await?;
        next = end;
    }
    store.close().await;
    Ok((before, inserted))
}

/// How many of the sequence are stored: the sequence numbers are dense, so
/// a binary search on "is operation i there" finds the end.
async fn count<S: OperationStore>(store: &S) -> Result<u64> {
    let (mut low, mut high) = (0u64, 1u64 << 40);
    while low < high {
        let middle = low + (high - low) / 2;
        if store.get(&name(middle)?).await?.is_some() {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    Ok(low)
}

fn name(i: u64) -> Result<OperationName> {
    let location = i % LOCATIONS;
    Ok(OperationName::parse(&format!(
        "projects/{PROJECT}/locations/loc-{location}/operations/op-{i:010}"
    ))?)
}

/// Operation `i`: one second apart, newest last; the first `RUNNING` are
/// running, so at every size they are the oldest, at the end of the list
/// (the worst case for a scan that looks for them).
fn operation(i: u64) -> Result<Operation> {
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
    let ended = created + Duration::from_secs(42);
    let running = i < RUNNING;
    let metadata = ctl::OperationMetadata {
        create_time: Some(created.into()),
        end_time: (!running).then(|| ended.into()),
        target: format!(
            "projects/{PROJECT}/locations/loc-{}/datasets/d{i}",
            i % LOCATIONS
        ),
        verb: if i.is_multiple_of(7) {
            "export"
        } else {
            "import"
        }
        .into(),
        api_version: "v1".into(),
        ..Default::default()
    };
    let response = prost_types::Duration {
        seconds: 42,
        nanos: 0,
    };
    Ok(Operation {
        name: name(i)?,
        metadata: Some(Payload {
            type_url: METADATA_TYPE.into(),
            value: metadata.encode_to_vec(),
        }),
        outcome: (!running).then(|| {
            Outcome::Response(Payload {
                type_url: RESPONSE_TYPE.into(),
                value: response.encode_to_vec(),
            })
        }),
        create_time: created,
        update_time: if running { created } else { ended },
        end_time: (!running).then_some(ended),
        cancel: CancelState::NotRequested,
        cancel_grace: Duration::from_secs(30),
        started: running,
        request_id: None,
        expire_time: None,
        version: if running { 2 } else { 3 },
    })
}

async fn query(public: &str, samples: usize, total: u64) -> Result<()> {
    let channel = Channel::from_shared(format!("http://{public}"))?
        .connect()
        .await?;
    let mut client = OperationsClient::new(channel);
    let one = format!("projects/{PROJECT}/locations/loc-3");
    let all = format!("projects/{PROJECT}/locations/-");
    // A token from the middle of one location's list, reached with the
    // largest pages.
    let pages = usize::try_from(total / LOCATIONS / 2 / 1000)
        .unwrap_or(usize::MAX)
        .max(1);
    let deep = token_at(&mut client, &one, pages).await?;
    let cases: [(&str, &str, &str, &str); 6] = [
        ("first page, one location", &one, "", ""),
        ("first page, all locations", &all, "", ""),
        ("done = false, one location", &one, "done = false", ""),
        ("done = false, all locations", &all, "done = false", ""),
        ("deep page by token, one location", &one, "", &deep),
        (
            "metadata.verb = \"export\", all locations",
            &all,
            "metadata.verb = \"export\"",
            "",
        ),
    ];
    for (label, parent, filter, token) in cases {
        let request = lro::ListOperationsRequest {
            name: parent.into(),
            filter: filter.into(),
            page_size: 100,
            page_token: token.into(),
            ..Default::default()
        };
        let mut times = Vec::with_capacity(samples);
        let mut held = (0, false);
        for _ in 0..samples {
            let started = Instant::now();
            let page = client.list_operations(request.clone()).await?.into_inner();
            times.push(started.elapsed());
            held = (page.operations.len(), !page.next_page_token.is_empty());
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{label:<42} p50 {:>8.2?}  p99 {:>8.2?}  {} operations{}",
            at(0.5),
            at(0.99),
            held.0,
            if held.1 { ", more" } else { "" }
        );
    }
    Ok(())
}

async fn warm(public: &str, total: u64) -> Result<()> {
    use futures::StreamExt;
    let mut clients = Vec::new();
    for _ in 0..8 {
        let channel = Channel::from_shared(format!("http://{public}"))?
            .connect()
            .await?;
        clients.push(OperationsClient::new(channel));
    }
    let started = Instant::now();
    let results = futures::stream::iter(0..total)
        .map(|i| {
            let mut client = clients[(i % 8) as usize].clone();
            async move {
                let name = name(i)?.as_str().to_owned();
                client
                    .get_operation(lro::GetOperationRequest { name })
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    println!(
        "read {total} operations in {:.1?}, {failed} failed",
        started.elapsed()
    );
    if failed > 0 {
        return Err("some reads failed".into());
    }
    Ok(())
}

/// The token after `pages` pages of 1000.
async fn token_at(
    client: &mut OperationsClient<Channel>,
    parent: &str,
    pages: usize,
) -> Result<String> {
    let mut token = String::new();
    for _ in 0..pages {
        let page = client
            .list_operations(lro::ListOperationsRequest {
                name: parent.into(),
                page_size: 1000,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    Ok(token)
}
