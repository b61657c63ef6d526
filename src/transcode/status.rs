//! The one table from gRPC codes to HTTP statuses (google/rpc/code.proto),
//! and Google's JSON error envelope:
//! `{"error": {"code", "message", "status", "details": [...]}}`, whose
//! details always hold an `ErrorInfo` (docs/behaviour.md §8: every error carries one).

use http::StatusCode;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use super::TranscodeError;
use super::response::tree::Json;
use super::response::{RenderOptions, render_tree, type_name};
use crate::pb;
use crate::registry::type_url;

const ERROR_INFO: &str = "google.rpc.ErrorInfo";

/// 499, nginx's "client closed request", which code.proto gives CANCELLED.
const CLIENT_CLOSED_REQUEST: StatusCode = match StatusCode::from_u16(499) {
    Ok(status) => status,
    Err(_) => panic!("499 is a valid status code"),
};

/// The one table from gRPC codes to HTTP statuses, as google/rpc/code.proto
/// gives them. Exhaustive on purpose: no code falls through to a default.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => CLIENT_CLOSED_REQUEST,
        Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::Aborted => StatusCode::CONFLICT,
        Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
    }
}

/// The code's name in google.rpc.Code, the envelope's `status`.
pub fn code_name(code: Code) -> &'static str {
    pb::code_name(code as i32).unwrap_or("UNKNOWN")
}

/// The HTTP status and JSON envelope for an RPC's error. The details come
/// from the `google.rpc.Status` in `grpc-status-details-bin`, each rendered
/// through `pool`; a detail whose type the pool does not know is left out
/// (and logged) rather than invented. Without an `ErrorInfo` among them, one
/// is added first: reason = the code's name, domain = `domain`.
pub fn error_body_from_status(
    status: &tonic::Status,
    pool: &DescriptorPool,
    domain: &str,
) -> (StatusCode, Vec<u8>) {
    let code = status.code();
    let carried = if status.details().is_empty() {
        Vec::new()
    } else {
        match pb::rpc::Status::decode(status.details()) {
            Ok(rpc_status) => rpc_status.details,
            Err(err) => {
                tracing::warn!(error = %err, "grpc-status-details-bin is not a google.rpc.Status");
                Vec::new()
            }
        }
    };
    let mut details = Vec::with_capacity(carried.len() + 1);
    let mut has_error_info = false;
    for any in &carried {
        match detail_json(any, pool) {
            Ok(json) => {
                has_error_info |= type_name(&any.type_url) == ERROR_INFO;
                details.push(json);
            }
            Err(err) => tracing::warn!(
                type_url = %any.type_url,
                error = %err,
                "an error detail cannot be shown as JSON; left out"
            ),
        }
    }
    if !has_error_info {
        details.insert(0, error_info(code_name(code), domain));
    }
    let http = http_status(code);
    (http, envelope(http, code, status.message(), details))
}

/// The RFC 6750 challenge for an authentication or scope refusal, read
/// from the status's code and ErrorInfo: no error code when credentials
/// were missing, `invalid_token` for a bad one, `insufficient_scope` with
/// the needed scopes on a 403. `None` for every other status.
pub fn www_authenticate(status: &tonic::Status, realm: &str) -> Option<http::HeaderValue> {
    let unauthenticated = status.code() == Code::Unauthenticated;
    if !unauthenticated && status.code() != Code::PermissionDenied {
        return None;
    }
    let details = status.check_error_details().ok();
    let info = details.as_ref().and_then(ErrorDetails::error_info);
    let reason = info.as_ref().map_or("", |i| i.reason.as_str());
    // Quoted-string values: drop what would end the quotes early.
    let quoted = |text: &str| text.replace(['"', '\\'], "");
    let realm = quoted(realm);
    let challenge = if unauthenticated && reason == "CREDENTIALS_MISSING" {
        format!("Bearer realm=\"{realm}\"")
    } else if unauthenticated {
        format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
    } else if reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT" {
        let scope = info
            .as_ref()
            .and_then(|i| i.metadata.get("scope"))
            .map_or_else(String::new, |s| quoted(s));
        format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\"")
    } else {
        return None;
    };
    http::HeaderValue::from_str(&challenge).ok()
}

