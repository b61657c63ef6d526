//! The command line: `longrun serve`, and client verbs for people at a
//! terminal. `anyhow` is allowed here and in main.rs only.

mod client;
mod control;
mod json;
mod migrate;
mod openapi;
mod output;
mod public;
mod status;
mod wait;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, ServeArgs};

#[derive(Parser, Debug)]
#[command(
    name = "longrun",
    version,
    about = "A server for google.longrunning.Operations"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply the database migrations, then exit (for replicas started with
    /// --migrate=false).
    Migrate(migrate::MigrateArgs),
    /// Print the OpenAPI 3 document of the REST routes.
    Openapi(openapi::OpenapiArgs),
    /// Inspect and drive operations on a running server.
    Operations(client::OperationsArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Operations(args) => client::run(args).await,
        Command::Openapi(args) => openapi::run(&args),
        Command::Migrate(args) => migrate::run(&args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing(args.log_format);
    let server = crate::server::start(args.into_config()).await?;
    shutdown_signal().await?;
    server.shutdown().await;
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LONGRUN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}
