//! The control-API verbs (docs/behaviour.md §4), for producers and workers and for trying
//! a server by hand: create, watch, update, complete. The request builders
//! are pure so the flag-to-message mapping is testable without a server.

use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::{ArgGroup, Args};
use prost::Message;

use super::client::{Session, duration, emit, with_deadline};
use crate::pb;
use crate::registry::type_url;

const METADATA_TYPE: &str = "longrun.v1.OperationMetadata";
const EMPTY_TYPE: &str = "google.protobuf.Empty";
/// What a worker says when it stops because a client asked it to.
const CANCELLED_MESSAGE: &str = "cancelled by worker";

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Where the operation lives: projects/P/locations/L.
    pub parent: String,

    /// The operation id (AIP-122: lowercase letters, digits and `-`, up to
    /// 63); the server makes one when absent.
    #[arg(long)]
    pub id: Option<String>,

    /// Idempotency key: a retry with the same key returns the same
    /// operation.
    #[arg(long)]
    pub request_id: Option<String>,

    /// How long a cancel waits for the worker to acknowledge [default: the
    /// server's --cancel-grace].
    #[arg(long, value_parser = duration)]
    pub cancel_grace: Option<Duration>,

    /// The method that started the work (metadata `verb`, e.g. create).
    /// --verb, --target or --status-message give the operation longrun's
    /// own metadata (longrun.v1.OperationMetadata); with none of them it
    /// has none unless the server names a default type.
    #[arg(long)]
    pub verb: Option<String>,

    /// The resource the work is on (metadata `target`).
    #[arg(long)]
    pub target: Option<String>,

    /// A human-readable status (metadata `status_message`).
    #[arg(long)]
    pub status_message: Option<String>,
}

impl CreateArgs {
    pub fn request(&self) -> anyhow::Result<pb::control::CreateOperationRequest> {
        let cancel_grace = self
            .cancel_grace
            .map(prost_types::Duration::try_from)
            .transpose()
            .map_err(|e| anyhow!("--cancel-grace: {e}"))?;
        Ok(pb::control::CreateOperationRequest {
            parent: self.parent.clone(),
            operation_id: self.id.clone().unwrap_or_default(),
            metadata: self.metadata(),
            request_id: self.request_id.clone().unwrap_or_default(),
            cancel_grace,
        })
    }
}

impl CreateArgs {
    fn metadata(&self) -> Option<prost_types::Any> {
        if self.verb.is_none() && self.target.is_none() && self.status_message.is_none() {
            return None;
        }
        let metadata = pb::control::OperationMetadata {
            verb: self.verb.clone().unwrap_or_default(),
            target: self.target.clone().unwrap_or_default(),
            status_message: self.status_message.clone().unwrap_or_default(),
            ..Default::default()
        };
        Some(longrun_metadata(&metadata))
    }
}

fn longrun_metadata(metadata: &pb::control::OperationMetadata) -> prost_types::Any {
    prost_types::Any {
        type_url: type_url(METADATA_TYPE),
        value: metadata.encode_to_vec(),
    }
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The operation: projects/P/locations/L/operations/ID.
    pub name: String,

    /// Replace the metadata with longrun.v1.OperationMetadata carrying this
    /// status (the server keeps its own fields in it). Without it the update
    /// only marks the work started and keeps the stored metadata.
    #[arg(long)]
    pub status_message: Option<String>,
}

impl UpdateArgs {
    pub fn request(&self) -> pb::control::UpdateOperationRequest {
        let metadata = self.status_message.as_ref().map(|status| {
            longrun_metadata(&pb::control::OperationMetadata {
                status_message: status.clone(),
                ..Default::default()
            })
        });
        pb::control::UpdateOperationRequest {
            name: self.name.clone(),
            metadata,
        }
    }
}

