//! The one table from `ErrorKind` to `tonic::Code`, and the `tonic::Status`
//! built from a use-case failure: a message, an `ErrorInfo` with the reason,
//! and for server-side failures a `RequestInfo` with the request id, the
//! detail going to the log only.

use std::collections::HashMap;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use super::edge::current_request_id;
use crate::domain::ErrorKind;
use crate::service::ServiceError;

/// The one table from error kinds to gRPC codes. Exhaustive on purpose: a
/// new kind does not compile until it has a code.
pub fn code_for(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::Aborted => Code::Aborted,
        ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::ResourceExhausted => Code::ResourceExhausted,
        ErrorKind::DeadlineExceeded => Code::DeadlineExceeded,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Unimplemented => Code::Unimplemented,
        ErrorKind::Internal => Code::Internal,
    }
}

/// A `tonic::Status` whose `grpc-status-details-bin` carries a
/// `google.rpc.Status` with an `ErrorInfo` (reason, domain, metadata): the
/// one place longrun's statuses get their details.
pub fn status_with_info(
    code: Code,
    message: String,
    reason: &str,
    domain: &str,
    metadata: impl IntoIterator<Item = (String, String)>,
) -> tonic::Status {
    tonic::Status::with_error_details(code, message, error_details(reason, domain, metadata))
}

/// An `ErrorInfo`, the detail every error carries (docs/behaviour.md §8).
fn error_details(
    reason: &str,
    domain: &str,
    metadata: impl IntoIterator<Item = (String, String)>,
) -> ErrorDetails {
    let metadata: HashMap<String, String> = metadata.into_iter().collect();
    ErrorDetails::with_error_info(reason, domain, metadata)
}

/// Converts a use-case failure for the wire. Server-side failures are logged
/// with their whole chain and the request id, which the client also gets
/// (`RequestInfo`) next to a fixed message.
pub fn error_status(err: &ServiceError, domain: &str) -> tonic::Status {
    let kind = err.kind();
    let mut details = error_details(
        err.reason(),
        domain,
        err.metadata().into_iter().map(|(k, v)| (k.to_owned(), v)),
    );
    if err.must_be_logged() {
        let request_id = current_request_id();
        let request = request_id.as_deref().unwrap_or("-");
        if kind.is_client_error() {
            // A store conflict: the client retries; the log keeps why.
            tracing::warn!(request_id = request, error = %err, "request failed");
        } else {
            tracing::error!(request_id = request, error = %err, debug = ?err, "request failed");
        }
        if let Some(request_id) = request_id {
            details.set_request_info(request_id, "");
        }
    }
    tonic::Status::with_error_details(code_for(kind), err.public_message(), details)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::pb;

    #[test]
    fn every_error_kind_has_its_own_grpc_code() {
        let codes: std::collections::HashSet<_> =
            ErrorKind::ALL.iter().map(|k| code_for(*k) as i32).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert!(!codes.contains(&(Code::Ok as i32)));
        assert!(!codes.contains(&(Code::Unknown as i32)));
    }

    #[test]
    fn error_kind_table_matches_google_rpc_code() {
        let expected = [
            (ErrorKind::InvalidArgument, 3),
            (ErrorKind::NotFound, 5),
            (ErrorKind::AlreadyExists, 6),
            (ErrorKind::FailedPrecondition, 9),
            (ErrorKind::Aborted, 10),
            (ErrorKind::Unauthenticated, 16),
            (ErrorKind::PermissionDenied, 7),
            (ErrorKind::ResourceExhausted, 8),
            (ErrorKind::DeadlineExceeded, 4),
            (ErrorKind::Unavailable, 14),
            (ErrorKind::Unimplemented, 12),
            (ErrorKind::Internal, 13),
        ];
        assert_eq!(expected.len(), ErrorKind::ALL.len());
        for (kind, code) in expected {
            assert_eq!(code_for(kind) as i32, code, "{kind}");
        }
    }

    #[tokio::test]
    async fn server_failure_carries_the_request_id_and_a_fixed_message() {
        let err = ServiceError::Store {
            subject: crate::service::Subject::Server,
            source: crate::store::StoreError::Backend("disk on fire".into()),
        };
        let status = super::super::edge::with_request_id("req-42", async {
            error_status(&err, "longrun.example.com")
        })
        .await;
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(
            status.message(),
            "internal error while storing the server's operations"
        );
        assert!(!status.message().contains("disk on fire"));
        let details = pb::rpc::Status::decode(status.details()).expect("details decode");
        let request_info = details
            .details
            .iter()
            .find(|any| any.type_url == "type.googleapis.com/google.rpc.RequestInfo")
            .expect("a RequestInfo detail");
        let info = pb::rpc::RequestInfo::decode(request_info.value.as_slice()).expect("decodes");
        assert_eq!(info.request_id, "req-42");
    }

    #[test]
    fn status_carries_error_info_detail() {
        let err = ServiceError::NotFound("projects/p/locations/l/operations/x".into());
        let status = error_status(&err, "longrun.example.com");
        assert_eq!(status.code(), Code::NotFound);
        let details = pb::rpc::Status::decode(status.details()).expect("details decode");
        assert_eq!(
            details.details.len(),
            1,
            "no RequestInfo for a client's error"
        );
        assert_eq!(
            details.details[0].type_url,
            "type.googleapis.com/google.rpc.ErrorInfo"
        );
        let info = pb::rpc::ErrorInfo::decode(details.details[0].value.as_slice())
            .expect("error info decodes");
        assert_eq!(info.reason, "OPERATION_NOT_FOUND");
        assert_eq!(info.domain, "longrun.example.com");
        assert_eq!(
            info.metadata.get("operation").map(String::as_str),
            Some("projects/p/locations/l/operations/x")
        );
    }
}
