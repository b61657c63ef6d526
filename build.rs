//! Compiles proto/ with protox (no system protoc) into prost/tonic code, and
//! writes the descriptor set that reflection and the transcoder read.

use std::{env, path::PathBuf};

const PROTOS: &[&str] = &[
    "google/longrunning/operations.proto",
    "google/rpc/code.proto",
    "google/rpc/error_details.proto",
    "longrun/v1/control.proto",
    "longrun/v1/metadata.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(false);
    compiler.open_files(PROTOS)?;
    // encode_file_descriptor_set keeps extension options such as
    // google.api.http, which a re-encode of the prost FileDescriptorSet drops.
    std::fs::write(
        out_dir.join("longrun_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
