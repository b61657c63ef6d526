//! `ServiceError`: why a use case failed, gathering the errors of the domain,
//! auth and the store. Each variant knows its `ErrorKind`, its `ErrorInfo`
//! reason and metadata, and the message a client may see.

use crate::auth::AuthError;
use crate::domain::filter::FilterError;
use crate::domain::{DurationError, ErrorKind, NameError, TransitionError};
use crate::store::StoreError;

/// Why a use case failed. Each variant knows its kind and the `ErrorInfo`
/// reason that machine clients read.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error(transparent)]
    InvalidFilter(#[from] FilterError),
    #[error("invalid {field}: {message}")]
    InvalidArgument {
        field: &'static str,
        message: String,
    },
    #[error("invalid {field}: {source}")]
    InvalidDuration {
        field: &'static str,
        source: DurationError,
    },
    #[error("invalid page_token: {0}")]
    InvalidPageToken(&'static str),
    #[error("operation \"{0}\" not found")]
    NotFound(String),
    #[error("operation \"{0}\" already exists")]
    AlreadyExists(String),
    #[error("operation \"{name}\" is already done")]
    AlreadyDone { name: String },
    #[error("operation \"{0}\" changed too often concurrently; retry")]
    Contended(String),
    #[error("cancelling operations is disabled on this server")]
    CancelDisabled,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("too many open waits and watches on this server; retry later")]
    TooManyWaiters,
    #[error(
        "default metadata type {0:?} is not a known message: it must be longrun's own (longrun.v1.OperationMetadata) or come from a registered descriptor set"
    )]
    UnknownMetadataType(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::InvalidName(_)
            | ServiceError::InvalidFilter(_)
            | ServiceError::InvalidArgument { .. }
            | ServiceError::InvalidDuration { .. }
            | ServiceError::InvalidPageToken(_)
            | ServiceError::UnknownMetadataType(_) => ErrorKind::InvalidArgument,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::AlreadyExists(_) => ErrorKind::AlreadyExists,
            ServiceError::AlreadyDone { .. } => ErrorKind::FailedPrecondition,
            ServiceError::Contended(_) => ErrorKind::Aborted,
            ServiceError::CancelDisabled => ErrorKind::Unimplemented,
            ServiceError::ShuttingDown => ErrorKind::Unavailable,
            ServiceError::TooManyWaiters => ErrorKind::ResourceExhausted,
            ServiceError::Store(err) => err.kind(),
            ServiceError::Auth(err) => err.kind(),
        }
    }

    /// The `ErrorInfo.reason`: UPPER_SNAKE_CASE, stable, documented.
    pub fn reason(&self) -> &'static str {
        match self {
            ServiceError::InvalidName(_) => "INVALID_NAME",
            ServiceError::InvalidFilter(_) => "INVALID_FILTER",
            ServiceError::InvalidArgument { .. } => "INVALID_ARGUMENT",
            ServiceError::InvalidDuration { .. } => "INVALID_DURATION",
            ServiceError::InvalidPageToken(_) => "INVALID_PAGE_TOKEN",
            ServiceError::NotFound(_) => "OPERATION_NOT_FOUND",
            ServiceError::AlreadyExists(_) => "OPERATION_ALREADY_EXISTS",
            ServiceError::AlreadyDone { .. } => "OPERATION_ALREADY_DONE",
            ServiceError::Contended(_) => "CONCURRENT_MODIFICATION",
            ServiceError::CancelDisabled => "CANCEL_DISABLED",
            ServiceError::ShuttingDown => "SHUTTING_DOWN",
            ServiceError::TooManyWaiters => "TOO_MANY_WAITERS",
            ServiceError::UnknownMetadataType(_) => "UNKNOWN_METADATA_TYPE",
            ServiceError::Store(StoreError::Unavailable(_) | StoreError::Closed) => {
                "STORE_UNAVAILABLE"
            }
            ServiceError::Store(StoreError::Corrupt(_) | StoreError::Backend(_)) => "INTERNAL",
            ServiceError::Store(StoreError::Conflict(_)) => "CONCURRENT_MODIFICATION",
            ServiceError::Auth(err) => err.reason(),
        }
    }

    /// `ErrorInfo.metadata`: the resource or field the error is about.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            ServiceError::NotFound(name)
            | ServiceError::AlreadyExists(name)
            | ServiceError::Contended(name)
            | ServiceError::AlreadyDone { name } => vec![("operation", name.clone())],
            ServiceError::InvalidFilter(err) => {
                vec![
                    ("field", "filter".into()),
                    ("position", err.position.to_string()),
                ]
            }
            ServiceError::InvalidArgument { field, .. }
            | ServiceError::InvalidDuration { field, .. } => vec![("field", (*field).into())],
            ServiceError::InvalidPageToken(_) => vec![("field", "page_token".into())],
            ServiceError::InvalidName(_)
            | ServiceError::CancelDisabled
            | ServiceError::ShuttingDown
            | ServiceError::TooManyWaiters
            | ServiceError::UnknownMetadataType(_)
            | ServiceError::Store(_) => Vec::new(),
            ServiceError::Auth(err) => err.metadata(),
        }
    }

    /// The message a client sees. Internal failures get a fixed text; their
    /// detail goes to the log only.
    pub fn public_message(&self) -> String {
        if self.kind() == ErrorKind::Internal {
            "internal error".to_owned()
        } else {
            self.to_string()
        }
    }

    pub(crate) fn from_transition(err: TransitionError, name: &str) -> Self {
        match err {
            TransitionError::AlreadyDone => ServiceError::AlreadyDone {
                name: name.to_owned(),
            },
        }
    }
}
