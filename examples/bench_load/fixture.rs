//! The operation the read benchmarks fetch, in two shapes:
//!
//! - `small`: a fresh operation as the first figures used (not done, the
//!   server's default metadata with only `createTime`);
//! - `realistic`: a done operation as a real API returns it: a registered
//!   metadata `Any` of about 126 bytes (createTime, endTime, target, verb,
//!   apiVersion) and a 59-byte response `Any` of a type registered with
//!   `--descriptor-set` (see [`descriptor_set`]).
//!
//! After making it, the fixture reads it back over gRPC and REST and writes
//! what longrun answered, so the bare servers can answer the very same bytes
//! and JSON and a ratio compares like with like.

use std::path::Path;

use http_body_util::{BodyExt, Full};
use longrun::pb::control::{self as ctl, operations_control_client::OperationsControlClient};
use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use prost::Message;

use super::{PARENT, Result, connect, get_body};

/// The response type, registered with the server by `--descriptor-set`.
const BENCH_PROTO: &str = r#"
syntax = "proto3";
package bench.v1;
message Instance {
  string name = 1;
  State state = 2;
  enum State {
    STATE_UNSPECIFIED = 0;
    CREATING = 1;
    READY = 2;
  }
}
"#;
const INSTANCE_TYPE_URL: &str = "type.googleapis.com/bench.v1.Instance";
const METADATA_TYPE_URL: &str = "type.googleapis.com/longrun.v1.OperationMetadata";
/// The realistic operation's id: fixed, so every run's name (and so its
/// bytes) has the same length.
const REALISTIC_ID: &str = "op-realistic-0123456789abcdefghij";

/// Writes the descriptor set of `bench.v1` to `path`.
pub fn descriptor_set(path: &str) -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("bench.proto"), BENCH_PROTO)?;
    let mut compiler = protox::Compiler::new([dir.path()])?;
    compiler.include_imports(true);
    compiler.open_file("bench.proto")?;
    std::fs::write(path, compiler.encode_file_descriptor_set())?;
    Ok(())
}

/// `fixture small|realistic CONTROL PUBLIC DIR`: makes the operation,
/// prints its name, and writes into DIR `get.bin` (the framed
/// GetOperationRequest for h2load), `operation.pb` (the Operation longrun
/// answers over gRPC) and `operation.json` (what it answers over REST).
pub async fn fixture(kind: &str, control_addr: &str, public_addr: &str, dir: &str) -> Result<()> {
    let mut control = OperationsControlClient::new(connect(control_addr).await?);
    let name = match kind {
        "small" => create(&mut control, ctl::CreateOperationRequest::default()).await?,
        "realistic" => realistic(&mut control).await?,
        _ => return Err(format!("unknown fixture {kind:?}: small or realistic").into()),
    };
    let dir = Path::new(dir);
    get_body(&dir.join("get.bin"), &name)?;
    let mut public = OperationsClient::new(connect(public_addr).await?);
    let op = public
        .get_operation(lro::GetOperationRequest { name: name.clone() })
        .await?
        .into_inner();
    std::fs::write(dir.join("operation.pb"), op.encode_to_vec())?;
    let json = rest_get(public_addr, &name).await?;
    std::fs::write(dir.join("operation.json"), &json)?;
    let any_len = |any: &Option<prost_types::Any>| any.as_ref().map_or(0, Message::encoded_len);
    eprintln!(
        "fixture {kind}: operation {} bytes (metadata Any {}, response Any {}), JSON {} bytes",
        op.encoded_len(),
        any_len(&op.metadata),
        match &op.result {
            Some(lro::operation::Result::Response(any)) => any.encoded_len(),
            _ => 0,
        },
        json.len()
    );
    println!("{name}");
    Ok(())
}

async fn create(
    control: &mut OperationsControlClient<tonic::transport::Channel>,
    request: ctl::CreateOperationRequest,
) -> Result<String> {
    let request = ctl::CreateOperationRequest {
        parent: PARENT.into(),
        ..request
    };
    Ok(control.create_operation(request).await?.into_inner().name)
}

/// Created with its metadata, then completed with its response; the server
/// stamps createTime and endTime itself.
async fn realistic(
    control: &mut OperationsControlClient<tonic::transport::Channel>,
) -> Result<String> {
    let metadata = ctl::OperationMetadata {
        target: "projects/bench/instances/web-001".into(),
        verb: "create".into(),
        api_version: "v1".into(),
        ..Default::default()
    };
    let name = create(
        control,
        ctl::CreateOperationRequest {
            operation_id: REALISTIC_ID.into(),
            metadata: Some(prost_types::Any {
                type_url: METADATA_TYPE_URL.into(),
                value: metadata.encode_to_vec(),
            }),
            ..Default::default()
        },
    )
    .await?;
    // bench.v1.Instance { name: "instances/web1", state: READY }, encoded
    // by hand: the type is not compiled into this program.
    let mut instance = vec![0x0a, 14];
    instance.extend_from_slice(b"instances/web1");
    instance.extend_from_slice(&[0x10, 2]);
    control
        .complete_operation(ctl::CompleteOperationRequest {
            name: name.clone(),
            result: Some(ctl::complete_operation_request::Result::Response(
                prost_types::Any {
                    type_url: INSTANCE_TYPE_URL.into(),
                    value: instance,
                },
            )),
        })
        .await?;
    Ok(name)
}

async fn rest_get(public_addr: &str, name: &str) -> Result<bytes::Bytes> {
    let http: hyper_util::client::legacy::Client<_, Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = http
        .get(format!("http://{public_addr}/v1/{name}").parse()?)
        .await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("REST GET answered {status}: {body:?}").into());
    }
    Ok(body)
}
