//! The REST baseline for bench/run.sh: a bare hyper server (HTTP/1.1 and h2c
//! on one port) that answers every GET with the same Operation JSON from
//! memory, as longrun's REST GetOperation returns it: the JSON in
//! OPERATION.json when given (what longrun answered for the benchmark's
//! fixture, see `bench_load fixture`), else a small fresh operation's.
//!
//! Run: `cargo run --release --example bench_bare_rest -- 127.0.0.1:9091 [OPERATION.json]`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

const OPERATION: &str = r#"{"name":"projects/bench/locations/l/operations/op-abcdefghijklmnopqrstuvwxyz","metadata":{"@type":"type.googleapis.com/longrun.v1.OperationMetadata","createTime":"2026-09-21T14:13:20Z"}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9091".into());
    let operation = match std::env::args().nth(2) {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => Bytes::from_static(OPERATION.as_bytes()),
    };
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let operation = operation.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_: Request<hyper::body::Incoming>| {
                let operation = operation.clone();
                async move {
                    let mut response = Response::new(Full::new(operation));
                    response.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

// The same allocator as the `longrun` binary, so the comparison measures
// the servers, not their allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
