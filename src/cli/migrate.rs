//! `longrun migrate --database URL`: applies the schema migrations and
//! exits, so operators can upgrade the schema once, before replicas that
//! run with `--migrate=false` start.

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The database to migrate, as given to `serve --database`:
    /// postgres://... or sqlite://FILE.
    #[arg(long, env = "LONGRUN_DATABASE", hide_env_values = true)]
    pub database: String,
}

pub async fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    crate::server::migrate(&args.database)
        .await
        .context("migration failed")?;
    super::write_stdout(b"the database schema is up to date\n")?;
    Ok(())
}
