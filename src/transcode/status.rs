//! Placeholder with the final API; the status table lands on its own branch.
use prost_reflect::DescriptorPool;

use super::TranscodeError;

pub fn http_status(_code: tonic::Code) -> http::StatusCode {
    http::StatusCode::INTERNAL_SERVER_ERROR
}

pub fn error_body_from_status(
    _status: &tonic::Status,
    _pool: &DescriptorPool,
    _domain: &str,
) -> (http::StatusCode, Vec<u8>) {
    (http::StatusCode::INTERNAL_SERVER_ERROR, b"{}".to_vec())
}

pub fn error_body(_err: &TranscodeError, _domain: &str) -> (http::StatusCode, Vec<u8>) {
    (http::StatusCode::INTERNAL_SERVER_ERROR, b"{}".to_vec())
}
