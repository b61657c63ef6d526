//! The first two steps of every use case, in the order docs/security.md
//! ("The checks, in order") describes: parse the name, then check the
//! permission on the parsed value, before any other validation and before
//! the store is touched. The value that was authorized is the value the
//! store sees.

use std::time::Duration;

use tracing::Span;

use super::{Core, ServiceError};
use crate::auth::{
    AuthError, Caller, ListPass, OperationPass, ParentPass, Permission, authorize_list,
    authorize_operation, authorize_parent,
};
use crate::domain::{NameError, OperationName, ParentName, duration_from_parts};

/// A `google.protobuf.Duration` as it arrived, validated only after the
/// permission check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireDuration {
    pub seconds: i64,
    pub nanos: i32,
}

impl From<Duration> for WireDuration {
    fn from(duration: Duration) -> Self {
        Self {
            seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(duration.subsec_nanos()).unwrap_or(0),
        }
    }
}

/// An optional duration field; negative or malformed is INVALID_ARGUMENT
/// naming the field.
pub(crate) fn duration_field(
    field: &'static str,
    duration: Option<WireDuration>,
) -> Result<Option<Duration>, ServiceError> {
    duration
        .map(|d| duration_from_parts(d.seconds, d.nanos))
        .transpose()
        .map_err(|source| ServiceError::InvalidDuration { field, source })
}

impl Core {
    /// A pass on the operation named by `text`, if `caller` may do
    /// `permission` on it. Taking the request's own String lets the name
    /// keep it without a copy.
    pub(crate) fn authorized_operation(
        &self,
        caller: &Caller,
        permission: Permission,
        text: String,
    ) -> Result<OperationPass, ServiceError> {
        let span = self.authorize_span(permission);
        let _entered = span.enter();
        let name =
            OperationName::try_from(text).map_err(|err| malformed(caller, permission, err))?;
        granted(&span, authorize_operation(caller, permission, name))
    }

    /// The parent named by `text` (a concrete location), if `caller` may do
    /// `permission` under it.
    pub(crate) fn authorized_parent(
        &self,
        caller: &Caller,
        permission: Permission,
        text: &str,
    ) -> Result<ParentPass, ServiceError> {
        let span = self.authorize_span(permission);
        let _entered = span.enter();
        let parent = ParentName::parse(text).map_err(|err| malformed(caller, permission, err))?;
        granted(&span, authorize_parent(caller, permission, parent))
    }

    /// A pass to list the parent named by `text` (`-` for every location),
    /// covering the locations `caller` may list.
    pub(crate) fn authorized_list(
        &self,
        caller: &Caller,
        text: &str,
    ) -> Result<ListPass, ServiceError> {
        let span = self.authorize_span(Permission::List);
        let _entered = span.enter();
        let parent = ParentName::parse_for_list(text)
            .map_err(|err| malformed(caller, Permission::List, err))?;
        granted(&span, authorize_list(caller, parent))
    }

    /// The `authorize` trace span of one check; with traces off, none.
    fn authorize_span(&self, permission: Permission) -> Span {
        if self.recorder().spans() {
            tracing::debug_span!(
                "authorize",
                longrun.permission = permission.verb(),
                longrun.granted = tracing::field::Empty,
            )
        } else {
            Span::none()
        }
    }
}

/// The policy's answer, noted on the span.
fn granted<P>(span: &Span, answer: Result<P, AuthError>) -> Result<P, ServiceError> {
    span.record("longrun.granted", answer.is_ok());
    Ok(answer?)
}

/// A name that does not parse cannot be checked against the policy. A
/// caller who holds the permission somewhere learns what is wrong with it;
/// anyone else gets the same PERMISSION_DENIED as for a name they may not
/// touch, so the API's shape is no oracle for strangers (AIP-211).
pub(crate) fn malformed(caller: &Caller, permission: Permission, err: NameError) -> ServiceError {
    if caller.allowed_anywhere(permission) {
        ServiceError::InvalidName(err)
    } else {
        ServiceError::Auth(caller.denied_on_text(permission, err.input()))
    }
}
