//! Placeholder: client verbs land in their own change.
use clap::Args;

#[derive(Args, Debug)]
pub struct OperationsArgs {}

pub async fn run(_args: OperationsArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
