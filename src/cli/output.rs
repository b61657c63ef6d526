//! How the client verbs print operations: an aligned table for people, or the
//! proto3 JSON mapping (json.rs) for programs. Pure functions from messages
//! to text; the caller does the I/O.

use prost::Message;

use super::json::json_text;
use super::status::{code_name, one_line};
use crate::pb;
use crate::pb::longrunning::operation::Result as OperationResult;
use crate::registry::TypeRegistry;

const METADATA_TYPE: &str = "longrun.v1.OperationMetadata";
const HEADER: [&str; 6] = [
    "NAME",
    "DONE",
    "RESULT",
    "CREATED",
    "CANCEL REQUESTED",
    "STATUS",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Turns responses into the text of the chosen format.
pub struct Printer<'a> {
    pub format: OutputFormat,
    pub registry: &'a TypeRegistry,
}

impl Printer<'_> {
    /// One operation: a one-row table or a pretty JSON object.
    pub fn operation(&self, op: &pb::longrunning::Operation) -> anyhow::Result<String> {
        match self.format {
            OutputFormat::Table => Ok(operations_table(std::slice::from_ref(op))),
            OutputFormat::Json => {
                json_text(self.registry, "google.longrunning.Operation", op, true)
            }
        }
    }

    /// A page (or all pages) of a listing. The table is empty text when there
    /// are no operations; JSON is always the whole `ListOperationsResponse`.
    pub fn list(&self, page: &pb::longrunning::ListOperationsResponse) -> anyhow::Result<String> {
        match self.format {
            OutputFormat::Table if page.operations.is_empty() => Ok(String::new()),
            OutputFormat::Table => Ok(operations_table(&page.operations)),
            OutputFormat::Json => json_text(
                self.registry,
                "google.longrunning.ListOperationsResponse",
                page,
                true,
            ),
        }
    }

    /// What a call that returns `google.protobuf.Empty` prints.
    pub fn empty(&self, done: &str) -> String {
        match self.format {
            OutputFormat::Table => done.to_owned(),
            OutputFormat::Json => "{}".to_owned(),
        }
    }

    /// The header line of a watch, or nothing for JSON.
    pub fn event_header(&self, name_width: usize) -> Option<String> {
        match self.format {
            OutputFormat::Table => {
                Some(watch_line(name_width, "NAME", "CANCEL REQUESTED", "STATE"))
            }
            OutputFormat::Json => None,
        }
    }

    /// One watch event on one line: a table row or a compact JSON object.
    pub fn event(
        &self,
        event: &pb::control::OperationEvent,
        name_width: usize,
    ) -> anyhow::Result<String> {
        match self.format {
            OutputFormat::Table => Ok(event_row(event, name_width)),
            OutputFormat::Json => {
                json_text(self.registry, "longrun.v1.OperationEvent", event, false)
            }
        }
    }
}

pub use crate::registry::type_name;

/// The metadata, when it is longrun's own `OperationMetadata`.
pub fn longrun_metadata(op: &pb::longrunning::Operation) -> Option<pb::control::OperationMetadata> {
    let any = op.metadata.as_ref()?;
    if type_name(&any.type_url) != METADATA_TYPE {
        return None;
    }
    pb::control::OperationMetadata::decode(any.value.as_slice()).ok()
}

/// How the operation ended: `CANCELLED: message`, `response: pkg.Type`, or
/// `-` while it runs.
pub fn result_text(op: &pb::longrunning::Operation) -> String {
    match &op.result {
        Some(OperationResult::Error(status)) if status.message.is_empty() => code_name(status.code),
        Some(OperationResult::Error(status)) => {
            format!("{}: {}", code_name(status.code), one_line(&status.message))
        }
        Some(OperationResult::Response(any)) => {
            format!("response: {}", one_line(type_name(&any.type_url)))
        }
        None if op.done => "done without a result".to_owned(),
        None => "-".to_owned(),
    }
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// RFC 3339 to the second: a table column has no room for nanoseconds.
fn timestamp_text(ts: &prost_types::Timestamp) -> String {
    prost_types::Timestamp {
        seconds: ts.seconds,
        nanos: 0,
    }
    .to_string()
}

fn row(op: &pb::longrunning::Operation) -> [String; 6] {
    let metadata = longrun_metadata(op);
    let created = metadata
        .as_ref()
        .and_then(|m| m.create_time.as_ref())
        .map_or_else(|| "-".to_owned(), timestamp_text);
    let cancel = metadata
        .as_ref()
        .map_or("-", |m| yes_no(m.requested_cancellation));
    let status = metadata
        .as_ref()
        .map(|m| one_line(&m.status_message))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_owned());
    [
        one_line(&op.name),
        yes_no(op.done).to_owned(),
        result_text(op),
        created,
        cancel.to_owned(),
        status,
    ]
}

