//! A longrun worker in Rust: it runs one operation's work in steps, over the
//! control API (`longrun.v1.OperationsControl`, by default on 127.0.0.1:8081).
//!
//! ```sh
//! cargo run --example worker -- --parent projects/demo/locations/local   # create one, then work on it
//! cargo run --example worker -- --name projects/demo/locations/local/operations/ID
//! ```
//!
//! The same worker as `examples/python/worker.py`, with tonic and the
//! generated `longrun::pb` types: it opens WatchOperation (which marks the work
//! as started, so a cancel now waits for it), reports progress after each step
//! with UpdateOperation, and ends with CompleteOperation: a response when the
//! work is done, CANCELLED as soon as the Watch says `cancel_requested`, and
//! UNAVAILABLE when SIGINT or SIGTERM stops the worker. Exit status 0 when the
//! operation ended as this worker reported it, 1 when it could not.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use longrun::pb::control::{
    self as ctl, complete_operation_request::Result as Outcome,
    operations_control_client::OperationsControlClient,
};
use longrun::pb::longrunning::Operation;
use longrun::pb::rpc;
use prost::Message;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// Every unary call gets this deadline, and waits up to it for a server that
/// is away (a restart, a deploy) instead of failing at once. The Watch stream
/// has none, since it lasts as long as the work.
const RPC_TIMEOUT: Duration = Duration::from_secs(10);
const METADATA_TYPE: &str = "type.googleapis.com/longrun.v1.OperationMetadata";
const EMPTY_TYPE: &str = "type.googleapis.com/google.protobuf.Empty";

#[derive(Parser)]
#[command(about = "A longrun worker: runs one operation's work in steps")]
#[command(group(ArgGroup::new("which").required(true).args(["parent", "name"])))]
struct Args {
    /// Control API address (host:port).
    #[arg(long, default_value = "127.0.0.1:8081")]
    control: String,
    /// Create an operation here (projects/P/locations/L), then work on it.
    #[arg(long)]
    parent: Option<String>,
    /// Work on this existing operation.
    #[arg(long)]
    name: Option<String>,
    /// Steps of work.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    steps: u32,
    /// Length of one step, in seconds.
    #[arg(long, default_value_t = 1.0)]
    step_seconds: f64,
    /// With --parent: seconds a cancel waits for the worker.
    #[arg(long, default_value_t = 30)]
    cancel_grace: u32,
}

/// Why the work stops before it is finished; the first reason wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Cancel,
    Signal,
    Ended,
    Lost,
}

type Client = OperationsControlClient<Channel>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    let args = Args::parse();
    let Ok(step) = Duration::try_from_secs_f64(args.step_seconds) else {
        eprintln!("--step-seconds must be a non-negative number of seconds");
        return ExitCode::from(2);
    };
    let channel = match Channel::from_shared(format!("http://{}", args.control)) {
        Ok(endpoint) => endpoint.connect_timeout(RPC_TIMEOUT).connect_lazy(),
        Err(e) => {
            eprintln!("bad --control address {:?}: {e}", args.control);
            return ExitCode::from(2);
        }
    };
    let client = OperationsControlClient::new(channel);
    let (stop, stopped) = watch::channel(None);
    tokio::spawn(on_signals(stop.clone()));

    let name = match (args.name, args.parent) {
        (Some(name), _) => name,
        (None, Some(parent)) => match create_operation(&client, parent, args.cancel_grace).await {
            Ok(operation) => operation.name,
            Err(e) => return failed(&args.control, &e),
        },
        (None, None) => {
            eprintln!("give --name or --parent");
            return ExitCode::from(2);
        }
    };
    println!("operation {name}");
    match work(&client, &name, args.steps, step, stop, stopped).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => failed(&args.control, &e),
    }
}

fn failed(control: &str, e: &Status) -> ExitCode {
    tracing::error!("{control} failed: {:?}: {}", e.code(), e.message());
    ExitCode::FAILURE
}

/// The producer's side: start tracking a new operation, with metadata (so
/// clients see a status from the start and a cancel has a
/// `requested_cancellation` to set) and a request_id (so a retried Create
/// returns the same operation).
async fn create_operation(
    client: &Client,
    parent: String,
    grace: u32,
) -> Result<Operation, Status> {
    let metadata = ctl::OperationMetadata {
        target: parent.clone(),
        verb: "example".into(),
        status_message: "waiting for a worker".into(),
        ..Default::default()
    };
    let request = ctl::CreateOperationRequest {
        parent,
        metadata: Some(pack(METADATA_TYPE, &metadata)),
        request_id: format!("{:032x}", rand::random::<u128>()),
        cancel_grace: Some(prost_types::Duration {
            seconds: grace.into(),
            nanos: 0,
        }),
        ..Default::default()
    };
    unary(client, request, |mut c, r| async move {
        c.create_operation(r).await
    })
    .await
}

