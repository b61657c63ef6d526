use prost::Message;
use tonic::Code;

use crate::domain::ErrorKind;
use crate::pb;
use crate::service::ServiceError;

const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";

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
    let info = pb::rpc::ErrorInfo {
        reason: reason.to_owned(),
        domain: domain.to_owned(),
        metadata: metadata.into_iter().collect(),
    };
    let details = pb::rpc::Status {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: ERROR_INFO_TYPE.to_owned(),
            value: info.encode_to_vec(),
        }],
    };
    tonic::Status::with_details(code, message, details.encode_to_vec().into())
}

/// Converts a use-case failure for the wire. Internal failures are logged
/// with their whole chain; the client sees a fixed message.
pub fn error_status(err: &ServiceError, domain: &str) -> tonic::Status {
    let kind = err.kind();
    if !kind.is_client_error() {
        tracing::error!(error = %err, debug = ?err, "request failed");
    }
    status_with_info(
        code_for(kind),
        err.public_message(),
        err.reason(),
        domain,
        err.metadata().into_iter().map(|(k, v)| (k.to_owned(), v)),
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