/// NAME, DONE, RESULT, CREATED, CANCEL REQUESTED, STATUS; columns aligned,
/// no trailing spaces. CREATED, CANCEL REQUESTED and STATUS come from the
/// metadata when it is longrun.v1.OperationMetadata, else `-`.
pub fn operations_table(ops: &[pb::longrunning::Operation]) -> String {
    let header = HEADER.map(str::to_owned);
    let rows: Vec<[String; 6]> = std::iter::once(header).chain(ops.iter().map(row)).collect();
    let mut widths = [0usize; 6];
    for cells in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for cells in &rows {
        let mut line = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A watch prints as events arrive, so its columns cannot be measured up
/// front: the name is fixed, the flag fits its header, and the one column of
/// varying width comes last.
fn watch_line(name_width: usize, name: &str, cancel: &str, state: &str) -> String {
    format!("{name:<name_width$}  {cancel:<16}  {state}")
        .trim_end()
        .to_owned()
}

fn event_row(event: &pb::control::OperationEvent, name_width: usize) -> String {
    let Some(op) = &event.operation else {
        return watch_line(name_width, "-", yes_no(event.cancel_requested), "-");
    };
    let state = if op.done {
        format!("done: {}", result_text(op))
    } else {
        match longrun_metadata(op).map(|m| one_line(&m.status_message)) {
            Some(status) if !status.is_empty() => format!("running: {status}"),
            Some(_) | None => "running".to_owned(),
        }
    };
    watch_line(
        name_width,
        &one_line(&op.name),
        yes_no(event.cancel_requested),
        &state,
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    pub(in crate::cli) fn metadata(status: &str, cancel: bool) -> prost_types::Any {
        let metadata = pb::control::OperationMetadata {
            create_time: Some(prost_types::Timestamp {
                seconds: 1_767_323_045, // 2026-01-02T03:04:05Z
                nanos: 123_000_000,
            }),
            status_message: status.to_owned(),
            requested_cancellation: cancel,
            ..Default::default()
        };
        prost_types::Any {
            type_url: format!("type.googleapis.com/{METADATA_TYPE}"),
            value: metadata.encode_to_vec(),
        }
    }

    pub(in crate::cli) fn running() -> pb::longrunning::Operation {
        pb::longrunning::Operation {
            name: "projects/p/locations/l/operations/running".into(),
            metadata: Some(metadata("copying\nblobs", false)),
            done: false,
            result: None,
        }
    }

    pub(in crate::cli) fn cancelled() -> pb::longrunning::Operation {
        pb::longrunning::Operation {
            name: "projects/p/locations/l/operations/c".into(),
            metadata: Some(metadata("", true)),
            done: true,
            result: Some(OperationResult::Error(pb::rpc::Status {
                code: 1,
                message: "cancelled by worker".into(),
                details: Vec::new(),
            })),
        }
    }

    pub(in crate::cli) fn succeeded() -> pb::longrunning::Operation {
        pb::longrunning::Operation {
            name: "projects/p/locations/l/operations/ok".into(),
            metadata: None,
            done: true,
            result: Some(OperationResult::Response(prost_types::Any {
                type_url: "type.googleapis.com/google.protobuf.Empty".into(),
                value: Vec::new(),
            })),
        }
    }

    pub(in crate::cli) fn printer(registry: &TypeRegistry, format: OutputFormat) -> Printer<'_> {
        Printer { format, registry }
    }

    pub(in crate::cli) fn builtin() -> TypeRegistry {
        TypeRegistry::builtin().expect("builtin registry")
    }

    #[test]
    fn table_of_running_cancelled_and_succeeded_operations_is_aligned() {
        let table = operations_table(&[running(), cancelled(), succeeded()]);
        let expected = "\
NAME                                       DONE  RESULT                           CREATED               CANCEL REQUESTED  STATUS
projects/p/locations/l/operations/running  no    -                                2026-01-02T03:04:05Z  no                copying blobs
projects/p/locations/l/operations/c        yes   CANCELLED: cancelled by worker   2026-01-02T03:04:05Z  yes               -
projects/p/locations/l/operations/ok       yes   response: google.protobuf.Empty  -                     -                 -
";
        assert_eq!(table, expected);
    }

    #[test]
    fn table_of_foreign_metadata_shows_dashes() {
        let mut op = running();
        op.metadata = Some(prost_types::Any {
            type_url: "type.googleapis.com/acme.v1.Progress".into(),
            value: vec![1, 2, 3],
        });
        let table = operations_table(&[op]);
        let row = table.lines().nth(1).expect("one row");
        assert!(
            row.ends_with("no    -       -        -                 -"),
            "{row}"
        );
    }

    #[test]
    fn result_of_an_error_without_message_is_the_code_name() {
        let mut op = cancelled();
        op.result = Some(OperationResult::Error(pb::rpc::Status {
            code: 4,
            message: String::new(),
            details: Vec::new(),
        }));
        assert_eq!(result_text(&op), "DEADLINE_EXCEEDED");
    }

    #[test]
    fn list_table_of_no_operations_is_empty_and_json_is_the_response() {
        let registry = builtin();
        let page = pb::longrunning::ListOperationsResponse {
            operations: Vec::new(),
            next_page_token: "t".into(),
            unreachable: Vec::new(),
        };
        assert_eq!(
            printer(&registry, OutputFormat::Table)
                .list(&page)
                .expect("ok"),
            ""
        );
        let text = printer(&registry, OutputFormat::Json)
            .list(&page)
            .expect("ok");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value, json!({"nextPageToken": "t"}));
    }

    #[test]
    fn watch_events_print_one_line_each() {
        let registry = builtin();
        let table = printer(&registry, OutputFormat::Table);
        let width = running().name.len();
        let event = |op, cancel_requested| pb::control::OperationEvent {
            operation: Some(op),
            cancel_requested,
        };
        assert_eq!(
            table.event_header(width).expect("table has a header"),
            "NAME                                       CANCEL REQUESTED  STATE"
        );
        assert_eq!(
            table.event(&event(running(), true), width).expect("ok"),
            "projects/p/locations/l/operations/running  yes               running: copying blobs"
        );
        assert_eq!(
            table.event(&event(cancelled(), true), width).expect("ok"),
            "projects/p/locations/l/operations/c        yes               done: CANCELLED: cancelled by worker"
        );
        let json = printer(&registry, OutputFormat::Json);
        assert_eq!(json.event_header(width), None);
        let line = json.event(&event(succeeded(), false), width).expect("ok");
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(value["operation"]["done"], json!(true));
        assert_eq!(value.get("cancelRequested"), None);
    }
}
