//! `TranscodeError`: a request the transcoder refuses before calling the RPC,
//! or a response it cannot render, with the gRPC code, `ErrorInfo` reason and
//! message it becomes in Google's error envelope.

use http::StatusCode;
use tonic::Code;

/// A request the transcoder refuses before (or instead of) calling the RPC,
/// or a response it cannot render. Becomes Google's error envelope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TranscodeError {
    pub code: Code,
    /// `ErrorInfo.reason`, UPPER_SNAKE_CASE.
    pub reason: &'static str,
    pub message: String,
    /// `BadRequest.field_violations`: (field, description).
    pub field_violations: Vec<(String, String)>,
    /// An HTTP status that the `Code` table does not give (404 for no route,
    /// 405, 413, 415); `None` uses the table.
    pub http_status: Option<StatusCode>,
}

impl TranscodeError {
    pub fn new(code: Code, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            field_violations: Vec::new(),
            http_status: None,
        }
    }

    /// INVALID_ARGUMENT about one field, with a `BadRequest` violation.
    pub fn bad_field(
        reason: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let field = field.into();
        Self {
            field_violations: vec![(field, message.clone())],
            ..Self::new(Code::InvalidArgument, reason, message)
        }
    }

    pub fn with_http_status(mut self, status: StatusCode) -> Self {
        self.http_status = Some(status);
        self
    }
}