#[derive(Args, Debug)]
#[group(skip)]
#[command(group(
    ArgGroup::new("result")
        .args(["cancelled", "error_code", "empty_response"])
        .required(true)
        .multiple(false)
))]
pub struct CompleteArgs {
    /// The operation: projects/P/locations/L/operations/ID.
    pub name: String,

    /// Acknowledge a cancel: error {code: 1 (CANCELLED), message:
    /// "cancelled by worker"}.
    #[arg(long)]
    pub cancelled: bool,

    /// Fail with this google.rpc.Code (a number 1-16 or a name like NOT_FOUND).
    #[arg(long, value_parser = error_code, requires = "message")]
    pub error_code: Option<i32>,

    /// The error message (with --error-code).
    // A bare `requires` is not enough: clap drops a requirement that
    // conflicts with a present flag, so `--empty-response --message m` would
    // pass and lose the message.
    #[arg(long, requires = "error_code", conflicts_with_all = ["cancelled", "empty_response"])]
    pub message: Option<String>,

    /// Succeed with a google.protobuf.Empty response.
    #[arg(long)]
    pub empty_response: bool,
}

impl CompleteArgs {
    pub fn request(&self) -> pb::control::CompleteOperationRequest {
        use pb::control::complete_operation_request::Result as CompleteResult;
        let result = match self.error_code {
            Some(code) => CompleteResult::Error(pb::rpc::Status {
                code,
                message: self.message.clone().unwrap_or_default(),
                details: Vec::new(),
            }),
            // clap lets exactly one of the three through.
            None if self.cancelled => CompleteResult::Error(pb::rpc::Status {
                code: pb::rpc::Code::Cancelled as i32,
                message: CANCELLED_MESSAGE.to_owned(),
                details: Vec::new(),
            }),
            None => CompleteResult::Response(prost_types::Any {
                type_url: type_url(EMPTY_TYPE),
                value: Vec::new(),
            }),
        };
        pb::control::CompleteOperationRequest {
            name: self.name.clone(),
            result: Some(result),
        }
    }
}

/// A failure code: 1..=16 by number or by google.rpc.Code name. OK (0) is
/// not a failure, and the server would refuse it.
fn error_code(text: &str) -> Result<i32, String> {
    let code = match text.parse::<i32>() {
        Ok(number) => pb::rpc::Code::try_from(number).ok(),
        Err(_) => pb::rpc::Code::from_str_name(&text.to_ascii_uppercase()),
    };
    match code {
        Some(pb::rpc::Code::Ok) | None => Err(format!(
            "{text:?} is not a failure code: use 1-16 or a google.rpc.Code name such as NOT_FOUND"
        )),
        Some(code) => Ok(code as i32),
    }
}

pub async fn create(session: &Session, args: &CreateArgs) -> anyhow::Result<()> {
    let request = session.unary(args.request()?);
    let mut client = session.control().await?;
    let op = client
        .create_operation(request)
        .await
        .map_err(|s| session.rpc_error("CreateOperation", &session.control, &s))?
        .into_inner();
    emit(&session.printer().operation(&op)?)
}

pub async fn update(session: &Session, args: &UpdateArgs) -> anyhow::Result<()> {
    let mut client = session.control().await?;
    let op = client
        .update_operation(session.unary(args.request()))
        .await
        .map_err(|s| session.rpc_error("UpdateOperation", &session.control, &s))?
        .into_inner();
    emit(&session.printer().operation(&op)?)
}

pub async fn complete(session: &Session, args: &CompleteArgs) -> anyhow::Result<()> {
    let mut client = session.control().await?;
    let op = client
        .complete_operation(session.unary(args.request()))
        .await
        .map_err(|s| session.rpc_error("CompleteOperation", &session.control, &s))?
        .into_inner();
    emit(&session.printer().operation(&op)?)
}

