//! `longrun operations ...`: the client verbs' arguments, connections and
//! output plumbing. The verbs live in public.rs (get, list, cancel, delete),
//! wait.rs and control.rs (create, watch, update, complete); all use tonic's
//! generated clients. Argument structs and request builders are plain data,
//! testable without a server.

use std::error::Error as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use clap::{Args, Subcommand};
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use super::control::{CompleteArgs, CreateArgs, UpdateArgs};
use super::health::HealthArgs;
use super::output::{OutputFormat, Printer};
use super::public::ListArgs;
use super::status::{render_status, render_unreachable};
use super::tls::{ClientTlsArgs, for_url};
use super::wait::WaitArgs;
use crate::domain::parse_duration;
use crate::pb::control::operations_control_client::OperationsControlClient;
use crate::pb::longrunning::operations_client::OperationsClient;
use crate::registry::TypeRegistry;

/// Unary calls without `--timeout` still end: a server that accepts the
/// connection and never answers should not hang a terminal.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Args, Debug)]
pub struct OperationsArgs {
    /// URL of the public API (google.longrunning.Operations), for get, list,
    /// cancel, delete and wait.
    #[arg(
        long,
        env = "LONGRUN_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true,
        help_heading = "Global options"
    )]
    pub server: String,

    /// URL of the control API (longrun.v1.OperationsControl), for create,
    /// watch, update and complete.
    #[arg(
        long,
        env = "LONGRUN_CONTROL",
        default_value = "http://127.0.0.1:8081",
        global = true,
        help_heading = "Global options"
    )]
    pub control: String,

    /// table: aligned columns, for people. json: whole messages as proto3
    /// JSON (Any types must be known: see --descriptor-set).
    #[arg(
        short,
        long,
        value_enum,
        default_value = "table",
        global = true,
        help_heading = "Global options"
    )]
    pub output: OutputFormat,

    /// A bearer token sent with every call (`longrun token mint` makes one
    /// for a test server).
    #[arg(
        long,
        env = "LONGRUN_TOKEN",
        global = true,
        hide_env_values = true,
        help_heading = "Global options"
    )]
    pub token: Option<String>,

    /// Deadline of each call [default: 30s]. watch: none unless given.
    /// wait: the time allowed on top of each 2s round [default: 10s].
    #[arg(long, value_parser = duration)]
    pub timeout: Option<Duration>,

    /// FileDescriptorSet files with the types of your metadata and
    /// responses, for -o json (repeatable; comma-separated in the
    /// environment).
    #[arg(
        long = "descriptor-set",
        env = "LONGRUN_DESCRIPTOR_SET",
        value_delimiter = ',',
        global = true,
        help_heading = "Global options"
    )]
    pub descriptor_sets: Vec<PathBuf>,

    /// For https:// URLs: the CA to trust and the client certificate.
    #[command(flatten)]
    pub tls: ClientTlsArgs,

    #[command(subcommand)]
    pub verb: Verb,
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Show an operation.
    Get {
        /// The operation: projects/P/locations/L/operations/ID.
        name: String,
    },
    /// List the operations under a parent, newest first.
    List(ListArgs),
    /// Ask for an operation to be cancelled (returns at once; `wait` shows
    /// the outcome).
    Cancel {
        /// The operation: projects/P/locations/L/operations/ID.
        name: String,
    },
    /// Forget an operation (does not cancel its work).
    Delete {
        /// The operation: projects/P/locations/L/operations/ID.
        name: String,
    },
    /// Wait for an operation to be done, showing progress on stderr, then
    /// print it; exits 1 if it is not done in time.
    Wait(WaitArgs),
    /// Start tracking a new operation (control API).
    Create(CreateArgs),
    /// Stream an operation's changes until it is done (control API).
    Watch {
        /// The operation: projects/P/locations/L/operations/ID.
        name: String,
    },
    /// Report progress on a running operation (control API).
    Update(UpdateArgs),
    /// End an operation with a result (control API).
    Complete(CompleteArgs),
    /// Ask the server's gRPC health service whether it serves; exits 1 if
    /// not (for container health checks and probes).
    Health(HealthArgs),
}

pub fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

