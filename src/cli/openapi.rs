//! `longrun openapi`: prints the OpenAPI 3 document of the REST routes a
//! server with the same flags would serve at `/openapi.json`.

use std::path::PathBuf;

use clap::Args;

use crate::server::{CONTROL_SERVICE, PUBLIC_SERVICE, load_registry};
use crate::transcode::openapi::openapi_document;
use crate::transcode::rules::{self, DEFAULT_RULES};

#[derive(Args, Debug)]
pub struct OpenapiArgs {
    /// The service-config YAML the server is started with (`--http-rules`).
    #[arg(long, env = "LONGRUN_HTTP_RULES")]
    pub http_rules: Option<PathBuf>,

    /// FileDescriptorSet files, as given to the server (`--descriptor-set`;
    /// repeatable).
    #[arg(
        long = "descriptor-set",
        env = "LONGRUN_DESCRIPTOR_SET",
        value_delimiter = ','
    )]
    pub descriptor_sets: Vec<PathBuf>,

    /// The control listener's routes (control and public methods) instead
    /// of the public listener's.
    #[arg(long)]
    pub control: bool,
}

pub fn run(args: &OpenapiArgs) -> anyhow::Result<()> {
    let registry = load_registry(&args.descriptor_sets)?;
    let rules_text = match &args.http_rules {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?,
        None => DEFAULT_RULES.to_owned(),
    };
    let services: &[&str] = if args.control {
        &[CONTROL_SERVICE, PUBLIC_SERVICE]
    } else {
        &[PUBLIC_SERVICE]
    };
    let bindings = rules::load(registry.pool(), Some(&rules_text), services)?;
    let document = openapi_document(
        registry.pool(),
        &bindings,
        "longrun",
        env!("CARGO_PKG_VERSION"),
    );
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    super::write_stdout(text.as_bytes())
}