/// Whether the call never reached an answer: the server was away
/// (UNAVAILABLE), or the connection closed under the call, which tonic
/// reports as CANCELLED. Nothing in the control API answers CANCELLED itself,
/// so either is worth another try.
fn cut_off(e: &Status) -> bool {
    matches!(e.code(), Code::Unavailable | Code::Cancelled)
}

/// One unary call with a deadline, tried again while it is cut off (see
/// [`cut_off`]) and the deadline allows. That is safe for all three: Create
/// carries a request_id, Update sends the whole metadata, and a repeated
/// Complete is refused with FAILED_PRECONDITION, never applied twice.
async fn unary<T, R, F, Fut>(client: &Client, message: T, call: F) -> Result<R, Status>
where
    T: Clone,
    F: Fn(Client, Request<T>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<R>, Status>>,
{
    let deadline = Instant::now() + RPC_TIMEOUT;
    let mut backoff = Duration::from_millis(100);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut request = Request::new(message.clone());
        request.set_timeout(left);
        let result = match tokio::time::timeout(left, call(client.clone(), request)).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("no answer within the deadline")),
        };
        match result {
            Err(e) if cut_off(&e) && Instant::now() + backoff < deadline => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

fn pack(type_url: &str, message: &impl Message) -> prost_types::Any {
    prost_types::Any {
        type_url: type_url.into(),
        value: message.encode_to_vec(),
    }
}

/// Runs the operation's work; Ok(true) when it ended as this worker reported.
async fn work(
    client: &Client,
    name: &str,
    steps: u32,
    step: Duration,
    stop: watch::Sender<Option<Stop>>,
    mut stopped: watch::Receiver<Option<Stop>>,
) -> Result<bool, Status> {
    let (first_tx, first_rx) = oneshot::channel();
    let watcher = tokio::spawn(follow(client.clone(), name.to_owned(), stop, first_tx));
    let operation = match tokio::time::timeout(RPC_TIMEOUT, first_rx).await {
        Ok(Ok(operation)) => operation,
        Ok(Err(_)) | Err(_) => {
            watcher.abort();
            tracing::error!("could not watch {name}");
            return Ok(false);
        }
    };
    let result = run_steps(client, &operation, steps, step, &mut stopped).await;
    watcher.abort();
    result
}

async fn run_steps(
    client: &Client,
    operation: &Operation,
    steps: u32,
    step: Duration,
    stopped: &mut watch::Receiver<Option<Stop>>,
) -> Result<bool, Status> {
    let name = operation.name.as_str();
    if operation.done {
        tracing::error!("{name} is done already; nothing to do");
        return Ok(false);
    }
    let mut metadata = current_metadata(operation);
    let mut done = 0;
    while done < steps {
        // One step of the work. This example only waits; real work does a
        // piece of its job and checks `stopped` between pieces.
        tokio::select! {
            _ = stopped.wait_for(Option::is_some) => break,
            () = tokio::time::sleep(step) => {}
        }
        done += 1;
        metadata.status_message = format!("{done} of {steps} steps done");
        if !report_progress(client, name, &metadata).await? {
            return Ok(false);
        }
    }
    let progress = format!("after {done} of {steps} steps");
    // Finished work stands, even if a stop came after the last step.
    let reason = (done < steps).then(|| stopped.borrow().unwrap_or(Stop::Lost));
    let outcome = match reason {
        None => {
            // A real worker packs its API's response message here, and the
            // server is started with --descriptor-set naming that type, so
            // REST clients can read it. Empty needs neither.
            tracing::info!("{name} finished: {steps} steps");
            Outcome::Response(prost_types::Any {
                type_url: EMPTY_TYPE.into(),
                value: Vec::new(),
            })
        }
        Some(Stop::Cancel) => {
            tracing::info!("{name}: cancel requested; stopping {progress}");
            failure(rpc::Code::Cancelled, format!("cancelled {progress}"))
        }
        Some(Stop::Signal) => {
            tracing::info!("{name}: stopping {progress} on a signal");
            failure(
                rpc::Code::Unavailable,
                format!("the worker stopped {progress}; try again"),
            )
        }
        Some(reason @ (Stop::Ended | Stop::Lost)) => {
            tracing::error!("{name}: {reason:?} ({progress})");
            return Ok(false);
        }
    };
    complete(client, name, outcome).await
}

fn failure(code: rpc::Code, message: String) -> Outcome {
    Outcome::Error(rpc::Status {
        code: code as i32,
        message,
        details: Vec::new(),
    })
}

/// The metadata to build progress reports on. An Update replaces the whole
/// message, so the worker starts from what the producer stored (target,
/// verb) and changes only the status; the server keeps the times and
/// requested_cancellation itself.
fn current_metadata(operation: &Operation) -> ctl::OperationMetadata {
    match &operation.metadata {
        Some(any) if any.type_url == METADATA_TYPE => {
            ctl::OperationMetadata::decode(any.value.as_slice()).unwrap_or_else(|e| {
                tracing::warn!(
                    "metadata of {} does not decode ({e}): progress replaces it",
                    operation.name
                );
                ctl::OperationMetadata::default()
            })
        }
        Some(any) => {
            tracing::warn!(
                "metadata of {} is a {}: progress replaces it",
                operation.name,
                any.type_url
            );
            ctl::OperationMetadata::default()
        }
        None => ctl::OperationMetadata::default(),
    }
}

/// UpdateOperation with the whole metadata. Ok(false) when the operation can
/// take no more reports (done or gone); a transient failure costs only this
/// report, since the next one carries the whole state.
async fn report_progress(
    client: &Client,
    name: &str,
    metadata: &ctl::OperationMetadata,
) -> Result<bool, Status> {
    let request = ctl::UpdateOperationRequest {
        name: name.into(),
        metadata: Some(pack(METADATA_TYPE, metadata)),
    };
    match unary(client, request, |mut c, r| async move {
        c.update_operation(r).await
    })
    .await
    {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.code(),
                Code::Unavailable
                    | Code::Cancelled
                    | Code::DeadlineExceeded
                    | Code::ResourceExhausted
            ) =>
        {
            tracing::warn!(
                "progress report for {name} failed ({:?}); going on",
                e.code()
            );
            Ok(true)
        }
        Err(e) if matches!(e.code(), Code::FailedPrecondition | Code::NotFound) => {
            tracing::error!("{name} takes no more reports: {}", e.message());
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// CompleteOperation. Ok(false) when the operation was done already (its
/// cancel grace ran out, or someone else completed it): the first result stands.
async fn complete(client: &Client, name: &str, outcome: Outcome) -> Result<bool, Status> {
    let request = ctl::CompleteOperationRequest {
        name: name.into(),
        result: Some(outcome),
    };
    match unary(client, request, |mut c, r| async move {
        c.complete_operation(r).await
    })
    .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Code::FailedPrecondition => {
            tracing::error!(
                "{name} was done before this worker completed it: {}",
                e.message()
            );
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn set_stop(stop: &watch::Sender<Option<Stop>>, reason: Stop) {
    stop.send_if_modified(|current| current.is_none() && current.replace(reason).is_none());
}

/// Follows WatchOperation and turns its events into a Stop. The stream is
/// opened again if it breaks: a Watch opened after a cancel request says so
/// in its first event, so none is missed.
async fn follow(
    client: Client,
    name: String,
    stop: watch::Sender<Option<Stop>>,
    first: oneshot::Sender<Operation>,
) {
    let mut first = Some(first);
    let mut backoff = Duration::from_millis(200);
    loop {
        let request = ctl::WatchOperationRequest { name: name.clone() };
        match client.clone().watch_operation(request).await {
            Ok(response) => {
                let mut events = response.into_inner();
                loop {
                    match events.message().await {
                        Ok(Some(event)) => {
                            let done = event.operation.as_ref().is_some_and(|o| o.done);
                            if let (Some(tx), Some(operation)) = (first.take(), event.operation) {
                                let _ = tx.send(operation);
                            }
                            if event.cancel_requested {
                                set_stop(&stop, Stop::Cancel);
                            }
                            if done {
                                set_stop(&stop, Stop::Ended);
                                return;
                            }
                        }
                        // The server ends the stream only after the done
                        // state: this was a broken connection.
                        Ok(None) => break,
                        Err(e) if cut_off(&e) => break,
                        Err(e) => return lost(&stop, &name, &e),
                    }
                }
                tracing::warn!("watch of {name} broke; opening it again");
            }
            Err(e) if cut_off(&e) => {
                tracing::warn!("watch of {name} failed ({}); trying again", e.message());
            }
            Err(e) => return lost(&stop, &name, &e),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

fn lost(stop: &watch::Sender<Option<Stop>>, name: &str, e: &Status) {
    tracing::error!("watch of {name} failed: {:?}: {}", e.code(), e.message());
    set_stop(stop, Stop::Lost);
}

/// The first SIGINT/SIGTERM asks for a clean stop; a second one ends the
/// process at once.
async fn on_signals(stop: watch::Sender<Option<Stop>>) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        tracing::warn!("cannot listen for SIGTERM");
        return;
    };
    for count in 0.. {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        if count > 0 {
            #[expect(
                clippy::exit,
                reason = "a second signal means stop now, not after the step"
            )]
            std::process::exit(130);
        }
        tracing::info!("got a stop signal; stopping");
        set_stop(&stop, Stop::Signal);
    }
}
