//! The public-API verbs (docs/behaviour.md §2): get, list, cancel, delete, over
//! google.longrunning.Operations. `wait` has its own file.

use anyhow::bail;
use clap::Args;

use super::client::{Session, emit};
use super::output::OutputFormat;
use super::status::one_line;
use crate::pb;

#[derive(Args, Debug)]
pub struct ListArgs {
    /// The parent: projects/P/locations/L (`-` as location lists every
    /// location).
    pub parent: String,

    /// AIP-160 filter on done, name, error.code and metadata fields, e.g.
    /// `done = false AND metadata.verb = "create"`.
    #[arg(long, default_value = "", hide_default_value = true)]
    pub filter: String,

    /// Operations per page (0: the server's default, 50; at most 1000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub page_size: i32,

    /// Start at this page (the next_page_token of an earlier listing, with
    /// the same filter).
    #[arg(long, default_value = "", hide_default_value = true)]
    pub page_token: String,

    /// Follow next_page_token to the last page and print them all.
    #[arg(long)]
    pub all: bool,
}

impl ListArgs {
    pub fn request(&self) -> pb::longrunning::ListOperationsRequest {
        pb::longrunning::ListOperationsRequest {
            name: self.parent.clone(),
            filter: self.filter.clone(),
            page_size: self.page_size,
            page_token: self.page_token.clone(),
            return_partial_success: false,
        }
    }
}

pub async fn get(session: &Session, name: String) -> anyhow::Result<()> {
    let mut client = session.public().await?;
    let request = session.unary(pb::longrunning::GetOperationRequest { name });
    let op = client
        .get_operation(request)
        .await
        .map_err(|s| session.rpc_error("GetOperation", &session.server, &s))?
        .into_inner();
    emit(&session.printer().operation(&op)?)
}

pub async fn list(session: &Session, args: &ListArgs) -> anyhow::Result<()> {
    let mut client = session.public().await?;
    let mut request = args.request();
    let mut all = pb::longrunning::ListOperationsResponse::default();
    loop {
        let page = client
            .list_operations(session.unary(request.clone()))
            .await
            .map_err(|s| session.rpc_error("ListOperations", &session.server, &s))?
            .into_inner();
        all.operations.extend(page.operations);
        all.unreachable.extend(page.unreachable);
        if !args.all || page.next_page_token.is_empty() {
            all.next_page_token = page.next_page_token;
            break;
        }
        // A server that hands back the token it was given would loop forever.
        if page.next_page_token == request.page_token {
            bail!("ListOperations returned the same page token twice; stopping");
        }
        request.page_token = page.next_page_token;
    }
    let text = session.printer().list(&all)?;
    if text.is_empty() {
        super::note(format_args!("no operations under {}", args.parent));
    } else {
        emit(&text)?;
    }
    if session.format == OutputFormat::Table && !all.next_page_token.is_empty() {
        super::note(format_args!(
            "more operations: --page-token {} (or --all)",
            one_line(&all.next_page_token)
        ));
    }
    Ok(())
}

pub async fn cancel(session: &Session, name: String) -> anyhow::Result<()> {
    let mut client = session.public().await?;
    let request = session.unary(pb::longrunning::CancelOperationRequest { name: name.clone() });
    client
        .cancel_operation(request)
        .await
        .map_err(|s| session.rpc_error("CancelOperation", &session.server, &s))?;
    emit(
        &session
            .printer()
            .empty(&format!("cancellation requested: {name}")),
    )
}

pub async fn delete(session: &Session, name: String) -> anyhow::Result<()> {
    let mut client = session.public().await?;
    let request = session.unary(pb::longrunning::DeleteOperationRequest { name: name.clone() });
    client
        .delete_operation(request)
        .await
        .map_err(|s| session.rpc_error("DeleteOperation", &session.server, &s))?;
    emit(&session.printer().empty(&format!("deleted: {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::client::{OperationsArgs, Verb};
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<Verb, clap::Error> {
        let argv = ["longrun", "operations"].iter().chain(args).copied();
        let command = Cli::try_parse_from(argv)?.command;
        let Command::Operations(OperationsArgs { verb, .. }) = command else {
            panic!("parsed as {command:?}");
        };
        Ok(verb)
    }

    fn verb(args: &[&str]) -> Verb {
        parse(args).expect("parses")
    }

    #[test]
    fn list_builds_the_request_from_its_flags() {
        let Verb::List(list) = verb(&[
            "list",
            "projects/p/locations/-",
            "--filter",
            "done = false",
            "--page-size",
            "10",
            "--page-token",
            "abc",
            "--all",
        ]) else {
            panic!("not list");
        };
        assert!(list.all);
        assert_eq!(
            list.request(),
            pb::longrunning::ListOperationsRequest {
                name: "projects/p/locations/-".into(),
                filter: "done = false".into(),
                page_size: 10,
                page_token: "abc".into(),
                return_partial_success: false,
            }
        );
    }

    #[test]
    fn list_defaults_to_one_server_sized_page() {
        let Verb::List(list) = verb(&["list", "projects/p/locations/l"]) else {
            panic!("not list");
        };
        assert!(!list.all);
        assert_eq!(list.request().page_size, 0);
        assert!(list.request().filter.is_empty());
    }

    #[test]
    fn list_rejects_negative_page_size() {
        assert!(parse(&["list", "projects/p/locations/l", "--page-size", "-1"]).is_err());
    }
}
