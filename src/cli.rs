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
mod token;
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
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only add noise to every match"
)]
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
    /// Keys and signed tokens for local development and tests.
    Token(token::TokenArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Operations(args) => client::run(args).await,
        Command::Openapi(args) => openapi::run(&args),
        Command::Migrate(args) => migrate::run(&args).await,
        Command::Token(args) => token::run(args),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing(args.log_format);
    let server = crate::server::start(args.into_config()).await?;
    let reloads = reload_on_hangup(server.policy_reloader())?;
    shutdown_signal().await?;
    reloads.abort();
    server.shutdown().await;
    Ok(())
}

/// SIGHUP reloads the policy files; calls keep running throughout.
fn reload_on_hangup(
    reloader: crate::server::PolicyReloader,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading policies");
            reloader.reload();
        }
    }))
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
