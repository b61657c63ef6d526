//! The command line: `longrun serve`, and client verbs for people at a
//! terminal. `anyhow` is allowed here and in main.rs only.

mod client;
mod control;
mod generate;
mod health;
mod json;
mod migrate;
mod openapi;
mod output;
mod public;
mod status;
mod tls;
mod token;
mod wait;

pub use status::error_chain;

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{LogFormat, ServeArgs};
use crate::telemetry::traces::TraceExport;

#[derive(Parser, Debug)]
#[command(
    name = "longrun",
    // The crate version and, from a git checkout, the revision (build.rs).
    version = env!("LONGRUN_VERSION"),
    about = "A server for google.longrunning.Operations",
    long_about = "A server for google.longrunning.Operations: the public API over gRPC, \
                  gRPC-Web and REST/JSON, a control API for the producers and workers of \
                  operations, and durable storage in SQLite or PostgreSQL."
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
    ///
    /// The public API on --listen and the control API on --control-listen,
    /// until SIGTERM or SIGINT, which drain the calls in flight first; SIGHUP
    /// reloads the policy files and TLS certificates. Each flag can also be set with the
    /// environment variable shown; a flag wins over the environment.
    /// Durations take a unit: 500ms, 1.5s, 5m, 2h, 30d.
    Serve(ServeArgs),
    /// Apply the database migrations, then exit (for replicas started with
    /// --migrate=false).
    Migrate(migrate::MigrateArgs),
    /// Print the OpenAPI 3 document of the REST routes, as a server with the
    /// same flags serves it at /openapi.json.
    Openapi(openapi::OpenapiArgs),
    /// A client for a running server.
    ///
    /// Show, list, cancel, delete and wait for operations over the public
    /// API, or create, watch, update and complete them over the control API
    /// as a worker would. Calls are gRPC.
    Operations(client::OperationsArgs),
    /// Keys and signed tokens for local development and tests.
    Token(token::TokenArgs),
    /// Print a shell completion script, e.g. `source <(longrun completions bash)`.
    Completions(generate::CompletionsArgs),
    /// Print a man page (roff), or write one per subcommand with --out-dir.
    Man(generate::ManArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Operations(args) => client::run(args).await,
        Command::Openapi(args) => openapi::run(&args),
        Command::Migrate(args) => migrate::run(&args).await,
        Command::Token(args) => token::run(args),
        Command::Completions(args) => write_stdout(&generate::completions(args.shell)),
        Command::Man(args) => generate::run_man(&args),
    };
    // Like ripgrep: a reader that went away (`| head`) is not a failure.
    match result {
        Err(err) if is_broken_pipe(&err) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes to stdout; a closed pipe is an error (which `run` forgives), not
/// the panic of `print!`.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

/// A line for the person at the terminal, on stderr. When stderr is closed
/// there is nobody left to tell, so a failed write is not an error (where
/// `eprintln!` would panic).
fn note(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let traces = match args.trace_settings()? {
        Some(settings) => Some(TraceExport::start(&settings)?),
        None => None,
    };
    init_tracing(args.log_format, traces.as_ref());
    let mut config = args.into_config();
    config.traces = traces.is_some();
    let server = crate::server::start(config).await?;
    let reloads = reload_on_hangup(server.policy_reloader())?;
    shutdown_signal().await?;
    reloads.abort();
    server.shutdown().await;
    // After the drain, so the last calls' spans go out too.
    if let Some(traces) = traces {
        traces.shutdown().await;
    }
    Ok(())
}

/// SIGHUP reloads the policy files and TLS certificates; calls keep running
/// throughout.
fn reload_on_hangup(
    reloader: crate::server::PolicyReloader,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading policies and TLS certificates");
            reloader.reload();
        }
    }))
}