/// What every verb needs: where to connect, how long a call may take, and
/// how to print.
pub struct Session {
    pub server: String,
    pub control: String,
    pub call_timeout: Option<Duration>,
    pub format: OutputFormat,
    pub registry: TypeRegistry,
    pub token: Option<AsciiMetadataValue>,
    /// For `https://` URLs; checked against the URL a verb connects to.
    pub tls: ClientTlsArgs,
}

/// Adds `authorization: Bearer <token>` to every call, when there is one.
#[derive(Clone)]
pub struct BearerToken(Option<AsciiMetadataValue>);

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type AuthedChannel = InterceptedService<Channel, BearerToken>;

impl Session {
    pub fn printer(&self) -> Printer<'_> {
        Printer {
            format: self.format,
            registry: &self.registry,
        }
    }

    /// A request with the deadline of a unary call.
    pub fn unary<T>(&self, message: T) -> tonic::Request<T> {
        with_deadline(
            message,
            Some(self.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT)),
        )
    }

    /// A connection to `url` (given as `flag`), over TLS for `https://`.
    pub async fn channel(&self, url: &str, flag: &str) -> anyhow::Result<Channel> {
        connect(url, flag, for_url(url, flag, &self.tls)?).await
    }

    pub async fn public(&self) -> anyhow::Result<OperationsClient<AuthedChannel>> {
        Ok(OperationsClient::with_interceptor(
            self.channel(&self.server, "--server").await?,
            BearerToken(self.token.clone()),
        ))
    }

    pub async fn control(&self) -> anyhow::Result<OperationsControlClient<AuthedChannel>> {
        Ok(OperationsControlClient::with_interceptor(
            self.channel(&self.control, "--control").await?,
            BearerToken(self.token.clone()),
        ))
    }

    /// A failed call as one line; an unavailable server also names its URL.
    pub fn rpc_error(&self, rpc: &str, url: &str, status: &tonic::Status) -> anyhow::Error {
        let line = render_status(rpc, status);
        if status.code() == tonic::Code::Unavailable {
            anyhow!("{line} (server {url})")
        } else {
            anyhow!(line)
        }
    }
}

/// Sets the grpc-timeout header, which tonic's channel also enforces.
pub fn with_deadline<T>(message: T, deadline: Option<Duration>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(deadline) = deadline {
        request.set_timeout(deadline);
    }
    request
}

/// Connects eagerly, so that a wrong address fails with its URL before any
/// call is made.
pub async fn connect(
    url: &str,
    flag: &str,
    tls: Option<ClientTlsConfig>,
) -> anyhow::Result<Channel> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| anyhow!("invalid {flag} URL {url:?}: {e}"))?
        .connect_timeout(CONNECT_TIMEOUT);
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| anyhow!("{flag} {url}: {}", e.source().unwrap_or(&e)))?;
    }
    endpoint
        .connect()
        .await
        // tonic's own message is only "transport error": show what is under it.
        .map_err(|e| anyhow!(render_unreachable(url, e.source().unwrap_or(&e))))
}

/// Prints to stdout; a closed pipe is an error, not a panic.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                stdout.write_all(b"\n")
            }
        })
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

fn load_registry(files: &[PathBuf]) -> anyhow::Result<TypeRegistry> {
    let mut registry = TypeRegistry::builtin().context("builtin type registry")?;
    for file in files {
        let bytes = std::fs::read(file)
            .with_context(|| format!("cannot read descriptor set {}", file.display()))?;
        registry
            .add_descriptor_set(&bytes)
            .with_context(|| format!("descriptor set {}", file.display()))?;
    }
    Ok(registry)
}

