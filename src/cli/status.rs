//! How the client verbs report failures: a gRPC error as its code, message
//! and `ErrorInfo` reason (from `grpc-status-details-bin`), and a server that
//! cannot be reached as one line naming its URL. Pure text; no I/O.

use std::error::Error;

use tonic_types::{ErrorInfo, StatusExt};

use crate::pb;

/// The UPPER_SNAKE name of a `google.rpc.Code` number, as the API spells it.
pub fn code_name(code: i32) -> String {
    pb::code_name(code).map_or_else(|| format!("code {code}"), str::to_owned)
}

/// The `ErrorInfo` among the status details, when the server sent one.
/// Details that do not decode are ignored: the code and message still say
/// what went wrong.
pub fn error_info(status: &tonic::Status) -> Option<ErrorInfo> {
    status.check_error_details().ok()?.error_info().cloned()
}

/// One line for a failed call:
/// `GetOperation failed: NOT_FOUND: operation "..." not found (reason OPERATION_NOT_FOUND)`.
pub fn render_status(rpc: &str, status: &tonic::Status) -> String {
    let code = code_name(status.code() as i32);
    let message = one_line(status.message());
    let mut line = if message.is_empty() {
        format!("{rpc} failed: {code}")
    } else {
        format!("{rpc} failed: {code}: {message}")
    };
    if let Some(info) = error_info(status)
        && !info.reason.is_empty()
    {
        line.push_str(&format!(" (reason {})", one_line(&info.reason)));
    }
    line
}

/// Why a server at `url` could not be reached, with the whole error chain.
pub fn render_unreachable(url: &str, err: &(dyn Error + 'static)) -> String {
    format!("cannot reach the server at {url}: {}", error_chain(err))
}

/// `outer: inner: root`, skipping links that the previous one already ends
/// with: many errors print their source in their own message too.
pub fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

/// Server-provided text shown on a terminal: control characters (newlines,
/// escape sequences) become spaces so one value stays on one line and cannot
/// drive the terminal.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn status_with_reason(code: tonic::Code, message: &str, reason: &str) -> tonic::Status {
        let info = pb::rpc::ErrorInfo {
            reason: reason.to_owned(),
            domain: "longrun.example.com".to_owned(),
            metadata: Default::default(),
        };
        let details = pb::rpc::Status {
            code: code as i32,
            message: message.to_owned(),
            details: vec![
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.DebugInfo".to_owned(),
                    value: Vec::new(),
                },
                prost_types::Any {
                    type_url: crate::registry::type_url("google.rpc.ErrorInfo"),
                    value: info.encode_to_vec(),
                },
            ],
        };
        tonic::Status::with_details(code, message, details.encode_to_vec().into())
    }

    #[test]
    fn render_status_with_error_info_names_code_message_and_reason() {
        let status = status_with_reason(
            tonic::Code::NotFound,
            r#"operation "projects/p/locations/l/operations/x" not found"#,
            "OPERATION_NOT_FOUND",
        );
        assert_eq!(
            render_status("GetOperation", &status),
            r#"GetOperation failed: NOT_FOUND: operation "projects/p/locations/l/operations/x" not found (reason OPERATION_NOT_FOUND)"#
        );
    }

    #[test]
    fn render_status_without_details_has_no_reason() {
        let status = tonic::Status::unimplemented("cancellation is disabled");
        assert_eq!(
            render_status("CancelOperation", &status),
            "CancelOperation failed: UNIMPLEMENTED: cancellation is disabled"
        );
    }

    #[test]
    fn render_status_with_garbage_details_still_reports_code() {
        let status = tonic::Status::with_details(
            tonic::Code::Internal,
            "",
            bytes::Bytes::from_static(b"\xff\xff\xff"),
        );
        assert_eq!(
            render_status("ListOperations", &status),
            "ListOperations failed: INTERNAL"
        );
    }

    #[test]
    fn code_name_of_unknown_number_shows_the_number() {
        assert_eq!(code_name(1), "CANCELLED");
        assert_eq!(code_name(99), "code 99");
    }

    #[test]
    fn one_line_replaces_control_characters() {
        assert_eq!(one_line("a\nb\x1b[2Jc"), "a b [2Jc");
    }

    #[test]
    fn error_chain_leaves_out_a_source_its_outer_message_already_shows() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot start: {0}")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("type x is unknown"));
        assert_eq!(error_chain(&err), "cannot start: type x is unknown");
    }

    #[test]
    fn error_chain_joins_sources() {
        let err = anyhow::anyhow!("connection refused").context("tcp connect error");
        let err: &(dyn Error + 'static) = err.as_ref();
        assert_eq!(
            render_unreachable("http://127.0.0.1:1", err),
            "cannot reach the server at http://127.0.0.1:1: tcp connect error: connection refused"
        );
    }
}