/// The logs on stderr, filtered by LONGRUN_LOG; and with traces on, the
/// layer that exports the spans, with its own filter (the log's level does
/// not decide which spans are sent).
fn init_tracing(format: LogFormat, traces: Option<&TraceExport>) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_from_env("LONGRUN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal: escape codes in a log file or
    // a collector make it hard to read and to grep.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces.map(TraceExport::layer))
        .init();
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Words that mark help as written for a plan rather than for the
    /// binary (issue 11: "gRPC (and, later, gRPC-Web and REST)").
    const STALE: &[&str] = &["later", "todo", "not yet", "coming", "planned", "someday"];

    /// Every visible subcommand and argument, with its help text, as
    /// `longrun operations list --filter`.
    fn help_texts(command: &clap::Command, path: &str, found: &mut Vec<(String, String)>) {
        let help = |text: Option<&clap::builder::StyledStr>| {
            text.map(ToString::to_string).unwrap_or_default()
        };
        let about = [help(command.get_about()), help(command.get_long_about())].join(" ");
        found.push((path.to_owned(), about.trim().to_owned()));
        for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
            let name = arg
                .get_long()
                .map(|long| format!("--{long}"))
                .unwrap_or_else(|| arg.get_id().to_string());
            let text = [help(arg.get_help()), help(arg.get_long_help())].join(" ");
            found.push((format!("{path} {name}"), text.trim().to_owned()));
        }
        // clap's own `help` subcommand repeats the others' about texts.
        let ours = |sub: &&clap::Command| !sub.is_hide_set() && sub.get_name() != "help";
        for sub in command.get_subcommands().filter(ours) {
            help_texts(sub, &format!("{path} {}", sub.get_name()), found);
        }
    }

    /// What is wrong with the help of a built command tree: entries with
    /// no help, and help with a stale word.
    fn help_problems(command: &clap::Command) -> Vec<String> {
        let mut found = Vec::new();
        help_texts(command, command.get_name(), &mut found);
        let mut problems = Vec::new();
        for (what, text) in &found {
            if text.trim().is_empty() {
                problems.push(format!("{what} has no help"));
            }
            let lower = text.to_lowercase();
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .collect();
            for stale in STALE {
                let stale_words: Vec<&str> = stale.split(' ').collect();
                if words
                    .windows(stale_words.len())
                    .any(|window| window == stale_words.as_slice())
                {
                    problems.push(format!("{what}: {stale:?} in {text:?}"));
                }
            }
        }
        problems
    }

    #[test]
    fn every_subcommand_and_argument_has_current_help() {
        let mut command = Cli::command();
        command.build();
        let mut found = Vec::new();
        help_texts(&command, "longrun", &mut found);
        assert!(found.len() > 80, "walked only {} entries", found.len());
        assert_eq!(help_problems(&command), Vec::<String>::new());
    }

    #[test]
    fn help_check_finds_missing_and_stale_help() {
        let mut command = clap::Command::new("demo")
            .about("A demo")
            .arg(clap::Arg::new("quiet").long("quiet"))
            .arg(clap::Arg::new("hidden").long("hidden").hide(true))
            .subcommand(
                clap::Command::new("serve")
                    .about("Serve gRPC (and, later, REST)")
                    .arg(clap::Arg::new("x").long("x").help("Not yet used")),
            );
        command.build();
        assert_eq!(
            help_problems(&command),
            [
                "demo --quiet has no help",
                r#"demo serve: "later" in "Serve gRPC (and, later, REST)""#,
                r#"demo serve --x: "not yet" in "Not yet used""#,
            ]
        );
    }

    #[test]
    fn version_is_the_crate_version_with_an_optional_revision() {
        let version = Cli::command().get_version().expect("a version").to_owned();
        let rest = version
            .strip_prefix(env!("CARGO_PKG_VERSION"))
            .expect("starts with the crate version");
        let revision = rest.strip_prefix(" (").and_then(|r| r.strip_suffix(')'));
        match revision {
            None => assert_eq!(rest, "", "{version}"),
            Some(revision) => {
                let hash = revision.strip_suffix("-dirty").unwrap_or(revision);
                assert!(
                    hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()),
                    "{version}"
                );
            }
        }
    }

    #[test]
    fn broken_pipe_anywhere_in_the_chain_is_recognised() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(
            &anyhow::Error::new(pipe).context("cannot write to stdout")
        ));
        assert!(!is_broken_pipe(&anyhow::anyhow!(
            "GetOperation failed: NOT_FOUND"
        )));
    }
}