/// Prints every event as it arrives; returns when the server ends the
/// stream, an error unless the last event was done. Only an explicit
/// --timeout limits it.
pub async fn watch(session: &Session, name: String) -> anyhow::Result<()> {
    let mut client = session.control().await?;
    let request = with_deadline(
        pb::control::WatchOperationRequest { name: name.clone() },
        session.call_timeout,
    );
    let stream = client
        .watch_operation(request)
        .await
        .map_err(|s| session.rpc_error("WatchOperation", &session.control, &s))?
        .into_inner();
    // tonic's deadline covers the call until the response headers, not the
    // stream after them, so the limit is kept here too.
    let events = print_events(session, stream, &name);
    let done = match session.call_timeout {
        Some(limit) => tokio::time::timeout(limit, events)
            .await
            .map_err(|_| anyhow!("WatchOperation: --timeout ran out before {name} was done"))??,
        None => events.await?,
    };
    // The server ends a watch after the done state; any other end (a
    // shutdown, a delete) means the caller has not seen the outcome.
    if !done {
        bail!("WatchOperation ended before operation {name} was done");
    }
    Ok(())
}

/// Whether the last event was done.
async fn print_events(
    session: &Session,
    mut stream: tonic::Streaming<pb::control::OperationEvent>,
    name: &str,
) -> anyhow::Result<bool> {
    let printer = session.printer();
    let mut name_width = None;
    let mut done = false;
    while let Some(event) = stream
        .message()
        .await
        .map_err(|s| session.rpc_error("WatchOperation", &session.control, &s))?
    {
        let width = match name_width {
            Some(width) => width,
            None => {
                let width = event
                    .operation
                    .as_ref()
                    .map_or(name.len(), |op| op.name.chars().count());
                if let Some(header) = printer.event_header(width) {
                    emit(&header)?;
                }
                *name_width.insert(width)
            }
        };
        emit(&printer.event(&event, width)?)?;
        done = event.operation.as_ref().is_some_and(|op| op.done);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::client::{OperationsArgs, Verb};
    use crate::cli::{Cli, Command};
    use clap::Parser as _;
    use pb::control::complete_operation_request::Result as CompleteResult;

    const NAME: &str = "projects/p/locations/l/operations/op-1";

    fn parse(args: &[&str]) -> Result<Verb, clap::Error> {
        let argv = ["longrun", "operations"].iter().chain(args).copied();
        let command = Cli::try_parse_from(argv)?.command;
        let Command::Operations(OperationsArgs { verb, .. }) = command else {
            panic!("parsed as {command:?}");
        };
        Ok(verb)
    }

    fn complete(args: &[&str]) -> Result<CompleteArgs, clap::Error> {
        let argv = ["complete"].iter().chain(args).copied().collect::<Vec<_>>();
        let Verb::Complete(complete) = parse(&argv)? else {
            panic!("not complete");
        };
        Ok(complete)
    }

    #[test]
    fn create_maps_flags_to_the_request() {
        let Ok(Verb::Create(create)) = parse(&[
            "create",
            "projects/p/locations/l",
            "--id",
            "op-1",
            "--request-id",
            "r-1",
            "--cancel-grace",
            "1.5s",
        ]) else {
            panic!("not create");
        };
        let request = create.request().expect("valid");
        assert_eq!(request.parent, "projects/p/locations/l");
        assert_eq!(request.operation_id, "op-1");
        assert_eq!(request.request_id, "r-1");
        assert_eq!(
            request.cancel_grace,
            Some(prost_types::Duration {
                seconds: 1,
                nanos: 500_000_000
            })
        );
        assert_eq!(request.metadata, None);
    }

    #[test]
    fn create_without_flags_leaves_choices_to_the_server() {
        let Ok(Verb::Create(create)) = parse(&["create", "projects/p/locations/l"]) else {
            panic!("not create");
        };
        let request = create.request().expect("valid");
        assert!(request.operation_id.is_empty());
        assert!(request.request_id.is_empty());
        assert_eq!(request.cancel_grace, None);
    }

    #[test]
    fn create_rejects_a_negative_cancel_grace() {
        assert!(parse(&["create", "projects/p/locations/l", "--cancel-grace", "-1s"]).is_err());
    }

    #[test]
    fn update_sends_operation_metadata_with_the_status_message() {
        let Ok(Verb::Update(update)) = parse(&["update", NAME, "--status-message", "50% done"])
        else {
            panic!("not update");
        };
        let request = update.request();
        assert_eq!(request.name, NAME);
        let any = request.metadata.expect("metadata");
        assert_eq!(any.type_url, type_url(METADATA_TYPE));
        let metadata =
            pb::control::OperationMetadata::decode(any.value.as_slice()).expect("decodes");
        assert_eq!(metadata.status_message, "50% done");
    }

    #[test]
    fn update_without_a_status_message_sends_no_metadata() {
        let Ok(Verb::Update(update)) = parse(&["update", NAME]) else {
            panic!("not update");
        };
        assert_eq!(update.request().metadata, None);
    }

    #[test]
    fn create_with_verb_and_target_sends_longrun_metadata() {
        let Ok(Verb::Create(create)) = parse(&[
            "create",
            "projects/p/locations/l",
            "--verb",
            "build",
            "--target",
            "projects/p/builds/1",
        ]) else {
            panic!("not create");
        };
        let any = create.request().expect("valid").metadata.expect("metadata");
        assert_eq!(any.type_url, type_url(METADATA_TYPE));
        let metadata =
            pb::control::OperationMetadata::decode(any.value.as_slice()).expect("decodes");
        assert_eq!(metadata.verb, "build");
        assert_eq!(metadata.target, "projects/p/builds/1");
        assert_eq!(metadata.status_message, "");
    }

    #[test]
    fn complete_cancelled_acknowledges_with_code_one() {
        let request = complete(&[NAME, "--cancelled"]).expect("parses").request();
        assert_eq!(request.name, NAME);
        assert_eq!(
            request.result,
            Some(CompleteResult::Error(pb::rpc::Status {
                code: 1,
                message: "cancelled by worker".into(),
                details: Vec::new(),
            }))
        );
    }

    #[test]
    fn complete_error_takes_code_by_number_or_name() {
        for code in ["5", "NOT_FOUND", "not_found"] {
            let request = complete(&[NAME, "--error-code", code, "--message", "gone"])
                .expect("parses")
                .request();
            assert_eq!(
                request.result,
                Some(CompleteResult::Error(pb::rpc::Status {
                    code: 5,
                    message: "gone".into(),
                    details: Vec::new(),
                }))
            );
        }
    }

    #[test]
    fn complete_empty_response_sends_google_protobuf_empty() {
        let request = complete(&[NAME, "--empty-response"])
            .expect("parses")
            .request();
        assert_eq!(
            request.result,
            Some(CompleteResult::Response(prost_types::Any {
                type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                value: Vec::new(),
            }))
        );
    }

    #[test]
    fn complete_requires_exactly_one_result() {
        let kind = |args: &[&str]| complete(args).err().map(|e| e.kind());
        use clap::error::ErrorKind;
        assert_eq!(kind(&[NAME]), Some(ErrorKind::MissingRequiredArgument));
        assert_eq!(
            kind(&[NAME, "--cancelled", "--empty-response"]),
            Some(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            kind(&[NAME, "--cancelled", "--error-code", "5", "--message", "m"]),
            Some(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            kind(&[NAME, "--error-code", "5"]),
            Some(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            kind(&[NAME, "--empty-response", "--message", "m"]),
            Some(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            kind(&[NAME, "--message", "m"]),
            Some(ErrorKind::MissingRequiredArgument)
        );
    }

    #[test]
    fn complete_rejects_ok_and_unknown_codes() {
        for bad in ["0", "OK", "17", "-1", "NOPE"] {
            assert!(
                complete(&[NAME, "--error-code", bad, "--message", "m"]).is_err(),
                "{bad}"
            );
        }
    }
}
