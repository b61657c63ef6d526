//! The one table from `ErrorKind` to `tonic::Code`, and the `tonic::Status`
//! built from a use-case failure: a message, an `ErrorInfo` with the reason,
//! and for server-side failures a `RequestInfo` with the request id, the
//! detail going to the log only.

use prost::Message;
use tonic::Code;

use super::edge::current_request_id;
use crate::domain::ErrorKind;
use crate::pb;
use crate::service::ServiceError;

const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const REQUEST_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RequestInfo";

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
/// `google.rpc.Status` with an `ErrorInfo` (reason, domain, metadata).
pub fn status_with_info(
    code: Code,
    message: String,
    reason: &str,
    domain: &str,
    metadata: impl IntoIterator<Item = (String, String)>,
) -> tonic::Status {
    status_with_details(code, message, error_info(reason, domain, metadata), None)
}

fn error_info(
    reason: &str,
    domain: &str,
    metadata: impl IntoIterator<Item = (String, String)>,
) -> prost_types::Any {
    let info = pb::rpc::ErrorInfo {
        reason: reason.to_owned(),
        domain: domain.to_owned(),
        metadata: metadata.into_iter().collect(),
    };
    prost_types::Any {
        type_url: ERROR_INFO_TYPE.to_owned(),
        value: info.encode_to_vec(),
    }
}

fn status_with_details(
    code: Code,
    message: String,
    info: prost_types::Any,
    request_id: Option<&str>,
) -> tonic::Status {
    let mut details = vec![info];
    if let Some(request_id) = request_id {
        let request_info = pb::rpc::RequestInfo {
            request_id: request_id.to_owned(),
            serving_data: String::new(),
        };
        details.push(prost_types::Any {
            type_url: REQUEST_INFO_TYPE.to_owned(),
            value: request_info.encode_to_vec(),
        });
    }
    let status = pb::rpc::Status {
        code: code as i32,
        message: message.clone(),
        details,
    };
    tonic::Status::with_details(code, message, status.encode_to_vec().into())
}

/// Converts a use-case failure for the wire. Server-side failures are logged
/// with their whole chain and the request id, which the client also gets
/// (`RequestInfo`) next to a fixed message.
pub fn error_status(err: &ServiceError, domain: &str) -> tonic::Status {
    let kind = err.kind();
    let info = error_info(
        err.reason(),
        domain,
        err.metadata().into_iter().map(|(k, v)| (k.to_owned(), v)),
    );
    if kind.is_client_error() {
        return status_with_details(code_for(kind), err.public_message(), info, None);
    }
    let request_id = current_request_id();
    tracing::error!(
        request_id = request_id.as_deref().unwrap_or("-"),
        error = %err,
        debug = ?err,
        "request failed"
    );
    status_with_details(
        code_for(kind),
        err.public_message(),
        info,
        request_id.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = ServiceError::Store(crate::store::StoreError::Backend("disk on fire".into()));
        let status = super::super::edge::with_request_id("req-42", async {
            error_status(&err, "longrun.example.com")
        })
        .await;
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
        let details = pb::rpc::Status::decode(status.details()).expect("details decode");
        let request_info = details
            .details
            .iter()
            .find(|any| any.type_url == REQUEST_INFO_TYPE)
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
        assert_eq!(details.details.len(), 1);
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