pub async fn run(args: OperationsArgs) -> anyhow::Result<()> {
    let session = Session {
        tls: args.tls,
        server: args.server,
        control: args.control,
        call_timeout: args.timeout,
        format: args.output,
        registry: load_registry(&args.descriptor_sets)?,
        token: match &args.token {
            Some(token) => Some(
                MetadataValue::try_from(format!("Bearer {}", token.trim()))
                    .map_err(|_| anyhow!("--token is not a valid header value"))?,
            ),
            None => None,
        },
    };
    match args.verb {
        Verb::Get { name } => super::public::get(&session, name).await,
        Verb::List(list_args) => super::public::list(&session, &list_args).await,
        Verb::Cancel { name } => super::public::cancel(&session, name).await,
        Verb::Delete { name } => super::public::delete(&session, name).await,
        Verb::Wait(wait_args) => super::wait::wait(&session, &wait_args).await,
        Verb::Create(create_args) => super::control::create(&session, &create_args).await,
        Verb::Watch { name } => super::control::watch(&session, name).await,
        Verb::Update(update_args) => super::control::update(&session, &update_args).await,
        Verb::Complete(complete_args) => super::control::complete(&session, &complete_args).await,
        Verb::Health(health_args) => super::health::health(&session, &health_args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<OperationsArgs, clap::Error> {
        let argv = ["longrun", "operations"].iter().chain(args).copied();
        let command = Cli::try_parse_from(argv)?.command;
        let Command::Operations(operations) = command else {
            panic!("parsed as {command:?}");
        };
        Ok(operations)
    }

    fn verb(args: &[&str]) -> Verb {
        parse(args).expect("parses").verb
    }

    const NAME: &str = "projects/p/locations/l/operations/op-1";

    #[test]
    fn global_options_have_spec_defaults() {
        let args = parse(&["get", NAME]).expect("parses");
        // The environment may override these; the defaults apply when unset.
        if std::env::var_os("LONGRUN_SERVER").is_none() {
            assert_eq!(args.server, "http://127.0.0.1:8080");
        }
        if std::env::var_os("LONGRUN_CONTROL").is_none() {
            assert_eq!(args.control, "http://127.0.0.1:8081");
        }
        assert_eq!(args.output, OutputFormat::Table);
        assert_eq!(args.timeout, None);
    }

    #[test]
    fn global_options_parse_before_and_after_the_verb() {
        let args = parse(&[
            "--server",
            "http://a:1",
            "--timeout",
            "5s",
            "get",
            NAME,
            "-o",
            "json",
            "--control",
            "http://b:2",
        ])
        .expect("parses");
        assert_eq!(args.server, "http://a:1");
        assert_eq!(args.control, "http://b:2");
        assert_eq!(args.output, OutputFormat::Json);
        assert_eq!(args.timeout, Some(Duration::from_secs(5)));
        assert!(matches!(args.verb, Verb::Get { name } if name == NAME));
    }

    #[test]
    fn unknown_output_format_is_rejected() {
        assert!(parse(&["-o", "yaml", "get", NAME]).is_err());
    }

    #[test]
    fn get_cancel_delete_watch_take_a_name() {
        assert!(matches!(verb(&["get", NAME]), Verb::Get { name } if name == NAME));
        assert!(matches!(verb(&["cancel", NAME]), Verb::Cancel { name } if name == NAME));
        assert!(matches!(verb(&["delete", NAME]), Verb::Delete { name } if name == NAME));
        assert!(matches!(verb(&["watch", NAME]), Verb::Watch { name } if name == NAME));
        for bare in ["get", "cancel", "delete", "watch", "wait", "update", "list"] {
            assert!(parse(&[bare]).is_err(), "{bare} without a name");
        }
    }

    #[test]
    fn wait_has_its_own_overall_timeout() {
        let Verb::Wait(wait) = verb(&["wait", NAME]) else {
            panic!("not wait");
        };
        assert_eq!(wait.timeout, Duration::from_secs(60));
        let args = parse(&["--timeout", "3s", "wait", NAME, "--timeout", "2m"]).expect("parses");
        assert_eq!(args.timeout, Some(Duration::from_secs(3)));
        let Verb::Wait(wait) = args.verb else {
            panic!("not wait");
        };
        assert_eq!(wait.timeout, Duration::from_secs(120));
        assert!(parse(&["wait", NAME, "--timeout", "soon"]).is_err());
    }

    #[tokio::test]
    async fn connect_to_a_closed_port_names_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let err = connect(&url, "--server", None)
            .await
            .expect_err("nobody listens");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("cannot reach the server at {url}: ")),
            "{message}"
        );
    }

    #[tokio::test]
    async fn connect_with_a_malformed_url_names_the_flag() {
        let err = connect("not a url", "--control", None)
            .await
            .expect_err("rejected");
        assert!(
            err.to_string()
                .starts_with(r#"invalid --control URL "not a url""#),
            "{err}"
        );
    }
}
