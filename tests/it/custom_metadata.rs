//! A producer's own metadata type, registered with a descriptor set: the
//! server keeps its standard fields current and filters can use its fields.

use longrun::pb::{control as ctl, longrunning as lro};
use longrun::service::ServiceSettings;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, Value};

use crate::support::*;

const BUILD_PROTO: &str = r#"
syntax = "proto3";
package acme.v1;
import "google/protobuf/timestamp.proto";
message BuildMetadata {
  google.protobuf.Timestamp create_time = 1;
  google.protobuf.Timestamp end_time = 2;
  bool requested_cancellation = 3;
  string stage = 4;
}
"#;

const TYPE_URL: &str = "type.googleapis.com/acme.v1.BuildMetadata";

fn descriptor_set(dir: &std::path::Path) -> (std::path::PathBuf, DescriptorPool) {
    std::fs::write(dir.join("build.proto"), BUILD_PROTO).expect("write proto");
    let mut compiler = protox::Compiler::new([dir]).expect("compiler");
    compiler.include_imports(true);
    compiler.open_file("build.proto").expect("compiles");
    let bytes = compiler.encode_file_descriptor_set();
    let path = dir.join("build.binpb");
    std::fs::write(&path, &bytes).expect("write set");
    (
        path,
        DescriptorPool::decode(bytes.as_slice()).expect("pool"),
    )
}

fn build_metadata(pool: &DescriptorPool, stage: &str) -> prost_types::Any {
    let descriptor = pool
        .get_message_by_name("acme.v1.BuildMetadata")
        .expect("type");
    let mut message = DynamicMessage::new(descriptor);
    message.set_field_by_name("stage", Value::String(stage.into()));
    prost_types::Any {
        type_url: TYPE_URL.into(),
        value: prost::Message::encode_to_vec(&message),
    }
}

#[tokio::test]
async fn registered_metadata_type_is_stamped_and_filterable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (set, pool) = descriptor_set(dir.path());
    let mut config = config("sqlite::memory:".into(), ServiceSettings::default());
    config.descriptor_sets = vec![set];
    let server = TestServer::with_config(config, None).await;

    let compiling = server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(build_metadata(&pool, "compile")),
            ..Default::default()
        })
        .await;
    server
        .create_with(ctl::CreateOperationRequest {
            parent: PARENT.into(),
            metadata: Some(build_metadata(&pool, "test")),
            ..Default::default()
        })
        .await;
    server.cancel(&compiling.name).await.expect("cancel");

    let got = server.get(&compiling.name).await.expect("get");
    let any = got.metadata.expect("metadata");
    assert_eq!(any.type_url, TYPE_URL, "the producer's type is kept");
    let descriptor = pool
        .get_message_by_name("acme.v1.BuildMetadata")
        .expect("type");
    let message = DynamicMessage::decode(descriptor, any.value.as_slice()).expect("decodes");
    assert_eq!(
        message.get_field_by_name("stage").expect("stage").as_str(),
        Some("compile")
    );
    assert_eq!(
        message
            .get_field_by_name("requested_cancellation")
            .expect("flag")
            .as_bool(),
        Some(true)
    );
    for stamped in ["create_time", "end_time"] {
        let field = message
            .descriptor()
            .get_field_by_name(stamped)
            .expect("field");
        assert!(message.has_field(&field), "{stamped} is kept current");
    }

    let listed = server
        .ops
        .clone()
        .list_operations(lro::ListOperationsRequest {
            name: PARENT.into(),
            filter: "metadata.stage = \"compile\"".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let names: Vec<String> = listed.operations.into_iter().map(|op| op.name).collect();
    assert_eq!(names, vec![compiling.name]);
}

#[tokio::test]
async fn producers_type_as_the_default_is_made_stamped_and_kept_by_heartbeats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (set, pool) = descriptor_set(dir.path());
    let mut config = config(
        "sqlite::memory:".into(),
        ServiceSettings {
            default_metadata_type: Some("acme.v1.BuildMetadata".into()),
            ..ServiceSettings::default()
        },
    );
    config.descriptor_sets = vec![set];
    let server = TestServer::with_config(config, None).await;
    let descriptor = pool
        .get_message_by_name("acme.v1.BuildMetadata")
        .expect("type");
    let decode = |op: &lro::Operation| {
        let any = op.metadata.as_ref().expect("metadata");
        assert_eq!(any.type_url, TYPE_URL, "the default type");
        DynamicMessage::decode(descriptor.clone(), any.value.as_slice()).expect("decodes")
    };
    let has = |message: &DynamicMessage, field: &str| {
        message.has_field(&descriptor.get_field_by_name(field).expect("field"))
    };

    let created = server.create().await;
    let made = decode(&created);
    assert!(has(&made, "create_time"), "the server stamps create_time");
    assert!(!has(&made, "end_time"));

    let heartbeat = server
        .control
        .clone()
        .update_operation(ctl::UpdateOperationRequest {
            name: created.name.clone(),
            metadata: None,
        })
        .await
        .expect("heartbeat")
        .into_inner();
    assert_eq!(heartbeat.metadata, created.metadata, "a heartbeat keeps it");

    server.cancel(&created.name).await.expect("cancel");
    let asked = server.get(&created.name).await.expect("get");
    assert!(
        !asked.done,
        "the heartbeat started the work: the worker has its grace"
    );
    let flagged = decode(&asked);
    assert_eq!(
        flagged
            .get_field_by_name("requested_cancellation")
            .expect("flag")
            .as_bool(),
        Some(true)
    );
}