/// The HTTP status and JSON envelope for the transcoder's own refusals:
/// an `ErrorInfo` (its reason) and, when it names fields, a `BadRequest`.
/// An internal error is logged and answered with a fixed message.
pub fn error_body(err: &TranscodeError, domain: &str) -> (StatusCode, Vec<u8>) {
    let message = match err.code {
        Code::Internal | Code::Unknown | Code::DataLoss => {
            tracing::error!(reason = err.reason, error = %err.message, "transcoding failed");
            "internal error"
        }
        Code::Ok
        | Code::Cancelled
        | Code::InvalidArgument
        | Code::DeadlineExceeded
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::Unavailable
        | Code::Unauthenticated => err.message.as_str(),
    };
    let mut details = vec![error_info(err.reason, domain)];
    if !err.field_violations.is_empty() {
        details.push(bad_request(&err.field_violations));
    }
    let http = err.http_status.unwrap_or_else(|| http_status(err.code));
    (http, envelope(http, err.code, message, details))
}

fn envelope(http: StatusCode, code: Code, message: &str, details: Vec<Json>) -> Vec<u8> {
    let mut error = vec![
        ("code".to_owned(), Json::Number(http.as_u16().into())),
        ("message".to_owned(), Json::string(message)),
        ("status".to_owned(), Json::string(code_name(code))),
    ];
    if !details.is_empty() {
        error.push(("details".to_owned(), Json::Array(details)));
    }
    Json::Object(vec![("error".to_owned(), Json::Object(error))]).to_bytes(false)
}

/// Written by hand, not through a pool: the transcoder's own errors must not
/// depend on which types are registered. Defaults are omitted, as in the
/// proto3 mapping.
fn error_info(reason: &str, domain: &str) -> Json {
    let mut entries = vec![("@type".to_owned(), Json::string(type_url(ERROR_INFO)))];
    if !reason.is_empty() {
        entries.push(("reason".to_owned(), Json::string(reason)));
    }
    if !domain.is_empty() {
        entries.push(("domain".to_owned(), Json::string(domain)));
    }
    Json::Object(entries)
}

fn bad_request(violations: &[(String, String)]) -> Json {
    let violations = violations
        .iter()
        .map(|(field, description)| {
            let mut entries = Vec::new();
            if !field.is_empty() {
                entries.push(("field".to_owned(), Json::string(field.as_str())));
            }
            if !description.is_empty() {
                entries.push(("description".to_owned(), Json::string(description.as_str())));
            }
            Json::Object(entries)
        })
        .collect();
    Json::Object(vec![
        (
            "@type".to_owned(),
            Json::string(type_url("google.rpc.BadRequest")),
        ),
        ("fieldViolations".to_owned(), Json::Array(violations)),
    ])
}

/// One detail as `{"@type": ..., fields}`, through the pool's Any.
fn detail_json(any: &prost_types::Any, pool: &DescriptorPool) -> Result<Json, TranscodeError> {
    let descriptor = pool
        .get_message_by_name("google.protobuf.Any")
        .ok_or_else(|| {
            TranscodeError::new(
                Code::Internal,
                "RESPONSE_NOT_RENDERABLE",
                "the descriptor pool has no google.protobuf.Any",
            )
        })?;
    let mut message = DynamicMessage::new(descriptor);
    message.transcode_from(any).map_err(|err| {
        TranscodeError::new(Code::Internal, "RESPONSE_NOT_RENDERABLE", err.to_string())
    })?;
    render_tree(&message, &RenderOptions::default())
}

#[cfg(test)]
mod tests;
