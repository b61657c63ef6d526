//! Why a use case failed, in one enum whose variants know their kind, their
//! `ErrorInfo` reason and metadata, and the message a client may see.

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
    /// The store failed; `subject` is what the call was about. The store's
    /// own text is for the log only (see `public_message`).
    #[error("{subject}: {source}")]
    Store {
        subject: Subject,
        source: StoreError,
    },
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
            ServiceError::Store { source, .. } => source.kind(),
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
            ServiceError::Store { source, .. } => match source {
                StoreError::Unavailable(_) | StoreError::Closed => "STORE_UNAVAILABLE",
                StoreError::Corrupt(_) | StoreError::Backend(_) => "INTERNAL",
                StoreError::Conflict(_) => "CONCURRENT_MODIFICATION",
            },
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
            | ServiceError::UnknownMetadataType(_) => Vec::new(),
            ServiceError::Store { subject, .. } => subject.metadata(),
            ServiceError::Auth(err) => err.metadata(),
        }
    }

    /// The message a client sees, always in our own words: internal
    /// failures get a fixed text, and a store failure says what happened to
    /// the resource, never what the database said (that goes to the log,
    /// see `must_be_logged`).
    pub fn public_message(&self) -> String {
        if let ServiceError::Store { subject, source } = self {
            return match source {
                StoreError::Unavailable(_) | StoreError::Closed => format!(
                    "{subject} cannot be reached right now: the server's storage is not answering; retry later"
                ),
                StoreError::Conflict(_) => {
                    format!("{subject} was changed by a concurrent request; retry")
                }
                StoreError::Corrupt(_) | StoreError::Backend(_) => {
                    format!("internal error while storing {subject}")
                }
            };
        }
        if self.kind() == ErrorKind::Internal {
            "internal error".to_owned()
        } else {
            self.to_string()
        }
    }

    /// Whether the server's log must have this failure, with its whole text
    /// and the request id: every server-side failure, and every store
    /// failure, whose detail the client never sees.
    pub fn must_be_logged(&self) -> bool {
        !self.kind().is_client_error() || matches!(self, ServiceError::Store { .. })
    }

    pub(crate) fn from_transition(err: TransitionError, name: &str) -> Self {
        match err {
            TransitionError::AlreadyDone => ServiceError::AlreadyDone {
                name: name.to_owned(),
            },
        }
    }
}

/// What a store call was about: the resource a client's message names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Operation(String),
    /// The operations under a parent (List).
    Operations(String),
    /// The server's own state (page-token key, health, timers).
    Server,
}

impl Subject {
    fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            Subject::Operation(name) => vec![("operation", name.clone())],
            Subject::Operations(parent) => vec![("parent", parent.clone())],
            Subject::Server => Vec::new(),
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Operation(name) => write!(f, "operation {name:?}"),
            Subject::Operations(parent) => write!(f, "the operations of {parent:?}"),
            Subject::Server => f.write_str("the server's operations"),
        }
    }
}

/// Names the subject of a store call's failure.
pub(super) trait StoreResult<T> {
    fn about(self, subject: impl FnOnce() -> Subject) -> Result<T, ServiceError>;
}

impl<T> StoreResult<T> for Result<T, StoreError> {
    fn about(self, subject: impl FnOnce() -> Subject) -> Result<T, ServiceError> {
        self.map_err(|source| ServiceError::Store {
            subject: subject(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words of databases and drivers that must never reach a client.
    const DATABASE_WORDS: &[&str] = &[
        "sqlx",
        "sqlite",
        "postgres",
        "database",
        "pool",
        "constraint",
        "unique",
        "index",
        "sql",
        "duplicate key",
        "connection",
    ];

    #[test]
    fn store_failures_are_told_in_our_words_naming_the_resource() {
        let name = "projects/p/locations/l/operations/x".to_owned();
        let failures = [
            StoreError::Unavailable("pool timed out while waiting for an open connection".into()),
            StoreError::Closed,
            StoreError::Conflict(
                "error returned from database: duplicate key value violates unique constraint \"ops_key\"".into(),
            ),
            StoreError::Backend("UNIQUE constraint failed: operations.done".into()),
            StoreError::Corrupt("sqlite: database disk image is malformed".into()),
        ];
        for source in failures {
            let err = ServiceError::Store {
                subject: Subject::Operation(name.clone()),
                source,
            };
            let message = err.public_message();
            assert!(message.contains(&format!("{name:?}")), "{message}");
            let lowered = message.to_lowercase();
            for word in DATABASE_WORDS {
                assert!(!lowered.contains(word), "{word:?} in {message:?}");
            }
            assert!(err.must_be_logged(), "{err}");
            assert_eq!(err.metadata(), vec![("operation", name.clone())]);
        }
    }

    #[test]
    fn log_text_keeps_what_the_store_said() {
        let err = ServiceError::Store {
            subject: Subject::Operations("projects/p/locations/l".into()),
            source: StoreError::Conflict("unique constraint \"ops_key\"".into()),
        };
        assert!(err.to_string().contains("ops_key"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Aborted);
        assert_eq!(err.reason(), "CONCURRENT_MODIFICATION");
    }
}
