//! The baseline for bench/run.sh: a bare tonic server whose GetOperation
//! returns one fixed Operation from memory. Everything else is unimplemented.
//! The Operation is the one in OPERATION.pb when given (what longrun
//! answered for the benchmark's fixture, see `bench_load fixture`), else a
//! small one shaped like a fresh operation.
//!
//! Run: `cargo run --release --example bench_bare_server -- 127.0.0.1:9090 [OPERATION.pb]`

use longrun::pb::longrunning::{self as lro, operations_server};
use tonic::{Request, Response, Status};

struct Bare {
    operation: lro::Operation,
}

#[tonic::async_trait]
impl operations_server::Operations for Bare {
    async fn list_operations(
        &self,
        _: Request<lro::ListOperationsRequest>,
    ) -> Result<Response<lro::ListOperationsResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn get_operation(
        &self,
        _: Request<lro::GetOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        Ok(Response::new(self.operation.clone()))
    }

    async fn delete_operation(
        &self,
        _: Request<lro::DeleteOperationRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn cancel_operation(
        &self,
        _: Request<lro::CancelOperationRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn wait_operation(
        &self,
        _: Request<lro::WaitOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        Err(Status::unimplemented("bare"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9090".into())
        .parse()?;
    let operation = match std::env::args().nth(2) {
        Some(path) => prost::Message::decode(std::fs::read(path)?.as_slice())?,
        None => small_operation(),
    };
    tonic::transport::Server::builder()
        .add_service(operations_server::OperationsServer::new(Bare { operation }))
        .serve(addr)
        .await?;
    Ok(())
}

fn small_operation() -> lro::Operation {
    // Shaped like what longrun returns for a fresh operation.
    let metadata = longrun::pb::control::OperationMetadata {
        create_time: Some(prost_types::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    lro::Operation {
        name: "projects/bench/locations/l/operations/op-abcdefghijklmnopqrstuvwxyz".into(),
        metadata: Some(prost_types::Any {
            type_url: "type.googleapis.com/longrun.v1.OperationMetadata".into(),
            value: prost::Message::encode_to_vec(&metadata),
        }),
        done: false,
        result: None,
    }
}

// The same allocator as the `longrun` binary, so the comparison measures
// the servers, not their allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
