//! pb <-> domain conversion. Wire types are always written with their path.

use crate::domain::{ErrorStatus, Operation, Outcome, Payload};
use crate::pb;
use crate::service::WireDuration;

/// Takes the operation by value: its strings and bytes move into the wire
/// message instead of being copied (an answer is built on every call).
pub fn operation_to_pb(op: Operation) -> pb::longrunning::Operation {
    let done = op.is_done();
    pb::longrunning::Operation {
        name: op.name.into_string(),
        metadata: op.metadata.map(payload_to_any),
        done,
        result: op.outcome.map(|outcome| match outcome {
            Outcome::Response(payload) => {
                pb::longrunning::operation::Result::Response(payload_to_any(payload))
            }
            Outcome::Error(status) => {
                pb::longrunning::operation::Result::Error(status_to_pb(status))
            }
        }),
    }
}

pub fn payload_to_any(payload: Payload) -> prost_types::Any {
    prost_types::Any {
        type_url: payload.type_url,
        value: payload.value,
    }
}

pub fn any_to_payload(any: prost_types::Any) -> Payload {
    Payload {
        type_url: any.type_url,
        value: any.value,
    }
}

pub fn status_to_pb(status: ErrorStatus) -> pb::rpc::Status {
    pb::rpc::Status {
        code: status.code,
        message: status.message,
        details: status.details.into_iter().map(payload_to_any).collect(),
    }
}

pub fn status_from_pb(status: pb::rpc::Status) -> ErrorStatus {
    ErrorStatus {
        code: status.code,
        message: status.message,
        details: status.details.into_iter().map(any_to_payload).collect(),
    }
}

/// A `google.protobuf.Duration` as it arrived; the use case validates it
/// after the permission check.
pub fn wire_duration(duration: &prost_types::Duration) -> WireDuration {
    WireDuration {
        seconds: duration.seconds,
        nanos: duration.nanos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewOperation, OperationName};
    use std::time::{Duration, SystemTime};

    #[test]
    fn done_operation_converts_with_exactly_one_result() {
        let name = OperationName::parse("projects/p/locations/l/operations/x").expect("name");
        let op = Operation::create(
            NewOperation {
                name,
                metadata: None,
                request_id: None,
                cancel_grace: Duration::ZERO,
            },
            SystemTime::UNIX_EPOCH,
        )
        .complete(
            Outcome::Error(ErrorStatus::cancelled("stop")),
            SystemTime::UNIX_EPOCH,
            Duration::from_secs(1),
        )
        .expect("running");
        let wire = operation_to_pb(op);
        assert!(wire.done);
        let Some(pb::longrunning::operation::Result::Error(status)) = wire.result else {
            panic!("expected an error result");
        };
        assert_eq!(status.code, 1);
        assert_eq!(status.message, "stop");
    }
}
