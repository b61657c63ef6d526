//! `ErrorKind`: the protocol-free classes of failure every layer's error maps
//! onto; the gRPC layer turns them into status codes in its one table.

use std::fmt;

/// The protocol-free classes of failure. Each layer's error type maps onto
/// one of these; the gRPC layer maps these onto status codes in one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Aborted,
    Unauthenticated,
    PermissionDenied,
    ResourceExhausted,
    DeadlineExceeded,
    Unavailable,
    Unimplemented,
    Internal,
}

impl ErrorKind {
    /// Every kind, for tables that must stay exhaustive.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidArgument,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::FailedPrecondition,
        ErrorKind::Aborted,
        ErrorKind::Unauthenticated,
        ErrorKind::PermissionDenied,
        ErrorKind::ResourceExhausted,
        ErrorKind::DeadlineExceeded,
        ErrorKind::Unavailable,
        ErrorKind::Unimplemented,
        ErrorKind::Internal,
    ];

    /// True when the caller, not the server, caused the failure.
    pub fn is_client_error(self) -> bool {
        match self {
            ErrorKind::InvalidArgument
            | ErrorKind::NotFound
            | ErrorKind::AlreadyExists
            | ErrorKind::FailedPrecondition
            | ErrorKind::Aborted
            | ErrorKind::Unauthenticated
            | ErrorKind::PermissionDenied
            | ErrorKind::ResourceExhausted
            | ErrorKind::DeadlineExceeded
            | ErrorKind::Unimplemented => true,
            ErrorKind::Unavailable | ErrorKind::Internal => false,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
